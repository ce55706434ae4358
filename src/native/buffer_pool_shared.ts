/**
 * {@linkcode SharedBufferPool}: a `BufferPool` in a sealed memfd, so that
 * processes share one set of slabs and pass 32-bit handles (through a
 * `SharedRing`, a broadcast ring, or any other channel) instead of payloads.
 * The pool's byte layout is the one drawn in `src/_buffer_pool_layout.ts` (a
 * 128-byte header, the holder table, the allocation bitmap, 16 bytes of meta
 * per slab, then the 64-byte-aligned slabs), placed at offset 0 of the memfd.
 *
 * The memfd is sealed against shrinking and growing and every attacher
 * checks the pool's header against the mapping, so a peer can neither
 * truncate the memory under us nor make us read outside it. A peer can still
 * scribble on the slabs, the bitmap and the states; the pool reports what it
 * finds impossible as `PoolCorrupt` and never follows it out of range.
 *
 * Every view this module makes registers its process in the pool's holder
 * table with the pidfd liveness check {@linkcode isProcessAlive}: when a
 * process dies holding slabs (even by SIGKILL), the next `alloc` anywhere
 * that finds the pool exhausted takes them back, and
 * {@linkcode SharedBufferPool.reclaimDead} does so on demand.
 *
 * @module
 */

import { BufferPool } from "../buffer_pool.ts";
import { getPid, isProcessAlive } from "./process.ts";
import { SharedMemory } from "./shared_memory.ts";

/** Options of {@linkcode SharedBufferPool.create}. */
export interface SharedBufferPoolOptions {
  /** The memfd's name (default `"ringmpsc-pool"`). */
  readonly name?: string;
}

const PAGE = 4096;

/**
 * A {@linkcode BufferPool} in memory shared between processes.
 *
 * @example Two mappings of one pool
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
 * using owner = SharedBufferPool.create(4096, 16);
 * using other = SharedBufferPool.attach(owner.getFd()); // in another process: the fd received by recvFd
 * const h = owner.pool.alloc()!;
 * owner.pool.getWritable(h).set([1, 2, 3]);
 * owner.pool.setLen(h, 3);
 * assert.deepEqual([...other.pool.get(h)], [1, 2, 3]);
 * other.pool.free(h);
 * ```
 */
export class SharedBufferPool {
  #memory: SharedMemory;
  #pool: BufferPool;
  #closed = false;

  private constructor(memory: SharedMemory, pool: BufferPool) {
    this.#memory = memory;
    this.#pool = pool;
    pool.registerProcess(getPid(), isProcessAlive);
  }

  /**
   * Creates a pool of `numSlabs` slabs of `slabSize` bytes in a new sealed
   * memfd (its size rounded up to a page).
   *
   * @param slabSize Payload bytes per slab, between 1 and 2^30.
   * @param numSlabs Number of slabs, between 1 and 2^20 − 1.
   * @param options The memfd's name.
   * @returns The pool, owning its memfd.
   * @throws {RangeError} If a size is out of range.
   * @throws {TypeError} If a size is not an integer.
   * @throws {SystemError} If the memfd cannot be made or mapped.
   * @throws {Exhausted} If the pool's 64 holder entries are taken by live processes.
   * @example Creating
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
   * using shared = SharedBufferPool.create(1024, 8);
   * assert.equal(shared.pool.capacity(), 8);
   * ```
   */
  static create(
    slabSize: number,
    numSlabs: number,
    options: SharedBufferPoolOptions = {},
  ): SharedBufferPool {
    const bytes = Math.ceil(BufferPool.requiredBytes(slabSize, numSlabs) / PAGE) * PAGE;
    const memory = SharedMemory.create(bytes, { name: options.name ?? "ringmpsc-pool" });
    try {
      return new SharedBufferPool(memory, BufferPool.init(memory.buffer, slabSize, numSlabs));
    } catch (error) {
      memory.close();
      throw error;
    }
  }

  /**
   * Maps a pool another process created, from its memfd (for example received
   * with `recvFd`), checking the seals, the size and the pool's header. The fd
   * stays the caller's to close (the mapping outlives it).
   *
   * @param fd The pool's memfd.
   * @returns The pool.
   * @throws {InvalidSharedMemory} If the memfd is not sealed against resizing.
   * @throws {InvalidMagic} If it holds no pool.
   * @throws {VersionMismatch} If the pool's layout version differs.
   * @throws {PoolCorrupt} If the header is impossible or claims more than the mapping.
   * @throws {SystemError} If the fd cannot be mapped.
   * @throws {Exhausted} If the pool's 64 holder entries are taken by live processes.
   * @example Attaching by fd (here in the same process)
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
   * using owner = SharedBufferPool.create(64, 4);
   * using other = SharedBufferPool.attach(owner.getFd());
   * assert.equal(other.pool.capacity(), 4);
   * ```
   */
  static attach(fd: number): SharedBufferPool {
    const memory = SharedMemory.attach(fd);
    try {
      return new SharedBufferPool(memory, BufferPool.attach(memory.buffer));
    } catch (error) {
      memory.close();
      throw error;
    }
  }

  /** The pool: alloc, free, get, getWritable, setLen and the rest. */
  get pool(): BufferPool {
    return this.#pool;
  }

  /**
   * Takes back the slabs of every process registered with this pool that has
   * died (checked through pidfds), as `alloc` does by itself on exhaustion.
   *
   * @returns How many slabs came back.
   * @throws {PoolCorrupt} If a holder entry names an impossible pid.
   * @example Nothing to take back
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
   * using shared = SharedBufferPool.create(64, 2);
   * shared.pool.alloc();
   * assert.equal(shared.reclaimDead(), 0);
   * ```
   */
  reclaimDead(): number {
    return this.#pool.reclaimDead(isProcessAlive);
  }

  /**
   * The memfd to pass to other processes.
   *
   * @returns The fd.
   * @example Getting the fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
   * using shared = SharedBufferPool.create(64, 2);
   * assert.ok(shared.getFd() >= 0);
   * ```
   */
  getFd(): number {
    return this.#memory.fd;
  }

  /**
   * Unmaps the pool (and closes the memfd if this side created it) and
   * removes this view's holder entry: slabs it still holds are then no longer
   * taken back automatically (use `reclaim` with its holder id). Handles held
   * elsewhere stay valid in the other processes. Safe to call twice.
   *
   * @example Closing
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBufferPool } from "@ringmpsc/ringmpsc/native";
   * const shared = SharedBufferPool.create(64, 2);
   * shared.close();
   * shared.close();
   * assert.equal(shared.pool.bytes.length, 0); // unmapped
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.unregisterProcess();
    this.#memory.close();
  }

  /** Same as {@linkcode SharedBufferPool.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
