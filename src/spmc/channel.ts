/**
 * The SPMC channel (the seed's `spmc.Channel`): one ring, one producer, any
 * number of consumers that claim items with a compare-and-swap on the head.
 *
 * Layout: the ring of `src/ring.ts` (`RING_LAYOUT`, src/layout.ts), plus two
 * words in its cold region (`SPMC_CONSUMERS`, `SPMC_IDS`):
 *
 * ```text
 * 376  consumers u32   consumers registered now (register +1 by CAS, ≤ maxConsumers; deregister −1)
 * 380  ids u32         consumer ids handed out so far (each consumer's `id`; only grows)
 * ```
 *
 * The producer writes tail and slots exactly as on an SPSC ring; consumers
 * write only the head, by CAS (see `src/claim_head.ts`). A consumer holds
 * nothing between claims (a claim copies, then moves the head by CAS), so one
 * that deregisters leaves every unclaimed item in the ring for the others,
 * and its place counts toward `maxConsumers` no more.
 *
 * @module
 */

import { checkInteger, checkObject } from "../_validate.ts";
import { checkIdentity, identityOf, Kind, writeIdentity } from "../_identity.ts";
import { defaultConfig } from "../config.ts";
import { ClaimHead, MAX_CLAIM } from "../claim_head.ts";
import {
  elementFromSpec,
  type ElementSpec,
  type ElementStore,
  type ElementType,
} from "../element.ts";
import { Closed, RingCorrupt, TooManyConsumers } from "../errors.ts";
import type { Reservation } from "../reservation.ts";
import { type Handler, Ring, type RingHandle } from "../ring.ts";
import type { WaitOptions } from "../wait_engine.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import { IDENTITY_OFFSET, SPMC_CONSUMERS, SPMC_IDS } from "../layout.ts";

const CONSUMERS = SPMC_CONSUMERS / 4;
const IDS = SPMC_IDS / 4;

/** Configuration of an SPMC channel (the seed's `SpmcConfig`). */
export interface SpmcConfig {
  /** Ring capacity is `2 ** ringBits`; between 1 and 30. */
  readonly ringBits: number;
  /** Most consumers that may register. */
  readonly maxConsumers: number;
  /** Count sends and batches on the producer side. */
  readonly enableMetrics: boolean;
}

/** The SPMC preset: 64 Ki slots, up to 16 consumers. */
export const defaultSpmcConfig: SpmcConfig = Object.freeze({
  ringBits: defaultConfig.ringBits,
  maxConsumers: 16,
  enableMetrics: false,
});

/** A structured-cloneable handle to an SPMC channel. */
// deno-lint-ignore no-explicit-any
export interface SpmcHandle<V = any, S extends ElementStore = any> {
  /** The ring's handle. */
  readonly ring: RingHandle<V, S>;
  /** The channel's config. */
  readonly config: SpmcConfig;
}

/**
 * A registered consumer: claims items with CAS on the shared head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new spmc.Channel(u32, { ringBits: 4 });
 * ch.send([5, 6]);
 * const c = ch.registerConsumer();
 * assert.equal(c.stealOne(), 5);
 * assert.equal(c.steal(new Uint32Array(4)), 1);
 * ```
 */
export class Consumer<V, S extends ElementStore> extends ClaimHead<V, S> {
  /** This consumer's id: its registration number, unique over the channel's life. */
  readonly id: number;
  readonly #words: Int32Array;
  #retired = false;

  /**
   * Made by `Channel.registerConsumer`.
   *
   * @param id The registration number.
   * @param element The element type.
   * @param handle The ring's handle.
   */
  constructor(id: number, element: ElementType<V, S>, handle: RingHandle) {
    super(element, handle.buffer, handle.byteOffset, handle.config.ringBits);
    this.id = id;
    this.#words = new Int32Array(handle.buffer, handle.byteOffset, 96);
  }

  /**
   * Claims up to `max` items into `out[start…]` (see `ClaimHead.claimInto`).
   *
   * @param out Where the claimed items go.
   * @param start First index of `out` to fill.
   * @param max Most items to claim.
   * @returns Items claimed, 0 if the ring is empty.
   * @throws {Closed} If this consumer was deregistered.
   */
  override claimInto(out: { length: number; [i: number]: V }, start: number, max: number): number {
    this.#checkLive();
    return super.claimInto(out, start, max);
  }

  /**
   * Claims items into `out` (see `ClaimHead.steal`).
   *
   * @param out Where the items go; its length bounds the count.
   * @returns Items claimed.
   * @throws {Closed} If this consumer was deregistered.
   */
  override steal(out: { length: number; [i: number]: V }): number {
    this.#checkLive();
    return super.steal(out);
  }

  /**
   * Claims one item (see `ClaimHead.stealOne`).
   *
   * @returns The item, or `null` if the ring is empty.
   * @throws {Closed} If this consumer was deregistered.
   */
  override stealOne(): V | null {
    this.#checkLive();
    return super.stealOne();
  }

  /**
   * Claims a batch into private memory, then processes it (see `ClaimHead.consumeBatch`).
   *
   * @param handler Gets each item.
   * @param max Most items; default {@linkcode MAX_CLAIM}.
   * @returns Items processed.
   * @throws {Closed} If this consumer was deregistered.
   */
  override consumeBatch(handler: Handler<V>, max: number = MAX_CLAIM): number {
    this.#checkLive();
    return super.consumeBatch(handler, max);
  }

  /**
   * Waits as `wait` says until an item is readable.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed and drained, or this consumer was deregistered.
   * @throws {TimedOut} If the deadline passes.
   */
  override waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#checkLive();
    super.waitReadable(wait);
  }

  /**
   * Resolves once an item is readable, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If the ring is closed and drained, or this consumer was deregistered.
   * @throws {TimedOut} If the timeout passes.
   */
  override readableAsync(options: WaitOptions = {}): Promise<void> {
    if (this.#retired) return Promise.reject(this.#gone());
    return super.readableAsync(options);
  }

  #gone(): Closed {
    return new Closed(`Cannot use consumer ${this.id} as it was deregistered`);
  }

  #checkLive(): void {
    if (this.#retired) throw this.#gone();
  }

  /**
   * Leaves the channel (idempotent): its place counts toward `maxConsumers`
   * no more; every unclaimed item stays for the other consumers. Later calls
   * on this consumer throw `Closed`.
   */
  deregister(): void {
    if (this.#retired) return;
    this.#retired = true;
    Atomics.sub(this.#words, CONSUMERS, 1); // frees the place for the next registrant
  }

  /** Same as {@linkcode Consumer.deregister}, for `using`. */
  [Symbol.dispose](): void {
    this.deregister();
  }
}

/**
 * Single-producer, multi-consumer channel. The producer side is the SPSC
 * ring's; consumers register from any Worker (`Channel.fromHandle(h)`).
 *
 * @example Work sharing between consumers
 * ```ts
 * import assert from "node:assert/strict";
 * import { spmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new spmc.Channel(u32, { ringBits: 6, maxConsumers: 2 });
 * ch.send([1, 2, 3, 4]);
 * const [a, b] = [ch.registerConsumer(), ch.registerConsumer()];
 * let sum = 0;
 * a.consumeBatch({ process: (x) => sum += x }, 2);
 * b.consumeBatch({ process: (x) => sum += x });
 * assert.equal(sum, 10);
 * assert.ok(ch.isEmpty());
 * ```
 */
export class Channel<V, S extends ElementStore> {
  readonly #ring: Ring<V, S>;
  readonly #config: SpmcConfig;
  readonly #words: Int32Array;

  /**
   * Creates a channel, or rebuilds one from a handle's ring.
   *
   * @param element The element type.
   * @param config Overrides of {@linkcode defaultSpmcConfig}.
   * @param ring Internal: an existing ring (use `fromHandle`).
   * @throws {RangeError} If `ringBits` or `maxConsumers` is out of range.
   */
  constructor(element: ElementType<V, S>, config: Partial<SpmcConfig> = {}, ring?: Ring<V, S>) {
    const full = { ...defaultSpmcConfig, ...config };
    checkInteger("create channel", "maxConsumers", full.maxConsumers, 1, 2 ** 31 - 1);
    this.#config = Object.freeze(full);
    this.#ring = ring ??
      new Ring(element, { ringBits: full.ringBits, enableMetrics: full.enableMetrics });
    const h = this.#ring.handle();
    this.#words = new Int32Array(h.buffer, h.byteOffset, 96);
    const identity = identityOf(
      Kind.spmc,
      this.#ring.element,
      this.#ring.config.ringBits,
      full.maxConsumers,
    );
    const at = h.byteOffset + IDENTITY_OFFSET;
    // the creator records that this ring is an spmc channel's; fromHandle checks it
    if (ring === undefined) writeIdentity(h.buffer, at, identity);
    else checkIdentity("rebuild channel", h.buffer, at, identity);
  }

  /**
   * Rebuilds a channel from its handle in another Worker.
   *
   * @param handle From {@linkcode Channel.handle}.
   * @returns The channel.
   * @throws {TypeError} If the handle is malformed or disagrees with what its memory holds.
   * @throws {RangeError} If a value in it is out of range.
   */
  static fromHandle<V, S extends ElementStore>(handle: SpmcHandle<V, S>): Channel<V, S> {
    checkObject("rebuild channel", "handle", handle);
    const ring = Ring.fromHandle<V, S>(handle.ring);
    return new Channel(elementFromSpec(handle.ring.element as ElementSpec), handle.config, ring);
  }

  /**
   * A structured-cloneable handle for other Workers.
   *
   * @returns The handle.
   */
  handle(): SpmcHandle<V, S> {
    return { ring: this.#ring.handle(), config: this.#config };
  }

  /**
   * Registers a consumer.
   *
   * @returns The consumer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyConsumers} If `maxConsumers` are registered.
   */
  registerConsumer(): Consumer<V, S> {
    if (this.isClosed()) throw new Closed("Cannot register a consumer as the channel is closed");
    // CAS loop: take a place unless all are taken; retried only when another registrant moved the count
    for (let n = Atomics.load(this.#words, CONSUMERS);;) {
      if (n < 0 || n > this.#config.maxConsumers) {
        throw new RingCorrupt(
          `Cannot register a consumer as the consumer count must be between 0 and ${this.#config.maxConsumers}: received ${n}`,
        );
      }
      if (n === this.#config.maxConsumers) {
        throw new TooManyConsumers(
          `Cannot register a consumer as the channel holds its maximum of ${this.#config.maxConsumers}`,
        );
      }
      const seen = Atomics.compareExchange(this.#words, CONSUMERS, n, n + 1);
      if (seen === n) break;
      n = seen;
    }
    const id = Atomics.add(this.#words, IDS, 1) >>> 0;
    return new Consumer(id, this.#ring.element, this.#ring.handle());
  }

  /**
   * Deregisters a consumer (same as `consumer.deregister()`).
   *
   * @param consumer The consumer that leaves.
   * @throws {TypeError} If `consumer` is not an SPMC consumer.
   */
  deregisterConsumer(consumer: Consumer<V, S>): void {
    if (!(consumer instanceof Consumer)) {
      throw new TypeError(
        `Cannot deregister a consumer as it is not an SPMC consumer: received ${String(consumer)}`,
      );
    }
    consumer.deregister();
  }

  /**
   * Consumers registered now.
   *
   * @returns The count.
   */
  consumerCount(): number {
    return Atomics.load(this.#words, CONSUMERS);
  }

  /**
   * Reserves up to `n` slots (producer).
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if fewer than `n` are free.
   */
  reserve(n: number): Reservation<S> | null {
    return this.#ring.reserve(n);
  }

  /**
   * Publishes `n` reserved slots (producer).
   *
   * @param n Slots written.
   */
  commit(n: number): void {
    this.#ring.commit(n);
  }

  /**
   * Sends as many items as fit (producer).
   *
   * @param items The items.
   * @returns How many were sent.
   */
  send(items: ArrayLike<V>): number {
    return this.#ring.send(items);
  }

  /**
   * Sends one item if there is room (producer).
   *
   * @param item The item.
   * @returns `true` if sent.
   */
  sendOne(item: V): boolean {
    return this.#ring.sendOne(item);
  }

  /**
   * Waits as `strategy` says until `n` slots are free (producer).
   *
   * @param n Slots wanted.
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the channel is closed.
   */
  waitWritable(n: number, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#ring.waitWritable(n, wait);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop (producer).
   *
   * @param n Slots wanted.
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed.
   */
  writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    return this.#ring.writableAsync(n, options);
  }

  /** Closes the channel; consumers drain what is left, then see `Closed`. */
  close(): void {
    this.#ring.close();
  }

  /** Same as {@linkcode Channel.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Whether the channel was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#ring.isClosed();
  }

  /**
   * Items in the ring.
   *
   * @returns The count.
   */
  len(): number {
    return this.#ring.len();
  }

  /**
   * Whether the ring is empty.
   *
   * @returns `true` if empty.
   */
  isEmpty(): boolean {
    return this.#ring.isEmpty();
  }

  /** The underlying ring (producer side). */
  get ring(): Ring<V, S> {
    return this.#ring;
  }
}
