/**
 * The MPSC channel (the seed's `mpsc.Channel`): one SPSC ring per producer,
 * one consumer that sweeps them with adaptive skip.
 *
 * Layout (one growable `SharedArrayBuffer`, byte offsets; the constants are in
 * src/layout.ts):
 *
 * ```text
 *   0  lock u32            registration spin lock: 0 free, 1 held (register/close only)
 *   4  closed u32          0 → 1 once, by close()
 *   8  rings u32           rings registered so far; only grows; ring ids are 0 … rings − 1
 *  16  doorbellSeq u32     the consumer sleeps on it; a commit that finds doorbellWaiters > 0 bumps it
 *  20  doorbellWaiters u32 sleeping consumers
 * 128  ring 0             RING_LAYOUT (src/ring.ts), `stride` bytes each
 * 128 + i × stride        ring i
 * ```
 *
 * Roles: a producer writes only its own ring's producer words and slots; the
 * consumer writes only the rings' head words. Registration takes the lock,
 * grows the buffer first if ring `rings` does not fit, then publishes
 * `rings + 1`, so a consumer that sees the new count can always view the new
 * ring. The consumer loads `rings` once per sweep and views any new rings
 * there: registering never stops it. Every ring's commit wakes the channel's
 * doorbell instead of a per-ring word, so a blocked consumer sleeps on one word
 * for all producers. With `numaAware` (the default) a registering producer's
 * ring is placed on its NUMA node by the installed `RingPlacement`
 * (src/placement.ts), as ringmpsc's `register()` does.
 *
 * @module
 */

import { checkArrayLike, checkCallable, checkInteger, checkLimit } from "../_validate.ts";
import { type Config, makeConfig } from "../config.ts";
import {
  elementFromSpec,
  type ElementSpec,
  type ElementStore,
  type ElementType,
  type TypedHandle,
} from "../element.ts";
import { Closed, TooManyProducers } from "../errors.ts";
import { Metrics } from "../metrics.ts";
import { atomicsParker } from "../parker.ts";
import { type Handler, Ring, ringStride } from "../ring.ts";
import {
  CHANNEL_DOORBELL_SEQ,
  CHANNEL_DOORBELL_WAITERS,
  CHANNEL_HEADER_BYTES,
  MPSC_CLOSED,
  MPSC_LOCK,
  MPSC_RINGS,
  RING_LAYOUT,
} from "../layout.ts";
import {
  makeSpot,
  waitForItems,
  waitForItemsAsync,
  type WaitOptions,
  type WaitSpot,
  wakeSpot,
} from "../waiter.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import { Producer, ProducerExt } from "./producer.ts";
import { yieldThread } from "../backoff.ts";
import { ringPlacement } from "../placement.ts";

/** The most rings a channel grows to. */
export const MAX_RINGS = 4096;
/** The adaptive skip's longest pause for an empty ring, in sweeps. */
const MAX_SKIP = 64;

/**
 * A structured-cloneable handle to an MPSC channel, for other Workers; typed
 * with the channel's element type (see {@linkcode TypedHandle}).
 */
// deno-lint-ignore no-explicit-any
export interface ChannelHandle<V = any, S extends ElementStore = any> extends TypedHandle<V, S> {
  /** The channel's growable memory. */
  readonly buffer: SharedArrayBuffer;
  /** The element type's spec. */
  readonly element: ElementSpec;
  /** The channel's config. */
  readonly config: Config;
}

/** A point-in-time health report of a channel (`snapshot()`). */
export interface ChannelStats {
  /** Producers registered so far (including deregistered ones). */
  readonly producers: number;
  /** Producers still registered. */
  readonly activeProducers: number;
  /** Items waiting in all rings. */
  readonly pending: number;
  /** Whether the channel was closed. */
  readonly closed: boolean;
  /** Items received per second since this channel object was made (needs `enableMetrics`). */
  readonly throughputPerSecond: number;
  /** Mean consume-batch latency in ns (needs `enableMetrics`). */
  readonly avgLatencyNs: number;
  /** The merged counters of every ring, or `null` without `enableMetrics`. */
  readonly metrics: Metrics | null;
}

/**
 * Multi-producer, single-consumer channel. Producers register from any
 * Worker (`Channel.fromHandle(h).register()`); one Worker consumes.
 *
 * @example Two producers, one consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, { ringBits: 6, maxProducers: 2 });
 * const a = ch.register();
 * const b = ch.register();
 * a.send([1, 2]);
 * b.send([10]);
 * let sum = 0;
 * ch.consumeAll({ process: (x) => sum += x });
 * assert.equal(sum, 13);
 * ```
 */
export class Channel<V, S extends ElementStore> {
  readonly #element: ElementType<V, S>;
  readonly #config: Config;
  readonly #buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #stride: number;
  readonly #doorbell: WaitSpot;
  readonly #rings: Ring<V, S>[] = [];
  /** Adaptive skip: sweeps to wait before polling ring i again. */
  #skip = new Int32Array(0);
  /** Adaptive skip: sweeps left before ring i is polled. */
  #countdown = new Int32Array(0);
  #cursor = 0;
  readonly #createdAt = performance.now();

  /**
   * Creates a channel with room for `config.maxProducers` rings; it grows on demand.
   *
   * @param element The element type.
   * @param config Overrides of `defaultConfig`.
   * @param handle Internal: the memory of an existing channel (use `fromHandle`).
   * @throws {RangeError} If a config value is out of range.
   */
  constructor(element: ElementType<V, S>, config: Partial<Config> = {}, handle?: ChannelHandle) {
    this.#element = element;
    this.#config = makeConfig(config, "create channel");
    this.#stride = ringStride(this.#config.ringBits, element.bytes);
    const maxRings = Math.min(
      MAX_RINGS,
      Math.floor((2 ** 32 - CHANNEL_HEADER_BYTES) / this.#stride),
    );
    if (maxRings < this.#config.maxProducers) {
      throw new RangeError(
        `Cannot create channel as ${this.#config.maxProducers} rings of ${this.#stride} bytes exceed 4 GiB: received maxProducers ${this.#config.maxProducers}`,
      );
    }
    this.#buffer = handle?.buffer ?? new SharedArrayBuffer(
      CHANNEL_HEADER_BYTES + this.#config.maxProducers * this.#stride,
      { maxByteLength: CHANNEL_HEADER_BYTES + maxRings * this.#stride },
    );
    this.#header = new Int32Array(this.#buffer, 0, CHANNEL_HEADER_BYTES / 4);
    this.#doorbell = makeSpot(this.#header, CHANNEL_DOORBELL_SEQ, CHANNEL_DOORBELL_WAITERS);
  }

  /**
   * Rebuilds a channel from its handle in another Worker.
   *
   * @param handle From {@linkcode Channel.handle}.
   * @returns A channel over the same memory.
   */
  static fromHandle<V, S extends ElementStore>(handle: ChannelHandle<V, S>): Channel<V, S> {
    if (!(handle?.buffer instanceof SharedArrayBuffer) || !handle.buffer.growable) {
      throw new TypeError(
        "Cannot rebuild channel as the handle holds no growable SharedArrayBuffer",
      );
    }
    return new Channel(elementFromSpec(handle.element), handle.config, handle);
  }

  /**
   * A structured-cloneable handle for other Workers.
   *
   * @returns The handle.
   */
  handle(): ChannelHandle<V, S> {
    return { buffer: this.#buffer, element: this.#element.spec, config: this.#config };
  }

  #ringAt(id: number): Ring<V, S> {
    return new Ring(this.#element, this.#config, {
      buffer: this.#buffer,
      byteOffset: CHANNEL_HEADER_BYTES + id * this.#stride,
      layout: RING_LAYOUT,
      parker: atomicsParker,
      initialize: false,
      consumerSpot: this.#doorbell,
    });
  }

  /** Views rings registered since the last look. Returns the ring count. */
  #refresh(): number {
    const count = Atomics.load(this.#header, MPSC_RINGS);
    if (count === this.#rings.length) return count;
    while (this.#rings.length < count) this.#rings.push(this.#ringAt(this.#rings.length));
    const skip = new Int32Array(count);
    skip.set(this.#skip);
    const countdown = new Int32Array(count);
    countdown.set(this.#countdown);
    this.#skip = skip;
    this.#countdown = countdown;
    return count;
  }

  #lock(): void {
    while (Atomics.compareExchange(this.#header, MPSC_LOCK, 0, 1) !== 0) yieldThread();
  }

  #unlock(): void {
    Atomics.store(this.#header, MPSC_LOCK, 0); // releases the registration lock
  }

  // ── Registration ────────────────────────────────────────────────────────

  #registerRing(): Ring<V, S> & { id: number } {
    this.#lock();
    let id: number;
    try {
      if (Atomics.load(this.#header, MPSC_CLOSED) !== 0) {
        throw new Closed("Cannot register a producer as the channel is closed");
      }
      id = Atomics.load(this.#header, MPSC_RINGS);
      const need = CHANNEL_HEADER_BYTES + (id + 1) * this.#stride;
      if (need > this.#buffer.byteLength) {
        if (need > this.#buffer.maxByteLength) {
          throw new TooManyProducers(
            `Cannot register a producer as the channel holds its maximum of ${id} rings`,
          );
        }
        const slots = Math.max(
          id + 1,
          Math.min(2 * id, (this.#buffer.maxByteLength - CHANNEL_HEADER_BYTES) / this.#stride),
        );
        this.#buffer.grow(CHANNEL_HEADER_BYTES + slots * this.#stride);
      }
      const placement = this.#config.numaAware ? ringPlacement() : null;
      const offset = CHANNEL_HEADER_BYTES + id * this.#stride;
      placement?.place(this.#buffer, offset, this.#stride, this.#config.numaNode);
      const ring = this.#ringAt(id);
      ring.setActive(true);
      Atomics.store(this.#header, MPSC_RINGS, id + 1); // publishes the new ring to the consumer
      return Object.assign(ring, { id });
    } finally {
      this.#unlock();
    }
  }

  /**
   * Registers a producer with its own ring, growing the channel if needed.
   *
   * @returns The producer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyProducers} If the channel holds `MAX_RINGS` rings already.
   */
  register(): Producer<V, S> {
    const ring = this.#registerRing();
    return new Producer(ring.id, ring);
  }

  /**
   * Registers a producer with the blocking API.
   *
   * @returns The producer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyProducers} If the channel holds `MAX_RINGS` rings already.
   */
  registerExt(): ProducerExt<V, S> {
    const ring = this.#registerRing();
    return new ProducerExt(ring.id, ring);
  }

  /**
   * Deregisters a producer: its ring is marked inactive and closed; what it
   * holds is still delivered by the consumer's next sweeps.
   *
   * @param producer The producer to retire.
   */
  deregister(producer: Producer<V, S>): void {
    producer.ring.setActive(false);
    producer.ring.close();
  }

  // ── Consumer ────────────────────────────────────────────────────────────

  /**
   * Consumes every readable item of every ring, polling rings that were empty
   * less often (after 1, 2, 4 … 64 sweeps) and at once again when they have data.
   *
   * @param handler Gets each item.
   * @returns Items consumed.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  consumeAll(handler: Handler<V>): number {
    checkCallable("consume", "handler", handler, "process");
    return this.consumeAllUpTo(Infinity, handler);
  }

  /**
   * Like {@linkcode Channel.consumeAll} without looking at the items.
   *
   * @returns Items consumed.
   */
  consumeAllCount(): number {
    const count = this.#refresh();
    let total = 0;
    for (let i = 0; i < count; i++) {
      if (this.#countdown[i] > 0) {
        this.#countdown[i]--;
        continue;
      }
      const n = this.#rings[i].consumeBatchCount();
      this.#afterPoll(i, n);
      total += n;
    }
    return total;
  }

  /**
   * Like {@linkcode Channel.consumeAll} with at most `max` items.
   *
   * @param max Most items to consume.
   * @param handler Gets each item.
   * @returns Items consumed.
   * @throws {RangeError} If `max` is not an integer ≥ 0 or Infinity.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  consumeAllUpTo(max: number, handler: Handler<V>): number {
    checkLimit("consume", "max", max);
    checkCallable("consume", "handler", handler, "process");
    const count = this.#refresh();
    let total = 0;
    for (let i = 0; i < count && total < max; i++) {
      if (this.#countdown[i] > 0) {
        this.#countdown[i]--;
        continue;
      }
      const n = this.#rings[i].consumeUpTo(max - total, handler);
      this.#afterPoll(i, n);
      total += n;
    }
    return total;
  }

  #afterPoll(i: number, n: number): void {
    if (n > 0) this.#skip[i] = 0;
    else {
      const next = this.#skip[i] === 0 ? 1 : Math.min(this.#skip[i] * 2, MAX_SKIP);
      this.#skip[i] = next;
      this.#countdown[i] = next;
    }
  }

  /** Polls every ring on the next sweep again. Call when the workload changes. */
  resetAdaptiveSkip(): void {
    this.#skip.fill(0);
    this.#countdown.fill(0);
  }

  /**
   * Receives into `out`, taking from the rings in turn.
   *
   * @param out Where to copy.
   * @returns Items received.
   * @throws {TypeError} If `out` is not array-like.
   */
  recv(out: { length: number; [i: number]: V }): number {
    const length = checkArrayLike("receive", "out", out);
    const count = this.#refresh();
    let total = 0;
    for (let k = 0; k < count && total < length; k++) {
      const i = (this.#cursor + k) % count;
      total += this.#rings[i].recv(out, total);
    }
    if (count > 0) this.#cursor = (this.#cursor + 1) % count;
    return total;
  }

  /**
   * Receives one item, scanning the rings from where the last scan stopped.
   *
   * @returns The item, or `null` if every ring is empty.
   */
  recvOne(): V | null {
    const count = this.#refresh();
    for (let k = 0; k < count; k++) {
      const i = (this.#cursor + k) % count;
      const item = this.#rings[i].tryRecv();
      if (item !== null) {
        this.#cursor = i;
        return item;
      }
    }
    return null;
  }

  /**
   * Same as {@linkcode Channel.recvOne}.
   *
   * @returns The item, or `null` if every ring is empty.
   */
  tryRecv(): V | null {
    return this.recvOne();
  }

  /**
   * Receives into `out` until it is full or every ring is empty.
   *
   * @param out Where to copy.
   * @returns Items received.
   * @throws {TypeError} If `out` is not array-like.
   */
  drain(out: { length: number; [i: number]: V }): number {
    const length = checkArrayLike("drain", "out", out);
    const count = this.#refresh();
    let total = 0;
    for (let i = 0; i < count && total < length; i++) {
      for (let n = this.#rings[i].recv(out, total); n > 0; n = this.#rings[i].recv(out, total)) {
        total += n;
      }
    }
    return total;
  }

  /**
   * Consumes everything left in every ring, ignoring the adaptive skip. Call
   * after the producers have stopped.
   *
   * @param handler Gets each item.
   * @returns Items consumed.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  drainAll(handler: Handler<V>): number {
    checkCallable("drain", "handler", handler, "process");
    let total = 0;
    for (;;) {
      const count = this.#refresh();
      let round = 0;
      for (let i = 0; i < count; i++) round += this.#rings[i].consumeBatch(handler);
      if (round === 0) return total;
      total += round;
    }
  }

  /**
   * Like {@linkcode Channel.drainAll} without looking at the items.
   *
   * @returns Items consumed.
   */
  drainAllCount(): number {
    let total = 0;
    for (;;) {
      const count = this.#refresh();
      let round = 0;
      for (let i = 0; i < count; i++) round += this.#rings[i].consumeBatchCount();
      if (round === 0) return total;
      total += round;
    }
  }

  /**
   * Waits as `strategy` says until some ring has an item.
   *
   * @param strategy How to wait; default blocking.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If a timed strategy's deadline passes.
   */
  waitReadable(strategy: WaitStrategy = WaitStrategy.blocking): void {
    waitForItems(this.#doorbell, strategy, this.#hasItems, this.#isClosed, "receive");
  }

  /**
   * Resolves once some ring has an item, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return waitForItemsAsync(this.#doorbell, options, this.#hasItems, this.#isClosed, "receive");
  }

  readonly #hasItems = (): boolean => !this.isEmpty();
  readonly #isClosed = (): boolean => this.isClosed();

  // ── Lifecycle and status ────────────────────────────────────────────────

  /** Closes the channel and every ring (idempotent); producers see `isClosed()`. */
  close(): void {
    this.#lock();
    try {
      const count = this.#refresh();
      // rings first: a consumer that sees the channel closed must not find a producer still open
      for (let i = 0; i < count; i++) this.#rings[i].close();
      Atomics.store(this.#header, MPSC_CLOSED, 1); // publishes "no more registrations"
    } finally {
      this.#unlock();
    }
    wakeSpot(this.#doorbell);
  }

  /** Same as {@linkcode Channel.close}: signals producers to stop. */
  shutdown(): void {
    this.close();
  }

  /** Closes the channel and drops this object's ring views. */
  deinit(): void {
    this.close();
    this.#rings.length = 0;
    this.#skip = new Int32Array(0);
    this.#countdown = new Int32Array(0);
  }

  /** Same as {@linkcode Channel.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }

  /**
   * Whether the channel was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return Atomics.load(this.#header, MPSC_CLOSED) !== 0;
  }

  /**
   * Whether the channel is closed and every ring is empty.
   *
   * @returns `true` once nothing more can arrive.
   */
  isFullyDrained(): boolean {
    return this.isClosed() && this.isEmpty();
  }

  /**
   * Items waiting in all rings.
   *
   * @returns The sum of every ring's length.
   */
  totalPending(): number {
    const count = this.#refresh();
    let total = 0;
    for (let i = 0; i < count; i++) total += this.#rings[i].len();
    return total;
  }

  /**
   * Whether every ring is empty.
   *
   * @returns `true` if nothing is pending.
   */
  isEmpty(): boolean {
    const count = this.#refresh();
    for (let i = 0; i < count; i++) if (!this.#rings[i].isEmpty()) return false;
    return true;
  }

  /**
   * The ring with the most pending items.
   *
   * @returns That ring, or `null` if every ring is empty.
   */
  hottestRing(): Ring<V, S> | null {
    const count = this.#refresh();
    let best: Ring<V, S> | null = null;
    let most = 0;
    for (let i = 0; i < count; i++) {
      const n = this.#rings[i].len();
      if (n > most) [best, most] = [this.#rings[i], n];
    }
    return best;
  }

  /**
   * The ring of producer `id`.
   *
   * @param id The producer id.
   * @returns The ring, or `null` if no such producer registered.
   * @throws {RangeError} If `id` is not an integer ≥ 0.
   * @throws {TypeError} If `id` is not a number.
   */
  getRing(id: number): Ring<V, S> | null {
    checkInteger("get ring", "id", id, 0, 2 ** 31 - 1);
    const count = this.#refresh();
    return id < count ? this.#rings[id] : null;
  }

  /**
   * A point-in-time health report.
   *
   * @returns Producers, pending items, and throughput and latency when metrics are on.
   */
  snapshot(): ChannelStats {
    const count = this.#refresh();
    let metrics: Metrics | null = null;
    let active = 0;
    for (let i = 0; i < count; i++) {
      const ring = this.#rings[i];
      if (ring.isActive()) active++;
      const m = ring.getMetrics();
      if (m !== null) (metrics ??= new Metrics()).merge(m);
    }
    const elapsedNs = (performance.now() - this.#createdAt) * 1e6;
    return {
      producers: count,
      activeProducers: active,
      pending: this.totalPending(),
      closed: this.isClosed(),
      throughputPerSecond: metrics?.throughputPerSecond(elapsedNs) ?? 0,
      avgLatencyNs: metrics?.avgLatencyNs() ?? 0,
      metrics,
    };
  }

  /**
   * Resets every ring and the adaptive skip. Not thread-safe: only while no
   * producer or consumer runs.
   */
  reset(): void {
    const count = this.#refresh();
    for (let i = 0; i < count; i++) this.#rings[i].reset();
    this.resetAdaptiveSkip();
  }
}
