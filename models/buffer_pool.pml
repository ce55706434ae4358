/*
 * BufferPool: allocation and free of slabs by threads preempted anywhere.
 *
 * Models: src/_buffer_pool_slabs.ts (pool v2, the bitmap with per-view
 * clock hands) — SlabTable.take and #own (alloc), SlabTable.free with
 * #checkState, and releaseBit (src/_buffer_pool_holders.ts). The variant
 * BROKEN_FREE_LIST is the previous design (pool v1): a Treiber free list
 * whose 32-bit head packs `tag << indexBits | index`, the tag taking the
 * 32 − indexBits bits the index leaves; alloc pops with a CAS that bumps the
 * tag, free pushes (tag unchanged).
 *
 * Also reclaimHolder (src/_buffer_pool_holders.ts), run for thread 1 once
 * it is gone: thread 1 may stop between any two of its steps, still holding
 * what it holds, and a reclaimer then takes back every slab whose state is
 * allocated and whose owner word names it (swap at the generation seen, then
 * clear the bit), while thread 0 goes on and may free thread 1's boxed
 * handle. Orphan repair (a holder killed inside a step) rests on a 1 s
 * timer and is not modelled.
 *
 * Bounds: T = 2 threads, S = 3 slabs in two bitmap words of WB = 2 bits (the
 * last word's spare bit set from format on, as in the code), ROUNDS = 4
 * steps per thread, each one of: alloc (into one of two hands), free a slab
 * it holds, post a held handle to a shared box (once per run), free the
 * boxed handle (both threads may race to), free a handle it freed before;
 * thread 1 may die instead.
 * A handle carries GB = 4 generation bits (32 − indexBits in the code), more
 * than the reallocations the bound allows, so a stale handle never matches.
 * The v1 variant scales its head word down the same way: 2 index bits and
 * TAGBITS = 1 tag bit, so that 2^TAGBITS pops fit in one preemption (the
 * code's 12–31 tag bits need 4096 … 2^31 pops in one preemption: the same
 * race, only rarer; pops during one preemption are not bounded by the code).
 *
 * Properties (assertions):
 *  - no slab is handed out twice: alloc only wins a slab nobody holds;
 *  - a free succeeds only for the current handle of a held slab; of two
 *    racing frees of one handle at most one wins; a stale handle is refused;
 *  - reclaim takes back only slabs the dead holder allocated and nobody
 *    freed since (a boxed one's receiver then holds a stale handle);
 *  - an honest pool never reports PoolCorrupt (allocated state under a
 *    clear bit, a bit found clear on free), and alloc returns null only
 *    after a pass that saw every bit set (or a bitmap that changed under it).
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_FREE_LIST      the v1 tagged free list (the ABA: a slab handed
 *                        out twice after 2^TAGBITS pops during one pop);
 *  BROKEN_BIT_BEFORE_STATE  free clears the bit before it swaps the state;
 *  BROKEN_STORE_BIT      alloc sets its bit with a plain store, not a CAS;
 *  BROKEN_RECLAIM_ANY_GEN  reclaim frees any allocated state, not only the
 *                        generation it saw owned by the dead holder.
 */

#define T 2
#define S 3
#define WB 2                    /* bits per bitmap word (32 in the code) */
#define W 2                     /* bitmap words */
#define WORDMASK 3              /* WB ones */
#define LASTMASK 1              /* the last word's bits that name slabs */
#define IB 2                    /* index bits of a handle */
#define IMASK 3
#define GB 4                    /* generation bits in a handle */
#define GMASK 15
#ifndef ROUNDS
#define ROUNDS 4
#endif
#ifndef TAGBITS
#define TAGBITS 1               /* v1 only: tag bits of the head word */
#endif
#define NIL 3                   /* v1 only: the all-ones index */
#define NONE 255
#define BOX 9                   /* ghost holder: the shared box */

byte bitmap[W];
byte state[S];                  /* generation << 1 | allocated */
byte head;                      /* v1 only: tag << IB | index */
byte next[S];                   /* v1 only: free-list links */
byte holder[S];                 /* ghost: 0 free, t + 1 a thread, BOX the box */
byte box = NONE;                /* a handle posted for anyone to free */
bool boxUsed;
byte owner[S];                  /* each slab's owner word (holder id; here thread + 1) */
bool dead;                      /* thread 1 is gone (it stopped between two steps) */
byte changes;                   /* ghost: bitmap changes so far (wraps; compared only) */

/* alloc: pool v2 (take + #own) or v1 (pop); h = handle or NONE */
inline poolAlloc(hand, h) {
#ifdef BROKEN_FREE_LIST
  do
  :: true ->
     hd = head;                                  /* Atomics.load(head) */
     index = hd & IMASK;
     if
     :: index == NIL -> ok = 0; break
     :: else -> skip
     fi;
     nx = next[index];                           /* plain read */
     atomic {                                    /* CAS (t, index) → (t + 1, next) */
       if
       :: head == hd ->
          head = ((((hd >> IB) + 1) & ((1 << TAGBITS) - 1)) << IB) | nx;
          assert(holder[index] == 0);            /* never handed out twice */
          holder[index] = me + 1; ok = 1
       :: else -> ok = 0
       fi
     };
     if
     :: ok -> break
     :: else -> skip
     fi
  od;
#else
  w = hand / WB; from = hand % WB; visits = 0; seen = changes;
  do
  :: visits > W -> break
  :: else ->
     word = bitmap[w];                           /* Atomics.load(bitmap, w) */
     zeros = (~word) & ((WORDMASK << from) & WORDMASK);
     if
     :: w == W - 1 -> zeros = zeros & LASTMASK
     :: else -> skip
     fi;
     if
     :: zeros == 0 ->
        visits++; w = (w == W - 1 -> 0 : w + 1); from = 0
     :: else ->
        k = ((zeros & 1) -> 0 : 1);             /* lowest zero bit at or above from */
#ifdef BROKEN_STORE_BIT
        bitmap[w] = word | (1 << k); ok = 1;
        atomic { assert(holder[w * WB + k] == 0); holder[w * WB + k] = me + 1 };
#else
        atomic {                                 /* CAS: claim the bit */
          if
          :: bitmap[w] == word ->
             bitmap[w] = word | (1 << k);
             assert(holder[w * WB + k] == 0);  /* never handed out twice */
             holder[w * WB + k] = me + 1; ok = 1; changes++
          :: else -> ok = 0
          fi
        };
#endif
        if
        :: ok -> index = w * WB + k; hand = (index + 1 == S -> 0 : index + 1); break
        :: else -> skip                          /* the word changed: reload, retry */
        fi
     fi
  od;
  if
  :: visits > W ->                               /* a whole pass without a zero bit */
     ok = 0;
     /* null only if every bit was set, unless the bitmap changed during the pass */
     assert(changes != seen || (bitmap[0] & 3) == 3 && (bitmap[1] & 1) == 1)
  :: else -> skip
  fi;
#endif
  if
  :: ok ->
     /* #own: plain read of the state, then publish it allocated */
     st = state[index];
     assert((st & 1) == 0);                      /* else PoolCorrupt */
     gen = ((st >> 1) + 1) & 63;
     owner[index] = me + 1;                      /* the holder id, published below */
     state[index] = (gen << 1) | 1;              /* publishes the slab as allocated */
     h = ((gen & GMASK) << IB) | index
  :: else -> h = NONE                            /* alloc returns null */
  fi;
  ok = 0; visits = 0
}

/* free(h) by `who` (me + 1, BOX, or 0 for a handle we freed before) */
inline poolFree(h, who) {
  index = h & IMASK;
  st = state[index];                             /* plain read */
  if
  :: (st & 1) == 0 || ((st >> 1) & GMASK) != (h >> IB) -> skip   /* InvalidHandle */
  :: else ->
     atomic {                                    /* CAS: flip allocated off */
       if
       :: state[index] == st ->
#ifdef BROKEN_BIT_BEFORE_STATE
          skip
#else
          state[index] = st & 254;
#endif
          /* only the holder of the current handle gets here */
          assert(who != 0 && holder[index] == who);
          holder[index] = 0; ok = 1
       :: else -> ok = 0                         /* a racing free won: InvalidHandle */
       fi
     };
     if
     :: ok ->
#ifdef BROKEN_FREE_LIST
        do                                       /* push */
        :: true ->
           hd = head;                            /* a stale read only fails the CAS */
           next[index] = hd & IMASK;
           atomic {
             if
             :: head == hd -> head = (hd & (255 - IMASK)) | index; break
             :: else -> skip
             fi
           }
        od;
#else
        atomic {                                 /* releaseBit: Atomics.and */
          word = bitmap[index / WB];
          bitmap[index / WB] = word & (255 - (1 << (index % WB))); changes++
        };
        assert(word & (1 << (index % WB)));      /* else PoolCorrupt */
#endif
#ifdef BROKEN_BIT_BEFORE_STATE
        state[index] = st & 254;
#endif
        ok = 0
     :: else -> skip
     fi
  fi
}

/*
 * reclaimHolder(thread 1) once it is gone (src/_buffer_pool_holders.ts):
 * per slab, load the state; if allocated and owned by the dead holder, swap
 * it to free at the generation seen, then clear the bit like free.
 */
proctype Reclaimer() {
  byte index, st, word;
end_wait:
  (dead);                                        /* a reclaim runs only for holders that are gone */
  for (index : 0 .. S - 1) {
    st = state[index];
    if
    :: (st & 1) == 0 || owner[index] != 2 -> skip
    :: else ->
       atomic {                                  /* CAS at the generation seen */
         if
#ifdef BROKEN_RECLAIM_ANY_GEN
         :: state[index] & 1 -> st = state[index];
#else
         :: state[index] == st ->
#endif
            state[index] = st & 254;
            /* only what the dead holder allocated and nobody freed since */
            assert(holder[index] == 2 || holder[index] == BOX);
            holder[index] = 0; st = 255
         :: else -> skip                         /* freed meanwhile */
         fi
       };
       if
       :: st == 255 ->
          atomic {                               /* releaseBit */
            word = bitmap[index / WB];
            bitmap[index / WB] = word & (255 - (1 << (index % WB))); changes++
          };
          assert(word & (1 << (index % WB)))     /* else PoolCorrupt */
       :: else -> skip
       fi
    fi
  }
}

proctype Thread(byte me) {
  byte hand = me, a = NONE, b = NONE, stale = NONE, boxed = NONE, r;
  byte w, from, visits, word, zeros, k, index, st, gen, hd, nx, seen;
  bool ok;
  for (r : 1 .. ROUNDS) {
    if
    :: a == NONE -> poolAlloc(hand, a)
    :: a != NONE && b == NONE -> poolAlloc(hand, b)
    :: a != NONE -> poolFree(a, me + 1); stale = a; a = NONE
    :: b != NONE -> poolFree(b, me + 1); stale = b; b = NONE
    :: atomic { a != NONE && !boxUsed -> boxUsed = true; box = a; holder[a & IMASK] = BOX };
       a = NONE
    :: box != NONE -> boxed = box; poolFree(boxed, BOX); boxed = NONE
    :: stale != NONE -> poolFree(stale, 0)
#ifndef BROKEN_FREE_LIST
    :: me == 1 -> dead = true; goto gone         /* dies, holding what it holds */
#endif
    fi
  };
gone:
  skip
}

init {
  byte i;
  atomic {
    bitmap[W - 1] = WORDMASK - LASTMASK;         /* format: spare bits set */
    for (i : 0 .. S - 1) { next[i] = (i + 1 < S -> i + 1 : NIL) };
    for (i : 0 .. T - 1) { run Thread(i) };
#ifndef BROKEN_FREE_LIST
    run Reclaimer()                              /* v1 had no reclaim */
#endif
  }
}
