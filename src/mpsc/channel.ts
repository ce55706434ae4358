/**
 * The MPSC channel (the seed's `mpsc.Channel`): one SPSC ring per producer,
 * one consumer that sweeps them with adaptive skip.
 *
 * Layout (one growable `SharedArrayBuffer`, byte offsets; the constants are in
 * src/layout.ts):
 *
 * ```text
 *   0  (unused u32; was the registration lock)
 *   4  closed u32          0 open → 1 closing → 2 closed, by close() (src/close_gate.ts)
 *   8  rings u32           ring ids handed out so far (0 … rings − 1); only grows, ≤ MAX_RINGS
 *  16  doorbellSeq u32     the consumer sleeps on it; a commit that finds doorbellWaiters > 0 bumps it
 *  20  doorbellWaiters u32 sleeping consumers
 * 128  ring 0             RING_LAYOUT (src/ring.ts), `stride` bytes each
 * 128 + i × stride        ring i; its `active` word (+256) is the ring's slot state:
 *                         0 FREE, 1 ACTIVE (a producer owns it), 2 RETIRED (deregistered)
 * ```
 *
 * Roles: a producer writes only its own ring's producer words and slots; the
 * consumer writes only the rings' head words; registrants write `rings`, the
 * slot states, a taken ring's `closed` word and grow the buffer. Positions of
 * a ring are never reset: a ring that changes hands goes on from where its
 * last producer stopped, so the consumer reads the old producer's items
 * first and the new producer's after them.
 *
 * Registration is lock-free: no step waits for another registrant, so a
 * Worker that dies anywhere in `register()` blocks nobody (it can at worst
 * leave one FREE ring that a later registrant takes, or hold an ACTIVE ring
 * like any producer that never deregisters). The protocol, step by step
 * (all atomics sequentially consistent; modelled in models/ by issue 11):
 *
 * ```text
 * register():
 *   R1  if load(closed) ≠ 0: throw Closed
 *   R2  reuse: for id in 0 … viewable − 1 (viewable = rings whose memory exists):
 *         s = load(state[id])
 *         FREE:                                CAS(state[id], FREE, ACTIVE) won → R5
 *         RETIRED and load(head[id]) = load(tail[id]) (drained; no producer moves tail):
 *                                              CAS(state[id], RETIRED, ACTIVE) won → R5
 *   R3  grow: n = load(rings); n ≥ MAX_RINGS (or the memory's limit): throw TooManyProducers
 *         CAS(rings, n, n + 1) lost → R2
 *   R4  grow the buffer until it holds ring n (a concurrent larger grow is fine; fresh memory is
 *       zero: an empty ring at position 0, state FREE); CAS(state[n], FREE, ACTIVE) lost → R2
 *   R5  store(closed[id], OPEN)   (reopen: a retired ring was closed by deregister)
 *   R6  if load(closed) ≠ 0: close ring id (settled), store(state[id], RETIRED), throw Closed
 *
 * deregister(p) (the producer's own thread, after its last commit):
 *   D1  close ring p.id: closed[id] = CLOSING, wait until sending[id] = 0 (the close gate), CLOSED
 *   D2  store(state[id], RETIRED)     (the ring may be taken again once the consumer drained it)
 *
 * consumer sweep: n = load(rings); view rings 0 … while their memory exists (the buffer only
 *   grows, so ring i fits whenever ring i + 1 does); consume each ring's [head, tail).
 *
 * close():
 *   K1  CAS(closed, OPEN, CLOSING)
 *   K2  for every viewable ring: close it as D1 does (CLOSING, wait until sending[i] = 0 —
 *       at most the close gate's grace —, CLOSED) and wake its sleepers
 *   K3  store(closed, CLOSED); wake the doorbell
 * ```
 *
 * R5/R6 against K1/K2 is a Dekker pair: either R6 sees the channel closing
 * (and closes the ring itself), or K1 comes after R6, so K2, after R5, leaves
 * the ring closed. R2 prefers drained rings, so a new producer gets the whole
 * capacity; correctness does not rest on it (between the drained test and the
 * CAS the ring may be taken, filled and retired again): positions go on, so
 * the consumer reads the old producer's items before the new one's either
 * way. A retired ring's `sending` word is 0 (D1 waited). The Spin model
 * models/mpsc.pml (issue 11) checks these steps, models/mpsc_close.pml the close.
 * The consumer views any ring whose memory exists, taken or not: an untaken
 * ring is empty. Every ring's commit wakes the channel's doorbell instead of
 * a per-ring word, so a blocked consumer sleeps on one word for all
 * producers. With `numaAware` (the default) a registering producer's ring is
 * placed on its NUMA node by the installed `RingPlacement`
 * (src/placement.ts), as ringmpsc's `register()` does.
 *
 * @module
 */

import {
  checkArrayLike,
  checkCallable,
  checkInteger,
  checkLimit,
  checkObject,
  describe,
} from "../_validate.ts";
import { checkIdentity, identityOf, Kind, writeIdentity } from "../_identity.ts";
import { type Config, makeConfig } from "../config.ts";
import {
  elementFromSpec,
  type ElementSpec,
  type ElementStore,
  type ElementType,
  type TypedHandle,
} from "../element.ts";
import { CLOSED, CLOSING, OPEN } from "../close_gate.ts";
import { Closed, RingCorrupt, TooManyProducers } from "../errors.ts";
import { Metrics } from "../metrics.ts";
import { atomicsParker } from "../parker.ts";
import { type Handler, Ring, ringStride } from "../ring.ts";
import {
  CHANNEL_DOORBELL_SEQ,
  CHANNEL_DOORBELL_WAITERS,
  CHANNEL_HEADER_BYTES,
  IDENTITY_OFFSET,
  MPSC_CLOSED,
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
} from "../wait_engine.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import { Producer, ProducerExt } from "./producer.ts";
import { ringPlacement } from "../placement.ts";

/** The most rings a channel grows to. */
export const MAX_RINGS = 4096;
/** The adaptive skip's longest pause for an empty ring, in sweeps. */
const MAX_SKIP = 64;
/** Slot states of a ring's `active` word. */
const FREE = 0;
const ACTIVE = 1;
const RETIRED = 2;
/** Word offsets inside a ring, from its first word. */
const STATE = RING_LAYOUT.active / 4;
const RING_CLOSED = RING_LAYOUT.closed / 4;
const RING_TAIL = RING_LAYOUT.tail / 4;
const RING_HEAD = RING_LAYOUT.head / 4;

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
  /** Rings handed out so far (each holds one producer at a time; deregistered rings are reused). */
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
  /** Every word of the buffer (length-tracking: it follows the buffer's growth). */
  readonly #all: Int32Array;
  readonly #stride: number;
  readonly #maxRings: number;
  readonly #doorbell: WaitSpot;
  readonly #rings: Ring<V, S>[] = [];
  /** Adaptive skip: sweeps to wait before polling ring i again. */
  #skip = new Int32Array(0);
  /** Adaptive skip: sweeps left before ring i is polled. */
  #countdown = new Int32Array(0);
  #cursor = 0;
  #disposed = false;
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
    this.#all = new Int32Array(this.#buffer);
    this.#maxRings = Math.min(
      maxRings,
      (this.#buffer.maxByteLength - CHANNEL_HEADER_BYTES) / this.#stride,
    );
    this.#doorbell = makeSpot(this.#header, CHANNEL_DOORBELL_SEQ, CHANNEL_DOORBELL_WAITERS);
    const identity = identityOf(Kind.mpsc, element, this.#config.ringBits);
    // the creator records what the channel holds; fromHandle checks it
    if (handle === undefined) writeIdentity(this.#buffer, IDENTITY_OFFSET, identity);
    else checkIdentity("rebuild channel", this.#buffer, IDENTITY_OFFSET, identity);
  }

  /**
   * Rebuilds a channel from its handle in another Worker.
   *
   * @param handle From {@linkcode Channel.handle}.
   * @returns A channel over the same memory.
   * @throws {TypeError} If the handle is malformed or disagrees with what its memory holds.
   * @throws {RangeError} If a config value in it is out of range.
   */
  static fromHandle<V, S extends ElementStore>(handle: ChannelHandle<V, S>): Channel<V, S> {
    checkObject("rebuild channel", "handle", handle);
    if (!(handle.buffer instanceof SharedArrayBuffer) || !handle.buffer.growable) {
      throw new TypeError(
        `Cannot rebuild channel as handle.buffer must be a growable SharedArrayBuffer: received ${
          describe(handle.buffer)
        }`,
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

  /** Rings whose memory exists, of the `rings` ids handed out (ring i fits if ring i + 1 does). */
  #viewable(): number {
    const ids = Atomics.load(this.#header, MPSC_RINGS);
    if (ids < 0 || ids > this.#maxRings) {
      throw new RingCorrupt(
        `Cannot use channel as its ring count exceeds ${this.#maxRings}: received ${ids}`,
      );
    }
    const fit = Math.floor((this.#buffer.byteLength - CHANNEL_HEADER_BYTES) / this.#stride);
    return ids < fit ? ids : fit;
  }

  /** Views rings registered since the last look. Returns the ring count. */
  #refresh(): number {
    if (this.#disposed) throw new Closed("Cannot use the channel as this object was disposed");
    const count = this.#viewable();
    if (count <= this.#rings.length) return this.#rings.length;
    while (this.#rings.length < count) this.#rings.push(this.#ringAt(this.#rings.length));
    const skip = new Int32Array(count);
    skip.set(this.#skip);
    const countdown = new Int32Array(count);
    countdown.set(this.#countdown);
    this.#skip = skip;
    this.#countdown = countdown;
    return count;
  }

  /** Index in `#all` of word `word` of ring `id`. */
  #word(id: number, word: number): number {
    return (CHANNEL_HEADER_BYTES + id * this.#stride) / 4 + word;
  }

  // ── Registration (lock-free; the steps R1–R6 at the top of this file) ──

  #registerRing(): Ring<V, S> & { id: number } {
    if (this.#disposed) throw new Closed("Cannot use the channel as this object was disposed");
    if (Atomics.load(this.#header, MPSC_CLOSED) !== OPEN) { // R1
      throw new Closed("Cannot register a producer as the channel is closed");
    }
    const id = this.#takeRing();
    const all = this.#all;
    Atomics.store(all, this.#word(id, RING_CLOSED), OPEN); // R5: reopens the ring for its new producer
    const ring = this.#ringAt(id);
    if (Atomics.load(this.#header, MPSC_CLOSED) !== OPEN) { // R6: a close() raced with us
      ring.close();
      Atomics.store(all, this.#word(id, STATE), RETIRED); // hands the ring back
      throw new Closed("Cannot register a producer as the channel is closed");
    }
    const placement = this.#config.numaAware ? ringPlacement() : null;
    placement?.place(
      this.#buffer,
      CHANNEL_HEADER_BYTES + id * this.#stride,
      this.#stride,
      this.#config.numaNode,
    );
    return Object.assign(ring, { id });
  }

  /** R2–R4: a ring id this registrant now owns (state ACTIVE). Bounded: each lost CAS means another registrant won one. */
  #takeRing(): number {
    const all = this.#all;
    for (;;) {
      const viewable = this.#viewable();
      for (let id = 0; id < viewable; id++) { // R2: reuse a free or drained retired ring
        const state = this.#word(id, STATE);
        const s = Atomics.load(all, state);
        if (s === FREE && Atomics.compareExchange(all, state, FREE, ACTIVE) === FREE) return id;
        if (
          s === RETIRED &&
          Atomics.load(all, this.#word(id, RING_HEAD)) ===
            Atomics.load(all, this.#word(id, RING_TAIL)) &&
          Atomics.compareExchange(all, state, RETIRED, ACTIVE) === RETIRED
        ) return id;
      }
      const n = Atomics.load(this.#header, MPSC_RINGS); // R3: hand out a new ring id
      if (n >= this.#maxRings) {
        throw new TooManyProducers(
          `Cannot register a producer as the channel holds its maximum of ${n} rings, none free`,
        );
      }
      if (Atomics.compareExchange(this.#header, MPSC_RINGS, n, n + 1) !== n) continue;
      this.#growFor(n); // R4
      const state = this.#word(n, STATE);
      if (Atomics.compareExchange(all, state, FREE, ACTIVE) === FREE) return n;
    }
  }

  /** Grows the buffer until ring `id` fits; another registrant's larger grow is fine. */
  #growFor(id: number): void {
    const need = CHANNEL_HEADER_BYTES + (id + 1) * this.#stride;
    while (this.#buffer.byteLength < need) {
      const have = Math.floor((this.#buffer.byteLength - CHANNEL_HEADER_BYTES) / this.#stride);
      const slots = Math.min(Math.max(id + 1, 2 * have), this.#maxRings);
      try {
        this.#buffer.grow(CHANNEL_HEADER_BYTES + slots * this.#stride);
      } catch (err) {
        // a concurrent grow made the buffer larger than our target: look again
        if (
          !(err instanceof RangeError) ||
          this.#buffer.byteLength < CHANNEL_HEADER_BYTES + slots * this.#stride
        ) {
          throw err;
        }
      }
    }
  }

  /**
   * Registers a producer with its own ring: a drained ring of a deregistered
   * producer if there is one, else a new ring (growing the channel). Lock-free:
   * a Worker that dies while registering blocks no other registration.
   *
   * @returns The producer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyProducers} If `MAX_RINGS` rings are taken and none is free.
   */
  register(): Producer<V, S> {
    const ring = this.#registerRing();
    return new Producer(ring.id, ring, this.#retire);
  }

  /**
   * Registers a producer with the blocking API.
   *
   * @returns The producer.
   * @throws {Closed} If the channel is closed.
   * @throws {TooManyProducers} If `MAX_RINGS` rings are taken and none is free.
   */
  registerExt(): ProducerExt<V, S> {
    const ring = this.#registerRing();
    return new ProducerExt(ring.id, ring, this.#retire);
  }

  /** D1–D2: closes the ring (waiting out a commit in flight), then marks it reusable. */
  readonly #retire = (producer: Producer<V, S>): void => {
    producer.ring.close();
    Atomics.store(this.#all, this.#word(producer.id, STATE), RETIRED); // publishes "free once drained"
  };

  /**
   * Deregisters a producer (same as `producer.deregister()`): its ring is
   * closed to it; what it holds is still delivered by the consumer's next
   * sweeps, and once drained the ring goes to the next producer that
   * registers. Call it from the producer's Worker after its last send;
   * afterwards the producer's methods throw `Closed`. Idempotent.
   *
   * @param producer The producer to retire.
   * @throws {TypeError} If `producer` is not a producer of this channel.
   */
  deregister(producer: Producer<V, S>): void {
    if (!(producer instanceof Producer) || producer.ring.handle().buffer !== this.#buffer) {
      throw new TypeError(
        `Cannot deregister as the producer does not belong to this channel: received ${
          String(producer)
        }`,
      );
    }
    producer.deregister();
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
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If a timed strategy's deadline passes.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    waitForItems(this.#doorbell, wait, this.#hasItems, this.#isClosed, "receive");
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

  /**
   * Closes the channel and every ring (idempotent; steps K1–K3 at the top of
   * this file). Registration and every commit after this throw `Closed`; a
   * commit in flight is waited for, so when `close()` returns the rings hold
   * every item that was accepted and `drainAll` collects them all. A consumer
   * waiting in `waitReadable`, `readableAsync` or an `EventLoop` ends with
   * `Closed` only after it has seen them.
   */
  close(): void {
    if (this.#disposed) return; // deinit() closed it already
    Atomics.compareExchange(this.#header, MPSC_CLOSED, OPEN, CLOSING); // K1: publishes "closing"
    const count = this.#refresh();
    for (let i = 0; i < count; i++) this.#rings[i].close(); // K2: each settled
    Atomics.store(this.#header, MPSC_CLOSED, CLOSED); // K3: publishes "no commit can publish any more"
    wakeSpot(this.#doorbell);
  }

  /** Same as {@linkcode Channel.close}: signals producers to stop. */
  shutdown(): void {
    this.close();
  }

  /**
   * Closes the channel and drops this object's ring views; every later call
   * on this object throws `Closed` (other objects over the same memory, in
   * this or other Workers, stay usable).
   */
  deinit(): void {
    if (this.#disposed) return;
    this.close();
    this.#disposed = true;
    this.#rings.length = 0;
    this.#skip = new Int32Array(0);
    this.#countdown = new Int32Array(0);
  }

  /** Same as {@linkcode Channel.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }

  /**
   * Whether the channel was closed, with no commit still in flight in any
   * ring (src/close_gate.ts): once `true` and every ring is empty, nothing
   * more comes.
   *
   * @returns `true` once closed and settled.
   */
  isClosed(): boolean {
    const state = Atomics.load(this.#header, MPSC_CLOSED);
    if (state === CLOSED) return true;
    if (state !== CLOSING) return false;
    const count = this.#refresh();
    for (let i = 0; i < count; i++) if (!this.#rings[i].isClosed()) return false;
    return true;
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
      if (Atomics.load(this.#all, this.#word(i, STATE)) === ACTIVE) active++;
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
