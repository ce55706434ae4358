/*
 * SPSC publish/acquire with cached indices and wrapping positions.
 *
 * Models: src/ring.ts — the producer of _ring.pml (Ring#freeFor, Ring#send,
 * Ring#publishTail) and the consumer here (Ring#available,
 * Ring#consumeUpTo, Ring#publishHead). Each side keeps its own position and
 * a cached copy of the other side's (cachedHead, cachedTail) in private
 * memory and reloads the shared word only when the copy says full (producer)
 * or empty (consumer).
 *
 * Bounds: CAP = 4 slots, positions modulo POS = 8, N = 17 items (the
 * position word wraps twice, the slot index four times), batches of 1 … CAP
 * on both sides.
 *
 * Properties (assertions):
 *  - the consumer receives items 0 … N−1 exactly once and in order, never a
 *    slot the producer is still writing;
 *  - the producer never writes a slot the consumer has not released;
 *  - an honest ring never looks corrupt (tail − head ≤ CAP on every reload);
 *  - both sides finish (no invalid end state).
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_PUBLISH_EARLY  the producer stores tail before it writes the slots;
 *  BROKEN_NO_WRAP        the producer's free space without the modular
 *                        difference (wrong once the positions wrap).
 */

#ifndef N
#define N 17
#endif
#include "_ring.pml"

active proctype Consumer() {
  byte head = INIT, cachedTail = INIT, avail, max, n, i, got = 0, tail;
  do
  :: got == N -> break
  :: else ->
     select (max : 1 .. CAP);
     /* #available(): reload tail only when the cached copy says empty */
     avail = DIFF(cachedTail, head);
     if
     :: avail == 0 ->
        head = headWord;                   /* own head: plain read */
        tail = tailWord;                   /* Atomics.load(tail) */
        avail = DIFF(tail, head);
        assert(avail <= CAP);              /* never RingCorrupt on an honest ring */
        cachedTail = tail
     :: else -> skip
     fi;
     /* consumeUpTo(max): read n items in place, then publish head once */
     n = (avail < max -> avail : max);
     if
     :: n == 0 -> skip
     :: else ->
        i = 0;
        do
        :: i == n -> break
        :: else ->
           assert(data[(head + i) & MASK] == got + i);   /* in order, none lost or torn */
           i++
        od;
        /* frees n slots for the producer */
        atomic { headWord = (head + n) & PMASK; released = released + n };
        head = (head + n) & PMASK;
        got = got + n
     fi
  od
}
