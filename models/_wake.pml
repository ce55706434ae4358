/*
 * The sleep/wake protocol of src/waiter.ts, shared by wake.pml and
 * wake_ringmpsc.pml: park (the sleeper) and wakeSpot (our waker), over a
 * modelled futex.
 *
 * A ring has two directions, CONS (consumers sleep for items) and PROD
 * (producers sleep for room), each with a waiters word and a sequence word.
 * The futex: wait(word, expected) checks the word and goes to sleep in one
 * step (the kernel's check under its lock); notify(word) wakes every thread
 * asleep on that word. A sleep with a finite slice (GUARD) may also end by
 * itself, modelled with Promela's `timeout`: it fires only when nothing else
 * in the system can move, i.e. the slice ends while everyone else waits.
 */

#define CONS 0
#define PROD 1
#define SEQ_WORD(d) (2 * (d))          /* futex word ids */
#define WAITERS_WORD(d) (2 * (d) + 1)

byte seq[2];                           /* consumerSeq, producerSeq */
byte waiters[2];                       /* consumerWaiters, producerWaiters */
bool asleep[2];                        /* futex: thread of direction d is asleep */
byte sleepsOn[2];                      /* futex: the word it sleeps on */

/* futex wait on word `wid` (value `val`) while it still reads `expected` */
inline futexWait(d, wid, val, expected) {
  atomic {
    if
    :: val == expected -> asleep[d] = true; sleepsOn[d] = wid
    :: else -> skip                    /* "not-equal" */
    fi
  };
  if
  :: !asleep[d] -> skip                /* woken */
#ifdef GUARD
  :: timeout -> asleep[d] = false      /* the slice ended: re-check */
#endif
  fi
}

/* Atomics.notify / FUTEX_WAKE: wakes every sleeper on word `wid` */
inline notify(wid) {
  atomic {
    if :: asleep[CONS] && sleepsOn[CONS] == wid -> asleep[CONS] = false :: else -> skip fi;
    if :: asleep[PROD] && sleepsOn[PROD] == wid -> asleep[PROD] = false :: else -> skip fi
  }
}

/* wakeSpot(d): bump the sequence, notify it (and the waiters word) */
inline wakeSpot(d) {
#ifndef BROKEN_NO_SEQ_BUMP
  seq[d]++;                            /* Atomics.add(seq, 1) */
#endif
  notify(SEQ_WORD(d));
  notify(WAITERS_WORD(d))
}

/*
 * park(d, ready): one blocking round of Waiter#wait. `ready` is an
 * expression over shared words (the caller's condition, re-checked with
 * fresh loads), `s` a local byte.
 */
inline park(d, ready, s) {
#ifndef BROKEN_SEQ_LATE
  s = seq[d];                          /* Atomics.load(seq) */
#endif
  waiters[d]++;                        /* Atomics.add(waiters, 1) */
#ifdef BROKEN_NO_RECHECK
  futexWait(d, SEQ_WORD(d), seq[d], s);
#else
  if
  :: ready -> skip                     /* the re-check: no sleep */
  :: else ->
#ifdef BROKEN_SEQ_LATE
     s = seq[d];
#endif
     futexWait(d, SEQ_WORD(d), seq[d], s)
  fi;
#endif
  waiters[d]--;                        /* Atomics.sub(waiters, 1) */
  s = 0
}
