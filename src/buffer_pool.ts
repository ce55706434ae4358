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
 * The pool is split by concern, each part internal and documented at its top:
 * - `_buffer_pool_layout.ts`: the byte layout (version 2, drawn there), sizing,
 *   formatting, and the header check at attach;
 * - `_buffer_pool_slabs.ts`: alloc and free on an allocation bitmap with a
 *   clock hand per view (no free list, so no ABA and no tag), the handle
 *   encoding and its checks;
 * - `_buffer_pool_holders.ts`: holder ids, the holder table of processes,
 *   reclaim of the slabs of holders that are gone, and orphan repair.
 *
 * Nothing read from shared memory is trusted: header fields are checked at
 * attach, a length past the slab, an impossible bitmap or state, and a holder
 * entry with an impossible pid are `PoolCorrupt` (printing the words read),
 * every loop over shared words is bounded. A peer that writes a slab's state
 * can still free that slab under its owner: the state is the truth, and
 * nothing tells a forged free from a real one.
 *
 * Spin checks alloc, free and reclaim, and shows the v1 free list's ABA: `models/buffer_pool.pml`.
 *
 * @module
 */

import { checkInstance, checkInteger, checkOffset, checkPid } from "./_validate.ts";
import {
  newHolderId,
  OrphanWatch,
  reclaimDead,
  reclaimHolder,
  registerHolder,
  unregisterHolder,
} from "./_buffer_pool_holders.ts";
import {
  format,
  HEADER_WORDS,
  HOLDER_SLOTS,
  HOLDER_WORDS,
  HOLDERS_OFFSET,
  layout,
  MAX_SLAB_SIZE,
  MAX_SLABS,
  readHeader,
} from "./_buffer_pool_layout.ts";
import { type PoolMemory, SlabTable } from "./_buffer_pool_slabs.ts";

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

/** Least time between two automatic reclaims of dead processes by one view. */
const RECLAIM_INTERVAL_MS = 20;
/** Passed by this module's factories to the constructor to view existing memory. */
const VIEW: unique symbol = Symbol("BufferPool view");

/** A `SharedArrayBuffer`, or the `ArrayBuffer` of a native shared region. */
function checkMemory(action: string, buffer: unknown): ArrayBufferLike {
  if (buffer instanceof ArrayBuffer) return buffer;
  return checkInstance(action, "buffer", buffer, SharedArrayBuffer);
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
  /** The bitmap, slab meta and slab bytes, with this view's clock hand. */
  #slabs: SlabTable;
  #holderId: number;
  /** The holder-table entry this view registered, or -1. */
  #entry = -1;
  #isAlive: ProcessAlive | null = null;
  #lastReclaim = -Infinity;
  /** Allocated on the first reclaim. */
  #orphans: OrphanWatch | null = null;
  /** Holder table, HOLDER_WORDS per entry. */
  #holders: Int32Array;

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
    this.#buffer = buffer;
    this.#byteOffset = byteOffset;
    this.#holders = new Int32Array(
      buffer,
      byteOffset + HOLDERS_OFFSET,
      HOLDER_SLOTS * HOLDER_WORDS,
    );
    this.#holderId = newHolderId(new Int32Array(buffer, byteOffset, HEADER_WORDS));
    this.#slabs = new SlabTable(memory, this.#holderId);
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
    const h = this.#slabs.take();
    if (h !== null || this.#isAlive === null) return h;
    const now = performance.now();
    if (now - this.#lastReclaim < RECLAIM_INTERVAL_MS) return null;
    this.#lastReclaim = now;
    return this.reclaimDead(this.#isAlive) > 0 ? this.#slabs.take() : null;
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
    this.#slabs.free(handle);
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
    const index = this.#slabs.check(handle, "read");
    return this.#slabs.view(index, this.#slabs.length(index));
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
    return this.#slabs.view(this.#slabs.check(handle, "write"), this.#slabs.slabSize);
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
    const index = this.#slabs.check(handle, "set length of");
    checkInteger("set slab length", "length", length, 0, this.#slabs.slabSize);
    this.#slabs.setLength(index, length);
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
    return this.#slabs.check(handle, "locate") * this.#slabs.stride;
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
    return this.#slabs.length(this.#slabs.check(handle, "read length of"));
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
    return this.#slabs.available();
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
    return reclaimHolder(this.#slabs.meta, this.#slabs.bitmap, holder) + this.#sweep(true);
  }

  /** Repairs orphans seen a grace period ago; looks for new ones after a death. */
  #sweep(deathSeen: boolean): number {
    this.#orphans ??= new OrphanWatch();
    return this.#orphans.sweep(this.#slabs.meta, this.#slabs.bitmap, performance.now(), deathSeen);
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
    const { meta, bitmap } = this.#slabs;
    const { slabs, deaths } = reclaimDead(this.#holders, meta, bitmap, isAlive);
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
    return this.#slabs.numSlabs;
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
    return layout(this.#slabs.slabSize, this.#slabs.numSlabs).total;
  }

  /** Payload bytes per slab. */
  get slabSize(): number {
    return this.#slabs.slabSize;
  }

  /**
   * Every slab's bytes as one array, slab `i` at `i * stride`; with
   * {@linkcode BufferPool.offsetOf} it reads and writes payloads without
   * allocating a view.
   */
  get bytes(): Uint8Array {
    return this.#slabs.bytes;
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
}
