/*
 * MPSC close against a registration that reuses a closed ring: no producer
 * is left with an open ring after close() returns.
 *
 * Models: src/mpsc/channel.ts — register's R1 (channel closed? throw), R2
 * (take a RETIRED ring by CAS), R5 (reopen the ring) and R6 (channel closed
 * now? close the ring itself, hand it back, throw), against close()'s K1
 * (CAS the channel word OPEN → CLOSING), K2 (closeAndSettle every viewable
 * ring, src/close_gate.ts) and K3 (CLOSED); then the new producer's commit
 * through the close gate (P1–P4 of close_gate.pml). R5/R6 against K1/K2 is
 * a Dekker pair: either R6 sees the channel closing, or K2 runs after R5.
 *
 * Bounds: one registrant that reuses the one ring (RETIRED and closed by
 * its previous producer's deregister), one closer, one commit.
 *
 * Properties (assertions): once close() has returned no commit publishes,
 * and every ring is closed; no invalid end state.
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_NO_R6         register skips R6;
 *  BROKEN_R6_BEFORE_R5  register checks the channel before it reopens the ring.
 */

#define OPEN 0
#define CLOSING 1
#define CLOSED 2
#define FREE 0
#define ACTIVE 1
#define RETIRED 2

byte channel = OPEN;         /* the channel's closed word */
byte state = RETIRED;        /* ring 0: retired by its last producer ... */
byte closed = CLOSED;        /* ... whose deregister closed it */
bool sending;
byte tail;
bool closeReturned;          /* ghost */
bool regDone;                /* ghost: register (and its commit) finished */

/* closeAndSettle of ring 0 (C1–C3) */
inline closeRing() {
  atomic { if :: closed == OPEN -> closed = CLOSING :: else -> skip fi };
  (!sending);
  closed = CLOSED
}

active proctype Registrant() {
  if
  :: channel != OPEN -> goto refused                  /* R1 */
  :: else -> skip
  fi;
  atomic {                                            /* R2: CAS RETIRED → ACTIVE */
    if
    :: state == RETIRED -> state = ACTIVE
    :: else -> goto refused
    fi
  };
#ifdef BROKEN_R6_BEFORE_R5
  if
  :: channel != OPEN -> closeRing(); state = RETIRED; goto refused
  :: else -> skip
  fi;
  closed = OPEN;
#else
  closed = OPEN;                                      /* R5: reopen */
#ifndef BROKEN_NO_R6
  if
  :: channel != OPEN -> closeRing(); state = RETIRED; goto refused   /* R6 */
  :: else -> skip
  fi;
#endif
#endif
  /* registered: one commit through the close gate */
  sending = true;                                     /* P1 */
  if
  :: closed != OPEN -> sending = false; goto refused  /* P2: Closed */
  :: else -> skip
  fi;
  atomic { assert(!closeReturned); tail++ };          /* P3 */
  sending = false;                                    /* P4 */
refused:
  regDone = true
}

active proctype Closer() {
  atomic { if :: channel == OPEN -> channel = CLOSING :: else -> skip fi };  /* K1 */
  closeRing();                                                            /* K2 */
  channel = CLOSED;                                                       /* K3 */
  closeReturned = true;
  /* once the registrant is done too, no ring is left open */
  (regDone);
  assert(closed != OPEN)
}
