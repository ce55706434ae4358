/**
 * `ClaimHead`: the consumer side of a ring whose head several consumers share
 * (SPMC channels and MPMC rings). Consumers claim items with a
 * compare-and-swap on the head instead of a plain store.
 *
 * The ring is the one of `src/ring.ts` (`RING_LAYOUT`); only the head word
 * changes hands. A claim is: load head `h` and tail `t`; copy up to
 * `min(t − h, room)` items starting at `h` into private memory; CAS head from
 * `h` to `h + n`. The copy is speculative: the producer cannot overwrite slots
 * in `[h, t)` until the head passes them, and if another consumer moved the
 * head first the CAS fails, the copy is dropped and the claim retried. Only
 * the low 32 bits of the head are used (positions wrap safely); the high word
 * is not maintained on these rings.
 *
 * Spin checks the claim against an overwriting producer: `models/claim_head.pml`.
 *
 * @module
 */

import { checkArrayLike, checkCallable, checkInteger, checkLimit } from "./_validate.ts";
import type { ElementStore, ElementType } from "./element.ts";
import { gateWords, isSealed } from "./close_gate.ts";
import { RingCorrupt } from "./errors.ts";
import type { Handler } from "./ring.ts";
import { position64, RING_LAYOUT } from "./layout.ts";
import {
  makeSpot,
  waitForItems,
  waitForItemsAsync,
  type WaitOptions,
  type WaitSpot,
  wakeSpot,
} from "./wait_engine.ts";
import { WaitStrategy } from "./wait_strategy.ts";

/** Most items one `consumeBatch` claim takes (the seed's stack buffer). */
export const MAX_CLAIM = 4096;

const TAIL = RING_LAYOUT.tail / 4;
const HEAD = RING_LAYOUT.head / 4;
const GATE = gateWords(RING_LAYOUT);

/**
 * Claims items from a shared-head ring in a `SharedArrayBuffer`.
 *
 * @example Two claimers share one ring
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClaimHead, Ring, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 4 });
 * ring.send([1, 2, 3]);
 * const h = ring.handle();
 * const a = new ClaimHead(u32, h.buffer, h.byteOffset, 4);
 * const b = new ClaimHead(u32, h.buffer, h.byteOffset, 4);
 * assert.equal(a.stealOne(), 1);
 * assert.equal(b.stealOne(), 2);
 * assert.equal(a.stealOne(), 3);
 * assert.equal(b.stealOne(), null);
 * ```
 */
export class ClaimHead<V, S extends ElementStore> {
  readonly #element: ElementType<V, S>;
  readonly #words: Int32Array;
  readonly #data: S;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #producerSpot: WaitSpot;
  readonly #consumerSpot: WaitSpot;
  /** Private copy space: a store of the same kind (numbers) or an array (records). */
  readonly #scratch: { length: number; [i: number]: V };

  /**
   * Views the ring at `byteOffset` of `buffer`.
   *
   * @param element The ring's element type.
   * @param buffer The memory holding the ring.
   * @param byteOffset Where the ring starts.
   * @param ringBits The ring's `ringBits`.
   * @param consumerSpot Where consumers sleep; default the ring's own consumer words.
   */
  constructor(
    element: ElementType<V, S>,
    buffer: SharedArrayBuffer,
    byteOffset: number,
    ringBits: number,
    consumerSpot?: WaitSpot,
  ) {
    this.#element = element;
    this.#capacity = 2 ** ringBits;
    this.#mask = this.#capacity - 1;
    this.#words = new Int32Array(buffer, byteOffset, RING_LAYOUT.data / 4);
    this.#data = element.view(buffer, byteOffset + RING_LAYOUT.data, this.#capacity);
    this.#producerSpot = makeSpot(
      this.#words,
      RING_LAYOUT.producerSeq / 4,
      RING_LAYOUT.producerWaiters / 4,
    );
    this.#consumerSpot = consumerSpot ??
      makeSpot(this.#words, RING_LAYOUT.consumerSeq / 4, RING_LAYOUT.consumerWaiters / 4);
    const claimMax = Math.min(MAX_CLAIM, this.#capacity);
    this.#scratch = element.spec.kind === "record"
      ? new Array(claimMax)
      : element.view(new ArrayBuffer(claimMax * element.bytes), 0, claimMax) as unknown as {
        length: number;
        [i: number]: V;
      };
  }

  /**
   * Items readable now (two loads).
   *
   * @returns The count.
   * @throws {RingCorrupt} If shared memory says `tail − head > capacity`.
   */
  available(): number {
    for (;;) {
      const head = Atomics.load(this.#words, HEAD);
      const tail = Atomics.load(this.#words, TAIL);
      const n = (tail - head) >>> 0;
      if (n <= this.#capacity) return n;
      this.#checkStale(head, tail);
    }
  }

  /**
   * `tail − head > capacity` proves corruption only if the head stood still: a
   * claim by another consumer between the two loads (and a refill) can make an
   * honest ring look overfull. Returns to retry; throws if the head is unchanged.
   */
  #checkStale(head: number, tail: number): void {
    if (Atomics.load(this.#words, HEAD) !== head) return;
    throw new RingCorrupt(
      `Cannot claim as tail − head exceeds capacity ${this.#capacity}: received tail ${
        position64(this.#words, TAIL, tail)
      }, head ${position64(this.#words, HEAD, head)}`,
    );
  }

  /**
   * Claims up to `max` items into `out[start…]`.
   *
   * @param out Where the claimed items go.
   * @param start First index of `out` to fill.
   * @param max Most items to claim.
   * @returns Items claimed, 0 if the ring is empty.
   * @throws {TypeError} If `out` is not array-like.
   * @throws {RangeError} If `start` is not an integer between 0 and `out.length`, or `max` is not an integer ≥ 0 or Infinity.
   */
  claimInto(out: { length: number; [i: number]: V }, start: number, max: number): number {
    const length = checkArrayLike("claim", "out", out);
    checkInteger("claim", "start", start, 0, length);
    checkLimit("claim", "max", max);
    return this.#claim(out, start, Math.min(max, length - start));
  }

  /** Claims up to `max` items into `out[start…]`; the arguments are known good. */
  #claim(out: { length: number; [i: number]: V }, start: number, max: number): number {
    const el = this.#element;
    for (;;) {
      const head = Atomics.load(this.#words, HEAD);
      const tail = Atomics.load(this.#words, TAIL);
      const avail = (tail - head) >>> 0;
      if (avail > this.#capacity) {
        this.#checkStale(head, tail); // throws RingCorrupt unless a claim moved the head
        continue;
      }
      const n = avail < max ? avail : max;
      if (n <= 0) return 0;
      const index = head & this.#mask;
      const first = Math.min(n, this.#capacity - index);
      el.copyOut(this.#data, index, out, start, first);
      if (first < n) el.copyOut(this.#data, 0, out, start + first, n - first);
      // claims items head … head + n − 1 and frees their slots for the producer
      if (Atomics.compareExchange(this.#words, HEAD, head, (head + n) | 0) === head) {
        if (Atomics.load(this.#words, this.#producerSpot.waitersIndex) !== 0) {
          wakeSpot(this.#producerSpot);
        }
        return n;
      }
    }
  }

  /**
   * Claims items into `out` (speculative copy, then CAS; retried on conflict).
   *
   * @param out Where the items go; its length bounds the count.
   * @returns Items claimed.
   * @throws {TypeError} If `out` is not array-like.
   */
  steal(out: { length: number; [i: number]: V }): number {
    return this.#claim(out, 0, checkArrayLike("steal", "out", out));
  }

  /**
   * Claims one item.
   *
   * @returns The item, or `null` if the ring is empty.
   */
  stealOne(): V | null {
    return this.#claim(this.#scratch, 0, 1) === 0 ? null : this.#scratch[0];
  }

  /**
   * Claims up to `max` (at most {@linkcode MAX_CLAIM}) items into private
   * memory, then calls `handler.process` on each.
   *
   * @param handler Gets each item.
   * @param max Most items; default {@linkcode MAX_CLAIM}.
   * @returns Items processed.
   * @throws {RangeError} If `max` is not an integer ≥ 0 or Infinity.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  consumeBatch(handler: Handler<V>, max: number = MAX_CLAIM): number {
    checkLimit("consume", "max", max);
    checkCallable("consume", "handler", handler, "process");
    const scratch = this.#scratch;
    const n = this.#claim(scratch, 0, Math.min(max, scratch.length));
    for (let i = 0; i < n; i++) handler.process(scratch[i]);
    return n;
  }

  /**
   * Whether the ring was closed, with no commit still in flight
   * (src/close_gate.ts): once `true` and the ring is empty, nothing more comes.
   *
   * @returns `true` once closed and settled.
   */
  isClosed(): boolean {
    return isSealed(this.#words, GATE);
  }

  /**
   * Waits as `strategy` says until an item is readable.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If a timed strategy's deadline passes.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    waitForItems(this.#consumerSpot, wait, this.#hasItems, this.#isClosed, "claim");
  }

  /**
   * Resolves once an item is readable, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return waitForItemsAsync(this.#consumerSpot, options, this.#hasItems, this.#isClosed, "claim");
  }

  readonly #hasItems = (): boolean => this.available() !== 0;
  readonly #isClosed = (): boolean => this.isClosed();
}
