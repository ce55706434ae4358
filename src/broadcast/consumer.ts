/**
 * The consumer side of a broadcast ring: reads every message the producer
 * commits after it joined, in order, in place.
 *
 * Byte layout (drawn in full in `_layout.ts`): a 256-byte control region
 * (head at 0x40, broadcast token at 0x80, waiters at 0x84, closed at 0x88),
 * one 4096-byte metadata page per consumer (tail +0x00, progressMs +0x04,
 * slot word +0x08) and the data region of 16-byte-aligned messages (u32
 * payloadLength, u8 fdCount, u8 flags, u16 reserved, u32 seqLo, u32 seqHi,
 * payload). A consumer writes only its own tail, progress and, to leave, its
 * slot word.
 *
 * The producer may be hostile: every header is read once into locals and
 * checked against the ring before anything else is read (a length past the
 * committed bytes or across the physical end, a padding message that does
 * not reach the end, unknown flags, a head more than a capacity ahead) and
 * such a ring throws `RingCorrupt`; nothing is ever read out of range. The
 * producer may also evict this consumer and overwrite what it was reading:
 * a message is known intact once the {@linkcode BroadcastConsumer.publish}
 * after it succeeds; otherwise `Evicted` is thrown.
 *
 * @module
 */

import { atomicsParker, type Parker } from "../parker.ts";
import { Closed, Evicted, RingCorrupt } from "../errors.ts";
import {
  falseOnTimeout,
  makeSpot,
  type WaitOptions,
  type WaitSpot,
  waitUntil,
  waitUntilAsync,
} from "../wait_engine.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import { checkIndex, checkInstance, checkInteger, checkOffset, checkOneOf } from "../_validate.ts";
import {
  ACTIVE,
  align16,
  C_CLOSED,
  C_HEAD,
  C_TOKEN,
  C_WAITERS,
  CONTROL_BYTES,
  EPOCH_MASK,
  FLAG_PAD,
  HEADER_BYTES,
  LEFT,
  MAX_FDS_PER_MESSAGE,
  P_PROGRESS,
  P_SLOT,
  P_TAIL,
  PAGE_WORDS,
  readGeometry,
  sinceBaseline,
} from "./_layout.ts";
import type { BroadcastConsumerHandle, WakeupMode } from "./producer.ts";

/** Options for {@linkcode BroadcastConsumer.attach}. */
export interface BroadcastAttachOptions {
  /** Where the ring starts in the buffer (default 0). */
  readonly byteOffset?: number;
  /** How {@linkcode BroadcastConsumer.wait} waits (default `"push"`). */
  readonly mode?: WakeupMode;
  /** Sleeps on the broadcast token (default {@linkcode atomicsParker}). */
  readonly parker?: Parker;
  /** Says how the producer process died, or `null` while it lives (asked after each sleep). */
  readonly peer?: () => string | null;
  /** Longest single sleep in ms, the interval of `peer` checks (default unlimited). */
  readonly sliceMs?: number;
}

/** A number of milliseconds, or the options themselves. */
function timeoutOptions(timeout: number | WaitOptions): WaitOptions {
  return typeof timeout === "number" ? { timeoutMs: timeout } : timeout;
}

/** The message at the consumer's tail, in place; reused by every peek. */
export interface MessageView {
  /** The whole data region. */
  readonly array: Uint8Array;
  /** Byte index of the payload in `array`. */
  offset: number;
  /** Payload bytes. */
  length: number;
  /** The producer's sequence id for the message. */
  seqId: number;
  /** File descriptors the producer says travel with the message. */
  fdCount: number;
  /** Ring position of the message header. */
  position: number;
}

/** Sequence ids are safe integers: their high word stays below 2^21. */
const MAX_SEQ_HI = 2 ** 21 - 1;
/** Each sleep of a pull-mode wait, once its spin and yield rounds are over (ms). */
const PULL_SLEEP_MS = 1;
/** Pull-mode waits poll the head: spin, yield, then sleep a millisecond at a time. */
const PULL = WaitStrategy.sleeping(PULL_SLEEP_MS);

/**
 * One consumer of a broadcast ring. Not thread-safe: one thread reads.
 *
 * @example Receiving in order
 * ```ts
 * import assert from "node:assert/strict";
 * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
 * const producer = BroadcastProducer.create({ capacity: 4096 });
 * using consumer = BroadcastConsumer.fromHandle(producer.join());
 * producer.send(Uint8Array.of(1));
 * producer.send(Uint8Array.of(2));
 * assert.equal(consumer.recv()![0], 1);
 * assert.equal(consumer.recv()![0], 2);
 * assert.equal(consumer.recv(), null);
 * ```
 */
export class BroadcastConsumer {
  #capacity: number;
  #mask: number;
  #slot: number;
  #mode: WakeupMode;
  /** Where push waits sleep: the control region's token and waiters words. */
  #token: WaitSpot;
  #baselineMs: number;
  #control: Int32Array;
  #page: Int32Array;
  #data: Uint8Array;
  #data32: Uint32Array;
  /** The slot word while this consumer owns the slot: epoch << 2 | ACTIVE. */
  #activeWord: number;
  /** Local tail: the position after the last message advanced past. */
  #tail: number;
  /** The tail last published to the producer. */
  #published: number;
  /** The head as last loaded. */
  #cachedHead: number;
  /** Size of the message returned by the last peek, 0 when none. */
  #peeked = 0;
  #left = false;
  #view: MessageView;

  /**
   * Attaches to a slot the producer assigned. Prefer
   * {@linkcode BroadcastConsumer.fromHandle} (Workers) or
   * {@linkcode BroadcastConsumer.attach} (other shared memory).
   *
   * @param handle What {@linkcode BroadcastProducer.join} returned.
   * @param options Parker (default {@linkcode atomicsParker}), peer check and sleep slice.
   * @throws {InvalidMagic} If the memory holds no broadcast ring.
   * @throws {RingCorrupt} If the control region or the slot is impossible.
   * @throws {Evicted} If the slot no longer belongs to this join.
   */
  constructor(handle: BroadcastConsumerHandle, options: BroadcastAttachOptions = {}) {
    const { buffer, byteOffset, slot, epoch, mode } = handle;
    const what = "attach broadcast consumer";
    if (!(buffer instanceof ArrayBuffer)) checkInstance(what, "buffer", buffer, SharedArrayBuffer);
    checkOffset(what, "byteOffset", byteOffset, Number.MAX_SAFE_INTEGER, 8);
    checkOneOf(what, "mode", mode, ["push", "pull"]);
    const g = readGeometry(buffer, byteOffset, what);
    checkIndex(what, "slot", slot, g.maxConsumers);
    checkInteger(what, "epoch", epoch, 0, EPOCH_MASK);
    this.#capacity = g.capacity;
    this.#mask = g.capacity - 1;
    this.#slot = slot;
    this.#mode = mode;
    this.#token = makeSpot(
      new Int32Array(buffer, byteOffset, CONTROL_BYTES >> 2),
      C_TOKEN,
      C_WAITERS,
      {
        parker: options.parker ?? atomicsParker,
        peer: options.peer,
        sliceMs: options.sliceMs,
      },
    );
    this.#baselineMs = g.baselineMs;
    this.#control = new Int32Array(buffer, byteOffset, CONTROL_BYTES >> 2);
    this.#page = new Int32Array(
      buffer,
      byteOffset + CONTROL_BYTES + slot * PAGE_WORDS * 4,
      PAGE_WORDS,
    );
    this.#data = new Uint8Array(buffer, byteOffset + g.dataOffset, g.capacity);
    this.#data32 = new Uint32Array(buffer, byteOffset + g.dataOffset, g.capacity >> 2);
    this.#activeWord = (epoch << 2) | ACTIVE;
    this.#view = {
      array: this.#data,
      offset: 0,
      length: 0,
      seqId: 0,
      fdCount: 0,
      position: 0,
    };
    if (Atomics.load(this.#page, P_SLOT) !== this.#activeWord) {
      throw new Evicted(
        `Cannot ${what} as slot ${slot} no longer belongs to epoch ${epoch}`,
      );
    }
    const tail = Atomics.load(this.#page, P_TAIL) >>> 0;
    if ((tail & 15) !== 0) {
      throw new RingCorrupt(`Cannot ${what} as its tail must be 16-byte aligned: received ${tail}`);
    }
    this.#tail = tail;
    this.#published = tail;
    this.#cachedHead = tail;
  }

  /**
   * Rebuilds a consumer in a Worker from the handle its producer's
   * {@linkcode BroadcastProducer.join} returned.
   *
   * @param handle The handle (its buffer a `SharedArrayBuffer`).
   * @returns The consumer.
   * @throws {TypeError} If the handle has the wrong shape.
   * @throws {RingCorrupt} If the ring's control region is impossible.
   * @throws {Evicted} If the slot no longer belongs to this join.
   * @example In a Worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const h = structuredClone(BroadcastProducer.create({ capacity: 4096 }).join());
   * assert.equal(BroadcastConsumer.fromHandle(h).slot, 0);
   * ```
   */
  static fromHandle(handle: BroadcastConsumerHandle): BroadcastConsumer {
    if (
      typeof handle !== "object" || handle === null || !(handle.buffer instanceof SharedArrayBuffer)
    ) {
      throw new TypeError(
        `Cannot rebuild broadcast consumer as the handle must hold a SharedArrayBuffer: received ${
          Object.prototype.toString.call(handle?.buffer)
        }`,
      );
    }
    return new BroadcastConsumer(handle);
  }

  /**
   * Attaches to slot `slot` of a ring in any shared memory, such as a native
   * region mapped from the fd the producer sent at join.
   *
   * @param buffer The memory holding the ring.
   * @param slot The slot the producer assigned.
   * @param epoch The slot's epoch at join.
   * @param options Offset, wakeup mode and parker.
   * @returns The consumer.
   * @throws {InvalidMagic} If the memory holds no broadcast ring.
   * @throws {RingCorrupt} If the control region or the slot is impossible.
   * @throws {Evicted} If the slot no longer belongs to this join.
   * @example Attaching by memory
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const { slot, epoch } = p.join();
   * assert.equal(BroadcastConsumer.attach(p.buffer, slot, epoch).slot, 0);
   * ```
   */
  static attach(
    buffer: ArrayBufferLike,
    slot: number,
    epoch: number,
    options: BroadcastAttachOptions = {},
  ): BroadcastConsumer {
    return new BroadcastConsumer(
      { buffer, byteOffset: options.byteOffset ?? 0, slot, epoch, mode: options.mode ?? "push" },
      options,
    );
  }

  /** The consumer's slot. */
  get slot(): number {
    return this.#slot;
  }

  /** How {@linkcode BroadcastConsumer.wait} waits. */
  get mode(): WakeupMode {
    return this.#mode;
  }

  /** The local tail: the position after the last message advanced past (u32). */
  get position(): number {
    return this.#tail;
  }

  /** Data bytes in the ring. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * The message at the local tail, in place, or `null` when caught up.
   * Padding is skipped. Allocation-free: the view object is reused, and its
   * bytes stay valid until the consumer advances and publishes past them.
   *
   * @returns The message view, or `null`.
   * @throws {RingCorrupt} If the producer wrote an impossible head or header.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Peeking without consuming
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * p.send(Uint8Array.of(42));
   * const m = c.peek()!;
   * assert.equal(m.array[m.offset], 42);
   * assert.equal(m.seqId, 1);
   * ```
   */
  peek(): MessageView | null {
    if (this.#left) return null;
    let tail = this.#tail;
    // Bounded: a padding must end at the ring's end within the committed bytes, so a second
    // one in a row (a whole capacity from index 0) never fits what is left; at most one
    // padding, two head loads and one message.
    for (;;) {
      if (tail === this.#cachedHead) {
        if (Atomics.load(this.#page, P_SLOT) !== this.#activeWord) this.#throwEvicted("read");
        const head = Atomics.load(this.#control, C_HEAD) >>> 0;
        const ahead = (head - tail) >>> 0;
        if (ahead > this.#capacity || (ahead & 15) !== 0) {
          this.#corrupt(
            `its head ${head} must be a multiple of 16 at most a capacity past tail ${tail}`,
          );
        }
        this.#cachedHead = head;
        if (ahead === 0) {
          this.#peeked = 0;
          return null;
        }
      }
      const available = (this.#cachedHead - tail) >>> 0;
      const index = tail & this.#mask;
      const toEnd = this.#capacity - index;
      const w = index >> 2;
      const d = this.#data32;
      // One read of each header word; only these locals are trusted below.
      const length = d[w];
      const info = d[w + 1];
      const seqLo = d[w + 2];
      const seqHi = d[w + 3];
      const fdCount = info & 0xff;
      const flags = (info >>> 8) & 0xff;
      if ((info >>> 16) !== 0 || (flags & ~FLAG_PAD) !== 0) {
        this.#corrupt(
          `the header at ${tail} holds unknown flags or reserved bits: received 0x${
            info.toString(16)
          }`,
        );
      }
      if (flags === FLAG_PAD) {
        if (length !== toEnd - HEADER_BYTES || fdCount !== 0 || toEnd > available) {
          this.#corrupt(
            `the padding at ${tail} must end at the ring's end within the committed bytes: received length ${length}`,
          );
        }
        tail = (tail + toEnd) >>> 0;
        this.#tail = tail;
        continue;
      }
      const size = align16(HEADER_BYTES + length);
      if (seqHi > MAX_SEQ_HI) {
        this.#corrupt(
          `the message at ${tail} holds a sequence id past 2^53: received seqHi 0x${
            seqHi.toString(16)
          } and seqLo 0x${seqLo.toString(16)}`,
        );
      }
      if (size > available || size > toEnd || fdCount > MAX_FDS_PER_MESSAGE) {
        this.#corrupt(
          `the message at ${tail} must fit ${
            available < toEnd ? available : toEnd
          } bytes with at most ${MAX_FDS_PER_MESSAGE} fds: received length ${length} and ${fdCount} fds`,
        );
      }
      const v = this.#view;
      v.offset = index + HEADER_BYTES;
      v.length = length;
      v.seqId = seqHi * 2 ** 32 + seqLo;
      v.fdCount = fdCount;
      v.position = tail;
      this.#peeked = size;
      return v;
    }
  }

  /**
   * Moves the local tail past the message the last peek returned (nothing
   * happens when there is none). The producer learns of it at the next
   * {@linkcode BroadcastConsumer.publish}.
   *
   * @example Consuming a batch, publishing once
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * p.send(Uint8Array.of(1));
   * p.send(Uint8Array.of(2));
   * let sum = 0;
   * for (let m = c.peek(); m !== null; m = c.peek()) {
   *   sum += m.array[m.offset];
   *   c.advance();
   * }
   * c.publish();
   * assert.equal(sum, 3);
   * ```
   */
  advance(): void {
    if (this.#peeked === 0) return;
    this.#tail = (this.#tail + this.#peeked) >>> 0;
    this.#peeked = 0;
  }

  /**
   * Gives the bytes before the local tail back to the producer and records
   * progress: one compare-and-swap of the tail, after a check that the slot is
   * still this consumer's. Success proves every message advanced past was
   * read before the producer could overwrite it.
   *
   * @throws {Evicted} If the producer evicted this consumer (what was read since the last publish may be torn).
   * @example See {@linkcode BroadcastConsumer.advance}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * p.send(Uint8Array.of(1));
   * assert.equal(c.recv()?.[0], 1);
   * c.publish();
   * assert.equal(c.position, p.head); // the producer sees it caught up
   * ```
   */
  publish(): void {
    if (this.#left) return;
    const page = this.#page;
    const word = this.#activeWord;
    // A read-modify-write of the slot word orders every read above before any eviction of it.
    if (Atomics.compareExchange(page, P_SLOT, word, word) !== word) this.#throwEvicted("publish");
    if (this.#tail === this.#published) return;
    page[P_PROGRESS] = sinceBaseline(this.#baselineMs); // published with the tail below
    // Publishes the new tail: the producer may reuse the bytes before it.
    if (
      Atomics.compareExchange(page, P_TAIL, this.#published | 0, this.#tail | 0) !==
        (this.#published | 0)
    ) {
      this.#throwEvicted("publish");
    }
    this.#published = this.#tail;
  }

  /**
   * Copies the next message out and consumes it (peek, copy, advance,
   * publish). Allocates the copy.
   *
   * @returns The payload, or `null` when caught up.
   * @throws {RingCorrupt} If the producer wrote an impossible head or header.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example See {@linkcode BroadcastConsumer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * assert.equal(BroadcastConsumer.fromHandle(p.join()).recv(), null);
   * ```
   */
  recv(): Uint8Array | null {
    const m = this.peek();
    if (m === null) return null;
    const copy = m.array.slice(m.offset, m.offset + m.length);
    this.advance();
    this.publish();
    return copy;
  }

  /**
   * Whether the producer closed the ring. Messages committed before closing
   * can still be read.
   *
   * @returns `true` once closed.
   * @example Seeing the close
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * p.close();
   * assert.ok(c.isClosed());
   * ```
   */
  isClosed(): boolean {
    return Atomics.load(this.#control, C_CLOSED) !== 0;
  }

  /**
   * Blocks the thread until a message is available past the local tail, the
   * ring is closed, or the timeout passes (the wait engine, src/wait_engine.ts):
   * it spins a few rounds first; then push mode sleeps on the broadcast token
   * and pull mode polls the head, sleeping 1 ms between looks.
   *
   * @param timeout Longest wait in milliseconds (default `Infinity`), or
   * `{ timeoutMs, signal }`.
   * @returns `true` if a message is available, `false` on timeout.
   * @throws {Closed} If the ring is closed and every message was read.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Waiting with a timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * assert.equal(c.wait(1), false);
   * ```
   */
  wait(timeout: number | WaitOptions = Infinity): boolean {
    const options = timeoutOptions(timeout);
    try {
      waitUntil(this.#token, this.#strategy(options), this.#hasMessage, "wait", options);
      return true;
    } catch (err) {
      return falseOnTimeout(err);
    }
  }

  /**
   * Like {@linkcode BroadcastConsumer.wait}, without blocking the event loop.
   *
   * @param timeout Longest wait in milliseconds (default `Infinity`), or
   * `{ timeoutMs, signal }`.
   * @returns `true` if a message is available, `false` on timeout.
   * @throws {Closed} If the ring is closed and every message was read.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Awaiting a message
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * setTimeout(() => p.send(Uint8Array.of(5)), 1);
   * assert.ok(await c.waitAsync(1000));
   * assert.equal(c.recv()?.[0], 5);
   * ```
   */
  waitAsync(timeout: number | WaitOptions = Infinity): Promise<boolean> {
    const options = timeoutOptions(timeout);
    return waitUntilAsync(this.#token, this.#strategy(options), this.#hasMessage, "wait", options)
      .then(() => true, falseOnTimeout);
  }

  /** Push mode parks on the token; pull mode polls (it never counts itself a waiter). */
  #strategy(options: WaitOptions): WaitStrategy | WaitOptions {
    return this.#mode === "pull" ? PULL : options;
  }

  /** Whether a message is ready; throws `Closed`/`Evicted` as `#check` does. */
  readonly #hasMessage = (): boolean => this.#check();

  /**
   * Leaves the ring: the producer stops waiting for this consumer. Safe to
   * call twice; does nothing after an eviction.
   *
   * @example Leaving
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const c = BroadcastConsumer.fromHandle(p.join());
   * c.close();
   * c.close();
   * // nobody holds the ring now: the producer never waits for c's tail
   * for (let i = 0; i < 100; i++) assert.ok(p.send(new Uint8Array(100)));
   * ```
   */
  close(): void {
    if (this.#left) return;
    this.#left = true;
    const word = this.#activeWord;
    // Publishes the departure: the producer no longer counts this tail.
    Atomics.compareExchange(this.#page, P_SLOT, word, (word & ~3) | LEFT);
  }

  /** Same as {@linkcode BroadcastConsumer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Whether a message is available; throws when there never will be. */
  #check(): boolean {
    if (this.#left) throw new Closed("Cannot wait as the consumer left the ring");
    if (Atomics.load(this.#page, P_SLOT) !== this.#activeWord) this.#throwEvicted("wait");
    // A padding message alone is not a message: peek skips it and looks further.
    if ((Atomics.load(this.#control, C_HEAD) >>> 0) !== this.#tail && this.peek() !== null) {
      return true;
    }
    if (Atomics.load(this.#control, C_CLOSED) !== 0) {
      // Everything committed before the close is visible now; drain it first.
      if (this.peek() !== null) return true;
      throw new Closed("Cannot wait as the producer closed the ring and every message was read");
    }
    return false;
  }

  #throwEvicted(what: string): never {
    throw new Evicted(
      `Cannot ${what} as consumer slot ${this.#slot} was evicted by the producer`,
    );
  }

  #corrupt(detail: string): never {
    // Bytes overwritten after an eviction look corrupt; report the eviction instead.
    if (Atomics.load(this.#page, P_SLOT) !== this.#activeWord) this.#throwEvicted("read");
    throw new RingCorrupt(`Cannot read broadcast ring as ${detail}`);
  }
}
