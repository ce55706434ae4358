/*
 * Sleep/wake between our own peers: no lost wake, in either direction.
 *
 * Models: src/wait_engine.ts — the sleeper (prepare: add waiters, snapshot,
 * re-check; then sleep; then sub waiters) and the waker (wakeSpot after a
 * non-zero load of waiters) — as the ring uses them: a commit
 * (Ring#publishTail) wakes consumers and an advance (Ring#publishHead) wakes
 * producers, each only if it loads a non-zero waiters word after its
 * publishing store; the blocking waits loop: check, park, check again.
 * Sleeps have no time limit (the guard slice is left out), so a lost wake
 * is a thread asleep forever: an invalid end state. The default checks
 * in-process spots (the sequence word: rings between Workers); -DFOREIGN
 * checks foreign spots (futex_waitv on waiters and the other side's
 * position: a SharedRing between two of our processes).
 *
 * @also -DFOREIGN
 *
 * Bounds: one producer and one consumer, capacity CAP = 2 (small enough
 * that the producer sleeps for room as well as the consumer for items),
 * N = 6 items.
 * Sequence and waiters words are bytes (they only need to change).
 *
 * Properties: no invalid end state (nobody sleeps forever while the other
 * side has published what it waits for); the consumer gets items 0 … N−1.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_NO_RECHECK   park sleeps without re-checking after it registered;
 *  BROKEN_SEQ_LATE     park loads the sequence after its re-check (it may
 *                      sleep on a value a waker already moved past);
 *  BROKEN_NO_SEQ_BUMP  wakeSpot notifies without bumping the sequence;
 *  BROKEN_WAKE_BEFORE_PUBLISH  the commit checks waiters before it stores
 *                      the tail;
 *  BROKEN_NO_WATCH     a foreign sleeper's futex_waitv leaves out the
 *                      watched position (waiters == W alone).
 */

#ifdef BROKEN_NO_WATCH
#define FOREIGN
#endif
#ifndef CAP
#define CAP 2
#endif
#ifndef N
#define N 6
#endif
#include "_wake.pml"

byte tail, head;                        /* free-running counts (≤ N) */
byte got;

active proctype Producer() {
  byte sent = 0, w, s;
  do
  :: sent == N -> break
  :: else ->
     /* reserveBlocking(1): wait while the ring is full */
     do
     :: tail - head < CAP -> break
     :: else -> park(PROD, tail - head < CAP, head, w, s)
     od;
#ifdef BROKEN_WAKE_BEFORE_PUBLISH
     if
     :: waiters[CONS] != 0 -> tail++; wakeSpot(CONS)
     :: else -> tail++
     fi;
#else
     tail++;                            /* commit: publishes the item */
     if
     :: waiters[CONS] != 0 -> wakeSpot(CONS)
     :: else -> skip
     fi;
#endif
     sent++
  od
}

active proctype Consumer() {
  byte w, s;
  do
  :: got == N -> break
  :: else ->
     /* waitReadable(): wait while the ring is empty */
     do
     :: tail != head -> break
     :: else -> park(CONS, tail != head, tail, w, s)
     od;
     assert(head == got);               /* in order */
     head++;                            /* advance: frees the slot */
     got++;
     if
     :: waiters[PROD] != 0 -> wakeSpot(PROD)
     :: else -> skip
     fi
  od
}
