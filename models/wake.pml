/*
 * Sleep/wake between our own peers: no lost wake, in either direction.
 *
 * Models: src/waiter.ts — park (load seq, add waiters, re-check, wait on seq
 * while unchanged, sub waiters) and wakeSpot (add seq, notify) — as the ring
 * of src/ring.ts uses them: Ring#publishTail wakes consumers and
 * Ring#publishHead wakes producers, each only if it loads a non-zero waiters
 * word after its publishing store; reserveBlocking and waitReadable
 * (waitForItems) loop: check, park, check again. Sleeps have no time limit
 * (sliceMs = Infinity, as for rings between Workers), so a lost wake is a
 * thread asleep forever: an invalid end state.
 *
 * Bounds: one producer and one consumer, capacity CAP = 1 (so the producer
 * sleeps for room as often as the consumer sleeps for items), N = 4 items.
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
 *                      the tail.
 */

#ifndef CAP
#define CAP 1
#endif
#ifndef N
#define N 4
#endif
#include "_wake.pml"

byte tail, head;                        /* free-running counts (≤ N) */
byte got;

active proctype Producer() {
  byte sent = 0, s;
  do
  :: sent == N -> break
  :: else ->
     /* reserveBlocking(1): wait while the ring is full */
     do
     :: tail - head < CAP -> break
     :: else -> park(PROD, tail - head < CAP, s)
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
  byte s;
  do
  :: got == N -> break
  :: else ->
     /* waitReadable(): wait while the ring is empty */
     do
     :: tail != head -> break
     :: else -> park(CONS, tail != head, s)
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
