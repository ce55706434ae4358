/**
 * Internal: the close gate — how a ring's `closed` word and its producer's
 * `sending` word make `close()` lose nothing.
 *
 * Words (u32, positions given by each ring's layout):
 *
 * ```text
 * closed     0 OPEN → 1 CLOSING (close() began) → 2 CLOSED (close() settled); any closer writes
 * sending    the low word of the tail a commit is about to publish; the producer writes it.
 *            It equals the tail's low word except while a commit is in flight.
 * announced  (foreign layouts only) 1 once a producer of this library committed here
 * ```
 *
 * The protocol (a Dekker pair over sequentially consistent atomics):
 *
 * ```text
 * producer commit:  P1 store sending = new tail   closer:  C1 store closed = CLOSING (if OPEN)
 *                   P2 load closed                         C2 load sending, then tail, until equal
 *                      ≠ OPEN → store sending = tail,         or the grace ends
 *                               throw Closed               C3 store closed = CLOSED
 *                   P3 store tail = new tail (publish; the commit is over)
 * ```
 *
 * Either P2 sees CLOSING (the commit fails visibly and publishes nothing) or
 * C2 sees `sending ≠ tail` and waits until P3, so once `close()` returns every
 * accepted commit is in the ring: a `drainAll` after `close()` sees it. A
 * commit costs two sequentially consistent stores (P1, P3) — one more than the
 * publish alone — as the store that ends the commit is the publish itself.
 * A commit publishes 1 to capacity (< 2^32) items, so P1 always writes a value
 * other than the tail's: "in flight" is `sending ≠ tail`.
 *
 * A consumer that ends on "closed and drained" decides "closed" with
 * {@linkcode isSealed}: CLOSED, or CLOSING with no commit in flight — then
 * its last emptiness check comes after every accepted publish. A producer
 * that dies between P1 and P3 leaves `sending ≠ tail`: the closer waits at
 * most {@linkcode SETTLE_GRACE_MS} for it, then stores CLOSED regardless.
 *
 * A foreign layout (ringmpsc's SharedRing) may be fed by a ringmpsc producer,
 * which never writes `sending` (nor checks `closed`): there the gate holds
 * only once a producer of this library stored `announced = 1` (before its
 * first P1). Until then `sending` means nothing and no commit counts as in
 * flight. Spin checks the gate: `models/close_gate.pml`.
 *
 * @module
 */

import { TimedOut } from "./errors.ts";
import type { RingLayout } from "./layout.ts";
import { waitUntil } from "./wait_engine.ts";

/** `closed` word: open. */
export const OPEN = 0;
/** `closed` word: `close()` began; commits now fail, one may still be in flight. */
export const CLOSING = 1;
/** `closed` word: `close()` settled; no commit can publish any more. */
export const CLOSED = 2;
/** The longest `close()` waits for a commit in flight (a producer that died inside one). */
export const SETTLE_GRACE_MS = 1000;

/** Word indexes (u32) of one ring's gate, from its layout. */
export interface GateWords {
  /** The `closed` word. */
  readonly closed: number;
  /** The `sending` word. */
  readonly sending: number;
  /** The low word of the tail. */
  readonly tail: number;
  /** The `announced` word; -1 where every producer announces (this library's own layouts). */
  readonly announced: number;
}

/**
 * The gate's words of a ring laid out as `layout`, indexes into the words
 * that start at the ring's first byte.
 *
 * @param layout The ring's layout.
 * @returns The word indexes.
 */
export function gateWords(layout: RingLayout): GateWords {
  return Object.freeze({
    closed: layout.closed / 4,
    sending: layout.sending / 4,
    tail: layout.tail / 4,
    announced: layout.announced < 0 ? -1 : layout.announced / 4,
  });
}

/**
 * Whether a commit is in flight: between its P1 and its P3.
 *
 * @param words The ring's words.
 * @param gate Its gate's word indexes.
 * @returns `true` while `sending ≠ tail` (and, on a foreign layout, a producer announces).
 */
function inFlight(words: Int32Array, gate: GateWords): boolean {
  if (gate.announced >= 0 && Atomics.load(words, gate.announced) === 0) return false;
  return Atomics.load(words, gate.sending) !== Atomics.load(words, gate.tail);
}

/**
 * C1–C3 for one ring: marks it closing, waits until its producer is not inside
 * a commit (at most {@linkcode SETTLE_GRACE_MS}), then marks it closed.
 *
 * @param words The ring's words.
 * @param gate Its gate's word indexes.
 */
export function closeAndSettle(words: Int32Array, gate: GateWords): void {
  Atomics.compareExchange(words, gate.closed, OPEN, CLOSING); // publishes "commits now fail"
  waitSettled(words, gate);
  Atomics.store(words, gate.closed, CLOSED); // publishes "no commit is in flight any more"
}

/**
 * C2 alone: waits until the producer is not inside a commit, at most
 * {@linkcode SETTLE_GRACE_MS} (channels close all rings first, then wait).
 *
 * @param words The ring's words.
 * @param gate Its gate's word indexes.
 */
export function waitSettled(words: Int32Array, gate: GateWords): void {
  const settled = () => !inFlight(words, gate);
  if (settled()) return;
  try {
    // polls through the one wait engine (no spot: a producer's P3 wakes nobody here)
    waitUntil(null, { timeoutMs: SETTLE_GRACE_MS }, settled, "close");
  } catch (error) {
    if (!(error instanceof TimedOut)) throw error; // the grace is over: a dead producer
  }
}

/**
 * Whether a consumer may end: the ring is CLOSED, or CLOSING with no commit
 * in flight. Check it before the last emptiness check. A `closed` word that
 * holds none of the three states (forged) reads as CLOSED, as commits read
 * any value but OPEN as closed.
 *
 * @param words The ring's words.
 * @param gate Its gate's word indexes.
 * @returns `true` once nothing more can be published.
 */
export function isSealed(words: Int32Array, gate: GateWords): boolean {
  const state = Atomics.load(words, gate.closed);
  return state !== OPEN && (state !== CLOSING || !inFlight(words, gate));
}
