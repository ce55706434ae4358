/*
 * The close gate: close() loses no accepted commit, and a consumer that
 * ends on "closed and drained" has taken every item.
 *
 * Models: src/close_gate.ts — a ring's commit (Ring#publishTail in
 * src/ring.ts: P1 store sending = tail + 1, P2 load closed, ≠ OPEN →
 * store sending = tail and throw Closed, P3 store tail = tail + 1, which
 * also ends the commit), the closer (closeAndSettle: C1 CAS closed OPEN →
 * CLOSING, C2 load sending, then tail, until they are equal, C3 store
 * closed = CLOSED) and the consumer's end (waitForItems: items? else
 * isSealed — CLOSED, or CLOSING with sending = tail, the two loaded one
 * after the other — then items again, else Closed).
 *
 * Bounds: one producer committing N = 3 items one at a time, one closer,
 * one consumer; close may come at any point. The grace after which C2 gives
 * up on a dead producer is not modelled (the producer here lives). A
 * foreign layout's `announced` word is not modelled: a producer of this
 * library stores it before its first P1, so from the closer's view it is the
 * first step of the first commit.
 *
 * Properties (assertions):
 *  - once close() has returned, no commit publishes any more;
 *  - the consumer ends (Closed) only after it took every accepted commit;
 *  - everyone finishes (no invalid end state).
 *
 * Broken variants (spin -DBROKEN_…; each must fail):
 *  BROKEN_CHECK_BEFORE_SENDING  the commit loads closed before it announces
 *                               (P2 before P1);
 *  BROKEN_CLOSING_IS_SEALED     isSealed takes CLOSING as sealed without
 *                               looking at sending;
 *  BROKEN_NO_LAST_LOOK          the consumer ends on "sealed" without
 *                               looking for items once more;
 *  BROKEN_ANNOUNCE_AFTER        the commit publishes before it announces
 *                               (P3 before P1: nothing marks it in flight).
 */

#ifndef N
#define N 3
#endif
#define OPEN 0
#define CLOSING 1
#define CLOSED 2

byte closed = OPEN;
byte sending;                /* the tail a commit is publishing; = tail between commits */
byte tail, head;
bool closeReturned;          /* ghost: close() has returned */
bool consumerDone;           /* ghost: the consumer ended on Closed */

/* C2 / isSealed's look at the gate: sending, then tail, in two loads */
inline settled(result) {
  byte s, t;
  s = sending;
  t = tail;
  result = (s == t);
  s = 0; t = 0
}

active proctype Producer() {
  byte k;
  for (k : 0 .. N - 1) {
#ifdef BROKEN_CHECK_BEFORE_SENDING
    if
    :: closed != OPEN -> goto stop
    :: else -> skip
    fi;
    sending = tail + 1;
    atomic { assert(!closeReturned); tail++ }
#elif defined(BROKEN_ANNOUNCE_AFTER)
    if
    :: closed != OPEN -> goto stop
    :: else -> skip
    fi;
    atomic { assert(!closeReturned); tail++ };
    sending = tail
#else
    sending = tail + 1;                     /* P1: a commit is in flight */
    if
    :: closed != OPEN -> sending = tail; goto stop   /* P2: Closed, nothing published */
    :: else -> skip
    fi;
    atomic { assert(!closeReturned); tail++ }  /* P3: publishes the item, ends the commit */
#endif
  };
stop:
  skip
}

active proctype Closer() {
  bool done;
  atomic { if :: closed == OPEN -> closed = CLOSING :: else -> skip fi };  /* C1 */
  do                                                                      /* C2 */
  :: settled(done); if :: done -> break :: else -> skip fi
  od;
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
     if
     :: st == CLOSED -> sealed = true
     :: st == CLOSING -> settled(sealed)
     :: else -> sealed = false
     fi;
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
