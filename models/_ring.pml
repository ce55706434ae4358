/*
 * The ring of src/ring.ts, shared by spsc.pml and claim_head.pml: its shared
 * words and its producer (Ring#freeFor, Ring#send, Ring#publishTail).
 *
 * Shared: tailWord, headWord (positions modulo POS, a small power of two, so
 * the wrap is crossed), data[CAP] (each slot holds the number of the item
 * written there). One Promela statement is one Atomics.load/store or one
 * plain slot access, in the code's order; JavaScript's Atomics are
 * sequentially consistent, as Promela's statements are.
 *
 * Ghost (not in the code): `released` counts the items whose slots the
 * consumer side gave back, moved atomically with the head store or CAS that
 * gives them back.
 */

#ifndef CAP
#define CAP 4            /* capacity in slots, a power of two */
#endif
#ifndef POS
#define POS 8            /* positions wrap modulo POS (a power of two > CAP) */
#endif
#ifndef INIT
#define INIT 0           /* the first position (tail = head = INIT) */
#endif
#define MASK (CAP - 1)
#define PMASK (POS - 1)
#define DIFF(a, b) (((a) - (b)) & PMASK)   /* (a − b) >>> 0, at POS bits */

byte tailWord = INIT;    /* producer's published position */
byte headWord = INIT;    /* consumer side's published position */
byte data[CAP];
byte released;           /* ghost */

/*
 * The producer: sends items 0 … N−1 in batches of 1 … CAP (the caller's
 * choice), each through Ring#send: #freeFor(want), copy, publish tail once.
 */
active proctype Producer() {
  byte tail = INIT, cachedHead = INIT, free, want, lim, n, i, sent = 0, head, used;
  do
  :: sent == N -> break
  :: else ->
     lim = (N - sent < CAP -> N - sent : CAP);
     select (want : 1 .. lim);
     /* #freeFor(want): reload head only when the cached copy says too full */
#ifdef BROKEN_NO_WRAP
     free = CAP - (tail - cachedHead);
#else
     free = CAP - DIFF(tail, cachedHead);
#endif
     if
     :: free < want ->
        tail = tailWord;                   /* own tail: plain read */
        head = headWord;                   /* Atomics.load(head) */
        used = DIFF(tail, head);
        assert(used <= CAP);               /* never RingCorrupt on an honest ring */
        cachedHead = head;
#ifdef BROKEN_NO_WRAP
        free = CAP - (tail - head);
#else
        free = CAP - used;
#endif
     :: else -> skip
     fi;
     n = (want < free -> want : free);
     if
     :: n == 0 -> skip                     /* full: send returns 0 */
     :: else ->
#ifdef BROKEN_PUBLISH_EARLY
        tailWord = (tail + n) & PMASK;
#endif
        i = 0;
        do
        :: i == n -> break
        :: else ->
           /* the slot was given back: item sent+i−CAP is released */
           assert(sent + i < released + CAP);
           data[(tail + i) & MASK] = sent + i;
           i++
        od;
#ifndef BROKEN_PUBLISH_EARLY
        tailWord = (tail + n) & PMASK;     /* publishes n items to the consumer */
#endif
        tail = (tail + n) & PMASK;
        sent = sent + n
     fi
  od
}
