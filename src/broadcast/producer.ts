/**
 * The producer side of a broadcast ring: one producer, any number of
 * consumers, every consumer sees every message (zbq's model).
 *
 * Messages are written in place: {@linkcode BroadcastProducer.query} hands out
 * the largest physically contiguous writable run, the producer writes whole
 * messages into it and {@linkcode BroadcastProducer.commit} publishes them with
 * one store. {@linkcode BroadcastProducer.reserve} does the header and padding
 * for one message at a time. When the ring is clogged the producer scans its
 * consumers and evicts the dead (their process is gone) and the hung (behind,
 * with a tail that has not moved for `stallTimeoutMs`), then goes on.
 *
 * Byte layout (drawn in full in `_layout.ts`): a 256-byte control region
 * (magic, version, capacity, maxConsumers, stallTimeoutMs, clogThreshold,
 * producerPid, dataOffset, baseline; head at 0x40, broadcast token at 0x80,
 * waiters at 0x84, closed at 0x88), one 4096-byte metadata page per consumer
 * (tail, progressMs, slot word, pid, mode, joinedMs) and the data region of
 * 16-byte-aligned messages (16-byte header: u32 payloadLength, u8 fdCount,
 * u8 flags, u16 reserved, u32 seqLo, u32 seqHi). The producer writes head,
 * token, closed, the data region and slot words at join/evict; each consumer
 * writes its own tail and progress.
 *
 * @module
 */

import { atomicsParker } from "../parker.ts";
import { makeSpot, type WaitSpot, wakeSpot } from "../wait_engine.ts";
import { checkInstance, checkInteger, checkObject, checkOffset, checkOneOf } from "../_validate.ts";
import { ConsumerTable } from "./_consumer_table.ts";
import { type Settings, settings } from "./_settings.ts";
import type {
  BroadcastConsumerHandle,
  BroadcastInitOptions,
  BroadcastProducerOptions,
  ContiguousRun,
  DetachReason,
  JoinOptions,
  MessageReservation,
} from "./types.ts";
import { COMMIT_FORCE_SCAN } from "./types.ts";
import {
  align16,
  C_BASE_HI,
  C_BASE_LO,
  C_CAPACITY,
  C_CLOG,
  C_CLOSED,
  C_DATA_OFFSET,
  C_HEAD,
  C_MAGIC,
  C_MAX_CONSUMERS,
  C_PID,
  C_STALL_MS,
  C_TOKEN,
  C_VERSION,
  C_WAITERS,
  CONTROL_BYTES,
  FLAG_PAD,
  HEADER_BYTES,
  MAGIC,
  MAX_FDS_PER_MESSAGE,
  PAGE_BYTES,
  PAGE_WORDS,
  totalBytes,
  VERSION,
} from "./_layout.ts";
import { Closed } from "../errors.ts";

export * from "./types.ts";

/** Where a producer formats its ring. */
interface Memory {
  buffer: ArrayBufferLike;
  byteOffset: number;
}

/**
 * The single producer of a broadcast ring.
 *
 * Not thread-safe: one thread produces. Consumers attach through
 * {@linkcode BroadcastProducer.join} handles (Workers) or the native layer's
 * handshake (processes).
 *
 * @example Broadcasting to two consumers
 * ```ts
 * import assert from "node:assert/strict";
 * import { BroadcastProducer, BroadcastConsumer } from "@ringmpsc/ringmpsc";
 * const producer = BroadcastProducer.create({ capacity: 4096 });
 * const a = BroadcastConsumer.fromHandle(producer.join());
 * const b = BroadcastConsumer.fromHandle(producer.join());
 * producer.send(new TextEncoder().encode("hello"));
 * assert.equal(a.recv()?.length, 5);
 * assert.equal(b.recv()?.length, 5);
 * ```
 */
export class BroadcastProducer {
  #buffer: ArrayBufferLike;
  #byteOffset: number;
  #capacity: number;
  #mask: number;
  #maxConsumers: number;
  #clogThreshold: number;
  /** Where push consumers sleep: the token, bumped by a commit that finds waiters, an eviction or close. */
  #token: WaitSpot;
  #control: Int32Array;
  #data: Uint8Array;
  #data32: Uint32Array;
  /** Published head position. */
  #head: number;
  /** Write cursor: head plus bytes written but not yet committed. */
  #cursor: number;
  /** The producer may write up to (not including) this position: oldest active tail + capacity. */
  #limit: number;
  /** Bytes of the last query's run not yet taken by reserve. */
  #runLeft = 0;
  #seq = 1;
  #clogCount = 0;
  #closed = false;
  /** The consumers: join, refresh, scan, evict. */
  #table: ConsumerTable;
  #run: ContiguousRun;
  #reservation: MessageReservation;

  private constructor(s: Settings, memory: Memory, options: BroadcastProducerOptions) {
    const { buffer, byteOffset } = memory;
    const dataOffset = CONTROL_BYTES + s.maxConsumers * PAGE_BYTES;
    this.#buffer = buffer;
    this.#byteOffset = byteOffset;
    this.#capacity = s.capacity;
    this.#mask = s.capacity - 1;
    this.#maxConsumers = s.maxConsumers;
    this.#clogThreshold = s.clogThreshold;
    this.#control = new Int32Array(buffer, byteOffset, CONTROL_BYTES >> 2);
    this.#token = makeSpot(this.#control, C_TOKEN, C_WAITERS, {
      parker: options.parker ?? atomicsParker,
    });
    const pages = new Int32Array(buffer, byteOffset + CONTROL_BYTES, s.maxConsumers * PAGE_WORDS);
    this.#data = new Uint8Array(buffer, byteOffset + dataOffset, s.capacity);
    this.#data32 = new Uint32Array(buffer, byteOffset + dataOffset, s.capacity >> 2);
    this.#head = s.initialPosition;
    this.#cursor = s.initialPosition;
    this.#limit = (s.initialPosition + s.capacity) >>> 0;
    this.#run = { array: this.#data, offset: 0, maxBytes: 0, position: 0 };
    this.#reservation = { array: this.#data, offset: 0, length: 0, seqId: 0, position: 0 };
    const baselineMs = Date.now();
    this.#table = new ConsumerTable({
      pages,
      maxConsumers: s.maxConsumers,
      capacity: s.capacity,
      stallTimeoutMs: s.stallTimeoutMs,
      baselineMs,
      token: this.#token,
      isAlive: options.isConsumerAlive ?? null,
      onDetach: options.onDetach ?? null,
    });
    // Format: pages free and control fields by plain writes, published by the magic store last.
    const c = this.#control;
    pages.fill(0);
    c.fill(0);
    c[C_VERSION] = VERSION;
    c[C_CAPACITY] = s.capacity;
    c[C_MAX_CONSUMERS] = s.maxConsumers;
    c[C_STALL_MS] = s.stallTimeoutMs;
    c[C_CLOG] = s.clogThreshold;
    c[C_PID] = s.pid;
    c[C_DATA_OFFSET] = dataOffset;
    c[C_BASE_LO] = baselineMs % 2 ** 32;
    c[C_BASE_HI] = Math.floor(baselineMs / 2 ** 32);
    // Publishes the initial head.
    Atomics.store(c, C_HEAD, s.initialPosition);
    // Publishes the formatted ring to attachers.
    Atomics.store(c, C_MAGIC, MAGIC);
  }

  /**
   * Creates a broadcast ring in a new `SharedArrayBuffer`, for Workers.
   *
   * @param options Capacity, consumer slots, eviction and wakeup settings.
   * @returns The producer.
   * @throws {RangeError} If an option is out of range.
   * @throws {TypeError} If an option has the wrong type.
   * @example A small ring
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096, maxConsumers: 4 });
   * assert.equal(p.capacity, 4096);
   * ```
   */
  static create(options: BroadcastProducerOptions = {}): BroadcastProducer {
    const s = settings("create broadcast ring", options);
    const buffer = new SharedArrayBuffer(totalBytes(s.capacity, s.maxConsumers));
    return new BroadcastProducer(s, { buffer, byteOffset: 0 }, options);
  }

  /**
   * The bytes a ring of this shape needs, for sizing shared memory before
   * {@linkcode BroadcastProducer.init}.
   *
   * @param options `capacity` and `maxConsumers` (the rest is ignored).
   * @returns Bytes.
   * @throws {RangeError} If an option is out of range.
   * @example Sizing a region
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * assert.equal(BroadcastProducer.requiredBytes({ capacity: 4096, maxConsumers: 1 }), 8448);
   * ```
   */
  static requiredBytes(options: BroadcastProducerOptions = {}): number {
    const s = settings("size broadcast ring", options);
    return totalBytes(s.capacity, s.maxConsumers);
  }

  /**
   * Formats a broadcast ring in existing shared memory (a `SharedArrayBuffer`
   * or a native region's `ArrayBuffer`) and returns its producer.
   *
   * @param buffer The memory to format.
   * @param options Where the ring starts, and the ring's settings.
   * @returns The producer.
   * @throws {RangeError} If an option is out of range or the ring does not fit.
   * @throws {TypeError} If an argument has the wrong type.
   * @example Formatting a buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const sab = new SharedArrayBuffer(BroadcastProducer.requiredBytes({ capacity: 4096 }));
   * const p = BroadcastProducer.init(sab, { capacity: 4096 });
   * assert.equal(p.maxConsumers, 16);
   * ```
   */
  static init(buffer: ArrayBufferLike, options: BroadcastInitOptions = {}): BroadcastProducer {
    const what = "format broadcast ring";
    if (!(buffer instanceof ArrayBuffer)) checkInstance(what, "buffer", buffer, SharedArrayBuffer);
    const s = settings(what, options);
    const need = totalBytes(s.capacity, s.maxConsumers);
    const byteOffset = checkOffset(
      what,
      "byteOffset",
      options.byteOffset ?? 0,
      Number.MAX_SAFE_INTEGER,
      8,
    );
    if (byteOffset + need > buffer.byteLength) {
      throw new RangeError(
        `Cannot format broadcast ring as it needs ${need} bytes at offset ${byteOffset}: received ${buffer.byteLength} bytes`,
      );
    }
    return new BroadcastProducer(s, { buffer, byteOffset }, options);
  }

  /** Data bytes in the ring. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Consumer slots. */
  get maxConsumers(): number {
    return this.#maxConsumers;
  }

  /** The published head: the byte position after the last committed message (u32). */
  get head(): number {
    return this.#head;
  }

  /** Consumers currently joined and not evicted, as of the last refresh. */
  get consumerCount(): number {
    return this.#table.count;
  }

  /** Consumers evicted so far. */
  get evictions(): number {
    return this.#table.evictions;
  }

  /** The memory the ring lives in. */
  get buffer(): ArrayBufferLike {
    return this.#buffer;
  }

  /** Where the ring starts in {@linkcode BroadcastProducer.buffer}. */
  get byteOffset(): number {
    return this.#byteOffset;
  }

  /**
   * Adds a consumer that starts at the current head: it sees every message
   * committed from now on. The slot blocks the ring until the consumer reads
   * (or is evicted as hung), so attach it promptly.
   *
   * @param options Wakeup mode and pid of the consumer.
   * @returns The handle the consumer attaches with (`postMessage` it to a Worker).
   * @throws {TooManyConsumers} If every slot is taken.
   * @throws {Closed} If the producer is closed.
   * @throws {TypeError} If an option has the wrong type.
   * @example Joining
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * assert.equal(p.join({ mode: "pull" }).slot, 0);
   * ```
   */
  join(options: JoinOptions = {}): BroadcastConsumerHandle {
    if (this.#closed) throw new Closed("Cannot join broadcast ring as the producer is closed");
    const what = "join broadcast ring";
    checkObject(what, "options", options);
    const mode = checkOneOf(what, "mode", options.mode ?? "push", ["push", "pull"]);
    const pid = checkInteger(what, "pid", options.pid ?? 0, 0, 2 ** 31 - 1);
    this.#refresh();
    const { slot, epoch } = this.#table.join(this.#head, pid, mode === "pull");
    // The newcomer's tail is the head: nothing may be written past head + capacity.
    this.#refresh();
    return { buffer: this.#buffer, byteOffset: this.#byteOffset, slot, epoch, mode };
  }

  /**
   * The largest physically contiguous writable run (zbq's `query`). When fewer
   * than `minBytes` remain before the physical end but the ring has room
   * after it, the rest is filled with a padding message and the run starts at
   * the beginning. A clogged ring counts a failed query; every
   * `clogThreshold` failures it scans for dead and hung consumers.
   * Allocation-free: the run object is reused.
   *
   * @param minBytes The run needed, a multiple of 16 between 16 and capacity (default 16).
   * @returns The run; `maxBytes` is 0 when the ring is clogged.
   * @throws {RangeError} If `minBytes` is out of range.
   * @throws {Closed} If the producer is closed.
   * @example Writing one message by hand
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const run = p.query(32);
   * p.writeHeader(run.offset, 4, 0, p.nextSeqId());
   * run.array.set([1, 2, 3, 4], run.offset + 16);
   * p.commit(32);
   * assert.equal(p.head, 32);
   * ```
   */
  query(minBytes = HEADER_BYTES): ContiguousRun {
    if (this.#closed) throw new Closed("Cannot query broadcast ring as the producer is closed");
    checkInteger("query broadcast ring", "minBytes", minBytes, HEADER_BYTES, this.#capacity);
    if ((minBytes & 15) !== 0) {
      throw new RangeError(
        `Cannot query broadcast ring as minBytes must be a multiple of 16 between 16 and ${this.#capacity}: received ${minBytes}`,
      );
    }
    const run = this.#run;
    let index = this.#cursor & this.#mask;
    let toEnd = this.#capacity - index;
    const need = toEnd >= minBytes ? minBytes : toEnd + minBytes;
    let free = (this.#limit - this.#cursor) >>> 0;
    if (free < need) {
      this.#refresh();
      free = (this.#limit - this.#cursor) >>> 0;
      if (free < need && ++this.#clogCount >= this.#clogThreshold) {
        this.#clogCount = 0;
        this.scan();
        free = (this.#limit - this.#cursor) >>> 0;
      }
      if (free < need) {
        this.#runLeft = 0;
        run.offset = index;
        run.maxBytes = 0;
        run.position = this.#cursor;
        return run;
      }
    }
    if (toEnd < minBytes) {
      // Fill the rest of the ring with a padding message; the run starts over at 0.
      this.#writeWords(index, toEnd - HEADER_BYTES, FLAG_PAD << 8, 0);
      this.#cursor = (this.#cursor + toEnd) >>> 0;
      free -= toEnd;
      index = 0;
      toEnd = this.#capacity;
    }
    run.offset = index;
    run.maxBytes = free < toEnd ? free : toEnd;
    run.position = this.#cursor;
    this.#runLeft = run.maxBytes;
    return run;
  }

  /**
   * Writes a message header at `offset` of the data region, inside the run of
   * the last query. Allocation-free.
   *
   * @param offset Byte index of the header, 16-byte aligned.
   * @param payloadLength Payload bytes that follow the header.
   * @param fdCount File descriptors sent with the message (0 … 253).
   * @param seqId The message's sequence id (from {@linkcode BroadcastProducer.nextSeqId}).
   * @throws {RangeError} If the message does not fit the run or a value is out of range.
   * @example See {@linkcode BroadcastProducer.query}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const head = p.head;
   * p.writeHeader(p.query().offset, 0, 0, p.nextSeqId());
   * p.commit(16);
   * assert.equal(p.head, head + 16);
   * ```
   */
  writeHeader(offset: number, payloadLength: number, fdCount: number, seqId: number): void {
    const run = this.#run;
    const end = run.offset + this.#runLeft;
    if (
      !Number.isInteger(offset) || (offset & 15) !== 0 || offset < run.offset ||
      !Number.isInteger(payloadLength) || payloadLength < 0 ||
      offset + align16(HEADER_BYTES + payloadLength) > end
    ) {
      throw new RangeError(
        `Cannot write message header as a ${payloadLength}-byte message at ${offset} must fit the run ${run.offset}…${end}`,
      );
    }
    checkInteger("write message header", "fdCount", fdCount, 0, MAX_FDS_PER_MESSAGE);
    checkInteger("write message header", "seqId", seqId, 0, Number.MAX_SAFE_INTEGER);
    this.#writeWords(offset, payloadLength, fdCount, seqId);
  }

  /**
   * Reserves one message of `payloadLength` bytes: writes its header (with a
   * fresh sequence id) and any padding, and returns where the payload goes.
   * Several reserves may precede one commit. Allocation-free: the
   * reservation object is reused.
   *
   * @param payloadLength Payload bytes.
   * @param fdCount File descriptors that will travel with the message (0 … 253).
   * @returns The reservation, or `null` when the ring is clogged.
   * @throws {RangeError} If the message cannot fit the ring or `fdCount` is out of range.
   * @throws {Closed} If the producer is closed.
   * @example Writing a payload in place
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const r = p.reserve(3)!;
   * r.array.set([7, 8, 9], r.offset);
   * p.commit();
   * assert.equal(r.seqId, 1);
   * ```
   */
  reserve(payloadLength: number, fdCount = 0): MessageReservation | null {
    checkInteger(
      "reserve message",
      "payloadLength",
      payloadLength,
      0,
      this.#capacity - HEADER_BYTES,
    );
    const size = align16(HEADER_BYTES + payloadLength);
    checkInteger("reserve message", "fdCount", fdCount, 0, MAX_FDS_PER_MESSAGE);
    const run = this.query(size);
    if (run.maxBytes === 0) return null;
    const seqId = this.#seq++;
    this.#writeWords(run.offset, payloadLength, fdCount, seqId);
    const r = this.#reservation;
    r.offset = run.offset + HEADER_BYTES;
    r.length = payloadLength;
    r.seqId = seqId;
    r.position = this.#cursor;
    this.#cursor = (this.#cursor + size) >>> 0;
    this.#runLeft = 0;
    return r;
  }

  /**
   * Publishes everything reserved since the last commit, plus `writtenBytes`
   * written by hand into the last query's run: one store of the head and, only
   * if a consumer sleeps, an increment of the broadcast token and a wake.
   *
   * @param writtenBytes Bytes written into the run by hand, a multiple of 16 (default 0).
   * @param flags {@linkcode COMMIT_FORCE_SCAN} to scan for dead and hung consumers afterwards.
   * @throws {RangeError} If `writtenBytes` is not a multiple of 16 or exceeds the run.
   * @throws {Closed} If the producer is closed.
   * @example Committing reserved messages
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * p.reserve(10);
   * p.reserve(20);
   * p.commit();
   * assert.equal(p.head, 80);
   * ```
   */
  commit(writtenBytes = 0, flags = 0): void {
    if (this.#closed) throw new Closed("Cannot commit to broadcast ring as the producer is closed");
    checkInteger("commit", "writtenBytes", writtenBytes, 0, this.#runLeft);
    checkInteger("commit", "flags", flags, 0, COMMIT_FORCE_SCAN);
    if ((writtenBytes & 15) !== 0) {
      throw new RangeError(
        `Cannot commit as writtenBytes must be a multiple of 16 within the queried run of ${this.#runLeft} bytes: received ${writtenBytes}`,
      );
    }
    this.#cursor = (this.#cursor + writtenBytes) >>> 0;
    this.#runLeft = 0;
    if (this.#cursor !== this.#head) {
      const c = this.#control;
      this.#head = this.#cursor;
      // Publishes every message written since the last commit.
      Atomics.store(c, C_HEAD, this.#cursor);
      // A consumer counts itself a waiter before it reads the token and the head, so a
      // consumer this load misses has yet to read the head and will see the new one.
      if (Atomics.load(c, C_WAITERS) > 0) wakeSpot(this.#token);
    }
    if ((flags & COMMIT_FORCE_SCAN) !== 0) this.scan();
  }

  /**
   * Copies one message into the ring and commits it.
   *
   * @param payload The bytes to broadcast.
   * @returns `true`, or `false` when the ring is clogged (nothing was written).
   * @throws {RangeError} If the payload cannot fit the ring.
   * @throws {Closed} If the producer is closed.
   * @example Sending
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * assert.ok(p.send(new Uint8Array(100)));
   * ```
   */
  send(payload: Uint8Array): boolean {
    const r = this.reserve(payload.length);
    if (r === null) return false;
    r.array.set(payload, r.offset);
    this.commit();
    return true;
  }

  /**
   * Takes the next sequence id, for headers written by hand.
   *
   * @returns The id (ids start at 1 and grow by one).
   * @example Sequence ids
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * assert.equal(BroadcastProducer.create({ capacity: 4096 }).nextSeqId(), 1);
   * ```
   */
  nextSeqId(): number {
    return this.#seq++;
  }

  /**
   * Looks at every active consumer and evicts the dead (its process is gone)
   * and the hung (behind the head, with a tail that has not moved across scans
   * for `stallTimeoutMs`) and any whose tail is impossible. Runs by itself
   * when the ring clogs; call it to evict eagerly.
   *
   * @returns The number of consumers evicted.
   * @example Scanning an idle ring
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * p.join();
   * assert.equal(p.scan(), 0); // caught up, so not hung
   * ```
   */
  scan(): number {
    const evicted = this.#table.scan(this.#head, this.#cursor);
    this.#refresh();
    return evicted;
  }

  /**
   * Evicts the consumer in `slot` now, for reasons the producer's owner
   * learned elsewhere (the native layer: its socket stopped taking fds).
   *
   * @param slot The consumer's slot.
   * @param reason Why (default `"hung"`).
   * @returns `true` if it was active and is now evicted.
   * @throws {RangeError} If `slot` is out of range.
   * @example Evicting by hand
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * const { slot } = p.join();
   * assert.ok(p.evict(slot));
   * assert.equal(p.evict(slot), false);
   * ```
   */
  evict(slot: number, reason: Exclude<DetachReason, "left"> = "hung"): boolean {
    checkInteger("evict consumer", "slot", slot, 0, this.#maxConsumers - 1);
    checkOneOf("evict consumer", "reason", reason, ["dead", "hung", "corrupt"]);
    const ok = this.#table.evict(slot, reason);
    this.#refresh();
    return ok;
  }

  /**
   * Closes the ring: consumers drain what was committed, then see `Closed`.
   * Safe to call twice.
   *
   * @example Closing
   * ```ts
   * import assert from "node:assert/strict";
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * p.close();
   * p.close();
   * assert.ok(p.closed);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = this.#control;
    // Publishes the end of the stream.
    Atomics.store(c, C_CLOSED, 1);
    wakeSpot(this.#token);
  }

  /** Whether {@linkcode BroadcastProducer.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Same as {@linkcode BroadcastProducer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Recomputes the write limit from the active consumers' tails. */
  #refresh(): void {
    this.#limit = (this.#cursor - this.#table.used(this.#cursor) + this.#capacity) >>> 0;
  }

  #writeWords(offset: number, payloadLength: number, info: number, seqId: number): void {
    const w = offset >> 2;
    const d = this.#data32;
    d[w] = payloadLength;
    d[w + 1] = info;
    d[w + 2] = seqId >>> 0;
    d[w + 3] = Math.floor(seqId / 2 ** 32);
  }
}
