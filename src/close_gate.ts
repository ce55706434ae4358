/**
 * Internal: the close gate — how a ring's `closed` word and its producer's
 * `sending` word make `close()` lose nothing.
 *
 * Words (u32, positions given by each ring's layout):
 *
 * ```text
 * closed   0 OPEN → 1 CLOSING (close() began) → 2 CLOSED (close() settled); any closer writes
 * sending  1 while the ring's producer is inside a commit, else 0; the producer writes it
 * ```
 *
 * The protocol (a Dekker pair over sequentially consistent atomics):
 *
 * ```text
 * producer commit:  P1 store sending = 1      closer:  C1 store closed = CLOSING (if OPEN)
 *                   P2 load closed                     C2 load sending, until 0 or the grace ends
 *                      ≠ OPEN → store sending = 0,     C3 store closed = CLOSED
 *                               throw Closed
 *                   P3 store tail (publish)
 *                   P4 store sending = 0, then wake consumers
 * ```
 *
 * Either P2 sees CLOSING (the commit fails visibly and publishes nothing) or
 * C2 sees `sending = 1` and waits until P4, so once `close()` returns every
 * accepted commit is in the ring: a `drainAll` after `close()` sees it. A
 * consumer that ends on "closed and drained" decides "closed" with
 * {@linkcode isSealed}: CLOSED, or CLOSING with no commit in flight — then
 * its last emptiness check comes after every accepted publish. A producer
 * that dies between P1 and P4 holds `sending` at 1: the closer waits at most
 * {@linkcode SETTLE_GRACE_MS} for it, then stores CLOSED regardless.
 * Spin checks the gate: `models/close_gate.pml`.
 *
 * @module
 */

import { TimedOut } from "./errors.ts";
import { waitUntil } from "./wait_engine.ts";

/** `closed` word: open. */
export const OPEN = 0;
/** `closed` word: `close()` began; commits now fail, one may still be in flight. */
export const CLOSING = 1;
/** `closed` word: `close()` settled; no commit can publish any more. */
export const CLOSED = 2;
/** The longest `close()` waits for a commit in flight (a producer that died inside one). */
export const SETTLE_GRACE_MS = 1000;

/**
 * C1–C3 for one ring: marks it closing, waits until its producer is not inside
 * a commit (at most {@linkcode SETTLE_GRACE_MS}), then marks it closed.
 *
 * @param words The ring's words.
 * @param closed Index of its `closed` word.
 * @param sending Index of its `sending` word.
 */
export function closeAndSettle(words: Int32Array, closed: number, sending: number): void {
  Atomics.compareExchange(words, closed, OPEN, CLOSING); // publishes "commits now fail"
  waitSettled(words, sending);
  Atomics.store(words, closed, CLOSED); // publishes "no commit is in flight any more"
}

/**
 * C2 alone: waits until the producer is not inside a commit, at most
 * {@linkcode SETTLE_GRACE_MS} (channels close all rings first, then wait).
 *
 * @param words The ring's words.
 * @param sending Index of its `sending` word.
 */
export function waitSettled(words: Int32Array, sending: number): void {
  const settled = () => Atomics.load(words, sending) === 0;
  if (settled()) return;
  try {
    // polls through the one wait engine (no spot: a producer's P4 wakes nobody)
    waitUntil(null, { timeoutMs: SETTLE_GRACE_MS }, settled, "close");
  } catch (error) {
    if (!(error instanceof TimedOut)) throw error; // the grace is over: a dead producer
  }
}

/**
 * Whether a consumer may end: the ring is CLOSED, or CLOSING with no commit
 * in flight. Check it before the last emptiness check.
 *
 * @param words The ring's words.
 * @param closed Index of its `closed` word.
 * @param sending Index of its `sending` word.
 * @returns `true` once nothing more can be published.
 */
export function isSealed(words: Int32Array, closed: number, sending: number): boolean {
  const state = Atomics.load(words, closed);
  return state === CLOSED || (state === CLOSING && Atomics.load(words, sending) === 0);
}
