/*
 * Sleep/wake with a ringmpsc peer, which wakes only the waiters word.
 *
 * Models: src/waiter.ts park on a SharedRing (src/native/shared_ring.ts,
 * sliceMs = 10) against ringmpsc 2.3.0's commit as DESIGN.md §5 records it
 * (store tail, then FUTEX_WAKE on consumer_waiters if that word is > 0; no
 * sequence word, no wait API). Our consumer sleeps on consumerSeq, which
 * ringmpsc never changes or wakes, so only the guard — the end of a 10 ms
 * slice, then the re-check of waitForItems — gets it going again. The slice
 * is Promela's `timeout`: it fires only once nothing else can move, so the
 * model does not let the guard hide a wake our own protocol should deliver.
 *
 * Bounds: one ringmpsc producer, one consumer of ours, N = 3 items, capacity
 * CAP = 4 (ringmpsc has no wait for room, so the producer never blocks).
 *
 * Properties: no invalid end state (the consumer never sleeps forever) and
 * it gets items 0 … N−1 in order.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_NO_GUARD  sleeps without a time limit (sliceMs = Infinity): the
 *                   wake ringmpsc sends to the waiters word is lost.
 */

#ifndef N
#define N 3
#endif
#define CAP 4
#ifndef BROKEN_NO_GUARD
#define GUARD
#endif
#include "_wake.pml"

byte tail, head, got;

active proctype RingmpscProducer() {
  byte sent = 0;
  do
  :: sent == N -> break
  :: else ->
     tail++;                            /* commit: store tail (and heartbeat) */
     if
     :: waiters[CONS] > 0 -> notify(WAITERS_WORD(CONS))   /* FUTEX_WAKE(consumer_waiters) */
     :: else -> skip
     fi;
     sent++
  od
}

active proctype Consumer() {
  byte s;
  do
  :: got == N -> break
  :: else ->
     do
     :: tail != head -> break
     :: else -> park(CONS, tail != head, s)
     od;
     assert(head == got);
     head++;
     got++
  od
}
