/*
 * Broadcast ring: publish, evict and re-join of a consumer slot.
 *
 * Models: src/broadcast/ — the producer's commit (producer.ts) and its
 * consumer table's join, used (the write limit), #plausible and #evict
 * (_consumer_table.ts), and the consumer's constructor check, peek, publish
 * and close (consumer.ts). One consumer slot; the producer may evict its occupant at
 * any moment (the code evicts the dead and the hung, a judgement of time the
 * model replaces by a free choice) and join a new occupant into the slot,
 * while the evicted consumer runs on.
 *
 * Positions count 16-byte units (every message here is one header-sized
 * unit). Shared: head (producer), the slot's tail (consumer CAS, producer
 * store at join), the slot word epoch << 2 | state (producer: join and evict
 * CAS; consumer: leave CAS, and the publish check CAS(word, word)), data.
 *
 * Bounds: capacity CAP = 2 messages, positions modulo POS = 8 starting at
 * INIT = 5 (the position word wraps mid-run), N = 6 messages, two
 * occupants of the slot (the first may be evicted, the second joins after).
 * N < POS: no tail comes back to a value an evicted consumer expects, which
 * in the code (32-bit byte positions) needs 4 GiB written in between.
 *
 * Properties (assertions):
 *  - a consumer whose publish succeeds read every message it advanced over
 *    intact (what the producer wrote at that position, not a later message);
 *  - an evicted consumer never moves the tail once the producer has begun
 *    to re-join the slot (its publish fails), so it cannot corrupt it;
 *  - the producer never overwrites a message its live occupant has not
 *    released, and never finds the occupant's tail implausible;
 *  - an honest ring never reads as corrupt to a consumer that is not evicted.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_TAIL_STORE     publish stores the tail instead of CAS from the
 *                        published value;
 *  BROKEN_NO_SLOT_CHECK  publish skips the CAS(word, word) slot check;
 *  BROKEN_NO_JOIN_TAIL   join leaves the tail where the evicted consumer
 *                        left it, instead of storing the head.
 */

#define CAP 2
#define MASK (CAP - 1)
#define POS 8
#define PMASK (POS - 1)
#define INIT 5
#ifndef N
#define N 6
#endif
#define DIFF(a, b) (((a) - (b)) & PMASK)
#define FREE 0
#define ACTIVE 1
#define LEFT 2
#define EVICTED 3
#define JOINS 2

byte head = INIT;        /* producer: release store on commit */
byte tail = INIT;        /* the slot page's tail */
byte slot = FREE;        /* the slot word: epoch << 2 | state */
byte data[CAP];          /* each message holds its number */
byte occEpoch;           /* ghost: the epoch the tail belongs to (set by join's tail store) */
byte occTail = INIT;     /* ghost: the tail as that epoch's occupant last set it */
bool producerDone;       /* ghost: the producer sent all N */

proctype Consumer(byte epoch) {
  byte my = (epoch << 2) | ACTIVE, t, published, cachedHead, h, v, got = 0, i;
  byte pending[CAP];     /* messages read since the last publish */
  byte npending = 0;
  bool ok;
  /* constructor: the slot must still be ours; then load the tail */
  if
  :: slot != my -> goto gone                        /* Evicted */
  :: else -> skip
  fi;
  t = tail; published = t; cachedHead = t;
  do
  :: true ->
     /* peek */
     if
     :: t == cachedHead ->
        if
        :: slot != my -> goto gone                  /* Evicted */
        :: else -> skip
        fi;
        h = head;                                   /* Atomics.load(head) */
        if
        :: DIFF(h, t) > CAP ->                      /* #corrupt: evicted, else RingCorrupt */
           assert(slot != my); goto gone
        :: else -> skip
        fi;
        cachedHead = h
     :: else -> skip
     fi;
     if
     :: t != cachedHead && npending < CAP ->
        v = data[t & MASK];                         /* read the message in place */
        pending[npending] = v; npending++;
        t = (t + 1) & PMASK                         /* advance */
     :: npending > 0 || t == cachedHead ->
        /* publish */
#ifndef BROKEN_NO_SLOT_CHECK
        atomic {                                    /* CAS(slot, my, my): orders the reads */
          if
          :: slot == my -> ok = 1
          :: else -> ok = 0
          fi
        };
        if
        :: !ok -> goto gone                         /* Evicted */
        :: else -> skip
        fi;
#endif
        if
        :: t == published -> skip
        :: else ->
           atomic {
#ifdef BROKEN_TAIL_STORE
             tail = t; ok = 1;
#else
             if                                     /* CAS(tail, published, t) */
             :: tail == published -> tail = t; ok = 1
             :: else -> ok = 0
             fi;
#endif
             if
             :: ok ->
                /* only the tail's own epoch moves it: never a re-joined slot's */
                assert(occEpoch == epoch);
                occTail = t
             :: else -> skip
             fi
           };
           if
           :: !ok -> goto gone                      /* Evicted */
           :: else -> skip
           fi;
           /* success proves every message read since the last publish was intact */
           d_step {
             for (i : 0 .. npending - 1) {
               assert(pending[i] == DIFF(published + i, INIT));
               pending[i] = 0
             };
             i = 0
           };
           published = t; npending = 0
        fi;
        if
        :: producerDone && t == head -> break       /* caught up with the end */
        :: else -> skip
        fi
     fi
  od;
  /* close(): leave */
  atomic { if :: slot == my -> slot = (epoch << 2) | LEFT :: else -> skip fi };
gone:
  skip
}

active proctype Producer() {
  byte cursor = INIT, limit = INIT, seen, sent = 0, epoch = 0, joins = 0, word, tl;
  bool live = false, ok;
  do
  :: sent == N -> break
  :: else ->
     if
     :: !live && joins < JOINS ->
        /* join: a slot that is not ACTIVE, a new epoch, tail = head, then the CAS */
        word = slot;
        if
        :: (word & 3) != ACTIVE ->
           atomic {                                 /* Atomics.store(tail, head) */
#ifndef BROKEN_NO_JOIN_TAIL
             tail = head;
#endif
             occEpoch = ((word >> 2) + 1) & 63; occTail = tail
           };
           atomic {                                 /* publishes the slot under its new epoch */
             if
             :: slot == word -> slot = ((((word >> 2) + 1) & 63) << 2) | ACTIVE; ok = 1
             :: else -> ok = 0
             fi
           };
           if
           :: ok -> epoch = slot >> 2; live = true; joins++; seen = head;
              run Consumer(epoch)
           :: else -> skip
           fi
        :: else -> skip
        fi
     :: live ->
        /* #evict: the slot's occupant is judged dead or hung */
        atomic {
          if
          :: slot == ((epoch << 2) | ACTIVE) -> slot = (epoch << 2) | EVICTED
          :: else -> skip                           /* it left first */
          fi
        };
        live = false
     :: true -> skip                                /* go on sending */
     fi;
     /* query: room up to limit, else the table's used() (the refresh) */
     if
     :: DIFF(limit, cursor) == 0 ->
        limit = (cursor + CAP) & PMASK;
        if
        :: live ->
           if
           :: slot != ((epoch << 2) | ACTIVE) -> live = false       /* it left */
           :: else ->
              tl = tail;                            /* Atomics.load(tail) */
              /* #plausible: within a capacity of the cursor, never moving back */
              assert(DIFF(cursor, tl) <= CAP && DIFF(tl, seen) <= DIFF(cursor, seen));
              seen = tl;
              limit = (tl + CAP) & PMASK
           fi
        :: else -> skip
        fi
     :: else -> skip
     fi;
     if
     :: DIFF(limit, cursor) > 0 ->
        /* the live occupant has released this position */
        assert(!live || slot != ((epoch << 2) | ACTIVE) || DIFF(cursor, occTail) < CAP);
        data[cursor & MASK] = sent;                 /* write the message */
        cursor = (cursor + 1) & PMASK;
        head = cursor;                              /* commit: publishes the message */
        sent++
     :: else -> skip                                /* clogged: try again */
     fi
  od;
  producerDone = true
}
