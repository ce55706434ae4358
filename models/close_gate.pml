/*
 * The close gate: close() loses no accepted commit, and a consumer that
 * ends on "closed and drained" has taken every item.
 *
 * Models: src/close_gate.ts — a ring's commit (Ring#publishTail in
 * src/ring.ts: P1 store sending = 1, P2 load closed, ≠ OPEN → store
 * sending = 0 and throw Closed, P3 store tail, P4 store sending = 0), the
 * closer (closeAndSettle: C1 CAS closed OPEN → CLOSING, C2 wait until
 * sending = 0, C3 store closed = CLOSED) and the consumer's end
 * (waitForItems: items? else isSealed — CLOSED, or CLOSING with sending =
 * 0 — then items again, else Closed).
 *
 * Bounds: one producer committing N = 3 items one at a time, one closer,
 * one consumer; close may come at any point. The grace after which C2 gives
 * up on a dead producer is not modelled (the producer here lives).
 *
 * Properties (assertions):
 *  - once close() has returned, no commit publishes any more;
 *  - the consumer ends (Closed) only after it took every accepted commit;
 *  - everyone finishes (no invalid end state).
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_CHECK_BEFORE_SENDING  the commit loads closed before it stores
 *                               sending = 1 (P2 before P1);
 *  BROKEN_CLOSING_IS_SEALED     isSealed takes CLOSING as sealed without
 *                               looking at sending;
 *  BROKEN_NO_LAST_LOOK          the consumer ends on "sealed" without
 *                               looking for items once more.
 */

#ifndef N
#define N 3
#endif
#define OPEN 0
#define CLOSING 1
#define CLOSED 2

byte closed = OPEN;
bool sending;
byte tail, head;
bool closeReturned;          /* ghost: close() has returned */
bool consumerDone;           /* ghost: the consumer ended on Closed */

active proctype Producer() {
  byte k;
  for (k : 0 .. N - 1) {
#ifdef BROKEN_CHECK_BEFORE_SENDING
    if
    :: closed != OPEN -> goto stop
    :: else -> skip
    fi;
    sending = true;
#else
    sending = true;                         /* P1: a commit is in flight */
    if
    :: closed != OPEN -> sending = false; goto stop   /* P2: Closed, nothing published */
    :: else -> skip
    fi;
#endif
    atomic { assert(!closeReturned); tail++ };  /* P3: publishes the item */
    sending = false                         /* P4 */
  };
stop:
  skip
}

active proctype Closer() {
  atomic { if :: closed == OPEN -> closed = CLOSING :: else -> skip fi };  /* C1 */
  (!sending);                                                             /* C2 */
  closed = CLOSED;                                                        /* C3 */
  closeReturned = true
}

active proctype Consumer() {
  byte st;
  bool sealed;
  do
  :: tail != head -> head++                 /* takes one item */
  :: else ->
     /* isSealed */
     st = closed;
#ifdef BROKEN_CLOSING_IS_SEALED
     sealed = (st != OPEN);
#else
     sealed = (st == CLOSED || st == CLOSING && !sending);
#endif
     if
     :: sealed ->
#ifndef BROKEN_NO_LAST_LOOK
        if
        :: tail != head -> skip             /* committed before the close: take it first */
        :: else -> break
        fi
#else
        break
#endif
     :: else -> skip                        /* not sealed: wait (spin) */
     fi;
     st = 0; sealed = false
  od;
  consumerDone = true;
  /* nothing accepted is left behind, and nothing can still be accepted */
  (closeReturned);
  assert(head == tail)
}
