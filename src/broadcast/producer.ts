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

import { atomicsParker, type Parker } from "../parker.ts";
import { makeSpot, type WaitSpot, wakeSpot } from "../waiter.ts";
import {
  ACTIVE,
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
  EPOCH_MASK,
  EVICTED,
  FLAG_PAD,
  HEADER_BYTES,
  MAGIC,
  MAX_CAPACITY,
  MAX_CONSUMERS,
  MAX_FDS_PER_MESSAGE,
  MIN_CAPACITY,
  P_JOINED,
  P_MODE,
  P_PID,
  P_PROGRESS,
  P_SLOT,
  P_TAIL,
  PAGE_BYTES,
  PAGE_WORDS,
  sinceBaseline,
  totalBytes,
  VERSION,
} from "./_layout.ts";
import { Closed, TooManyConsumers } from "../errors.ts";

/** How a consumer waits for new messages: on the broadcast token, or by polling. */
export type WakeupMode = "push" | "pull";

/** Options for {@linkcode BroadcastProducer.create} and {@linkcode BroadcastProducer.init}. */
export interface BroadcastProducerOptions {
  /** Data bytes, a power of two between 64 and 2^30 (default 1 MiB). */
  readonly capacity?: number;
  /** Consumer slots, between 1 and 1024 (default 16). */
  readonly maxConsumers?: number;
  /**
   * A consumer that is behind and whose tail has not moved for this many
   * milliseconds counts as hung and is evicted when the ring clogs (default 1000).
   */
  readonly stallTimeoutMs?: number;
  /** Failed queries on a clogged ring before a scan for dead and hung consumers (default 64). */
  readonly clogThreshold?: number;
  /** Sleeps and wakes on the broadcast token (default {@linkcode atomicsParker}). */
  readonly parker?: Parker;
  /**
   * Says whether the process of a consumer that joined with a pid is alive;
   * consumers found dead are evicted by the next scan. Without it only hung
   * consumers are evicted.
   */
  readonly isConsumerAlive?: (pid: number, slot: number) => boolean;
  /**
   * Called once a consumer's slot is let go, because it left or was evicted
   * (the native layer closes its socket there).
   */
  readonly onDetach?: (slot: number, reason: DetachReason) => void;
  /** The producer's pid, written to the control region for consumers (default 0). */
  readonly pid?: number;
  /** The first byte position, a multiple of 16 (default 0); for exercising the u32 wrap. */
  readonly initialPosition?: number;
}

/** Options for {@linkcode BroadcastProducer.init}. */
export interface BroadcastInitOptions extends BroadcastProducerOptions {
  /** Where the ring starts in the buffer, a multiple of 8 (default 0). */
  readonly byteOffset?: number;
}

/**
 * Why a consumer's slot was let go: it left by itself, or was evicted because
 * its process died, it hung, or it wrote an impossible tail.
 */
export type DetachReason = "left" | "dead" | "hung" | "corrupt";

/** Options for {@linkcode BroadcastProducer.join}. */
export interface JoinOptions {
  /** `"push"` sleeps on the broadcast token, `"pull"` polls (default `"push"`). */
  readonly mode?: WakeupMode;
  /** The consumer's pid, for liveness checks (default 0: none). */
  readonly pid?: number;
}

/**
 * What a consumer needs to attach: structured-cloneable when `buffer` is a
 * `SharedArrayBuffer`.
 */
export interface BroadcastConsumerHandle {
  /** The shared memory holding the ring. */
  readonly buffer: ArrayBufferLike;
  /** Where the ring starts in `buffer`. */
  readonly byteOffset: number;
  /** The consumer's slot. */
  readonly slot: number;
  /** The slot's epoch at join; a later join of the slot has another. */
  readonly epoch: number;
  /** How the consumer waits. */
  readonly mode: WakeupMode;
}

/**
 * A physically contiguous writable run (zbq's `contiguous_run`); reused by
 * every query.
 */
export interface ContiguousRun {
  /** The whole data region. */
  readonly array: Uint8Array;
  /** Byte index in `array` where the run starts (16-byte aligned). */
  offset: number;
  /** Bytes that may be written from `offset`; 0 when the ring is clogged. */
  maxBytes: number;
  /** The ring position of `offset`. */
  position: number;
}

/** One message reserved by {@linkcode BroadcastProducer.reserve}; reused by every reserve. */
export interface MessageReservation {
  /** The whole data region. */
  readonly array: Uint8Array;
  /** Byte index in `array` of the payload. */
  offset: number;
  /** Payload bytes to write there. */
  length: number;
  /** The message's sequence id (fds sent with it are tagged with this id). */
  seqId: number;
  /** The ring position of the message header. */
  position: number;
}

/** A {@linkcode BroadcastProducer.commit} flag: scan for dead and hung consumers after committing. */
export const COMMIT_FORCE_SCAN = 1;

const DEFAULT_CAPACITY = 2 ** 20;
const DEFAULT_MAX_CONSUMERS = 16;
const DEFAULT_STALL_MS = 1000;
const DEFAULT_CLOG = 64;

function checkInt(what: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${what} as ${name} must be an integer: received ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Cannot ${what} as ${name} must be between ${min} and ${max}: received ${value}`,
    );
  }
  return value;
}

interface Settings {
  capacity: number;
  maxConsumers: number;
  stallTimeoutMs: number;
  clogThreshold: number;
  pid: number;
  initialPosition: number;
}

function settings(what: string, o: BroadcastProducerOptions): Settings {
  const capacity = checkInt(
    what,
    "capacity",
    o.capacity ?? DEFAULT_CAPACITY,
    MIN_CAPACITY,
    MAX_CAPACITY,
  );
  if ((capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`Cannot ${what} as capacity must be a power of two: received ${capacity}`);
  }
  const initialPosition = checkInt(
    what,
    "initialPosition",
    o.initialPosition ?? 0,
    0,
    2 ** 32 - 16,
  );
  if (initialPosition % 16 !== 0) {
    throw new RangeError(
      `Cannot ${what} as initialPosition must be a multiple of 16: received ${initialPosition}`,
    );
  }
  return {
    capacity,
    maxConsumers: checkInt(
      what,
      "maxConsumers",
      o.maxConsumers ?? DEFAULT_MAX_CONSUMERS,
      1,
      MAX_CONSUMERS,
    ),
    stallTimeoutMs: checkInt(
      what,
      "stallTimeoutMs",
      o.stallTimeoutMs ?? DEFAULT_STALL_MS,
      0,
      2 ** 31 - 1,
    ),
    clogThreshold: checkInt(what, "clogThreshold", o.clogThreshold ?? DEFAULT_CLOG, 1, 2 ** 31 - 1),
    pid: checkInt(what, "pid", o.pid ?? 0, 0, 2 ** 31 - 1),
    initialPosition,
  };
}

/** Set by init just before it calls the constructor, which then formats that memory. */
let initTarget: { buffer: ArrayBufferLike; byteOffset: number } | null = null;

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
  #stallTimeoutMs: number;
  #clogThreshold: number;
  #baselineMs: number;
  /** Where push consumers sleep: the token, bumped by a commit that finds waiters, an eviction or close. */
  #token: WaitSpot;
  #isAlive: ((pid: number, slot: number) => boolean) | null;
  #onDetach: ((slot: number, reason: DetachReason) => void) | null;
  #control: Int32Array;
  #pages: Int32Array;
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
  #evictions = 0;
  /** Active slots, densely packed in `#active[0 … #activeCount)`. */
  #active: Int32Array;
  #activeCount = 0;
  /** Per slot: the epoch this producer gave it, its pid, and what scans observed. */
  #epochs: Int32Array;
  #pids: Int32Array;
  #lastTail: Uint32Array;
  /** Per slot: the tail as last loaded (refresh or scan); a tail never moves back past it. */
  #seenTail: Uint32Array;
  #behind: Uint8Array;
  #behindSince: Float64Array;
  #run: ContiguousRun;
  #reservation: MessageReservation;

  /**
   * Creates a broadcast ring in a new `SharedArrayBuffer` (allocates it).
   * Prefer {@linkcode BroadcastProducer.create}.
   *
   * @param options Capacity, consumer slots, eviction and wakeup settings.
   * @throws {RangeError} If an option is out of range.
   * @throws {TypeError} If an option has the wrong type.
   */
  constructor(options: BroadcastProducerOptions = {}) {
    const target = initTarget;
    initTarget = null;
    const s = settings(
      target === null ? "create broadcast ring" : "format broadcast ring",
      options,
    );
    const buffer = target?.buffer ?? new SharedArrayBuffer(totalBytes(s.capacity, s.maxConsumers));
    const byteOffset = target?.byteOffset ?? 0;
    const dataOffset = CONTROL_BYTES + s.maxConsumers * PAGE_BYTES;
    this.#buffer = buffer;
    this.#byteOffset = byteOffset;
    this.#capacity = s.capacity;
    this.#mask = s.capacity - 1;
    this.#maxConsumers = s.maxConsumers;
    this.#stallTimeoutMs = s.stallTimeoutMs;
    this.#clogThreshold = s.clogThreshold;
    this.#isAlive = options.isConsumerAlive ?? null;
    this.#onDetach = options.onDetach ?? null;
    this.#control = new Int32Array(buffer, byteOffset, CONTROL_BYTES >> 2);
    this.#token = makeSpot(this.#control, C_TOKEN, C_WAITERS, options.parker ?? atomicsParker);
    this.#pages = new Int32Array(
      buffer,
      byteOffset + CONTROL_BYTES,
      s.maxConsumers * PAGE_WORDS,
    );
    this.#data = new Uint8Array(buffer, byteOffset + dataOffset, s.capacity);
    this.#data32 = new Uint32Array(buffer, byteOffset + dataOffset, s.capacity >> 2);
    this.#head = s.initialPosition;
    this.#cursor = s.initialPosition;
    this.#limit = (s.initialPosition + s.capacity) >>> 0;
    this.#active = new Int32Array(s.maxConsumers);
    this.#epochs = new Int32Array(s.maxConsumers);
    this.#pids = new Int32Array(s.maxConsumers);
    this.#lastTail = new Uint32Array(s.maxConsumers);
    this.#seenTail = new Uint32Array(s.maxConsumers);
    this.#behind = new Uint8Array(s.maxConsumers);
    this.#behindSince = new Float64Array(s.maxConsumers);
    this.#run = { array: this.#data, offset: 0, maxBytes: 0, position: 0 };
    this.#reservation = { array: this.#data, offset: 0, length: 0, seqId: 0, position: 0 };
    this.#baselineMs = Date.now();
    // Format: pages free and control fields by plain writes, published by the magic store last.
    const c = this.#control;
    this.#pages.fill(0);
    c.fill(0);
    c[C_VERSION] = VERSION;
    c[C_CAPACITY] = s.capacity;
    c[C_MAX_CONSUMERS] = s.maxConsumers;
    c[C_STALL_MS] = s.stallTimeoutMs;
    c[C_CLOG] = s.clogThreshold;
    c[C_PID] = s.pid;
    c[C_DATA_OFFSET] = dataOffset;
    c[C_BASE_LO] = this.#baselineMs % 2 ** 32;
    c[C_BASE_HI] = Math.floor(this.#baselineMs / 2 ** 32);
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
    return new BroadcastProducer(options);
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
    if (!(buffer instanceof SharedArrayBuffer) && !(buffer instanceof ArrayBuffer)) {
      throw new TypeError(
        `Cannot format broadcast ring as buffer must be a SharedArrayBuffer or ArrayBuffer: received ${
          Object.prototype.toString.call(buffer)
        }`,
      );
    }
    const byteOffset = options.byteOffset ?? 0;
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
      throw new RangeError(
        `Cannot format broadcast ring as byteOffset must be a non-negative multiple of 8: received ${byteOffset}`,
      );
    }
    const need = BroadcastProducer.requiredBytes(options);
    if (byteOffset + need > buffer.byteLength) {
      throw new RangeError(
        `Cannot format broadcast ring as it needs ${need} bytes at offset ${byteOffset}: received ${buffer.byteLength} bytes`,
      );
    }
    initTarget = { buffer, byteOffset };
    return new BroadcastProducer(options);
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
    return this.#activeCount;
  }

  /** Consumers evicted so far. */
  get evictions(): number {
    return this.#evictions;
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
    const mode = options.mode ?? "push";
    if (mode !== "push" && mode !== "pull") {
      throw new TypeError(
        `Cannot join broadcast ring as mode must be "push" or "pull": received ${String(mode)}`,
      );
    }
    const pid = checkInt("join broadcast ring", "pid", options.pid ?? 0, 0, 2 ** 31 - 1);
    this.#refresh();
    const pages = this.#pages;
    for (let slot = 0; slot < this.#maxConsumers; slot++) {
      const p = slot * PAGE_WORDS;
      const word = Atomics.load(pages, p + P_SLOT);
      const state = word & 3;
      if (state === ACTIVE) continue;
      const epoch = ((word >>> 2) + 1) & EPOCH_MASK;
      const now = sinceBaseline(this.#baselineMs);
      // Atomic: a stale occupant may race it with a compare-and-swap (which then fails).
      Atomics.store(pages, p + P_TAIL, this.#head);
      // The rest of the page by plain writes, published by the slot word's swap below.
      pages[p + P_PROGRESS] = now;
      pages[p + P_PID] = pid;
      pages[p + P_MODE] = mode === "push" ? 0 : 1;
      pages[p + P_JOINED] = now;
      // Publishes the slot as active under its new epoch (a stale occupant's checks now fail).
      if (Atomics.compareExchange(pages, p + P_SLOT, word, (epoch << 2) | ACTIVE) !== word) {
        continue;
      }
      this.#epochs[slot] = epoch;
      this.#pids[slot] = pid;
      this.#lastTail[slot] = this.#head;
      this.#seenTail[slot] = this.#head;
      this.#behind[slot] = 0;
      this.#behindSince[slot] = Date.now();
      this.#active[this.#activeCount++] = slot;
      // The newcomer's tail is the head: nothing may be written past head + capacity.
      this.#refresh();
      return { buffer: this.#buffer, byteOffset: this.#byteOffset, slot, epoch, mode };
    }
    throw new TooManyConsumers(
      `Cannot join broadcast ring as all ${this.#maxConsumers} consumer slots are taken`,
    );
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
    if (!(minBytes >= HEADER_BYTES && minBytes <= this.#capacity && (minBytes & 15) === 0)) {
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
   * import { BroadcastProducer } from "@ringmpsc/ringmpsc";
   * const p = BroadcastProducer.create({ capacity: 4096 });
   * p.writeHeader(p.query().offset, 0, 0, p.nextSeqId());
   * p.commit(16);
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
    if (!Number.isInteger(fdCount) || fdCount < 0 || fdCount > MAX_FDS_PER_MESSAGE) {
      throw new RangeError(
        `Cannot write message header as fdCount must be between 0 and ${MAX_FDS_PER_MESSAGE}: received ${fdCount}`,
      );
    }
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
    const size = align16(HEADER_BYTES + payloadLength);
    if (!Number.isInteger(payloadLength) || payloadLength < 0 || size > this.#capacity) {
      throw new RangeError(
        `Cannot reserve message as its payload must be between 0 and ${
          this.#capacity - HEADER_BYTES
        } bytes: received ${payloadLength}`,
      );
    }
    if (!Number.isInteger(fdCount) || fdCount < 0 || fdCount > MAX_FDS_PER_MESSAGE) {
      throw new RangeError(
        `Cannot reserve message as fdCount must be between 0 and ${MAX_FDS_PER_MESSAGE}: received ${fdCount}`,
      );
    }
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
    if (!(writtenBytes >= 0 && (writtenBytes & 15) === 0 && writtenBytes <= this.#runLeft)) {
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
    const pages = this.#pages;
    const now = Date.now();
    let evicted = 0;
    for (let i = 0; i < this.#activeCount;) {
      const slot = this.#active[i];
      const p = slot * PAGE_WORDS;
      const word = (this.#epochs[slot] << 2) | ACTIVE;
      if (Atomics.load(pages, p + P_SLOT) !== word) {
        this.#left(i);
        continue;
      }
      const pid = this.#pids[slot];
      const tail = Atomics.load(pages, p + P_TAIL) >>> 0;
      let reason: DetachReason | null = null;
      if (pid > 0 && this.#isAlive !== null && !this.#isAlive(pid, slot)) {
        reason = "dead";
      } else if (!this.#plausible(slot, tail)) {
        reason = "corrupt";
      } else if (tail !== this.#lastTail[slot] || tail === this.#head) {
        this.#lastTail[slot] = tail;
        this.#behind[slot] = tail === this.#head ? 0 : 1;
        this.#behindSince[slot] = now;
      } else if (this.#behind[slot] === 0) {
        this.#behind[slot] = 1;
        this.#behindSince[slot] = now;
      } else if (now - this.#behindSince[slot] >= this.#stallTimeoutMs) {
        reason = "hung";
      }
      if (reason !== null && this.#evict(i, word, reason)) {
        evicted++;
        continue;
      }
      i++;
    }
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
    checkInt("evict consumer", "slot", slot, 0, this.#maxConsumers - 1);
    for (let i = 0; i < this.#activeCount; i++) {
      if (this.#active[i] === slot) {
        const ok = this.#evict(i, (this.#epochs[slot] << 2) | ACTIVE, reason);
        this.#refresh();
        return ok;
      }
    }
    return false;
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

  /**
   * Whether `tail` lies between the consumer's last seen tail and the cursor
   * (so within a capacity of the cursor, and never moving back); remembers it
   * if so. Refreshes happen at least once per capacity written, so the
   * wrap-safe differences here stay far below 2^32.
   */
  #plausible(slot: number, tail: number): boolean {
    const seen = this.#seenTail[slot];
    const cursor = this.#cursor;
    if (
      (tail & 15) !== 0 || ((cursor - tail) >>> 0) > this.#capacity ||
      ((tail - seen) >>> 0) > ((cursor - seen) >>> 0)
    ) {
      return false;
    }
    this.#seenTail[slot] = tail;
    return true;
  }

  /** Recomputes the write limit from the active consumers' tails. */
  #refresh(): void {
    const pages = this.#pages;
    let used = 0;
    for (let i = 0; i < this.#activeCount;) {
      const slot = this.#active[i];
      const p = slot * PAGE_WORDS;
      const word = (this.#epochs[slot] << 2) | ACTIVE;
      if (Atomics.load(pages, p + P_SLOT) !== word) {
        this.#left(i);
        continue;
      }
      const tail = Atomics.load(pages, p + P_TAIL) >>> 0;
      if (!this.#plausible(slot, tail)) {
        if (this.#evict(i, word, "corrupt")) continue;
        i++;
        continue;
      }
      const u = (this.#cursor - tail) >>> 0;
      if (u > used) used = u;
      i++;
    }
    this.#limit = (this.#cursor - used + this.#capacity) >>> 0;
  }

  /** Marks the consumer at `#active[i]` evicted; false if it left first. */
  #evict(i: number, word: number, reason: DetachReason): boolean {
    const slot = this.#active[i];
    const p = slot * PAGE_WORDS;
    // Publishes the eviction: the consumer's next check fails, its bytes may be overwritten.
    const seen = Atomics.compareExchange(this.#pages, p + P_SLOT, word, (word & ~3) | EVICTED);
    this.#drop(i);
    if (seen !== word) {
      // It left (or was reassigned) first.
      if (this.#onDetach !== null) this.#onDetach(slot, "left");
      return false;
    }
    this.#evictions++;
    wakeSpot(this.#token);
    if (this.#onDetach !== null) this.#onDetach(slot, reason);
    return true;
  }

  /** Forgets the consumer at `#active[i]` that left by itself. */
  #left(i: number): void {
    const slot = this.#active[i];
    this.#drop(i);
    if (this.#onDetach !== null) this.#onDetach(slot, "left");
  }

  #drop(i: number): void {
    this.#active[i] = this.#active[--this.#activeCount];
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
