/**
 * A lock-free slab allocator for zero-copy large messages (the seed's
 * `BufferPool(slabSize, numSlabs)`).
 *
 * The pool carves one block of shared memory into `numSlabs` fixed-size slabs.
 * A producer allocates a slab, writes its payload in place, sets the length and
 * sends the 32-bit {@linkcode Handle} through any ring (4 bytes instead of the
 * payload); the consumer reads the payload in place and frees the slab. The
 * pool lives in a `SharedArrayBuffer` for Workers, or over any shared memory
 * (for example a memfd region of the native layer) for processes.
 *
 * Byte layout (version 2), little-endian, from `byteOffset` (a multiple of 8);
 * the offsets are named in `_buffer_pool_layout.ts`:
 *
 * ```text
 * 0x00  u32 magic = 0x4C4F4F50 ("POOL")   written once by format, last
 * 0x04  u32 version = 2
 * 0x08  u32 slabSize                      payload bytes per slab
 * 0x0C  u32 numSlabs                      1 … 2^16
 * 0x10  u32 slabStride                    slabSize rounded up to 64
 * 0x14  u32 dataOffset                    first slab, from byteOffset
 * 0x18  u32 metaOffset                    first slab meta, from byteOffset
 * 0x1C  u32 holderSlots = 64
 * 0x40  u32 nextHolder                    holder ids handed out (Atomics.add by every view)
 * 0x80  holder table, 64 entries of 8 bytes (processes that may be reclaimed):
 *       +0 u32 holder   holder id, 0 = empty   (register: CAS 0 → id; unregister/reclaim: CAS id → 0)
 *       +4 i32 pid      its process             (register: store after the CAS)
 * 0x280 bitmap, ceil(numSlabs / 32) u32 words: bit i % 32 of word i / 32 is 1 while
 *       slab i is taken (alloc: CAS 0 → 1; free: Atomics.and 1 → 0); the last word's
 *       bits past numSlabs are 1 from format on and never read
 * metaOffset = align64(0x280 + 4 * words), 16 bytes per slab i:
 *       +0  u32 state   generation << 1 | allocated  (alloc: store; free, reclaim: CAS)
 *       +4  u32 length  payload length               (owner: release store)
 *       +8  u32 owner   holder id of the allocating view (alloc, before the state store)
 *       +12 reserved
 * dataOffset = align64(metaOffset + 16 * numSlabs); slab i at dataOffset + i * slabStride
 * ```
 *
 * Design: no free list, so no ABA and no tag. An allocation is a claim of one
 * bit, and the value of a bit means the same whatever happened to it before.
 * - **alloc**: from this view's clock hand `c` (a slab index in the view's own
 *   memory, never shared), load bitmap word `w = c / 32`, pick its lowest zero
 *   bit at or above `c % 32` (then the following words, wrapping, and finally
 *   the low bits of the first word: `words + 1` visits), and `compareExchange`
 *   the word with that bit set. A failed swap means another thread changed the
 *   word: reload it and retry (at most 2^16 failed swaps per call, then
 *   `PoolCorrupt`, as only a peer rewriting the word forever gets there). The
 *   winner owns slab `i`: it reads the state (a plain read, ordered by the
 *   swap after the freer's `Atomics.and`), refuses a state that says
 *   allocated (`PoolCorrupt`: bit 0 with state allocated is impossible), writes
 *   length 0 and its holder id, then publishes `(generation + 1) << 1 | 1`
 *   with `Atomics.store`, and moves its hand to `i + 1`. A whole pass without
 *   a zero bit returns `null`.
 * - **free**: check the handle's index and generation against the state, swap
 *   the state from allocated to free (`compareExchange`: of two racing frees
 *   one wins, the other gets `InvalidHandle`), then clear the bit with
 *   `Atomics.and`; a bit found already clear is reported as `PoolCorrupt`
 *   (after the slab is free again).
 * - Invariant: a zero bit means the slab's state is free (the freer writes the
 *   state before the bit, the allocator the bit before the state). A set bit
 *   with a free state is a slab between the two steps of alloc or free.
 * - **reclaim(holder)**: for each slab whose state is allocated and whose
 *   owner is `holder`, swap the state to free (the generation in the expected
 *   value makes a slab freed and re-allocated meanwhile fail the swap), then
 *   clear its bit exactly like free. Only for holders that are gone: it takes
 *   back what they allocated, including slabs they sent to a receiver that has
 *   not freed them yet; such a receiver's handle is then stale.
 *   `reclaimDead(isAlive)` does it for every holder-table entry whose process
 *   is dead, and a view registered with a liveness check does that by itself
 *   when `alloc` finds the pool exhausted (at most every 20 ms).
 * - **orphans**: a holder killed between the two steps of alloc or free
 *   leaves a set bit over a free state, with no owner recorded. After a death,
 *   the view that saw it notes every such slab; one still in the same pair of
 *   words on its next reclaim at least 1 s later has its bit cleared. (A live
 *   holder preempted that long between its two steps then gets `PoolCorrupt`
 *   from that slab; it is never handed out twice, as alloc checks the state.)
 * - A {@linkcode Handle} is `generation << indexBits | index` with
 *   `indexBits = ceil(log2(numSlabs))` (≤ 16), so it carries
 *   `32 − indexBits` ≥ 16 bits of the slab's 31-bit generation. The real bound:
 *   a stale handle is accepted only if its slab has been allocated again a
 *   multiple of 2^(32 − indexBits) times since (65,536 times at 2^16 slabs,
 *   2^24 at 256) and is allocated at that moment. The clock hands allocate
 *   round-robin, so a slab is reused about once per pass over the free slabs,
 *   not once per alloc as from a LIFO free list.
 * - Nothing read from shared memory is trusted: header fields are checked at
 *   attach, a length past the slab, an impossible bitmap or state, and a
 *   holder entry with an impossible pid are `PoolCorrupt` (printing the words
 *   read), every loop over shared words is bounded. A peer that writes a
 *   slab's state can still free that slab under its owner: the state is the
 *   truth, and nothing tells a forged free from a real one.
 * - Spin checks alloc, free and reclaim, and shows the v1 free list's ABA: `models/buffer_pool.pml`.
 *
 * @module
 */

import { InvalidHandle, PoolCorrupt } from "./errors.ts";
import { checkInstance, checkInteger, checkOffset, checkPid } from "./_validate.ts";
import {
  newHolderId,
  OrphanWatch,
  reclaimDead,
  reclaimHolder,
  registerHolder,
  releaseBit,
  unregisterHolder,
} from "./_buffer_pool_holders.ts";
import {
  BITMAP_OFFSET,
  format,
  GENERATION_MASK,
  HEADER_WORDS,
  hex,
  HOLDER_SLOTS,
  HOLDER_WORDS,
  HOLDERS_OFFSET,
  indexBitsFor,
  lastWordMask,
  layout,
  M_LENGTH,
  M_OWNER,
  M_STATE,
  MAX_SLAB_SIZE,
  MAX_SLABS,
  META_WORDS,
  readHeader,
} from "./_buffer_pool_layout.ts";

/**
 * A 32-bit slab handle: `generation << indexBits | index`, as an unsigned
 * number. Travels through a ring of `u32`.
 */
export type Handle = number;

/** The structured-cloneable form of a pool, for a Worker's {@linkcode BufferPool.fromHandle}. */
export interface BufferPoolHandle {
  /** The shared memory holding the pool. */
  readonly buffer: SharedArrayBuffer;
  /** Where the pool starts in `buffer`. */
  readonly byteOffset: number;
}

/** Options for {@linkcode BufferPool.init}. */
export interface BufferPoolInitOptions {
  /** Where the pool starts in `buffer`, a multiple of 8 (default 0). */
  readonly byteOffset?: number;
}

/** Tells whether process `pid` still runs (for example the native `isProcessAlive`). */
export type ProcessAlive = (pid: number) => boolean;

/** Failed bitmap swaps one alloc tolerates: only a peer rewriting a word forever reaches it. */
const MAX_SWAP_FAILURES = 2 ** 16;
/** Least time between two automatic reclaims of dead processes by one view. */
const RECLAIM_INTERVAL_MS = 20;
/** Passed by this module's factories to the constructor to view existing memory. */
const VIEW: unique symbol = Symbol("BufferPool view");

/** A `SharedArrayBuffer`, or the `ArrayBuffer` of a native shared region. */
function checkMemory(action: string, buffer: unknown): ArrayBufferLike {
  if (buffer instanceof ArrayBuffer) return buffer;
  return checkInstance(action, "buffer", buffer, SharedArrayBuffer);
}

/** Memory a view is built over. */
interface PoolMemory {
  buffer: ArrayBufferLike;
  byteOffset: number;
  slabSize: number;
  numSlabs: number;
}

/**
 * A lock-free pool of fixed-size slabs in shared memory.
 *
 * `alloc` and `free` are lock-free and safe from any number of threads or
 * processes at once. `get`, `getWritable` and `setLen` on one handle are for
 * its current owner only, which is correct because ownership is exclusive.
 * Each view (this object, one per thread or process) is a *holder* with its
 * own {@linkcode BufferPool.holderId}; the slabs a view allocates are recorded
 * as its own, so those of a holder that died can be taken back with
 * {@linkcode BufferPool.reclaim}.
 *
 * @example Passing a payload by handle
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool } from "@ringmpsc/ringmpsc";
 * const pool = new BufferPool(4096, 8);
 * const h = pool.alloc()!;
 * pool.getWritable(h).set([1, 2, 3]);
 * pool.setLen(h, 3);
 * assert.deepEqual([...pool.get(h)], [1, 2, 3]);
 * pool.free(h);
 * assert.equal(pool.availableCount(), 8);
 * ```
 */
export class BufferPool {
  #buffer: ArrayBufferLike;
  #byteOffset: number;
  #slabSize: number;
  #numSlabs: number;
  #stride: number;
  #dataStart: number;
  #indexBits: number;
  #indexMask: number;
  #genMask: number;
  #words: number;
  #lastMask: number;
  #holderId: number;
  /** This view's clock hand: the slab index where the next alloc starts looking. */
  #hand: number;
  /** The holder-table entry this view registered, or -1. */
  #entry = -1;
  #isAlive: ProcessAlive | null = null;
  #lastReclaim = -Infinity;
  /** Allocated on the first reclaim. */
  #orphans: OrphanWatch | null = null;
  /** Header words. */
  #header: Int32Array;
  /** Holder table, HOLDER_WORDS per entry. */
  #holders: Int32Array;
  /** Allocation bitmap. */
  #bitmap: Int32Array;
  /** Slab meta words, META_WORDS per slab. */
  #meta: Int32Array;
  /** Every slab's bytes, slab i at i * stride. */
  #bytes: Uint8Array;

  /**
   * Creates a pool of `numSlabs` slabs of `slabSize` bytes in a new
   * `SharedArrayBuffer`. Allocates the buffer.
   *
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^16.
   * @throws {TypeError} If a size is not a number.
   * @throws {RangeError} If a size is not an integer in range.
   */
  constructor(slabSize: number, numSlabs: number);
  constructor(slabSize: number | typeof VIEW, numSlabs: number | PoolMemory) {
    let memory: PoolMemory;
    if (slabSize === VIEW) {
      memory = numSlabs as PoolMemory;
    } else {
      checkInteger("create buffer pool", "slabSize", slabSize, 1, MAX_SLAB_SIZE);
      checkInteger("create buffer pool", "numSlabs", numSlabs, 1, MAX_SLABS);
      const n = numSlabs as number;
      const buffer = new SharedArrayBuffer(layout(slabSize, n).total);
      format(buffer, 0, slabSize, n);
      memory = { buffer, byteOffset: 0, slabSize, numSlabs: n };
    }
    const { buffer, byteOffset } = memory;
    const l = layout(memory.slabSize, memory.numSlabs);
    const indexBits = indexBitsFor(memory.numSlabs);
    this.#buffer = buffer;
    this.#byteOffset = byteOffset;
    this.#slabSize = memory.slabSize;
    this.#numSlabs = memory.numSlabs;
    this.#stride = l.stride;
    this.#dataStart = byteOffset + l.dataOffset;
    this.#indexBits = indexBits;
    this.#indexMask = 2 ** indexBits - 1;
    this.#genMask = 2 ** (32 - indexBits) - 1;
    this.#words = l.words;
    this.#lastMask = lastWordMask(memory.numSlabs);
    this.#header = new Int32Array(buffer, byteOffset, HEADER_WORDS);
    this.#holders = new Int32Array(
      buffer,
      byteOffset + HOLDERS_OFFSET,
      HOLDER_SLOTS * HOLDER_WORDS,
    );
    this.#bitmap = new Int32Array(buffer, byteOffset + BITMAP_OFFSET, l.words);
    this.#meta = new Int32Array(buffer, byteOffset + l.metaOffset, memory.numSlabs * META_WORDS);
    this.#bytes = new Uint8Array(buffer, this.#dataStart, l.stride * memory.numSlabs);
    this.#holderId = newHolderId(this.#header);
    // Spread the views' hands over the pool (Fibonacci hashing of the id).
    this.#hand = (Math.imul(this.#holderId, 0x9e3779b9) >>> 0) % memory.numSlabs;
  }

  /**
   * The bytes a pool of this shape needs, for sizing shared memory before
   * {@linkcode BufferPool.init}.
   *
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^16.
   * @returns The footprint in bytes (header, holder table, bitmap, slab meta and slabs).
   * @throws {RangeError} If a size is not an integer in range.
   * @throws {TypeError} If a size is not a number.
   * @example Sizing a region
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * assert.ok(BufferPool.requiredBytes(4096, 256) >= 4096 * 256);
   * ```
   */
  static requiredBytes(slabSize: number, numSlabs: number): number {
    checkInteger("size buffer pool", "slabSize", slabSize, 1, MAX_SLAB_SIZE);
    checkInteger("size buffer pool", "numSlabs", numSlabs, 1, MAX_SLABS);
    return layout(slabSize, numSlabs).total;
  }

  /**
   * Formats a new pool in existing shared memory (a `SharedArrayBuffer`, or
   * the `ArrayBuffer` of a native shared region) and returns a view of it.
   * Nobody else may use that memory while it is formatted.
   *
   * @param buffer The memory to format.
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^16.
   * @param options Where the pool starts in `buffer`.
   * @returns The pool.
   * @throws {RangeError} If a size is out of range or the pool does not fit.
   * @throws {TypeError} If an argument has the wrong type.
   * @example Formatting part of a larger buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const sab = new SharedArrayBuffer(64 + BufferPool.requiredBytes(256, 4));
   * const pool = BufferPool.init(sab, 256, 4, { byteOffset: 64 });
   * assert.equal(pool.capacity(), 4);
   * ```
   */
  static init(
    buffer: ArrayBufferLike,
    slabSize: number,
    numSlabs: number,
    options: BufferPoolInitOptions = {},
  ): BufferPool {
    const what = "format buffer pool";
    checkMemory(what, buffer);
    checkInteger(what, "slabSize", slabSize, 1, MAX_SLAB_SIZE);
    checkInteger(what, "numSlabs", numSlabs, 1, MAX_SLABS);
    const byteOffset = checkOffset(
      what,
      "byteOffset",
      options.byteOffset ?? 0,
      Number.MAX_SAFE_INTEGER,
      8,
    );
    const need = layout(slabSize, numSlabs).total;
    if (byteOffset + need > buffer.byteLength) {
      throw new RangeError(
        `Cannot format buffer pool as it needs ${need} bytes at offset ${byteOffset}: received a buffer of ${buffer.byteLength} bytes`,
      );
    }
    format(buffer, byteOffset, slabSize, numSlabs);
    return BufferPool.#view({ buffer, byteOffset, slabSize, numSlabs });
  }

  /**
   * Attaches to a pool another thread or process formatted, checking its
   * header against the memory it sits in.
   *
   * @param buffer The memory holding the pool.
   * @param byteOffset Where the pool starts in `buffer` (default 0).
   * @returns A view of the same pool.
   * @throws {InvalidMagic} If the memory holds no pool.
   * @throws {VersionMismatch} If the pool's layout version differs.
   * @throws {PoolCorrupt} If the header's sizes are impossible or do not fit `buffer`.
   * @throws {TypeError} If an argument has the wrong type.
   * @example Attaching to a pool by its memory
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(64, 4);
   * const again = BufferPool.attach(pool.handle().buffer);
   * assert.equal(again.capacity(), 4);
   * ```
   */
  static attach(buffer: ArrayBufferLike, byteOffset = 0): BufferPool {
    const what = "attach buffer pool";
    checkMemory(what, buffer);
    checkOffset(what, "byteOffset", byteOffset, Number.MAX_SAFE_INTEGER, 8);
    return BufferPool.#view({ buffer, byteOffset, ...readHeader(buffer, byteOffset) });
  }

  /**
   * Rebuilds a pool in a Worker from {@linkcode BufferPool.handle}.
   *
   * @param handle The handle another thread made.
   * @returns A view of the same pool.
   * @throws {TypeError} If `handle` has the wrong shape.
   * @throws {InvalidMagic} If the memory holds no pool.
   * @throws {PoolCorrupt} If the pool's header is impossible.
   * @example Rebuilding a pool from its handle
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(64, 4);
   * const same = BufferPool.fromHandle(structuredClone(pool.handle()));
   * const h = same.alloc()!;
   * assert.equal(pool.availableCount(), 3);
   * same.free(h);
   * ```
   */
  static fromHandle(handle: BufferPoolHandle): BufferPool {
    if (
      typeof handle !== "object" || handle === null ||
      !(handle.buffer instanceof SharedArrayBuffer)
    ) {
      throw new TypeError(
        `Cannot rebuild buffer pool as the handle must hold a SharedArrayBuffer: received ${
          Object.prototype.toString.call(handle?.buffer)
        }`,
      );
    }
    return BufferPool.attach(handle.buffer, handle.byteOffset);
  }

  static #view(memory: PoolMemory): BufferPool {
    return new (BufferPool as unknown as new (v: typeof VIEW, m: PoolMemory) => BufferPool)(
      VIEW,
      memory,
    );
  }

  /**
   * Takes a free slab and records this view as its holder. Lock-free;
   * allocation-free. On a view registered with a liveness check
   * ({@linkcode BufferPool.registerProcess}), an exhausted pool first takes
   * back the slabs of dead processes (at most every 20 ms) and tries again.
   *
   * @returns The slab's handle, or `null` when every slab is taken.
   * @throws {PoolCorrupt} If the bitmap and a slab's state disagree, a
   * bitmap word changes under every one of 2^16 swaps, or (automatic reclaim)
   * a holder entry names an impossible pid.
   * @example Allocating until the pool is exhausted
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(64, 1);
   * assert.notEqual(pool.alloc(), null);
   * assert.equal(pool.alloc(), null);
   * ```
   */
  alloc(): Handle | null {
    const h = this.#take();
    if (h !== null || this.#isAlive === null) return h;
    const now = performance.now();
    if (now - this.#lastReclaim < RECLAIM_INTERVAL_MS) return null;
    this.#lastReclaim = now;
    return this.reclaimDead(this.#isAlive) > 0 ? this.#take() : null;
  }

  #take(): Handle | null {
    const bitmap = this.#bitmap;
    const words = this.#words;
    const last = words - 1;
    let w = this.#hand >>> 5;
    let from = this.#hand & 31;
    let failures = 0;
    for (let visits = 0; visits <= words;) {
      const word = Atomics.load(bitmap, w);
      // Zero bits at or above `from`, real slabs only.
      let free = ~word & (-1 << from);
      if (w === last) free &= this.#lastMask;
      if (free === 0) {
        visits++;
        w = w === last ? 0 : w + 1;
        from = 0;
        continue;
      }
      const bit = 31 - Math.clz32(free & -free);
      // Step: claim the bit. Fails if anyone changed the word since our load: reload, retry.
      if (Atomics.compareExchange(bitmap, w, word, word | (1 << bit)) !== word) {
        if (++failures === MAX_SWAP_FAILURES) {
          throw new PoolCorrupt(
            `Cannot allocate as bitmap word ${w} changed under ${failures} swaps in a row: received ${
              hex(Atomics.load(bitmap, w))
            }`,
          );
        }
        continue;
      }
      const index = (w << 5) | bit;
      this.#hand = index + 1 === this.#numSlabs ? 0 : index + 1;
      return this.#own(index, word);
    }
    return null;
  }

  /** Makes the slab whose bit this view just claimed its own. */
  #own(index: number, word: number): Handle {
    const meta = this.#meta;
    const m = index * META_WORDS;
    // Plain read: our swap came after the freer's state swap and bit clear.
    const state = meta[m + M_STATE];
    if ((state & 1) !== 0) {
      throw new PoolCorrupt(
        `Cannot allocate as slab ${index} is free in the bitmap but allocated in its state: received bitmap word ${
          hex(word)
        } and state ${hex(state)}`,
      );
    }
    const generation = ((state >>> 1) + 1) & GENERATION_MASK;
    meta[m + M_LENGTH] = 0; // published by the state store below
    meta[m + M_OWNER] = this.#holderId; // likewise
    // Publishes the slab as allocated under its new generation.
    Atomics.store(meta, m + M_STATE, (generation << 1) | 1);
    return (((generation & this.#genMask) << this.#indexBits) | index) >>> 0;
  }

  /**
   * Gives a slab back. Lock-free; allocation-free. The caller must not touch
   * the slab afterwards.
   *
   * @param handle The handle {@linkcode BufferPool.alloc} returned.
   * @throws {InvalidHandle} If the handle is stale, foreign, or already freed.
   * @throws {PoolCorrupt} If the slab's bitmap bit was already clear (the
   * slab is free afterwards all the same).
   * @example Refusing a double free
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool, InvalidHandle } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(64, 2);
   * const h = pool.alloc()!;
   * pool.free(h);
   * assert.throws(() => pool.free(h), InvalidHandle);
   * ```
   */
  free(handle: Handle): void {
    const index = this.#index(handle, "free");
    const meta = this.#meta;
    const m = index * META_WORDS;
    // The state the swap below expects: allocated, at the handle's generation.
    const state = meta[m + M_STATE];
    this.#checkState(handle, index, state, "free");
    // Flip the allocated bit off; of two racing frees of one handle, one loses here.
    if (Atomics.compareExchange(meta, m + M_STATE, state, state & ~1) !== state) {
      throw new InvalidHandle(
        `Cannot free handle ${hex(handle)} as slab ${index} was freed meanwhile`,
      );
    }
    releaseBit(this.#bitmap, index);
  }

  /**
   * A view of the slab's payload (its first `setLen` bytes). Zero copy;
   * allocates the view object (use {@linkcode BufferPool.bytes} with
   * {@linkcode BufferPool.offsetOf} to avoid that).
   *
   * @param handle An allocated slab's handle.
   * @returns The payload bytes, in place.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @throws {PoolCorrupt} If the slab's length word exceeds the slab size.
   * @example Reading a payload
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 1);
   * const h = pool.alloc()!;
   * pool.getWritable(h)[0] = 7;
   * pool.setLen(h, 1);
   * assert.equal(pool.get(h)[0], 7);
   * ```
   */
  get(handle: Handle): Uint8Array {
    const index = this.#check(handle, "read");
    return new Uint8Array(
      this.#buffer,
      this.#dataStart + index * this.#stride,
      this.#length(index),
    );
  }

  /**
   * A view of the whole slab, for writing a payload in place. Allocates the
   * view object.
   *
   * @param handle An allocated slab's handle.
   * @returns All `slabSize` bytes of the slab.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @example Writing in place
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 1);
   * const h = pool.alloc()!;
   * assert.equal(pool.getWritable(h).length, 16);
   * ```
   */
  getWritable(handle: Handle): Uint8Array {
    const index = this.#check(handle, "write");
    return new Uint8Array(this.#buffer, this.#dataStart + index * this.#stride, this.#slabSize);
  }

  /**
   * Sets the payload length with a release store, so a consumer that received
   * the handle through a ring sees the bytes written before it.
   *
   * @param handle An allocated slab's handle.
   * @param length Payload bytes, between 0 and `slabSize`.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @throws {RangeError} If `length` is out of range.
   * @example Setting a length
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 1);
   * const h = pool.alloc()!;
   * pool.setLen(h, 5);
   * assert.equal(pool.lengthOf(h), 5);
   * ```
   */
  setLen(handle: Handle, length: number): void {
    const index = this.#check(handle, "set length of");
    checkInteger("set slab length", "length", length, 0, this.#slabSize);
    // Publishes the payload length (and the bytes written before it).
    Atomics.store(this.#meta, index * META_WORDS + M_LENGTH, length);
  }

  /**
   * The byte offset of a slab's payload within {@linkcode BufferPool.bytes}.
   * Allocation-free.
   *
   * @param handle An allocated slab's handle.
   * @returns The offset.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @example Copying out without a view
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 2);
   * const h = pool.alloc()!;
   * pool.bytes[pool.offsetOf(h)] = 9;
   * assert.equal(pool.getWritable(h)[0], 9);
   * ```
   */
  offsetOf(handle: Handle): number {
    return this.#check(handle, "locate") * this.#stride;
  }

  /**
   * A slab's payload length, as {@linkcode BufferPool.setLen} set it.
   * Allocation-free.
   *
   * @param handle An allocated slab's handle.
   * @returns The length in bytes.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @throws {PoolCorrupt} If the length word exceeds the slab size.
   * @example Reading a length
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 1);
   * const h = pool.alloc()!;
   * assert.equal(pool.lengthOf(h), 0);
   * ```
   */
  lengthOf(handle: Handle): number {
    return this.#length(this.#check(handle, "read length of"));
  }

  /**
   * Counts free slabs from the bitmap: O(numSlabs / 32), for diagnostics.
   * Exact when no alloc or free is in flight.
   *
   * @returns Slabs not taken.
   * @example Counting
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 3);
   * pool.alloc();
   * assert.equal(pool.availableCount(), 2);
   * ```
   */
  availableCount(): number {
    let free = 0;
    for (let w = 0; w < this.#words; w++) {
      let bits = ~Atomics.load(this.#bitmap, w);
      if (w === this.#words - 1) bits &= this.#lastMask;
      for (; bits !== 0; bits &= bits - 1) free++;
    }
    return free;
  }

  /**
   * Takes back every slab that holder `holder` allocated and still holds, for
   * a holder that is gone (a terminated Worker, a killed process). Slabs it
   * sent on and whose receivers have not freed them yet come back too; those
   * receivers' handles turn stale. Calling it for a live holder takes its
   * slabs away under it. A slab the holder died in the middle of allocating
   * or freeing comes back from a call at least 1 s after this one. O(numSlabs).
   *
   * @param holder The gone view's {@linkcode BufferPool.holderId}.
   * @returns How many slabs came back.
   * @throws {RangeError} If `holder` is not an integer between 1 and 2^32 − 1.
   * @example Taking back a terminated Worker's slabs
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 4);
   * const worker = BufferPool.fromHandle(pool.handle()); // as in a Worker
   * worker.alloc();
   * worker.alloc();
   * assert.equal(pool.reclaim(worker.holderId), 2);
   * assert.equal(pool.availableCount(), 4);
   * ```
   */
  reclaim(holder: number): number {
    checkInteger("reclaim slabs", "holder", holder, 1, 0xffffffff);
    return reclaimHolder(this.#meta, this.#bitmap, holder) + this.#sweep(true);
  }

  /** Repairs orphans seen a grace period ago; looks for new ones after a death. */
  #sweep(deathSeen: boolean): number {
    this.#orphans ??= new OrphanWatch();
    return this.#orphans.sweep(this.#meta, this.#bitmap, performance.now(), deathSeen);
  }

  /**
   * Records in the pool that this view belongs to process `pid`, so that
   * {@linkcode BufferPool.reclaimDead} anywhere can take its slabs back once
   * that process is gone; with `isAlive`, this view's own `alloc` does that by
   * itself when the pool is exhausted. The native `SharedBufferPool` registers
   * every view it makes. Processes must share one pid namespace.
   *
   * @param pid This view's process id.
   * @param isAlive The liveness check for automatic reclaim, or `null`.
   * @throws {RangeError} If `pid` is not an integer between 1 and 2^31 − 1.
   * @throws {Exhausted} If the pool's 64 holder entries are all taken (after
   * reclaiming dead ones with `isAlive`).
   * @example Registering
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 4);
   * pool.registerProcess(4242, null);
   * assert.equal(pool.reclaimDead(() => true), 0);
   * ```
   */
  registerProcess(pid: number, isAlive: ProcessAlive | null): void {
    checkPid("register process with buffer pool", pid);
    if (isAlive !== null) {
      checkInstance("register process with buffer pool", "isAlive", isAlive, Function);
    }
    this.unregisterProcess();
    try {
      this.#entry = registerHolder(this.#holders, this.#holderId, pid);
    } catch (error) {
      if (isAlive === null) throw error;
      this.reclaimDead(isAlive);
      this.#entry = registerHolder(this.#holders, this.#holderId, pid);
    }
    this.#isAlive = isAlive;
  }

  /**
   * Removes this view's holder entry (its slabs stay allocated). Safe to call
   * twice, and on a view never registered.
   *
   * @example Unregistering
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 4);
   * pool.registerProcess(4242, null);
   * pool.alloc();
   * pool.unregisterProcess();
   * pool.unregisterProcess();
   * assert.equal(pool.availableCount(), 3); // its slab stays allocated
   * ```
   */
  unregisterProcess(): void {
    if (this.#entry < 0) return;
    unregisterHolder(this.#holders, this.#entry, this.#holderId);
    this.#entry = -1;
    this.#isAlive = null;
  }

  /**
   * Takes back the slabs of every registered holder whose process `isAlive`
   * reports dead, and empties their entries; a slab a dead holder was in the
   * middle of allocating or freeing comes back from a call at least 1 s later.
   * O(64 + numSlabs per dead holder).
   *
   * @param isAlive The liveness check (the native `isProcessAlive`).
   * @returns How many slabs came back.
   * @throws {PoolCorrupt} If a holder entry names an impossible pid.
   * @throws {TypeError} If `isAlive` is not a function.
   * @example Reclaiming after a process died
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(16, 4);
   * const other = BufferPool.attach(pool.buffer); // as in process 4242
   * other.registerProcess(4242, null);
   * other.alloc();
   * assert.equal(pool.reclaimDead((pid) => pid !== 4242), 1);
   * assert.equal(pool.availableCount(), 4);
   * ```
   */
  reclaimDead(isAlive: ProcessAlive): number {
    checkInstance("reclaim dead holders", "isAlive", isAlive, Function);
    const { slabs, deaths } = reclaimDead(this.#holders, this.#meta, this.#bitmap, isAlive);
    return slabs + this.#sweep(deaths > 0);
  }

  /** This view's holder id, recorded with each slab it allocates (see {@linkcode BufferPool.reclaim}). */
  get holderId(): number {
    return this.#holderId;
  }

  /**
   * The number of slabs.
   *
   * @returns `numSlabs`.
   * @example Capacity
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * assert.equal(new BufferPool(16, 3).capacity(), 3);
   * ```
   */
  capacity(): number {
    return this.#numSlabs;
  }

  /**
   * The pool's footprint in shared memory: header, holder table, bitmap, slab
   * meta and slabs.
   *
   * @returns Bytes.
   * @example Footprint
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * assert.equal(new BufferPool(4096, 2).totalMemory(), 8960);
   * ```
   */
  totalMemory(): number {
    return layout(this.#slabSize, this.#numSlabs).total;
  }

  /** Payload bytes per slab. */
  get slabSize(): number {
    return this.#slabSize;
  }

  /**
   * Every slab's bytes as one array, slab `i` at `i * stride`; with
   * {@linkcode BufferPool.offsetOf} it reads and writes payloads without
   * allocating a view.
   */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The memory the pool lives in. */
  get buffer(): ArrayBufferLike {
    return this.#buffer;
  }

  /** Where the pool starts in {@linkcode BufferPool.buffer}. */
  get byteOffset(): number {
    return this.#byteOffset;
  }

  /**
   * The structured-cloneable form of this pool, for `postMessage` to a Worker.
   *
   * @returns The handle.
   * @throws {TypeError} If the pool lives in a plain `ArrayBuffer` (native
   * memory travels between processes by fd, not by `postMessage`).
   * @example Sending a pool to a Worker
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const h = new BufferPool(64, 2).handle();
   * assert.ok(h.buffer instanceof SharedArrayBuffer);
   * ```
   */
  handle(): BufferPoolHandle {
    if (!(this.#buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(
        "Cannot make a handle for buffer pool as it lives in an ArrayBuffer: received native memory, pass its fd instead",
      );
    }
    return { buffer: this.#buffer, byteOffset: this.#byteOffset };
  }

  /** Validates a handle for its current owner and returns its index. */
  #check(handle: Handle, what: string): number {
    const index = this.#index(handle, what);
    // Plain read: the owner wrote this state, or got the handle through a synchronizing channel.
    this.#checkState(handle, index, this.#meta[index * META_WORDS + M_STATE], what);
    return index;
  }

  /** The index a handle names, if it is a u32 naming a slab of this pool. */
  #index(handle: Handle, what: string): number {
    const h = handle >>> 0;
    if (h !== handle) {
      throw new InvalidHandle(
        `Cannot ${what} slab as the handle must be a u32: received ${handle}`,
      );
    }
    const index = h & this.#indexMask;
    if (index >= this.#numSlabs) {
      throw new InvalidHandle(
        `Cannot ${what} slab as the handle's index is outside the pool: received index ${index} of ${this.#numSlabs}`,
      );
    }
    return index;
  }

  /** Throws unless `state` is allocated at the generation the handle carries. */
  #checkState(handle: Handle, index: number, state: number, what: string): void {
    const generation = (state >>> 1) & this.#genMask;
    if ((state & 1) === 0 || generation !== handle >>> this.#indexBits) {
      throw new InvalidHandle(
        `Cannot ${what} slab as handle ${hex(handle)} is stale or freed: slab ${index} is ${
          (state & 1) === 0 ? "free" : `at generation ${generation}`
        } (state ${hex(state)})`,
      );
    }
  }

  #length(index: number): number {
    // Plain read: setLen's store reached this owner with the handle.
    const length = this.#meta[index * META_WORDS + M_LENGTH];
    if (length < 0 || length > this.#slabSize) {
      throw new PoolCorrupt(
        `Cannot read slab ${index} as its length exceeds the slab size ${this.#slabSize}: received ${
          hex(length)
        }`,
      );
    }
    return length;
  }
}
