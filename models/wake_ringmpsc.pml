/*
 * Sleep/wake with a ringmpsc peer, which only FUTEX_WAKEs the waiters word.
 *
 * Models: a SharedRing consumer of ours (src/native/shared_ring.ts; a
 * foreign spot of src/wait_engine.ts: futex_waitv on consumer_waiters and
 * the tail, with a 10 ms slice) against ringmpsc 2.3.0's commit as
 * DESIGN.md §5 records it: store tail, then FUTEX_WAKE on consumer_waiters
 * if that word is > 0; no sequence word, no wait API. ringmpsc orders its
 * tail store and its waiters load with release/acquire only, so on x86 the
 * load may be served before the store leaves the store buffer (TSO): the
 * default lets each commit do them in either order, and then only the guard
 * (the end of a slice, then the re-check) gets a sleeper going again. The
 * slice is Promela's `timeout`, firing only once nothing else can move.
 *
 * @also -DSC_PEER -DNO_GUARD
 *
 * That configuration gives the peer sequentially consistent order and takes
 * the guard away: futex_waitv alone then catches every wake ringmpsc sends.
 *
 * Bounds: one ringmpsc producer, one consumer of ours, N = 3 items, capacity
 * CAP = 4 (ringmpsc has no wait for room, so the producer never blocks).
 *
 * Properties: no invalid end state (the consumer never sleeps forever) and
 * it gets items 0 … N−1 in order.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_NO_GUARD  no slice: a wake lost to ringmpsc's store/load
 *                   reordering leaves the consumer asleep forever;
 *  BROKEN_NO_WATCH  the SC configuration with futex_waitv on the waiters
 *                   word alone: a wake sent between our re-check and our
 *                   sleep is lost.
 */

#ifndef N
#define N 3
#endif
#define CAP 4
#define FOREIGN
#ifdef BROKEN_NO_WATCH
#define SC_PEER
#define NO_GUARD
#endif
#ifndef NO_GUARD
#ifndef BROKEN_NO_GUARD
#define GUARD
#endif
#endif
#include "_wake.pml"

byte tail, head, got;

active proctype RingmpscProducer() {
  byte sent = 0, w;
  do
  :: sent == N -> break
  :: else ->
     /* commit: store tail (and heartbeat), load consumer_waiters */
     if
     :: tail++; w = waiters[CONS]
#ifndef SC_PEER
     :: w = waiters[CONS]; tail++              /* the load passes the buffered store */
#endif
     fi;
     if
     :: w > 0 -> notify(WAITERS_WORD(CONS))    /* FUTEX_WAKE(consumer_waiters) */
     :: else -> skip
     fi;
     w = 0;
     sent++
  od
}

active proctype Consumer() {
  byte w, s;
  do
  :: got == N -> break
  :: else ->
     do
     :: tail != head -> break
     :: else -> park(CONS, tail != head, tail, w, s)
     od;
     assert(head == got);
     head++;
     got++
  od
}
