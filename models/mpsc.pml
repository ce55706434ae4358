/*
 * MPSC channel: lock-free registration and growth while the consumer
 * sweeps, deregistration, and reuse of a drained ring by a new producer.
 *
 * Models: src/mpsc/channel.ts — the steps R1–R5 (register: reuse a FREE or
 * drained RETIRED ring by CAS, else CAS the ring count up, grow the buffer,
 * CAS the new ring's state, reopen its closed word), D1–D2 (deregister:
 * closeAndSettle of src/close_gate.ts, then RETIRED) and the consumer sweep
 * (view every ring whose id is handed out and whose memory exists; consume
 * [head, tail)); and each producer's commit through the close gate (P1
 * sending = 1, P2 closed must be OPEN, P3 store tail, P4 sending = 0). A
 * producer's Ring object loads tail and head when it is made (after R5), so
 * a reused ring goes on from its last producer's position. The channel's
 * close (R6, K1–K3) is not modelled.
 *
 * Shared: rings (ids handed out), mem (rings whose memory exists: the
 * growable buffer's byteLength; a grow is one atomic step), and per ring
 * state, closed, sending, tail, head and CAP slots.
 *
 * Bounds: P = 2 producer threads, each registering LIVES = 2 times and
 * sending M = 2 items per registration; at most MAXR = 2 rings, memory for
 * 1 at the start (so registration grows the buffer while the consumer runs);
 * ring capacity CAP = 1. A registrant that finds every ring taken and none
 * drained (TooManyProducers) tries again.
 *
 * Properties (assertions):
 *  - a ring has one producer at a time (every winning CAS finds it unowned);
 *  - nobody touches a ring whose memory does not exist yet;
 *  - every item is delivered exactly once, in order per registration, and
 *    no commit of a registered producer fails with Closed;
 *  - everyone finishes: no invalid end state.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_VIEW_BY_COUNT   the consumer views rings by the handed-out count
 *                         alone (R3 publishes the id before R4 grows);
 *  BROKEN_TAKE_BY_STORE   R2 takes a FREE ring with a plain store, not a CAS;
 *  BROKEN_NO_REOPEN       R5 left out: the reused ring stays closed;
 *  BROKEN_RESET_POSITIONS the new producer starts the reused ring at 0.
 *
 * Not a defect: -DTAKE_UNDRAINED lets R2 take a RETIRED ring that still
 * holds items. Spin finds nothing lost or reordered (the new producer goes
 * on after its predecessor's items), so R2's drained test is a preference,
 * not a step these properties rest on (nor could they: between that test
 * and the CAS the ring can be taken, filled and retired again).
 */

#define P 2
#ifndef LIVES
#define LIVES 2
#endif
#ifndef M
#define M 2
#endif
#define MAXR 2
#define CAP 1
#define TOTAL (P * LIVES * M)
#define FREE 0
#define ACTIVE 1
#define RETIRED 2
#define OPEN 0
#define CLOSING 1
#define CLOSED 2

byte rings;                  /* ring ids handed out */
byte mem = 1;                /* rings whose memory exists; only grows */
byte state[MAXR];
byte closed[MAXR];
bool sending[MAXR];
byte tail[MAXR], head[MAXR]; /* free-running positions (< 256 within the bound) */
byte data[MAXR * CAP];       /* item: p << 4 | life << 2 | k, plus 1 */
byte owner[MAXR];            /* ghost: producer thread + 1 owning the ring */
byte delivered;              /* ghost: items the consumer took */
byte next[P * LIVES];        /* ghost: next k expected per registration */

/* R1–R5: takes a ring; `id` is the result */
inline register(id) {
  do
  :: true ->
     /* R2: reuse a FREE or drained RETIRED ring among the viewable ones */
     viewable = (rings < mem -> rings : mem);
     i = 0;
     do
     :: i >= viewable -> break
     :: else ->
        s = state[i];
        if
        :: s == FREE ->
#ifdef BROKEN_TAKE_BY_STORE
           atomic { state[i] = ACTIVE; assert(owner[i] == 0); owner[i] = me + 1 }; id = i; goto taken
#else
           atomic {
             if
             :: state[i] == FREE -> state[i] = ACTIVE; assert(owner[i] == 0); owner[i] = me + 1; id = i
             :: else -> skip
             fi
           };
           if :: id != 255 -> goto taken :: else -> skip fi
#endif
#ifdef TAKE_UNDRAINED
        :: s == RETIRED ->
#else
        :: s == RETIRED && head[i] == tail[i] ->
#endif
           atomic {
             if
             :: state[i] == RETIRED -> state[i] = ACTIVE; assert(owner[i] == 0); owner[i] = me + 1; id = i
             :: else -> skip
             fi
           };
           if :: id != 255 -> goto taken :: else -> skip fi
        :: else -> skip
        fi;
        i++
     od;
     /* R3: hand out a new ring id */
     n = rings;
     if
     :: n >= MAXR -> skip                   /* TooManyProducers: try again */
     :: else ->
        atomic { if :: rings == n -> rings = n + 1; ok = 1 :: else -> ok = 0 fi };
        if
        :: ok ->
           /* R4: grow until ring n fits (a larger concurrent grow is fine) */
           atomic { if :: mem < n + 1 -> mem = n + 1 :: else -> skip fi };
           atomic {
             assert(n < mem);
             if
             :: state[n] == FREE -> state[n] = ACTIVE; assert(owner[n] == 0); owner[n] = me + 1; id = n
             :: else -> skip
             fi
           };
           if :: id != 255 -> goto taken :: else -> skip fi
        :: else -> skip
        fi
     fi
  od;
taken:
  assert(id < mem);
#ifndef BROKEN_NO_REOPEN
  closed[id] = OPEN;                        /* R5: reopens the ring for its new producer */
#endif
  i = 0; s = 0; n = 0; ok = 0; viewable = 0
}

proctype Producer(byte me) {
  byte life, k, id, t, h, i, s, n, viewable;
  bool ok;
  for (life : 0 .. LIVES - 1) {
    id = 255;
    register(id);
    /* the producer's Ring object loads the positions */
#ifdef BROKEN_RESET_POSITIONS
    t = 0; h = 0;
#else
    t = tail[id]; h = head[id];
#endif
    for (k : 0 .. M - 1) {
      /* wait for room: reload head while the cached copy says full */
      do
      :: t - h < CAP -> break
      :: else -> h = head[id]
      od;
      data[id * CAP + t % CAP] = ((me << 4) | (life << 2) | k) + 1;
      sending[id] = true;                   /* P1 */
      assert(closed[id] == OPEN);           /* P2: else Closed */
      tail[id] = t + 1;                     /* P3: publishes the item */
      sending[id] = false;                  /* P4 */
      t++
    };
    /* D1: closeAndSettle, then D2 */
    atomic { if :: closed[id] == OPEN -> closed[id] = CLOSING :: else -> skip fi };
    (!sending[id]);
    closed[id] = CLOSED;
    atomic { state[id] = RETIRED; owner[id] = 0 };  /* D2: reusable once drained */
    t = 0; h = 0; k = 0
  }
}

active proctype Consumer() {
  byte count, i, t, v, r;
  do
  :: delivered == TOTAL -> break
  :: else ->
     /* one sweep: #refresh (#viewable), then every viewed ring's [head, tail) */
#ifdef BROKEN_VIEW_BY_COUNT
     count = rings;
#else
     count = (rings < mem -> rings : mem);
#endif
     for (i : 0 .. MAXR - 1) {
       if
       :: i < count ->
          assert(i < mem);                  /* the ring's memory exists */
          t = tail[i];                      /* Atomics.load(tail) */
          do
          :: head[i] == t -> break
          :: else ->
             v = data[i * CAP + head[i] % CAP] - 1;
             r = ((v >> 4) * LIVES) + ((v >> 2) & 3);
             d_step {
               assert(v != 255 && (v & 3) == next[r]);   /* exactly once, in order */
               next[r]++; delivered++
             };
             head[i]++                      /* frees the slot */
          od
       :: else -> skip
       fi
     };
     t = 0; v = 0; r = 0
  od
}

init {
  atomic { run Producer(0); run Producer(1) }
}
