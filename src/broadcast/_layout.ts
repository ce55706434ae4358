/**
 * The shared-memory layout of a broadcast ring, internal to `src/broadcast/`.
 *
 * One producer, any number of consumers; every consumer sees every message
 * (zbq's model, in our own layout of 32-bit words so that no BigInt is needed).
 * Little-endian, from `byteOffset` (a multiple of 8):
 *
 * ```text
 * control region, 256 bytes
 * 0x00 u32 magic = 0x54534342 ("BCST")          producer, once
 * 0x04 u32 version = 1
 * 0x08 u32 capacity                             data bytes, a power of two, 2^6 … 2^30
 * 0x0C u32 maxConsumers                         1 … 1024
 * 0x10 u32 stallTimeoutMs                       no progress for this long while behind = hung
 * 0x14 u32 clogThreshold                        failed queries before a scan
 * 0x18 i32 producerPid                          0 when unknown (Workers)
 * 0x1C u32 dataOffset                           = 0x100 + maxConsumers * 4096
 * 0x20 u32 baselineLo, 0x24 u32 baselineHi      Date.now() at create; timestamps count from it
 * 0x40 u32 head         producer: release store on commit; free-running byte position
 * 0x80 i32 token        producer: +1 per commit that finds waiters, eviction, close (the futex word)
 * 0x84 i32 waiters      consumers: +1 before sleeping on token, −1 after
 * 0x88 i32 closed       producer: 1 once closed
 * consumer metadata pages, 4096 bytes each, page i at 0x100 + i * 4096
 * +0x00 u32 tail        consumer: compare-and-swap on publish; producer: store at join
 * +0x04 u32 progressMs  consumer: ms since baseline at its last publish
 * +0x08 i32 slotWord    epoch << 2 | state; producer: join / evict (CAS); consumer: leave (CAS)
 * +0x0C i32 pid         producer at join (0 for Workers)
 * +0x10 u32 mode        producer at join: 0 push, 1 pull
 * +0x14 u32 joinedMs    producer at join: ms since baseline
 * data region, `capacity` bytes at dataOffset; messages 16-byte aligned:
 * +0 u32 payloadLength  +4 u8 fdCount (≤ 253)  +5 u8 flags (1 = padding to the end)
 * +6 u16 reserved = 0   +8 u32 seqLo  +12 u32 seqHi   then the payload, padded to 16
 * ```
 *
 * Invariants: positions are free-running u32 byte counters (index =
 * position & (capacity − 1)); every committed run is a multiple of 16 bytes
 * and holds whole messages; a message never crosses the physical end (a
 * padding message fills the rest instead); for every active consumer
 * `0 ≤ head − tail ≤ capacity` (wrap-safe). The producer never overwrites a
 * byte an active consumer has not released; a consumer only trusts a message
 * once it has re-checked its own slot word after reading it.
 * Spin checks publish, evict and re-join: `models/broadcast.pml`.
 *
 * @module
 */

import { InvalidMagic, RingCorrupt, VersionMismatch } from "../errors.ts";

export const MAGIC = 0x54534342;
export const VERSION = 1;
export const CONTROL_BYTES = 0x100;
export const PAGE_BYTES = 4096;
export const HEADER_BYTES = 16;
export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;
export const MAX_CONSUMERS = 1024;
export const MAX_FDS_PER_MESSAGE = 253;
export const FLAG_PAD = 1;

/** Int32 word indexes in the control region. */
export const C_MAGIC = 0x00 >> 2;
export const C_VERSION = 0x04 >> 2;
export const C_CAPACITY = 0x08 >> 2;
export const C_MAX_CONSUMERS = 0x0c >> 2;
export const C_STALL_MS = 0x10 >> 2;
export const C_CLOG = 0x14 >> 2;
export const C_PID = 0x18 >> 2;
export const C_DATA_OFFSET = 0x1c >> 2;
export const C_BASE_LO = 0x20 >> 2;
export const C_BASE_HI = 0x24 >> 2;
export const C_HEAD = 0x40 >> 2;
export const C_TOKEN = 0x80 >> 2;
export const C_WAITERS = 0x84 >> 2;
export const C_CLOSED = 0x88 >> 2;

/** Int32 word indexes in a consumer page. */
export const P_TAIL = 0x00 >> 2;
export const P_PROGRESS = 0x04 >> 2;
export const P_SLOT = 0x08 >> 2;
export const P_PID = 0x0c >> 2;
export const P_MODE = 0x10 >> 2;
export const P_JOINED = 0x14 >> 2;
export const PAGE_WORDS = PAGE_BYTES >> 2;

/** Slot states, the low two bits of a slot word. */
export const FREE = 0;
export const ACTIVE = 1;
export const LEFT = 2;
export const EVICTED = 3;
export const EPOCH_MASK = 0x3fffffff;

/** What a validated control region says. */
export interface Geometry {
  capacity: number;
  maxConsumers: number;
  stallTimeoutMs: number;
  clogThreshold: number;
  producerPid: number;
  dataOffset: number;
  baselineMs: number;
  totalBytes: number;
}

/** Rounds up to a multiple of 16. */
export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Bytes a ring of this shape occupies. */
export function totalBytes(capacity: number, maxConsumers: number): number {
  return CONTROL_BYTES + maxConsumers * PAGE_BYTES + capacity;
}

/** Wall-clock milliseconds since a ring's baseline, as a wrapping u32. */
export function sinceBaseline(baselineMs: number): number {
  return (Date.now() - baselineMs) >>> 0;
}

/**
 * Reads and checks a control region another party formatted; never trusts a
 * field that could put a later access out of range.
 */
export function readGeometry(buffer: ArrayBufferLike, byteOffset: number, what: string): Geometry {
  if (byteOffset + CONTROL_BYTES > buffer.byteLength) {
    throw new RingCorrupt(
      `Cannot ${what} as the memory is too small for a control region: received ${buffer.byteLength} bytes at offset ${byteOffset}`,
    );
  }
  const c = new Uint32Array(buffer, byteOffset, CONTROL_BYTES >> 2);
  const magic = Atomics.load(c, C_MAGIC);
  if (magic !== MAGIC) {
    throw new InvalidMagic(
      `Cannot ${what} as the magic must be 0x${MAGIC.toString(16)}: received 0x${
        magic.toString(16)
      }`,
    );
  }
  const version = Atomics.load(c, C_VERSION);
  if (version !== VERSION) {
    throw new VersionMismatch(
      `Cannot ${what} as the layout version must be ${VERSION}: received ${version}`,
    );
  }
  const capacity = Atomics.load(c, C_CAPACITY);
  if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RingCorrupt(
      `Cannot ${what} as the capacity must be a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY}: received ${capacity}`,
    );
  }
  const maxConsumers = Atomics.load(c, C_MAX_CONSUMERS);
  if (maxConsumers < 1 || maxConsumers > MAX_CONSUMERS) {
    throw new RingCorrupt(
      `Cannot ${what} as maxConsumers must be between 1 and ${MAX_CONSUMERS}: received ${maxConsumers}`,
    );
  }
  const dataOffset = Atomics.load(c, C_DATA_OFFSET);
  if (dataOffset !== CONTROL_BYTES + maxConsumers * PAGE_BYTES) {
    throw new RingCorrupt(
      `Cannot ${what} as the data offset must be ${
        CONTROL_BYTES + maxConsumers * PAGE_BYTES
      }: received ${dataOffset}`,
    );
  }
  const total = totalBytes(capacity, maxConsumers);
  if (byteOffset + total > buffer.byteLength) {
    throw new RingCorrupt(
      `Cannot ${what} as the ring claims ${total} bytes at offset ${byteOffset}: received ${buffer.byteLength} bytes`,
    );
  }
  return {
    capacity,
    maxConsumers,
    stallTimeoutMs: Atomics.load(c, C_STALL_MS),
    clogThreshold: Atomics.load(c, C_CLOG),
    producerPid: Atomics.load(c, C_PID) | 0,
    dataOffset,
    baselineMs: Atomics.load(c, C_BASE_HI) * 2 ** 32 + Atomics.load(c, C_BASE_LO),
    totalBytes: total,
  };
}
