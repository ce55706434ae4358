/*
 * ClaimHead: speculative copy, then a compare-and-swap claim of the head,
 * while the producer refills (and so overwrites) the slots behind the head.
 *
 * Models: src/claim_head.ts — ClaimHead#claimInto and #checkStale, with
 * K claimers sharing the head word, against the ring producer of _ring.pml
 * (src/ring.ts Ring#freeFor/#send, as the SPMC and MPMC channels use it).
 * A claim: load head h and tail t; if t − h > CAP, reload head and retry if
 * it moved (else RingCorrupt); copy n = min(t − h, max) slots to private
 * memory, one plain read per slot; CAS head h → h + n; on failure drop the
 * copy and retry.
 *
 * Bounds: K = 2 claimers, CAP = 2 slots, positions modulo POS = 8 starting
 * at INIT = 5 (the position word wraps mid-run), N = 7 items, claims of
 * 1 … CAP. N < POS: no claim sees the head come back to the same value,
 * which in the code (32-bit head) needs 2^32 items claimed while one
 * claimer sits between its head load and its CAS; BROKEN_WRAP_ABA shows
 * what happens past that bound.
 *
 * Properties (assertions):
 *  - every claim that succeeds returns the items at h … h+n−1 as written,
 *    never an overwritten slot;
 *  - every item is claimed exactly once (none duplicated; all N claimed);
 *  - the producer never writes a slot that is not yet claimed;
 *  - an honest ring never raises RingCorrupt (the stale-head re-check).
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_CAS_BEFORE_COPY  claim first, copy after: the producer may
 *                          overwrite the claimed slots before the copy;
 *  BROKEN_STORE_HEAD       a plain store of the head instead of the CAS;
 *  BROKEN_NO_STALE_CHECK   t − h > CAP reported as corrupt without the
 *                          re-check that the head stood still;
 *  BROKEN_WRAP_ABA         POS = 4, N = POS + 1: a claimer stalled across a
 *                          whole wrap of the position word claims stale copies.
 */

#ifndef K
#define K 2
#endif
#ifndef CAP
#define CAP 2
#endif
#ifdef BROKEN_WRAP_ABA
#define POS 4
#define INIT 1
#define N (POS + 1)
#endif
#ifndef POS
#define POS 8
#endif
#ifndef INIT
#define INIT 5
#endif
#ifndef N
#define N 7
#endif
#include "_ring.pml"

byte claims[N];          /* ghost: how often each item was claimed */
byte finished;           /* ghost: claimers that saw every item claimed */

proctype Claimer() {
  byte h, t, avail, max, n, i, nh;
  byte copy[CAP];
  do
  :: released == N -> finished++; break
  :: else ->
     select (max : 1 .. CAP);
     h = headWord;                                  /* Atomics.load(head) */
     t = tailWord;                                  /* Atomics.load(tail) */
     avail = DIFF(t, h);
     if
     :: avail > CAP ->
#ifdef BROKEN_NO_STALE_CHECK
        assert(false)                               /* RingCorrupt */
#else
        /* #checkStale: corrupt only if the head stood still */
        assert(headWord != h)                       /* else RingCorrupt */
#endif
     :: else ->
        n = (avail < max -> avail : max);
        if
        :: n == 0 -> skip                           /* empty: returns 0 */
        :: else ->
#ifndef BROKEN_CAS_BEFORE_COPY
           for (i : 0 .. n - 1) { copy[i] = data[(h + i) & MASK] };
#endif
           nh = (h + n) & PMASK;
           atomic {
             /* claims items h … h+n−1 and frees their slots for the producer */
#ifdef BROKEN_STORE_HEAD
             headWord = nh;
#else
             if
             :: headWord == h -> headWord = nh
             :: else -> nh = 255                    /* CAS failed */
             fi;
#endif
             if
             :: nh != 255 -> released = released + n
             :: else -> skip
             fi
           };
           if
           :: nh == 255 -> skip                     /* retry: the copy is dropped */
           :: else ->
#ifdef BROKEN_CAS_BEFORE_COPY
              for (i : 0 .. n - 1) { copy[i] = data[(h + i) & MASK] };
              skip;
#endif
              d_step {
                for (i : 0 .. n - 1) {
                  /* the item written at position h+i: congruent to it modulo POS */
                  assert((copy[i] & PMASK) == ((h + i - INIT) & PMASK));
                  claims[copy[i]]++;
                  assert(claims[copy[i]] == 1)
                }
              }
           fi
        fi
     fi;
     /* the next claim starts afresh: forget this one's locals */
     d_step { h = 0; t = 0; avail = 0; n = 0; nh = 0; i = 0; max = 0;
              for (i : 0 .. CAP - 1) { copy[i] = 0 }; i = 0 }
  od
}

init {
  byte k;
  atomic { for (k : 1 .. K) { run Claimer() } };
  (finished == K);                                  /* every claimer returned */
  for (k : 0 .. N - 1) { assert(claims[k] == 1) }
}
