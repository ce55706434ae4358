/**
 * `Ring`: the seed's lock-free SPSC ring buffer, in shared memory.
 *
 * The ring's words are laid out as `RING_LAYOUT` (src/layout.ts draws it), or
 * as another `RingLayout` over given memory (SharedRing's). This file holds
 * the protocol only — reserve → commit, readable → advance and their
 * helpers. The ring's memory (handles, `RingMemory`, sizing) is in
 * src/ring_memory.ts; the consumer conveniences (`consumeBatch` and friends,
 * `recv`, `peek`, the iterator) in src/ring_consume.ts; the waits (blocking,
 * async, the async iterator) in src/ring_waits.ts, over the wait engine.
 *
 * Roles: the producer writes slots in `[tail, head + capacity)` and then
 * `tail`; the consumer reads slots in `[head, tail)` and then `head`.
 * Invariants: `0 ≤ tail − head ≤ capacity`; slot `p & mask` holds item `p`.
 * Close without loss: every publish goes through the close gate of
 * src/close_gate.ts (`sending` around the tail store, `closed` checked in
 * between), so after `close()` a commit or send throws `Closed` and publishes
 * nothing, and `close()` returns only once a commit in flight has published;
 * consumers end ("closed and drained") only after every accepted item.
 * `cachedHead` and `cachedTail` are not in shared memory: each side keeps its
 * copy in its own `Ring` object and reloads the other side's word only when
 * the copy says full (producer) or empty (consumer).
 *
 * Positions are handled as wrapping 32-bit integers (the low word; the
 * difference of two positions modulo 2^32 is exact because capacity ≤ 2^30).
 * The high word is kept right for 64-bit readers: the one commit or advance in
 * 2^32 that carries into it publishes all 64 bits with one atomic store.
 *
 * Spin checks this publish/acquire protocol exhaustively: `models/spsc.pml`.
 *
 * @module
 */

import { type Config, makeConfig } from "./config.ts";
import { identityOf, Kind, writeIdentity } from "./_identity.ts";
import { checkArrayLike, checkCallable, checkInteger } from "./_validate.ts";
import type { ElementStore, ElementType } from "./element.ts";
import { Closed, RingCorrupt } from "./errors.ts";
import { closeAndSettle, type GateWords, gateWords, isSealed, OPEN } from "./close_gate.ts";
import {
  IDENTITY_OFFSET,
  M_BATCHES_RECEIVED,
  M_BATCHES_SENT,
  M_MAX_BATCH_SIZE,
  M_MESSAGES_RECEIVED,
  M_MESSAGES_SENT,
  M_RESERVE_FAILURES,
  M_RESERVE_SPINS,
  M_TOTAL_WAIT_NS,
  METRICS_BYTES,
  position64,
  RING_LAYOUT,
} from "./layout.ts";
import { Metrics } from "./metrics.ts";
import { type WasmAtomics, wasmAtomics } from "./wasm_atomics.ts";
import { atomicsParker } from "./parker.ts";
import { Region, Reservation } from "./reservation.ts";
import * as consume from "./ring_consume.ts";
import type { Handler, RingConsumer } from "./ring_consume.ts";
import type { RingIterator } from "./ring_iterator.ts";
import {
  type CommitSignal,
  ringArgsOf,
  type RingHandle,
  type RingMemory,
  ringPlace,
} from "./ring_memory.ts";
import { RingWaits } from "./ring_waits.ts";
import { makeSpot, type WaitOptions, type WaitSpot, wakeSpot } from "./wait_engine.ts";
import { WaitStrategy } from "./wait_strategy.ts";

export type { CommitSignal, RingHandle, RingMemory } from "./ring_memory.ts";
export { ringStride } from "./ring_memory.ts";
export type { Handler } from "./ring_consume.ts";

/**
 * The SPSC ring. Exactly one producer and one consumer, in the same or in
 * different Workers; no compare-and-swap, one publishing store per batch.
 *
 * `V` is an item's value type and `S` the store that views the data region
 * (a TypedArray, or a `RecordArray` for records).
 *
 * @example A ring between two Workers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 10 });
 * const handle = ring.handle(); // postMessage(handle) to a Worker, which calls Ring.fromHandle
 * const consumer = Ring.fromHandle<number, Uint32Array>(handle);
 * ring.send([1, 2, 3]);
 * assert.equal(consumer.tryRecv(), 1);
 * assert.equal(consumer.len(), 2);
 * ```
 */
export class Ring<V, S extends ElementStore> {
  readonly #element: ElementType<V, S>;
  readonly #config: Config;
  readonly #buffer: ArrayBufferLike;
  readonly #byteOffset: number;
  readonly #words: Int32Array;
  readonly #wide: BigInt64Array;
  /** `wasmAtomics`: the memory, and its atomic load/store for the hot words. */
  readonly #wasmMemory: WebAssembly.Memory | null;
  readonly #wasm: WasmAtomics | null;
  /** Byte address of the consumer waiters word in the Wasm memory; -1: load it with Atomics. */
  readonly #consumerWaitersAddr: number;
  /** A whole commit in one call (RingMemory.commit, or the Wasm module's), or `null`. */
  readonly #fusedCommit: ((old: number, next: number) => number) | null;
  readonly #data: S;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #tailIndex: number;
  readonly #headIndex: number;
  readonly #closedIndex: number;
  readonly #gate: GateWords;
  /** Whether this object still has to store `announced` before its first commit (foreign layouts). */
  #mustAnnounce: boolean;
  readonly #activeIndex: number;
  /** The words whose waiters count tells a commit to wake consumers (maybe a channel's doorbell). */
  readonly #consumerWaitersWords: Int32Array;
  readonly #consumerWaitersIndex: number;
  readonly #producerWaitersIndex: number;
  readonly #consumerSpot: WaitSpot;
  readonly #producerSpot: WaitSpot;
  readonly #counters: Float64Array | null;
  readonly #reservation: Reservation<S>;
  readonly #region: Region<S>;
  /** The consumer side as src/ring_consume.ts uses it. */
  readonly #consumer: RingConsumer<V, S>;
  readonly #dataBytes: number;
  readonly #waits: RingWaits<V, S>;
  /** Producer: our own tail (we are its only writer; reloaded whenever head is). */
  #tail = 0;
  /** Producer: the consumer's head as last loaded; may be stale (behind). */
  #cachedHead = 0;
  /** Producer: slots the current reservation may commit. */
  #reserved = 0;
  /** Consumer: our own head (we are its only writer; reloaded whenever tail is). */
  #head = 0;
  /** Consumer: the producer's tail as last loaded; may be stale (behind). */
  #cachedTail = 0;
  #notifier: CommitSignal | null = null;
  readonly #heartbeat: CommitSignal | null;
  /** `layout.wide`: reloads check the high position words too. */
  readonly #checkHigh: boolean;
  /** The other side's high position word, as last loaded with its low word. */
  #otherHigh = 0;

  /**
   * Creates a ring in a new `SharedArrayBuffer`, or over given memory.
   *
   * @param element The element type, e.g. `u32`, `f64` or `record({...})`.
   * @param config Overrides of {@linkcode defaultConfig}; `ringBits` sets the capacity.
   * @param memory Existing memory to build the ring over (shared-memory rings); omit for a new ring.
   * @throws {RangeError} If `ringBits` is outside 1–30 or the ring would not fit in memory.
   * @throws {TypeError} If the element type or a config field has the wrong shape.
   */
  constructor(element: ElementType<V, S>, config: Partial<Config> = {}, memory?: RingMemory) {
    if (typeof element?.view !== "function" || !(element.bytes > 0)) {
      throw new TypeError(
        `Cannot create ring as the element type is not a descriptor: received ${String(element)}`,
      );
    }
    this.#element = element;
    this.#config = makeConfig(config);
    this.#capacity = 2 ** this.#config.ringBits;
    this.#mask = this.#capacity - 1;
    this.#dataBytes = this.#capacity * element.bytes;
    const layout = memory?.layout ?? RING_LAYOUT;
    const place = ringPlace(this.#capacity, element.bytes, this.#config, memory);
    this.#wasmMemory = place.wasmMemory;
    this.#buffer = place.buffer;
    this.#byteOffset = place.byteOffset;
    this.#words = new Int32Array(this.#buffer, this.#byteOffset, layout.data / 4);
    this.#wide = new BigInt64Array(this.#buffer, this.#byteOffset, layout.data / 8);
    this.#wasm = this.#wasmMemory === null ? null : wasmAtomics(this.#wasmMemory);
    this.#data = element.view(this.#buffer, this.#byteOffset + layout.data, this.#capacity);
    this.#tailIndex = layout.tail / 4;
    this.#headIndex = layout.head / 4;
    this.#closedIndex = layout.closed / 4;
    this.#gate = gateWords(layout);
    this.#mustAnnounce = this.#gate.announced >= 0;
    this.#activeIndex = layout.active < 0 ? -1 : layout.active / 4;
    this.#producerWaitersIndex = layout.producerWaiters / 4;
    // a layout without sequence words is foreign (SharedRing): sleepers park on the waiters
    // word itself, watching the other side's position and the closed flag (src/wait_engine.ts)
    const foreign = layout.consumerSeq < 0;
    const spot = {
      parker: memory?.parker ?? atomicsParker,
      sliceMs: memory?.sliceMs ?? layout.sliceMs,
      peer: memory?.peer,
    };
    this.#consumerSpot = memory?.consumerSpot ??
      makeSpot(this.#words, layout.consumerSeq / 4, layout.consumerWaiters / 4, {
        ...spot,
        watch: foreign ? [this.#tailIndex, this.#closedIndex] : undefined,
      });
    this.#consumerWaitersWords = this.#consumerSpot.words;
    this.#consumerWaitersIndex = this.#consumerSpot.waitersIndex;
    this.#consumerWaitersAddr = this.#wasm !== null && this.#consumerWaitersWords === this.#words
      ? this.#byteOffset + 4 * this.#consumerWaitersIndex
      : -1;
    this.#fusedCommit = memory?.commit ?? this.#wasmCommit();
    this.#producerSpot = makeSpot(this.#words, layout.producerSeq / 4, this.#producerWaitersIndex, {
      ...spot,
      watch: foreign ? [this.#headIndex, this.#closedIndex] : undefined,
    });
    this.#counters = this.#config.enableMetrics && layout.metrics >= 0
      ? new Float64Array(this.#buffer, this.#byteOffset + layout.metrics, METRICS_BYTES / 8)
      : null;
    this.#heartbeat = memory?.heartbeat ?? null;
    this.#checkHigh = layout.wide;
    this.#reservation = new Reservation(this.#data);
    this.#region = new Region(this.#data);
    this.#consumer = {
      element,
      data: this.#data,
      capacity: this.#capacity,
      mask: this.#mask,
      counters: this.#counters,
      peekRegion: new Region(this.#data),
      available: () => this.#available(),
      head: () => this.#head,
      publishHead: (n) => this.#publishHead(n),
    };
    this.#waits = new RingWaits(
      this,
      {
        hasItems: () => this.#available() !== 0,
        hasRoom: (n) => this.#freeFor(n) >= n,
        waited: (startedMs) => {
          if (this.#counters !== null) {
            this.#counters[M_TOTAL_WAIT_NS] += (performance.now() - startedMs) * 1e6;
          }
        },
      },
      this.#consumerSpot,
      this.#producerSpot,
    );
    if (memory?.initialize) this.#words.fill(0);
    if (layout === RING_LAYOUT && (memory === undefined || memory.initialize)) {
      // records what this memory holds, before any handle to it exists
      writeIdentity(
        this.#buffer,
        this.#byteOffset + IDENTITY_OFFSET,
        identityOf(Kind.ring, element, this.#config.ringBits),
      );
    }
    this.#loadPositions();
  }

  /**
   * Rebuilds a ring from a handle made by {@linkcode Ring.handle}, typically in
   * another Worker. Each side builds its own object; both share the memory.
   *
   * The handle is checked against the identity record its memory carries
   * (element type and size, ringBits, layout version), so a forged or mixed-up
   * handle cannot make this Worker read the memory as something else. A
   * MessageRing's or spmc channel's handle gives a raw view of its ring.
   *
   * @param handle The handle.
   * @returns A ring over the same memory.
   * @throws {TypeError} If the handle is malformed (a field of the wrong
   * kind, no SharedArrayBuffer) or disagrees with what the memory holds.
   * @throws {RangeError} If its byteOffset or a config value is out of range.
   */
  static fromHandle<V, S extends ElementStore>(handle: RingHandle<V, S>): Ring<V, S> {
    const { element, config, memory } = ringArgsOf(handle);
    return new Ring(element, config, memory);
  }

  /**
   * A structured-cloneable handle: post it to a Worker and call
   * {@linkcode Ring.fromHandle} there.
   *
   * @returns The handle.
   * @throws {TypeError} If the ring is not in a `SharedArrayBuffer`.
   */
  handle(): RingHandle<V, S> {
    if (!(this.#buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("Cannot make a handle as this ring is not in a SharedArrayBuffer");
    }
    return {
      buffer: this.#buffer,
      byteOffset: this.#byteOffset,
      element: this.#element.spec,
      config: this.#config,
      ...(this.#wasmMemory === null ? {} : { wasmMemory: this.#wasmMemory }),
    };
  }

  /** The element type this ring holds. */
  get element(): ElementType<V, S> {
    return this.#element;
  }

  /** The ring's complete config. */
  get config(): Config {
    return this.#config;
  }

  #loadPositions(): void {
    this.#tail = Atomics.load(this.#words, this.#tailIndex);
    this.#head = Atomics.load(this.#words, this.#headIndex);
    this.#cachedHead = this.#head;
    this.#cachedTail = this.#head; // first read reloads and checks the shared tail
    this.#reserved = 0;
  }

  /** The error for positions no honest peer writes; it prints all 64 bits of each (high words as they are now). */
  #corrupt(tail: number, head: number): RingCorrupt {
    return new RingCorrupt(
      `Cannot use ring as tail − head exceeds capacity ${this.#capacity}: received tail ${
        position64(this.#words, this.#tailIndex, tail)
      }, head ${position64(this.#words, this.#headIndex, head)}`,
    );
  }

  /**
   * Wide layouts: whether the high words agree with a low-word distance ≤
   * capacity, i.e. the 64-bit `tail − head` (modulo 2^64, so positions anywhere
   * in the u64 range, across 2^63 and 2^64, work) equals it: the high words
   * differ by the borrow of the low words and nothing else.
   */
  #highWordsAgree(tail: number, tailHigh: number, head: number, headHigh: number): boolean {
    const borrow = (tail >>> 0) < (head >>> 0) ? 1 : 0;
    return ((tailHigh - headHigh - borrow) | 0) === 0;
  }

  /** Atomic load of one of this ring's words, through WebAssembly atomics when the ring has them. */
  #loadWord(index: number): number {
    return this.#wasm !== null
      ? this.#wasm.load(this.#byteOffset + 4 * index)
      : Atomics.load(this.#words, index);
  }

  /** Atomic store into one of this ring's words, through WebAssembly atomics when the ring has them. */
  #storeWord(index: number, value: number): void {
    if (this.#wasm !== null) this.#wasm.store(this.#byteOffset + 4 * index, value);
    else Atomics.store(this.#words, index, value);
  }

  /** Stores a position word; the one store in 2^32 that carries into the high word stores all 64 bits. */
  #storePosition(index: number, from: number, to: number): void {
    if ((to >>> 0) < (from >>> 0)) {
      const high = BigInt((Atomics.load(this.#words, index + 1) + 1) >>> 0);
      Atomics.store(this.#wide, index >> 1, BigInt.asIntN(64, (high << 32n) | BigInt(to >>> 0)));
    } else {
      this.#storeWord(index, to);
    }
  }

  /** Producer: free slots, reloading head only when the cached copy says fewer than `n`. */
  #freeFor(n: number): number {
    let free = this.#capacity - ((this.#tail - this.#cachedHead) >>> 0);
    if (free < n) {
      // our own tail too, in case another object produced here before us (a handed-over
      // role, ordered by whatever handed it over): a plain read, as only this side writes it
      const tail = this.#tail = this.#words[this.#tailIndex];
      const head = this.#loadOther(this.#headIndex);
      const used = (tail - head) >>> 0;
      if (used > this.#capacity) throw this.#corrupt(tail, head);
      if (
        this.#checkHigh &&
        !this.#highWordsAgree(tail, this.#words[this.#tailIndex + 1], head, this.#otherHigh)
      ) {
        throw this.#corrupt(tail, head);
      }
      this.#cachedHead = head;
      free = this.#capacity - used;
      if (this.#counters !== null && this.#config.trackContention && free < n) {
        this.#counters[M_RESERVE_SPINS]++;
      }
    }
    return free;
  }

  /**
   * Loads the other side's position: its low word, and with `wide` layouts its
   * high word too, read again until both belong to the same 64-bit value.
   */
  #loadOther(index: number): number {
    if (!this.#checkHigh) return this.#loadWord(index);
    // an honest peer changes the high word once per 2^32 items: a word that keeps changing lies
    for (let tries = 0; tries < 1024; tries++) {
      const high = Atomics.load(this.#words, index + 1);
      const low = Atomics.load(this.#words, index);
      if (Atomics.load(this.#words, index + 1) === high) {
        this.#otherHigh = high;
        return low;
      }
    }
    throw new RingCorrupt(
      `Cannot load the peer's position as its high word changed on each of 1024 reads: received ${
        Atomics.load(this.#words, index + 1) >>> 0
      }`,
    );
  }

  /** Consumer: readable items, reloading tail only when the cached copy says empty. */
  #available(): number {
    let avail = (this.#cachedTail - this.#head) >>> 0;
    if (avail === 0) {
      // our own head too, in case another object consumed here before us (a handed-over
      // role, ordered by whatever handed it over): a plain read, as only this side writes it
      const head = this.#head = this.#words[this.#headIndex];
      const tail = this.#checkHigh ? this.#loadTailWide(head) : this.#loadWord(this.#tailIndex);
      avail = (tail - head) >>> 0;
      if (avail > this.#capacity) throw this.#corrupt(tail, head);
      this.#cachedTail = tail;
    }
    return avail;
  }

  /**
   * Consumer, `wide` layouts: the tail's low word, once its high word agrees
   * with our head's. While `head + capacity` does not carry into the high
   * word, no honest tail does either (it stays within capacity of our head),
   * so its high word must be our head's: two loads. Near the carry, where a
   * producer's 64-bit store may land between two 32-bit loads, both words
   * are read until they belong to one 64-bit value, then compared.
   */
  #loadTailWide(head: number): number {
    const low = Atomics.load(this.#words, this.#tailIndex);
    const headHigh = this.#words[this.#headIndex + 1];
    if ((head >>> 0) + this.#capacity < 2 ** 32) {
      const high = Atomics.load(this.#words, this.#tailIndex + 1);
      if (high !== headHigh) throw this.#corrupt(low, head);
      return low;
    }
    const tail = this.#loadOther(this.#tailIndex);
    if (!this.#highWordsAgree(tail, this.#otherHigh, head, headHigh)) {
      throw this.#corrupt(tail, head);
    }
    return tail;
  }

  // ── Producer ────────────────────────────────────────────────────────────

  /**
   * Reserves `n` slots for writing. The window may be shorter than `n` where
   * it would wrap: commit what you wrote, then reserve again for the rest.
   * Only one reservation is active at a time. The returned object is reused.
   *
   * @param n Slots wanted, 1 to capacity.
   * @returns The writable window, or `null` if fewer than `n` slots are free.
   * @throws {RangeError} If `n` is outside 1 to capacity.
   * @throws {RingCorrupt} If shared memory says `tail − head > capacity`.
   */
  reserve(n: number): Reservation<S> | null {
    if (!(n >= 1 && n <= this.#capacity && (n | 0) === n)) {
      checkInteger("reserve", "n", n, 1, this.#capacity);
    }
    if (this.#freeFor(n) < n) {
      if (this.#counters !== null && this.#config.trackContention) {
        this.#counters[M_RESERVE_FAILURES]++;
      }
      return null;
    }
    const index = this.#tail & this.#mask;
    const contiguous = this.#capacity - index;
    const r = this.#reservation;
    r.offset = index;
    r.length = this.#reserved = n < contiguous ? n : contiguous;
    r.pos = this.#tail >>> 0;
    return r;
  }

  /**
   * Publishes `n` written slots of the current reservation (a partial commit is
   * fine) and wakes sleeping consumers, if any.
   *
   * @param n Slots to publish, 0 to the reservation's length.
   * @throws {RangeError} If `n` exceeds what was reserved; nothing is changed.
   * @throws {Closed} If the ring was closed: nothing is published, the reservation is dropped.
   */
  commit(n: number): void {
    if (!(n >= 0 && n <= this.#reserved && (n | 0) === n)) {
      checkInteger("commit", "n", n, 0, this.#reserved);
    }
    this.#reserved = 0;
    this.#publishTail(n);
  }

  /** Publishes n items through the close gate (src/close_gate.ts, steps P1–P3). */
  #publishTail(n: number): void {
    if (n === 0) return;
    if (this.#mustAnnounce) {
      Atomics.store(this.#words, this.#gate.announced, 1); // before the first P1: the gate holds here
      this.#mustAnnounce = false;
    }
    const tail = (this.#tail + n) | 0;
    let sleepers: number;
    if (this.#fusedCommit !== null && (tail >>> 0) > (this.#tail >>> 0)) {
      // P1–P3, the heartbeat and the sleepers' load in one call (no carry into the high word)
      sleepers = this.#fusedCommit(this.#tail, tail);
      if (sleepers < 0) throw this.#refused(n);
    } else {
      this.#storeWord(this.#gate.sending, tail); // P1: announces a commit in flight to closers
      if (this.#loadWord(this.#closedIndex) !== OPEN) {
        this.#storeWord(this.#gate.sending, this.#tail); // the commit is abandoned, nothing published
        throw this.#refused(n);
      }
      this.#storePosition(this.#tailIndex, this.#tail, tail); // P3: publishes n items, ends the commit
      if (this.#heartbeat !== null) this.#heartbeat.signal();
      sleepers = Atomics.load(this.#consumerWaitersWords, this.#consumerWaitersIndex);
    }
    this.#tail = tail;
    if (sleepers !== 0) wakeSpot(this.#consumerSpot);
    if (this.#notifier !== null) this.#notifier.signal();
    if (this.#counters !== null) {
      this.#counters[M_MESSAGES_SENT] += n;
      this.#counters[M_BATCHES_SENT]++;
    }
  }

  /** The Wasm module's commit on this ring's words, when the ring has Wasm atomics and its own sleepers. */
  #wasmCommit(): ((old: number, next: number) => number) | null {
    const wasm = this.#wasm;
    if (wasm === null || this.#consumerWaitersAddr < 0) return null;
    const a = this.#byteOffset;
    const sending = a + 4 * this.#gate.sending;
    const closed = a + 4 * this.#closedIndex;
    const tail = a + 4 * this.#tailIndex;
    const waiters = this.#consumerWaitersAddr;
    return (old, next) => wasm.commit(sending, closed, tail, waiters, old, next);
  }

  #refused(n: number): Closed {
    return new Closed(`Cannot commit ${n} items as the ring is closed`);
  }

  /**
   * Copies as many of `items` as fit (in at most two parts at the wrap) and
   * publishes them with one store.
   *
   * @param items The items to send.
   * @returns How many were sent, from 0 (full) to `items.length`.
   * @throws {TypeError} If `items` is not array-like.
   * @throws {Closed} If the ring was closed: nothing is sent.
   */
  send(items: ArrayLike<V>): number {
    const length = checkArrayLike("send", "items", items);
    const free = this.#freeFor(length);
    const n = length < free ? length : free;
    if (n === 0) return 0;
    const index = this.#tail & this.#mask;
    const first = Math.min(n, this.#capacity - index);
    this.#element.copyIn(this.#data, index, items, 0, first);
    if (first < n) this.#element.copyIn(this.#data, 0, items, first, n - first);
    this.#reserved = 0;
    this.#publishTail(n);
    return n;
  }

  /**
   * Sends one item if there is room.
   *
   * @param item The item.
   * @returns `true` if sent, `false` if the ring is full.
   * @throws {Closed} If the ring was closed: nothing is sent.
   */
  sendOne(item: V): boolean {
    if (this.#freeFor(1) === 0) return false;
    this.#element.write(this.#data, this.#tail & this.#mask, item);
    this.#reserved = 0;
    this.#publishTail(1);
    return true;
  }

  // ── Consumer ────────────────────────────────────────────────────────────

  /**
   * The contiguous run of readable items (up to the end of the store; the
   * rest follows after `advance`). The returned object is reused.
   *
   * @returns The readable window, or `null` if the ring is empty.
   * @throws {RingCorrupt} If shared memory says `tail − head > capacity`.
   */
  readable(): Region<S> | null {
    const avail = this.#available();
    if (avail === 0) return null;
    const index = this.#head & this.#mask;
    const contiguous = this.#capacity - index;
    const region = this.#region;
    region.offset = index;
    region.length = avail < contiguous ? avail : contiguous;
    return region;
  }

  /**
   * Consumes `n` items by publishing the head, and wakes sleeping producers, if any.
   *
   * @param n Items consumed, 0 to the number readable.
   * @throws {RangeError} If `n` exceeds what is readable; nothing is changed.
   */
  advance(n: number): void {
    if (!(n >= 0 && (n | 0) === n && n <= ((this.#cachedTail - this.#head) >>> 0))) {
      this.#checkAdvance(n);
    }
    this.#publishHead(n);
  }

  /** A refused `advance(n)` (as far as the cached tail goes): checks `n` against a fresh, checked tail. */
  #checkAdvance(n: number): void {
    this.#cachedTail = this.#head; // says empty: #available reloads the shared tail and checks it
    checkInteger("advance", "n", n, 0, this.#available());
  }

  #publishHead(n: number): void {
    if (n === 0) return;
    const head = (this.#head + n) | 0;
    let sleepers: number;
    if (this.#wasm !== null && (head >>> 0) > (this.#head >>> 0)) {
      // the store and the sleepers' load in one Wasm call (no carry into the head's high word)
      const a = this.#byteOffset;
      sleepers = this.#wasm.advance(
        a + this.#headIndex * 4,
        a + this.#producerWaitersIndex * 4,
        head,
      );
    } else {
      this.#storePosition(this.#headIndex, this.#head, head); // frees n slots for the producer
      sleepers = this.#loadWord(this.#producerWaitersIndex);
    }
    this.#head = head;
    if (sleepers !== 0) wakeSpot(this.#producerSpot);
    if (this.#counters !== null) {
      const c = this.#counters;
      c[M_MESSAGES_RECEIVED] += n;
      c[M_BATCHES_RECEIVED]++;
      if (n > c[M_MAX_BATCH_SIZE]) c[M_MAX_BATCH_SIZE] = n;
    }
  }

  // ── Consumer conveniences (src/ring_consume.ts) ─────────────────────────

  /**
   * Calls `handler.process` on every readable item (across the wrap), then
   * publishes the head once.
   *
   * @param handler Gets each item; records arrive as an in-place cursor.
   * @returns Items consumed.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  consumeBatch(handler: Handler<V>): number {
    return this.consumeUpTo(this.#capacity, handler);
  }

  /**
   * Like {@linkcode Ring.consumeBatch} with at most `max` items.
   *
   * @param max Most items to consume.
   * @param handler Gets each item.
   * @returns Items consumed.
   * @throws {RangeError} If `max` is not an integer ≥ 0 or Infinity.
   * @throws {TypeError} If `handler` has no `process` method.
   */
  consumeUpTo(max: number, handler: Handler<V>): number {
    return consume.consumeUpTo(this.#consumer, max, handler);
  }

  /**
   * Like {@linkcode Ring.consumeBatch} with a plain callback.
   *
   * @param callback Gets each item.
   * @returns Items consumed.
   * @throws {TypeError} If `callback` is not a function.
   */
  consumeBatchFn(callback: (item: V) => void): number {
    return consume.consumeBatchFn(this.#consumer, callback);
  }

  /**
   * Consumes every readable item without looking at them: the fastest path.
   *
   * @returns Items consumed.
   */
  consumeBatchCount(): number {
    return consume.consumeBatchCount(this.#consumer);
  }

  /**
   * Copies readable items into `out` from index `start` (in at most two parts
   * at the wrap) and publishes the head once.
   *
   * @param out Where to copy; its length bounds the count.
   * @param start First index of `out` to fill; default 0.
   * @returns Items received.
   * @throws {TypeError} If `out` is not array-like.
   * @throws {RangeError} If `start` is not an integer between 0 and `out.length`.
   */
  recv(out: { length: number; [i: number]: V }, start = 0): number {
    return consume.recv(this.#consumer, out, start);
  }

  /**
   * Receives one item (records: a fresh object).
   *
   * @returns The item, or `null` if the ring is empty.
   */
  tryRecv(): V | null {
    return consume.tryRecv(this.#consumer);
  }

  /**
   * The next item without consuming it (records: the in-place cursor).
   *
   * @returns The item, or `null` if the ring is empty.
   */
  peek(): V | null {
    return consume.peek(this.#consumer);
  }

  /**
   * Up to `n` readable items without consuming them, as a contiguous window
   * (shorter at the wrap). The returned object is reused.
   *
   * @param n Most items wanted.
   * @returns The window, or `null` if the ring is empty.
   * @throws {RangeError} If `n` is not an integer ≥ 0 or Infinity.
   */
  peekMany(n: number): Region<S> | null {
    return consume.peekMany(this.#consumer, n);
  }

  /**
   * Receives into `out` until it is full or the ring is empty.
   *
   * @param out Where to copy.
   * @returns Items received.
   * @throws {TypeError} If `out` is not array-like.
   */
  drain(out: { length: number; [i: number]: V }): number {
    return consume.drain(this, out);
  }

  /**
   * Discards up to `n` readable items.
   *
   * @param n Most items to discard.
   * @returns Items discarded.
   * @throws {RangeError} If `n` is not an integer ≥ 0 or Infinity.
   */
  skip(n: number): number {
    return consume.skip(this.#consumer, n);
  }

  /**
   * An iterator over the readable items that consumes nothing until
   * `finish()`, which publishes the head once for everything it yielded.
   *
   * @returns The iterator.
   */
  iterator(): RingIterator<V> {
    return consume.iterator(this.#consumer);
  }

  // ── Lifecycle and status ────────────────────────────────────────────────

  /**
   * Makes every `commit` also call `notifier.signal()` (the native layer's
   * eventfd `EventNotifier`); `null` detaches.
   *
   * @param notifier What to signal, or `null`.
   * @throws {TypeError} If `notifier` is neither `null` nor an object with a `signal` method.
   */
  setEventNotifier(notifier: CommitSignal | null): void {
    if (notifier !== null) checkCallable("set event notifier", "notifier", notifier, "signal");
    this.#notifier = notifier;
  }

  /**
   * Closes the ring (idempotent) and wakes every sleeper on both sides. Every
   * commit after this fails with `Closed`; one that was in flight is waited
   * for, so when `close()` returns the ring holds every item that was
   * accepted (src/close_gate.ts).
   */
  close(): void {
    closeAndSettle(this.#words, this.#gate);
    wakeSpot(this.#consumerSpot);
    wakeSpot(this.#producerSpot);
  }

  /**
   * Same as {@linkcode Ring.close}, for `using`: when the scope ends the
   * peer drains what is left, then sees `Closed`.
   *
   * @example Closing at the end of a scope
   * ```ts
   * import assert from "node:assert/strict";
   * import { Ring, u32 } from "@ringmpsc/ringmpsc";
   * const outer = new Ring(u32, { ringBits: 4 });
   * {
   *   using ring = Ring.fromHandle(outer.handle());
   *   ring.send([1]);
   * }
   * assert.ok(outer.isClosed());
   * assert.equal(outer.tryRecv(), 1);
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Whether the ring was closed, with no commit still in flight (a commit
   * that passed the close gate before the close): once `true`, nothing more
   * can be published, so a consumer that then finds the ring empty may end.
   *
   * @returns `true` once closed and settled.
   */
  isClosed(): boolean {
    return isSealed(this.#words, this.#gate);
  }

  /**
   * Whether a producer owns the ring (MPSC bookkeeping).
   *
   * @returns `true` while marked active.
   */
  isActive(): boolean {
    return Atomics.load(this.#words, this.#activeIndex) === 1;
  }

  /**
   * Resets positions, flags and metrics to the initial state. Not thread-safe:
   * call it only while no other side uses the ring, and rebuild other sides'
   * objects from the handle afterwards.
   */
  reset(): void {
    this.#wide[this.#tailIndex >> 1] = 0n;
    this.#wide[this.#headIndex >> 1] = 0n;
    Atomics.store(this.#words, this.#closedIndex, 0);
    this.#counters?.fill(0);
    this.#loadPositions();
  }

  /**
   * A snapshot of the counters.
   *
   * @returns The snapshot, or `null` when `enableMetrics` is off.
   */
  getMetrics(): Metrics | null {
    return this.#counters === null ? null : Metrics.fromCounters(this.#counters);
  }

  /**
   * Items in the ring (two loads; exact only when both sides are idle).
   *
   * @returns The count.
   */
  len(): number {
    const tail = Atomics.load(this.#words, this.#tailIndex);
    const head = Atomics.load(this.#words, this.#headIndex);
    return Math.min((tail - head) >>> 0, this.#capacity);
  }

  /**
   * Whether head equals tail.
   *
   * @returns `true` if empty.
   */
  isEmpty(): boolean {
    return this.len() === 0;
  }

  /**
   * Whether every slot is taken.
   *
   * @returns `true` if full.
   */
  isFull(): boolean {
    return this.len() >= this.#capacity;
  }

  /**
   * Slots in the ring, `2 ** ringBits`.
   *
   * @returns The capacity.
   */
  capacity(): number {
    return this.#capacity;
  }

  /**
   * Bytes of shared memory the ring takes: header plus data.
   *
   * @returns The size in bytes.
   */
  totalMemory(): number {
    return this.#words.byteLength + this.#dataBytes;
  }

  /**
   * Bytes of the data region.
   *
   * @returns The size in bytes.
   */
  bufferMemory(): number {
    return this.#dataBytes;
  }

  // ── Waiting (src/ring_waits.ts) ─────────────────────────────────────────

  /**
   * Reserves, waiting as `wait` says while fewer than `n` slots are free.
   * Blocking strategies sleep on the ring's futex word.
   *
   * @param n Slots wanted.
   * @param wait How to wait: a strategy (default {@linkcode WaitStrategy.blocking}) or
   * `{ timeoutMs, signal }`.
   * @returns The window.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the deadline passes.
   */
  reserveBlocking(
    n: number,
    wait: WaitStrategy | WaitOptions = WaitStrategy.blocking,
  ): Reservation<S> {
    return this.#waits.reserve(n, wait);
  }

  /**
   * Reserves with adaptive backoff (spin, then yield), giving up when the
   * backoff completes.
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if the ring stayed full.
   */
  reserveWithBackoff(n: number): Reservation<S> | null {
    return this.#waits.reserveWithBackoff(n);
  }

  /**
   * Sends one item, waiting as `wait` says while the ring is full.
   *
   * @param item The item.
   * @param wait How to wait: a strategy (default {@linkcode WaitStrategy.blocking}) or
   * `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the deadline passes.
   */
  sendOneBlocking(item: V, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#waits.sendOne(item, wait);
  }

  /**
   * Waits as `wait` says until `n` slots are free.
   *
   * @param n Slots wanted.
   * @param wait How to wait: a strategy (default {@linkcode WaitStrategy.blocking}) or
   * `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the deadline passes.
   */
  waitWritable(n: number, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#waits.writable(n, wait);
  }

  /**
   * Consumes a batch, waiting as `wait` says while the ring is empty.
   *
   * @param handler Gets each item.
   * @param wait How to wait: a strategy (default {@linkcode WaitStrategy.blocking}) or
   * `{ timeoutMs, signal }`.
   * @returns Items consumed (at least 1).
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If the deadline passes.
   */
  consumeBatchBlocking(
    handler: Handler<V>,
    wait: WaitStrategy | WaitOptions = WaitStrategy.blocking,
  ): number {
    return this.#waits.consumeBatch(handler, wait);
  }

  /**
   * Waits as `wait` says until an item is readable.
   *
   * @param wait How to wait: a strategy (default {@linkcode WaitStrategy.blocking}) or
   * `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If the deadline passes.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#waits.readable(wait);
  }

  /**
   * Resolves once an item is readable, without blocking the event loop.
   *
   * @param options Timeout (ms) and abort signal.
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   * @throws {RangeError} If the timeout is not a number ≥ 0.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return this.#waits.readableAsync(options);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop.
   *
   * @param n Slots wanted.
   * @param options Timeout (ms) and abort signal.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the timeout passes.
   * @throws {RangeError} If `n` or the timeout is out of range.
   */
  async writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    await this.#waits.writableAsync(n, options);
  }

  /**
   * Sends one item, awaiting room without blocking the event loop.
   *
   * @param item The item.
   * @param options Timeout (ms) and abort signal.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the timeout passes.
   */
  sendOneAsync(item: V, options: WaitOptions = {}): Promise<void> {
    return this.#waits.sendOneAsync(item, options);
  }

  /**
   * Receives one item, awaiting data without blocking the event loop.
   *
   * @param options Timeout (ms) and abort signal.
   * @returns The item.
   * @throws {Closed} If the ring is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   */
  recvAsync(options: WaitOptions = {}): Promise<V> {
    return this.#waits.recvAsync(options);
  }

  /**
   * Yields every item until the ring is closed and drained:
   * `for await (const x of ring) …`. Records arrive as fresh objects.
   *
   * @returns An async iterator over the items.
   */
  [Symbol.asyncIterator](): AsyncGenerator<V, void, undefined> {
    return this.#waits.items();
  }
}
