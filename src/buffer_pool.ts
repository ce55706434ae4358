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
 * Byte layout, little-endian, from `byteOffset` (a multiple of 8):
 *
 * ```text
 * 0x00 u32 magic = 0x4C4F4F50 ("POOL")     written once by init
 * 0x04 u32 version = 1
 * 0x08 u32 slabSize                        payload bytes per slab
 * 0x0C u32 numSlabs
 * 0x10 u32 slabStride                      slabSize rounded up to 64
 * 0x14 u32 dataOffset                      first slab, from byteOffset
 * 0x40 u32 head                            free-list head: tag << indexBits | index
 *                                          (alloc and free, compare-and-swap)
 * 0x80 slab meta, 16 bytes per slab i:
 *      +0 i32 state   generation << 1 | allocated   (alloc: store; free: CAS)
 *      +4 u32 length  payload length                (owner: release store)
 *      +8 u32 next    free-list link                (pusher, before its CAS)
 *      +12 reserved
 * dataOffset = align64(0x80 + 16 * numSlabs); slab i at dataOffset + i * slabStride
 * ```
 *
 * Invariants and the ABA argument:
 * - `indexBits` is the fewest bits holding every index and the NIL index
 *   (all ones); the head's remaining `32 - indexBits` bits (at least 12, as
 *   `numSlabs < 2^20`) are a tag that every successful pop increments. JS can
 *   compare-and-swap only 32 bits without BigInt, and a BigInt
 *   `compareExchange` costs about four times as much (measured: 135–165 ns
 *   against 37 ns per CAS), so head and tag share one 32-bit word.
 * - A pop reads head `(t, A)` and `next[A] = B`, then swaps in `(t + 1, B)`.
 *   If A was popped by anyone in between, the tag moved on and the swap fails,
 *   whatever was pushed since. A stale swap can only succeed after exactly a
 *   multiple of `2^tagBits` pops (4096 for the largest pools, 2^23 for 256
 *   slabs) between one thread's load and its swap, ending on the same index.
 *   Pushes need no tag: `next[idx] = X` stays right whenever the head still
 *   reads `X`.
 * - A {@linkcode Handle} is `generation << indexBits | index`. Each allocation
 *   bumps the slab's 31-bit generation; `free` flips the allocated bit with a
 *   compare-and-swap, so a stale handle (older generation) or a second free of
 *   the same handle is refused with `InvalidHandle`, even when two threads
 *   race to free it.
 * - Nothing read from shared memory is trusted: a popped index, a `next` link
 *   or a length outside the pool is reported as `RingCorrupt`, never followed.
 *
 * @module
 */

import { InvalidHandle, InvalidMagic, RingCorrupt, VersionMismatch } from "./errors.ts";

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

const MAGIC = 0x4c4f4f50;
const VERSION = 1;
/** Byte offsets of header fields. */
const H_MAGIC = 0x00;
const H_VERSION = 0x04;
const H_SLAB_SIZE = 0x08;
const H_NUM_SLABS = 0x0c;
const H_STRIDE = 0x10;
const H_DATA_OFFSET = 0x14;
const H_HEAD = 0x40;
const META_OFFSET = 0x80;
const META_BYTES = 16;
/** Int32 word indexes within the header / a slab's meta. */
const W_HEAD = H_HEAD >> 2;
const M_STATE = 0;
const M_LENGTH = 1;
const M_NEXT = 2;
const META_WORDS = META_BYTES >> 2;

/** Largest slab: views and lengths stay 32-bit safe. */
const MAX_SLAB_SIZE = 2 ** 30;
/** Largest pool: leaves at least 12 tag bits in the head and 12 generation bits in a handle. */
const MAX_SLABS = 2 ** 20 - 1;
const GENERATION_MASK = 0x7fffffff;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function checkSize(what: string, name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${what} as ${name} must be an integer: received ${String(value)}`);
  }
  if (value < 1 || value > max) {
    throw new RangeError(
      `Cannot ${what} as ${name} must be between 1 and ${max}: received ${value}`,
    );
  }
  return value;
}

function checkOffset(what: string, byteOffset: unknown): number {
  if (typeof byteOffset !== "number" || !Number.isInteger(byteOffset)) {
    throw new TypeError(
      `Cannot ${what} as byteOffset must be an integer: received ${String(byteOffset)}`,
    );
  }
  if (byteOffset < 0 || byteOffset % 8 !== 0) {
    throw new RangeError(
      `Cannot ${what} as byteOffset must be a non-negative multiple of 8: received ${byteOffset}`,
    );
  }
  return byteOffset;
}

function checkBuffer(what: string, buffer: unknown): ArrayBufferLike {
  if (!(buffer instanceof SharedArrayBuffer) && !(buffer instanceof ArrayBuffer)) {
    throw new TypeError(
      `Cannot ${what} as buffer must be a SharedArrayBuffer or ArrayBuffer: received ${
        Object.prototype.toString.call(buffer)
      }`,
    );
  }
  return buffer;
}

/** Set by attach just before it calls the constructor, which then views instead of creating. */
let attachTarget:
  | { buffer: ArrayBufferLike; byteOffset: number; slabSize: number; numSlabs: number }
  | null = null;

function layout(slabSize: number, numSlabs: number) {
  const stride = align(slabSize, 64);
  const dataOffset = align(META_OFFSET + META_BYTES * numSlabs, 64);
  return { stride, dataOffset, total: dataOffset + stride * numSlabs };
}

/** Fewest bits whose all-ones value (the NIL index) lies above every real index. */
function indexBitsFor(numSlabs: number): number {
  let bits = 1;
  while ((2 ** bits) - 1 < numSlabs) bits++;
  return bits;
}

/**
 * A lock-free pool of fixed-size slabs in shared memory.
 *
 * `alloc` and `free` are lock-free and safe from any number of threads or
 * processes at once. `get`, `getWritable` and `setLen` on one handle are for
 * its current owner only, which is correct because ownership is exclusive.
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
  #nil: number;
  #genMask: number;
  /** Header words (the head lives here). */
  #header: Int32Array;
  /** Slab meta words, META_WORDS per slab. */
  #meta: Int32Array;
  /** Every slab's bytes, slab i at i * stride. */
  #bytes: Uint8Array;

  /**
   * Creates a pool of `numSlabs` slabs of `slabSize` bytes in a new
   * `SharedArrayBuffer`. Allocates the buffer.
   *
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^20 − 1.
   * @throws {TypeError} If a size is not an integer.
   * @throws {RangeError} If a size is out of range.
   */
  constructor(slabSize: number, numSlabs: number) {
    const target = attachTarget;
    attachTarget = null;
    let buffer: ArrayBufferLike;
    let byteOffset = 0;
    if (target !== null) {
      ({ buffer, byteOffset, slabSize, numSlabs } = target);
    } else {
      checkSize("create buffer pool", "slabSize", slabSize, MAX_SLAB_SIZE);
      checkSize("create buffer pool", "numSlabs", numSlabs, MAX_SLABS);
      buffer = new SharedArrayBuffer(layout(slabSize, numSlabs).total);
      BufferPool.#format(buffer, 0, slabSize, numSlabs);
    }
    const l = layout(slabSize, numSlabs);
    const indexBits = indexBitsFor(numSlabs);
    this.#buffer = buffer;
    this.#byteOffset = byteOffset;
    this.#slabSize = slabSize;
    this.#numSlabs = numSlabs;
    this.#stride = l.stride;
    this.#dataStart = byteOffset + l.dataOffset;
    this.#indexBits = indexBits;
    this.#indexMask = 2 ** indexBits - 1;
    this.#nil = this.#indexMask;
    this.#genMask = 2 ** (32 - indexBits) - 1;
    this.#header = new Int32Array(buffer, byteOffset, META_OFFSET >> 2);
    this.#meta = new Int32Array(buffer, byteOffset + META_OFFSET, numSlabs * META_WORDS);
    this.#bytes = new Uint8Array(buffer, this.#dataStart, l.stride * numSlabs);
  }

  /**
   * The bytes a pool of this shape needs, for sizing shared memory before
   * {@linkcode BufferPool.init}.
   *
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^20 − 1.
   * @returns The footprint in bytes (header, slab meta and slabs).
   * @throws {RangeError} If a size is out of range.
   * @throws {TypeError} If a size is not an integer.
   * @example Sizing a region
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * assert.ok(BufferPool.requiredBytes(4096, 256) >= 4096 * 256);
   * ```
   */
  static requiredBytes(slabSize: number, numSlabs: number): number {
    checkSize("size buffer pool", "slabSize", slabSize, MAX_SLAB_SIZE);
    checkSize("size buffer pool", "numSlabs", numSlabs, MAX_SLABS);
    return layout(slabSize, numSlabs).total;
  }

  /**
   * Formats a new pool in existing shared memory (a `SharedArrayBuffer`, or
   * the `ArrayBuffer` of a native shared region) and returns a view of it.
   * Nobody else may use that memory while it is formatted.
   *
   * @param buffer The memory to format.
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^20 − 1.
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
    checkBuffer(what, buffer);
    checkSize(what, "slabSize", slabSize, MAX_SLAB_SIZE);
    checkSize(what, "numSlabs", numSlabs, MAX_SLABS);
    const byteOffset = checkOffset(what, options.byteOffset ?? 0);
    const need = layout(slabSize, numSlabs).total;
    if (byteOffset + need > buffer.byteLength) {
      throw new RangeError(
        `Cannot format buffer pool as it needs ${need} bytes at offset ${byteOffset}: received a buffer of ${buffer.byteLength} bytes`,
      );
    }
    BufferPool.#format(buffer, byteOffset, slabSize, numSlabs);
    return BufferPool.#view(buffer, byteOffset, slabSize, numSlabs);
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
   * @throws {RingCorrupt} If the header's sizes are impossible or do not fit `buffer`.
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
    checkBuffer(what, buffer);
    checkOffset(what, byteOffset);
    if (byteOffset + META_OFFSET > buffer.byteLength) {
      throw new RingCorrupt(
        `Cannot attach buffer pool as the buffer is too small for a header: received ${buffer.byteLength} bytes at offset ${byteOffset}`,
      );
    }
    const words = new Uint32Array(buffer, byteOffset, META_OFFSET >> 2);
    const magic = Atomics.load(words, H_MAGIC >> 2);
    if (magic !== MAGIC) {
      throw new InvalidMagic(
        `Cannot attach buffer pool as the magic must be 0x${MAGIC.toString(16)}: received 0x${
          magic.toString(16)
        }`,
      );
    }
    const version = Atomics.load(words, H_VERSION >> 2);
    if (version !== VERSION) {
      throw new VersionMismatch(
        `Cannot attach buffer pool as the layout version must be ${VERSION}: received ${version}`,
      );
    }
    const slabSize = Atomics.load(words, H_SLAB_SIZE >> 2);
    const numSlabs = Atomics.load(words, H_NUM_SLABS >> 2);
    if (slabSize < 1 || slabSize > MAX_SLAB_SIZE || numSlabs < 1 || numSlabs > MAX_SLABS) {
      throw new RingCorrupt(
        `Cannot attach buffer pool as its header holds impossible sizes: received slabSize ${slabSize} and numSlabs ${numSlabs}`,
      );
    }
    const l = layout(slabSize, numSlabs);
    const stride = Atomics.load(words, H_STRIDE >> 2);
    const dataOffset = Atomics.load(words, H_DATA_OFFSET >> 2);
    if (stride !== l.stride || dataOffset !== l.dataOffset) {
      throw new RingCorrupt(
        `Cannot attach buffer pool as its header disagrees with its sizes: received stride ${stride} and dataOffset ${dataOffset}`,
      );
    }
    if (byteOffset + l.total > buffer.byteLength) {
      throw new RingCorrupt(
        `Cannot attach buffer pool as it claims ${l.total} bytes at offset ${byteOffset}: received a buffer of ${buffer.byteLength} bytes`,
      );
    }
    return BufferPool.#view(buffer, byteOffset, slabSize, numSlabs);
  }

  /**
   * Rebuilds a pool in a Worker from {@linkcode BufferPool.handle}.
   *
   * @param handle The handle another thread made.
   * @returns A view of the same pool.
   * @throws {TypeError} If `handle` has the wrong shape.
   * @throws {InvalidMagic} If the memory holds no pool.
   * @throws {RingCorrupt} If the pool's header is impossible.
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

  static #format(buffer: ArrayBufferLike, byteOffset: number, slabSize: number, numSlabs: number) {
    const l = layout(slabSize, numSlabs);
    const words = new Int32Array(buffer, byteOffset, META_OFFSET >> 2);
    const meta = new Int32Array(buffer, byteOffset + META_OFFSET, numSlabs * META_WORDS);
    const nil = 2 ** indexBitsFor(numSlabs) - 1;
    // Free list 0 → 1 → … → numSlabs-1 → NIL, every slab free at generation 0; these plain
    // writes and the header fields are published by the stores of the head and the magic below.
    for (let i = 0; i < numSlabs; i++) {
      const m = i * META_WORDS;
      meta[m + M_STATE] = 0;
      meta[m + M_LENGTH] = 0;
      meta[m + M_NEXT] = i + 1 < numSlabs ? i + 1 : nil;
    }
    words[H_SLAB_SIZE >> 2] = slabSize;
    words[H_NUM_SLABS >> 2] = numSlabs;
    words[H_STRIDE >> 2] = l.stride;
    words[H_DATA_OFFSET >> 2] = l.dataOffset;
    words[H_VERSION >> 2] = VERSION;
    // Publishes the free list: tag 0, index 0.
    Atomics.store(words, W_HEAD, 0);
    // Publishes the formatted pool to attachers, last.
    Atomics.store(words, H_MAGIC >> 2, MAGIC);
  }

  static #view(
    buffer: ArrayBufferLike,
    byteOffset: number,
    slabSize: number,
    numSlabs: number,
  ): BufferPool {
    attachTarget = { buffer, byteOffset, slabSize, numSlabs };
    return new BufferPool(slabSize, numSlabs);
  }

  /**
   * Takes a free slab. Lock-free; allocation-free.
   *
   * @returns The slab's handle, or `null` when every slab is taken.
   * @throws {RingCorrupt} If the free list in shared memory points outside the pool.
   * @example Allocating until the pool is exhausted
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * const pool = new BufferPool(64, 1);
   * assert.ok(pool.alloc() !== null);
   * assert.equal(pool.alloc(), null);
   * ```
   */
  alloc(): Handle | null {
    const header = this.#header;
    const meta = this.#meta;
    const indexBits = this.#indexBits;
    const indexMask = this.#indexMask;
    const nil = this.#nil;
    const numSlabs = this.#numSlabs;
    for (;;) {
      const head = Atomics.load(header, W_HEAD);
      const index = head & indexMask;
      if (index === nil) return null;
      if (index >= numSlabs) {
        throw new RingCorrupt(
          `Cannot allocate as the free-list head points outside the pool: received index ${index} of ${numSlabs}`,
        );
      }
      // Plain read after the head's acquire load; a racing re-push changes the tag too.
      const next = meta[index * META_WORDS + M_NEXT];
      if (next !== nil && (next < 0 || next >= numSlabs)) {
        // A concurrent pop may have reused `index`; only a head that still reads the same is corrupt.
        if (Atomics.load(header, W_HEAD) !== head) continue;
        throw new RingCorrupt(
          `Cannot allocate as slab ${index} links outside the pool: received next ${next} of ${numSlabs}`,
        );
      }
      // Step: swap head (t, index) for (t + 1, next). Fails if anyone popped since our load.
      const tag = (head >>> indexBits) + 1;
      const swapped = ((tag << indexBits) | next) | 0;
      if (Atomics.compareExchange(header, W_HEAD, head, swapped) !== head) continue;
      // We own `index` now: bump its generation and mark it allocated.
      const m = index * META_WORDS;
      // Ours now: nobody else writes a free slab's state, so a plain read is current.
      const generation = ((meta[m + M_STATE] >>> 1) + 1) & GENERATION_MASK;
      meta[m + M_LENGTH] = 0; // published by the state store below
      // Publishes the slab as allocated under its new generation.
      Atomics.store(meta, m + M_STATE, (generation << 1) | 1);
      return (((generation & this.#genMask) << indexBits) | index) >>> 0;
    }
  }

  /**
   * Gives a slab back. Lock-free; allocation-free. The caller must not touch
   * the slab afterwards.
   *
   * @param handle The handle {@linkcode BufferPool.alloc} returned.
   * @throws {InvalidHandle} If the handle is stale, foreign, or already freed.
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
        `Cannot free handle 0x${(handle >>> 0).toString(16)} as slab ${index} was freed meanwhile`,
      );
    }
    const header = this.#header;
    const tagMask = ~this.#indexMask;
    for (;;) {
      const head = header[W_HEAD]; // a stale read only fails the swap
      meta[m + M_NEXT] = head & this.#indexMask; // published by the swap below
      // Publishes slab `index` as the new top of the free list (tag unchanged).
      if (Atomics.compareExchange(header, W_HEAD, head, (head & tagMask) | index) === head) {
        return;
      }
    }
  }

  /**
   * A view of the slab's payload (its first `setLen` bytes). Zero copy;
   * allocates the view object (use {@linkcode BufferPool.bytes} with
   * {@linkcode BufferPool.offsetOf} to avoid that).
   *
   * @param handle An allocated slab's handle.
   * @returns The payload bytes, in place.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   * @throws {RingCorrupt} If the slab's length word exceeds the slab size.
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
    if (!Number.isInteger(length) || length < 0 || length > this.#slabSize) {
      throw new RangeError(
        `Cannot set slab length as it must be between 0 and ${this.#slabSize}: received ${length}`,
      );
    }
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
   * @throws {RingCorrupt} If the length word exceeds the slab size.
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
   * Counts free slabs by reading every slab's state: O(numSlabs), for
   * diagnostics. Exact when no alloc or free is in flight.
   *
   * @returns Slabs not allocated.
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
    for (let i = 0; i < this.#numSlabs; i++) {
      if ((Atomics.load(this.#meta, i * META_WORDS + M_STATE) & 1) === 0) free++;
    }
    return free;
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
   * The pool's footprint in shared memory: header, slab meta and slabs.
   *
   * @returns Bytes.
   * @example Footprint
   * ```ts
   * import assert from "node:assert/strict";
   * import { BufferPool } from "@ringmpsc/ringmpsc";
   * assert.equal(new BufferPool(4096, 2).totalMemory(), 8384);
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
        `Cannot ${what} slab as handle 0x${
          handle.toString(16)
        } is stale or freed: slab ${index} is ${
          (state & 1) === 0 ? "free" : `at generation ${generation}`
        }`,
      );
    }
  }

  #length(index: number): number {
    // Plain read: setLen's store reached this owner with the handle.
    const length = this.#meta[index * META_WORDS + M_LENGTH];
    if (length < 0 || length > this.#slabSize) {
      throw new RingCorrupt(
        `Cannot read slab ${index} as its length exceeds the slab size ${this.#slabSize}: received ${length}`,
      );
    }
    return length;
  }
}
