/*
 * The sleep/wake protocol of src/wait_engine.ts (sleeper steps 1–5 in
 * prepare and Waiter#wait, waker steps 1–2 in wakeSpot), shared by wake.pml
 * and wake_ringmpsc.pml, over a modelled futex.
 *
 * A ring has two directions, CONS (consumers sleep for items) and PROD
 * (producers sleep for room), each with a waiters word and a sequence word.
 * An in-process spot sleeps on the sequence word; a FOREIGN spot (memory
 * another process shares: SharedRing) sleeps with futex_waitv on its waiters
 * word and the watched word (the other side's position), expecting each to
 * hold its snapshot. The futex: the value check and going to sleep are one
 * step (the kernel's check under its lock); a notify of a word wakes every
 * thread asleep on it. A sleep with a finite slice (GUARD) may also end by
 * itself, modelled with Promela's `timeout`: it fires only when nothing else
 * can move, so the guard never stands in for a wake the protocol owes.
 */

#define CONS 0
#define PROD 1
#define SEQ_WORD(d) (1 << (2 * (d)))       /* futex word ids, as bits */
#define WAITERS_WORD(d) (1 << (2 * (d) + 1))
#define POS_WORD(d) (1 << (4 + (d)))       /* the position direction d waits on */

byte seq[2];                           /* consumerSeq, producerSeq */
byte waiters[2];                       /* consumerWaiters, producerWaiters */
bool asleep[2];                        /* futex: the sleeper of direction d */
byte sleepsOn[2];                      /* futex: the words it sleeps on */

/* Atomics.notify / FUTEX_WAKE: wakes every sleeper on word `wid` */
inline notify(wid) {
  atomic {
    if :: asleep[CONS] && (sleepsOn[CONS] & (wid)) -> asleep[CONS] = false :: else -> skip fi;
    if :: asleep[PROD] && (sleepsOn[PROD] & (wid)) -> asleep[PROD] = false :: else -> skip fi
  }
}

/* blocks until woken, or (GUARD) until the slice ends */
inline sleep(d) {
  if
  :: !asleep[d] -> skip
#ifdef GUARD
  :: timeout -> asleep[d] = false      /* the slice ended: re-check */
#endif
  fi
}

/* wakeSpot(d), waker step 2 (the caller did step 1: waiters loaded non-zero) */
inline wakeSpot(d) {
#ifndef FOREIGN
#ifndef BROKEN_NO_SEQ_BUMP
  seq[d]++;                            /* Atomics.add(seq, 1) */
#endif
  notify(SEQ_WORD(d));
#endif
  notify(WAITERS_WORD(d))              /* where foreign sleepers wait */
}

/*
 * One PARK round: sleeper steps 1–5. `ready` is the caller's condition over
 * shared words (re-checked with fresh loads), `pos` the watched position
 * word, `w` and `s` local bytes.
 */
inline park(d, ready, pos, w, s) {
  atomic { waiters[d]++; w = waiters[d] };      /* 1: W = add(waiters, 1) + 1 */
#ifdef FOREIGN
  s = pos;                                      /* 2: snapshot the watched word */
#else
#ifndef BROKEN_SEQ_LATE
  s = seq[d];                                   /* 2: s = load(seq) */
#endif
#endif
  if
#ifndef BROKEN_NO_RECHECK
  :: ready -> skip                              /* 3: the re-check holds: no sleep */
#endif
  :: else ->
#ifdef FOREIGN
     atomic {                                   /* 4: futex_waitv(waiters == W, pos == s) */
       if
#ifdef BROKEN_NO_WATCH
       :: waiters[d] == w ->
          asleep[d] = true; sleepsOn[d] = WAITERS_WORD(d)
#else
       :: waiters[d] == w && pos == s ->
          asleep[d] = true; sleepsOn[d] = WAITERS_WORD(d) | POS_WORD(d)
#endif
       :: else -> skip                          /* a word changed: not-equal */
       fi
     };
#else
#ifdef BROKEN_SEQ_LATE
     s = seq[d];
#endif
     atomic {                                   /* 4: wait(seq == s) */
       if
       :: seq[d] == s -> asleep[d] = true; sleepsOn[d] = SEQ_WORD(d)
       :: else -> skip
       fi
     };
#endif
     sleep(d)
  fi;
  waiters[d]--;                                 /* 5: sub(waiters, 1) */
  w = 0; s = 0
}
