/**
 * The MPMC channel (the seed's `mpmc.MpmcChannel`): one `MpmcRing` per
 * producer, consumers that steal in three phases.
 *
 * Layout (one `SharedArrayBuffer`, byte offsets; the constants are in src/layout.ts):
 *
 * ```text
 *   0  producers u32        registered producers; only grows, ≤ maxProducers
 *   4  (unused u32; was the consumer count)
 *   8  closed u32           0 open → 1 closing → 2 closed, by close() (src/close_gate.ts)
 *  16  doorbellSeq u32      consumers sleep on it; a commit that finds doorbellWaiters > 0 bumps it
 *  20  doorbellWaiters u32  sleeping consumers
 *  32  consumer slots       24 u32 words, bit c % 32 of word c >> 5 set while consumer slot c is taken
 * 128  ring i at 128 + i × stride: RING_LAYOUT (src/ring.ts) plus, in its cold region,
 *      376 hotness u32 (+1 per commit, −1 per steal) and 380 ownerConsumer i32 (reserved)
 * ```
 *
 * A producer writes its own ring's tail and slots; consumers move heads by
 * CAS (`src/claim_head.ts`). Consumer `c` owns the shard of rings
 * `c × ringsPerShard … + ringsPerShard − 1` (modulo the producer count) and
 * steals from the rest when its shard is empty.
 *
 * Consumers come and go: `registerConsumer()` takes the lowest free slot by
 * CAS on its slot word (so a new consumer inherits the shard of one that
 * left), `deregister()` clears the bit. A consumer holds nothing between
 * claims, so every item it did not claim stays in the rings: the others find
 * it by stealing, and with no consumer left it waits for the next one.
 * `close()` follows the close gate of src/close_gate.ts ring by ring (every
 * ring's `closed` word CLOSING, each settled, then the channel's CLOSED), so
 * a consumer ends with `Closed` only after every accepted commit.
 *
 * @module
 */

import {
  checkArrayLike,
  checkCallable,
  checkInstance,
  checkInteger,
  checkLimit,
  checkObject,
} from "../_validate.ts";
import { checkIdentity, identityOf, Kind, writeIdentity } from "../_identity.ts";
import { ClaimHead, MAX_CLAIM } from "../claim_head.ts";
import { MAX_RING_BITS } from "../config.ts";
import {
  elementFromSpec,
  type ElementSpec,
  type ElementStore,
  type ElementType,
  type TypedHandle,
} from "../element.ts";
import { CLOSED, CLOSING, gateWords, isSealed, OPEN, waitSettled } from "../close_gate.ts";
import { Closed, TooManyConsumers, TooManyProducers } from "../errors.ts";
import { atomicsParker } from "../parker.ts";
import type { Reservation } from "../reservation.ts";
import { type Handler, Ring, ringStride } from "../ring.ts";
import {
  makeSpot,
  waitForItems,
  waitForItemsAsync,
  type WaitOptions,
  type WaitSpot,
  wakeSpot,
} from "../wait_engine.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import {
  CHANNEL_DOORBELL_SEQ,
  CHANNEL_DOORBELL_WAITERS,
  CHANNEL_HEADER_BYTES,
  IDENTITY_OFFSET,
  MPMC_CLOSED,
  MPMC_HOTNESS,
  MPMC_PRODUCERS,
  MPMC_SLOT_WORDS,
  MPMC_SLOTS,
  RING_LAYOUT,
} from "../layout.ts";

const HOTNESS = MPMC_HOTNESS / 4;
/** Most consumers an MPMC channel holds: the slot bitmap's bits. */
export const MAX_CONSUMERS = MPMC_SLOT_WORDS * 32;
const RING_GATE = gateWords(RING_LAYOUT);
const RING_CLOSED = RING_GATE.closed;

/** Configuration of an MPMC channel (the seed's `MpmcConfig`). */
export interface MpmcConfig {
  /** Each ring's capacity is `2 ** ringBits`. */
  readonly ringBits: number;
  /** Producers (rings) the channel holds. */
  readonly maxProducers: number;
  /** Consumers that may register. */
  readonly maxConsumers: number;
  /** Rings in each consumer's own shard. */
  readonly ringsPerShard: number;
  /** Count sends and batches per ring. */
  readonly enableMetrics: boolean;
}

/** The MPMC preset: 16 Ki slots per ring, 16 producers, 16 consumers, 1 ring per shard. */
export const defaultMpmcConfig: MpmcConfig = Object.freeze({
  ringBits: 14,
  maxProducers: 16,
  maxConsumers: 16,
  ringsPerShard: 1,
  enableMetrics: false,
});

/** A structured-cloneable handle to an MPMC channel. */
// deno-lint-ignore no-explicit-any
export interface MpmcHandle<V = any, S extends ElementStore = any> extends TypedHandle<V, S> {
  /** The channel's memory. */
  readonly buffer: SharedArrayBuffer;
  /** The element type's spec. */
  readonly element: ElementSpec;
  /** The channel's config. */
  readonly config: MpmcConfig;
}

function checkConfig(config: MpmcConfig): MpmcConfig {
  const bounds: [keyof MpmcConfig, number, number][] = [
    ["ringBits", 1, MAX_RING_BITS],
    ["maxProducers", 1, 4096],
    ["maxConsumers", 1, MAX_CONSUMERS],
    ["ringsPerShard", 1, 4096],
  ];
  for (const [name, min, max] of bounds) {
    checkInteger("create channel", name, config[name], min, max);
  }
  return Object.freeze({ ...config });
}

/**
 * One producer's ring: the SPSC ring's producer side plus a CAS-claimed head
 * and a hotness score consumers use to find the busiest ring.
 */
export class MpmcRing<V, S extends ElementStore> {
  /** The ring (producer side). */
  readonly ring: Ring<V, S>;
  /** The consumer side: CAS claims on the head. */
  readonly claim: ClaimHead<V, S>;
  readonly #words: Int32Array;

  /**
   * Views ring `byteOffset` of a channel's memory.
   *
   * @param element The element type.
   * @param buffer The channel's memory.
   * @param byteOffset Where the ring starts.
   * @param config The channel's config.
   * @param doorbell Where the channel's consumers sleep.
   */
  constructor(
    element: ElementType<V, S>,
    buffer: SharedArrayBuffer,
    byteOffset: number,
    config: MpmcConfig,
    doorbell: WaitSpot,
  ) {
    this.ring = new Ring(element, config, {
      buffer,
      byteOffset,
      layout: RING_LAYOUT,
      parker: atomicsParker,
      initialize: false,
      consumerSpot: doorbell,
    });
    this.claim = new ClaimHead(element, buffer, byteOffset, config.ringBits, doorbell);
    this.#words = new Int32Array(buffer, byteOffset, RING_LAYOUT.data / 4);
  }

  /**
   * Recent throughput: +1 per commit, −1 per successful steal.
   *
   * @returns The score (never below 0).
   */
  hotness(): number {
    return Math.max(0, Atomics.load(this.#words, HOTNESS));
  }

  /** Bumps the hotness after a commit. */
  heat(): void {
    Atomics.add(this.#words, HOTNESS, 1);
  }

  /** Lowers the hotness after a steal. */
  cool(): void {
    // CAS loop: lower by one unless already 0; retried only when another thread changed it
    for (let h = Atomics.load(this.#words, HOTNESS); h > 0;) {
      const seen = Atomics.compareExchange(this.#words, HOTNESS, h, h - 1);
      if (seen === h) return;
      h = seen;
    }
  }
}

/**
 * A registered MPMC producer: writes only its own ring.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 2 });
 * const p = ch.register();
 * assert.equal(p.send([1, 2, 3]), 3);
 * assert.equal(ch.totalPending(), 3);
 * ```
 */
export class Producer<V, S extends ElementStore> {
  /** The producer's id, the index of its ring. */
  readonly id: number;
  readonly #ring: MpmcRing<V, S>;

  /**
   * Made by `MpmcChannel.register`.
   *
   * @param id The ring index.
   * @param ring The ring.
   */
  constructor(id: number, ring: MpmcRing<V, S>) {
    this.id = id;
    this.#ring = ring;
  }

  /**
   * Reserves up to `n` slots.
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if fewer than `n` are free.
   */
  reserve(n: number): Reservation<S> | null {
    return this.#ring.ring.reserve(n);
  }

  /**
   * Publishes `n` reserved slots and heats the ring.
   *
   * @param n Slots written.
   */
  commit(n: number): void {
    this.#ring.ring.commit(n);
    this.#ring.heat();
  }

  /**
   * Sends as many items as fit.
   *
   * @param items The items.
   * @returns How many were sent.
   */
  send(items: ArrayLike<V>): number {
    const n = this.#ring.ring.send(items);
    if (n > 0) this.#ring.heat();
    return n;
  }

  /**
   * Sends one item if there is room.
   *
   * @param item The item.
   * @returns `true` if sent.
   */
  sendOne(item: V): boolean {
    if (!this.#ring.ring.sendOne(item)) return false;
    this.#ring.heat();
    return true;
  }

  /**
   * Waits as `strategy` says until `n` slots are free.
   *
   * @param n Slots wanted.
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the channel is closed.
   */
  waitWritable(n: number, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#ring.ring.waitWritable(n, wait);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop.
   *
   * @param n Slots wanted.
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed.
   */
  writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    return this.#ring.ring.writableAsync(n, options);
  }

  /**
   * Whether the channel was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#ring.ring.isClosed();
  }
}

/**
 * A registered MPMC consumer: steals from its shard, then the hottest ring,
 * then a random one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 2, maxConsumers: 2 });
 * ch.register().send([1, 2]);
 * const c = ch.registerConsumer();
 * assert.equal(c.steal(new Uint32Array(8)), 2);
 * ```
 */
export class Consumer<V, S extends ElementStore> {
  /** The consumer's slot; its shard starts at ring `id × ringsPerShard`. Reused after it leaves. */
  readonly id: number;
  readonly #channel: MpmcChannel<V, S>;
  readonly #shardStart: number;
  readonly #shardSize: number;
  readonly #release: (id: number) => void;
  #random: number;
  #retired = false;

  /**
   * Made by `MpmcChannel.registerConsumer`.
   *
   * @param id The slot.
   * @param channel The channel.
   * @param ringsPerShard Rings in the consumer's shard.
   * @param release Frees the slot (called once, by `deregister`).
   */
  constructor(
    id: number,
    channel: MpmcChannel<V, S>,
    ringsPerShard: number,
    release: (id: number) => void,
  ) {
    this.id = id;
    this.#channel = channel;
    this.#shardStart = id * ringsPerShard;
    this.#shardSize = ringsPerShard;
    this.#release = release;
    this.#random = (id + 1) * 0x9e3779b1 | 0 || 1;
  }

  /**
   * Leaves the channel (idempotent): frees this consumer's slot (and shard)
   * for the next registrant; every item it did not claim stays in the rings.
   * Later calls on this consumer throw `Closed`.
   */
  deregister(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#release(this.id);
  }

  /** Same as {@linkcode Consumer.deregister}, for `using`. */
  [Symbol.dispose](): void {
    this.deregister();
  }

  #live(): MpmcChannel<V, S> {
    if (this.#retired) throw new Closed(`Cannot use consumer ${this.id} as it was deregistered`);
    return this.#channel;
  }

  #xorshift(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x;
    return x >>> 0;
  }

  #take(ring: MpmcRing<V, S>, handler: Handler<V>, max: number): number {
    const n = ring.claim.consumeBatch(handler, max);
    if (n > 0) ring.cool();
    return n;
  }

  /**
   * Steals a batch in three phases: own shard (locality), hottest ring (load
   * balance), a random ring (no starvation); then processes it.
   *
   * @param handler Gets each item.
   * @param max Most items; default 4096.
   * @returns Items processed.
   * @throws {RangeError} If `max` is not an integer ≥ 0 or Infinity.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  stealBatch(handler: Handler<V>, max: number = MAX_CLAIM): number {
    checkLimit("steal", "max", max);
    checkCallable("steal", "handler", handler, "process");
    const rings = this.#live().rings();
    const count = rings.length;
    if (count === 0) return 0;
    for (let k = 0; k < this.#shardSize; k++) {
      const n = this.#take(rings[(this.#shardStart + k) % count], handler, max);
      if (n > 0) return n;
    }
    let hottest = -1;
    let heat = 0;
    for (let i = 0; i < count; i++) {
      const h = rings[i].hotness();
      if (h > heat) [hottest, heat] = [i, h];
    }
    if (hottest >= 0) {
      const n = this.#take(rings[hottest], handler, max);
      if (n > 0) return n;
    }
    const start = this.#xorshift() % count;
    for (let k = 0; k < count; k++) {
      const n = this.#take(rings[(start + k) % count], handler, max);
      if (n > 0) return n;
    }
    return 0;
  }

  /**
   * Raw steal into `out`: own shard first, then every ring.
   *
   * @param out Where the items go.
   * @returns Items stolen.
   * @throws {TypeError} If `out` is not array-like.
   */
  steal(out: { length: number; [i: number]: V }): number {
    const length = checkArrayLike("steal", "out", out);
    const rings = this.#live().rings();
    const count = rings.length;
    if (count === 0) return 0; // no producer yet: `% count` below would index NaN
    let total = 0;
    for (let k = 0; k < count + this.#shardSize && total < length; k++) {
      const ring = rings[(this.#shardStart + k) % count];
      const n = ring.claim.claimInto(out, total, length - total);
      if (n > 0) ring.cool();
      total += n;
    }
    return total;
  }

  /**
   * Whether the channel was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#channel.isClosed();
  }

  /**
   * Waits as `strategy` says until some ring has an item.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the channel is closed and drained.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#live().waitReadable(wait);
  }

  /**
   * Resolves once some ring has an item, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed and drained.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    if (this.#retired) {
      return Promise.reject(new Closed(`Cannot use consumer ${this.id} as it was deregistered`));
    }
    return this.#channel.readableAsync(options);
  }
}

/**
 * Multi-producer, multi-consumer channel with per-producer rings and
 * work-stealing consumers. Producers and consumers register from any Worker
 * (`MpmcChannel.fromHandle(h)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpmc.MpmcChannel(u32, { ringBits: 6, maxProducers: 2, maxConsumers: 2 });
 * ch.register().send([1, 2]);
 * ch.register().send([3]);
 * const c = ch.registerConsumer();
 * let sum = 0;
 * while (c.stealBatch({ process: (x) => sum += x }) > 0);
 * assert.equal(sum, 6);
 * ```
 */
export class MpmcChannel<V, S extends ElementStore> {
  readonly #element: ElementType<V, S>;
  readonly #config: MpmcConfig;
  readonly #buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #stride: number;
  readonly #doorbell: WaitSpot;
  readonly #rings: MpmcRing<V, S>[] = [];

  /**
   * Creates a channel with `maxProducers` rings.
   *
   * @param element The element type.
   * @param config Overrides of {@linkcode defaultMpmcConfig}.
   * @param handle Internal: an existing channel's memory (use `fromHandle`).
   * @throws {RangeError} If a config value is out of range.
   */
  constructor(element: ElementType<V, S>, config: Partial<MpmcConfig> = {}, handle?: MpmcHandle) {
    this.#element = element;
    this.#config = checkConfig({ ...defaultMpmcConfig, ...config });
    this.#stride = ringStride(this.#config.ringBits, element.bytes);
    const bytes = CHANNEL_HEADER_BYTES + this.#config.maxProducers * this.#stride;
    if (bytes > 2 ** 32) {
      throw new RangeError(
        `Cannot create channel as its rings need ${bytes} bytes, more than 4 GiB`,
      );
    }
    if (handle !== undefined && handle.buffer.byteLength !== bytes) {
      throw new TypeError(
        `Cannot rebuild channel as handle.buffer must be the ${bytes} bytes its config needs: ` +
          `received ${handle.buffer.byteLength}`,
      );
    }
    this.#buffer = handle?.buffer ?? new SharedArrayBuffer(bytes);
    this.#header = new Int32Array(this.#buffer, 0, CHANNEL_HEADER_BYTES / 4);
    this.#doorbell = makeSpot(this.#header, CHANNEL_DOORBELL_SEQ, CHANNEL_DOORBELL_WAITERS);
    const { ringBits, maxProducers, maxConsumers } = this.#config;
    const identity = identityOf(Kind.mpmc, element, ringBits, maxProducers, maxConsumers);
    const at = CHANNEL_HEADER_BYTES + IDENTITY_OFFSET; // ring 0's record: the header is full
    // the creator records what the channel holds; fromHandle checks it
    if (handle === undefined) writeIdentity(this.#buffer, at, identity);
    else checkIdentity("rebuild channel", this.#buffer, at, identity);
  }

  /**
   * Rebuilds a channel from its handle in another Worker.
   *
   * @param handle From {@linkcode MpmcChannel.handle}.
   * @returns The channel.
   * @throws {TypeError} If the handle is malformed or disagrees with what its memory holds.
   * @throws {RangeError} If a config value in it is out of range.
   */
  static fromHandle<V, S extends ElementStore>(handle: MpmcHandle<V, S>): MpmcChannel<V, S> {
    checkObject("rebuild channel", "handle", handle);
    checkInstance("rebuild channel", "handle.buffer", handle.buffer, SharedArrayBuffer);
    return new MpmcChannel(elementFromSpec(handle.element), handle.config, handle);
  }

  /**
   * A structured-cloneable handle for other Workers.
   *
   * @returns The handle.
   */
  handle(): MpmcHandle<V, S> {
    return { buffer: this.#buffer, element: this.#element.spec, config: this.#config };
  }

  /**
   * The rings of the producers registered so far (views are made on first sight).
   *
   * @returns The rings, by producer id.
   */
  rings(): readonly MpmcRing<V, S>[] {
    const count = Math.min(Atomics.load(this.#header, MPMC_PRODUCERS), this.#config.maxProducers);
    while (this.#rings.length < count) {
      const offset = CHANNEL_HEADER_BYTES + this.#rings.length * this.#stride;
      this.#rings.push(
        new MpmcRing(this.#element, this.#buffer, offset, this.#config, this.#doorbell),
      );
    }
    return this.#rings;
  }

  /**
   * Registers a producer.
   *
   * @returns The producer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyProducers} If `maxProducers` are registered.
   */
  register(): Producer<V, S> {
    if (this.#closing()) throw new Closed("Cannot register a producer as the channel is closed");
    const id = Atomics.add(this.#header, MPMC_PRODUCERS, 1);
    if (id >= this.#config.maxProducers) {
      Atomics.sub(this.#header, MPMC_PRODUCERS, 1);
      throw new TooManyProducers(
        `Cannot register a producer as the channel holds its maximum of ${this.#config.maxProducers}`,
      );
    }
    return new Producer(id, this.rings()[id]);
  }

  /**
   * Registers a consumer.
   *
   * @returns The consumer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyConsumers} If `maxConsumers` are registered.
   */
  registerConsumer(): Consumer<V, S> {
    if (this.#closing()) throw new Closed("Cannot register a consumer as the channel is closed");
    const max = this.#config.maxConsumers;
    for (let word = 0; word * 32 < max; word++) {
      // CAS loop on one slot word: take its lowest clear bit; retried only when another thread changed the word
      for (let bits = Atomics.load(this.#header, MPMC_SLOTS + word);;) {
        const free = ~bits & (bits + 1); // the lowest clear bit, 0 if none
        const slot = word * 32 + 31 - Math.clz32(free);
        if (free === 0 || slot >= max) break;
        const seen = Atomics.compareExchange(this.#header, MPMC_SLOTS + word, bits, bits | free);
        if (seen === bits) {
          return new Consumer(slot, this, this.#config.ringsPerShard, this.#release);
        }
        bits = seen;
      }
    }
    throw new TooManyConsumers(
      `Cannot register a consumer as the channel holds its maximum of ${max}`,
    );
  }

  /** Frees consumer slot `id` for the next registrant. */
  readonly #release = (id: number): void => {
    Atomics.and(this.#header, MPMC_SLOTS + (id >> 5), ~(1 << (id & 31))); // publishes "slot free"
  };

  /**
   * Consumers registered now.
   *
   * @returns The count of taken slots.
   */
  consumerCount(): number {
    let count = 0;
    for (let word = 0; word * 32 < this.#config.maxConsumers; word++) {
      for (let bits = Atomics.load(this.#header, MPMC_SLOTS + word); bits !== 0; bits &= bits - 1) {
        count++;
      }
    }
    return count;
  }

  /**
   * Items waiting in all rings.
   *
   * @returns The count.
   */
  totalPending(): number {
    let total = 0;
    for (const r of this.rings()) total += r.claim.available();
    return total;
  }

  /**
   * Whether every ring is empty.
   *
   * @returns `true` if nothing is pending.
   */
  isEmpty(): boolean {
    return this.totalPending() === 0;
  }

  /**
   * Closes the channel and every ring (idempotent). Registration and every
   * commit after this throw `Closed`; a commit in flight is waited for, so
   * when `close()` returns the rings hold every item that was accepted, and
   * consumers end with `Closed` only once they have taken them all.
   */
  close(): void {
    Atomics.compareExchange(this.#header, MPMC_CLOSED, OPEN, CLOSING); // publishes "closing"
    for (let i = 0; i < this.#config.maxProducers; i++) {
      Atomics.compareExchange(this.#ringWords(i), RING_CLOSED, OPEN, CLOSING); // "commits now fail"
    }
    for (let i = 0; i < this.#config.maxProducers; i++) {
      const words = this.#ringWords(i);
      waitSettled(words, RING_GATE);
      Atomics.store(words, RING_CLOSED, CLOSED); // publishes "no commit in flight"
    }
    Atomics.store(this.#header, MPMC_CLOSED, CLOSED); // publishes "nothing more can arrive"
    wakeSpot(this.#doorbell);
  }

  /** Same as {@linkcode MpmcChannel.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Whether `close()` began (registration refuses from then on). */
  #closing(): boolean {
    return Atomics.load(this.#header, MPMC_CLOSED) !== OPEN;
  }

  #ringWords(i: number): Int32Array {
    return new Int32Array(
      this.#buffer,
      CHANNEL_HEADER_BYTES + i * this.#stride,
      RING_LAYOUT.data / 4,
    );
  }

  /**
   * Whether the channel was closed, with no commit still in flight in any
   * ring (src/close_gate.ts): once `true` and every ring is empty, nothing
   * more comes.
   *
   * @returns `true` once closed and settled.
   */
  isClosed(): boolean {
    const state = Atomics.load(this.#header, MPMC_CLOSED);
    if (state === OPEN) return false;
    if (state !== CLOSING) return true; // CLOSED, or forged: closed, as #closing() reads it
    for (let i = 0; i < this.#config.maxProducers; i++) {
      if (!isSealed(this.#ringWords(i), RING_GATE)) return false;
    }
    return true;
  }

  /**
   * Waits as `strategy` says until some ring has an item.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If a timed strategy's deadline passes.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    waitForItems(this.#doorbell, wait, this.#hasItems, this.#isClosed, "steal");
  }

  /**
   * Resolves once some ring has an item, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return waitForItemsAsync(this.#doorbell, options, this.#hasItems, this.#isClosed, "steal");
  }

  readonly #hasItems = (): boolean => !this.isEmpty();
  readonly #isClosed = (): boolean => this.isClosed();
}
