/**
 * The slabs of a {@linkcode BufferPool} as one view sees them, internal:
 * allocating a slab from the bitmap, freeing it, and checking a handle against
 * its slab's state. The words are drawn in `_buffer_pool_layout.ts`; holders
 * and reclaim are in `_buffer_pool_holders.ts`.
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
 * - A {@linkcode Handle} is `generation << indexBits | index` with
 *   `indexBits = ceil(log2(numSlabs))` (≤ 16), so it carries
 *   `32 − indexBits` ≥ 16 bits of the slab's 31-bit generation. The real bound:
 *   a stale handle is accepted only if its slab has been allocated again a
 *   multiple of 2^(32 − indexBits) times since (65,536 times at 2^16 slabs,
 *   2^24 at 256) and is allocated at that moment. The clock hands allocate
 *   round-robin, so a slab is reused about once per pass over the free slabs,
 *   not once per alloc as from a LIFO free list.
 *
 * @module
 */

import { InvalidHandle, PoolCorrupt } from "./errors.ts";
import type { Handle } from "./buffer_pool.ts";
import { releaseBit } from "./_buffer_pool_holders.ts";
import {
  BITMAP_OFFSET,
  GENERATION_MASK,
  hex,
  indexBitsFor,
  lastWordMask,
  layout,
  M_LENGTH,
  M_OWNER,
  M_STATE,
  META_WORDS,
} from "./_buffer_pool_layout.ts";

/** Failed bitmap swaps one alloc tolerates: only a peer rewriting a word forever reaches it. */
const MAX_SWAP_FAILURES = 2 ** 16;

/** Memory a view is built over: a formatted pool of this shape at `byteOffset`. */
export interface PoolMemory {
  /** The memory holding the pool. */
  buffer: ArrayBufferLike;
  /** Where the pool starts in `buffer`. */
  byteOffset: number;
  /** Payload bytes per slab. */
  slabSize: number;
  /** Number of slabs. */
  numSlabs: number;
}

/**
 * One view's access to a pool's slabs: the bitmap, the slab meta words and
 * the slab bytes, with this view's clock hand. `take` and `free` are
 * lock-free; the other methods are for a handle's current owner.
 */
export class SlabTable {
  /** Payload bytes per slab. */
  readonly slabSize: number;
  /** Number of slabs. */
  readonly numSlabs: number;
  /** Bytes from one slab's start to the next one's. */
  readonly stride: number;
  /** Allocation bitmap. */
  readonly bitmap: Int32Array;
  /** Slab meta words, META_WORDS per slab. */
  readonly meta: Int32Array;
  /** Every slab's bytes, slab i at i * stride. */
  readonly bytes: Uint8Array;
  #buffer: ArrayBufferLike;
  #dataStart: number;
  #indexBits: number;
  #indexMask: number;
  #genMask: number;
  #words: number;
  #lastMask: number;
  /** Recorded as the owner of every slab this view allocates. */
  #holderId: number;
  /** This view's clock hand: the slab index where the next alloc starts looking. */
  #hand: number;

  /** Views `memory`'s slabs for the view whose holder id is `holderId`. */
  constructor(memory: PoolMemory, holderId: number) {
    const { buffer, byteOffset, slabSize, numSlabs } = memory;
    const l = layout(slabSize, numSlabs);
    const indexBits = indexBitsFor(numSlabs);
    this.slabSize = slabSize;
    this.numSlabs = numSlabs;
    this.stride = l.stride;
    this.#buffer = buffer;
    this.#dataStart = byteOffset + l.dataOffset;
    this.#indexBits = indexBits;
    this.#indexMask = 2 ** indexBits - 1;
    this.#genMask = 2 ** (32 - indexBits) - 1;
    this.#words = l.words;
    this.#lastMask = lastWordMask(numSlabs);
    this.bitmap = new Int32Array(buffer, byteOffset + BITMAP_OFFSET, l.words);
    this.meta = new Int32Array(buffer, byteOffset + l.metaOffset, numSlabs * META_WORDS);
    this.bytes = new Uint8Array(buffer, this.#dataStart, l.stride * numSlabs);
    this.#holderId = holderId;
    // Spread the views' hands over the pool (Fibonacci hashing of the id).
    this.#hand = (Math.imul(holderId, 0x9e3779b9) >>> 0) % numSlabs;
  }

  /**
   * Claims a free slab's bit from the clock hand on and makes the slab this
   * view's.
   *
   * @returns The slab's handle, or `null` after a pass that found no zero bit.
   * @throws {PoolCorrupt} If the bitmap and the slab's state disagree, or a
   * bitmap word changes under every one of 2^16 swaps.
   */
  take(): Handle | null {
    const bitmap = this.bitmap;
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
      this.#hand = index + 1 === this.numSlabs ? 0 : index + 1;
      return this.#own(index, word);
    }
    return null;
  }

  /** Makes the slab whose bit this view just claimed its own. */
  #own(index: number, word: number): Handle {
    const meta = this.meta;
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
   * Swaps the handle's slab from allocated to free, then clears its bit.
   *
   * @throws {InvalidHandle} If the handle is stale, foreign, or already freed.
   * @throws {PoolCorrupt} If the bit was already clear (the slab is free all the same).
   */
  free(handle: Handle): void {
    const index = this.#index(handle, "free");
    const meta = this.meta;
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
    releaseBit(this.bitmap, index);
  }

  /**
   * Validates a handle for its current owner.
   *
   * @returns The slab's index.
   * @throws {InvalidHandle} If the handle is stale, foreign, or freed.
   */
  check(handle: Handle, what: string): number {
    const index = this.#index(handle, what);
    // Plain read: the owner wrote this state, or got the handle through a synchronizing channel.
    this.#checkState(handle, index, this.meta[index * META_WORDS + M_STATE], what);
    return index;
  }

  /**
   * A slab's payload length, for its owner.
   *
   * @throws {PoolCorrupt} If the length word exceeds the slab size.
   */
  length(index: number): number {
    // Plain read: setLen's store reached this owner with the handle.
    const length = this.meta[index * META_WORDS + M_LENGTH];
    if (length < 0 || length > this.slabSize) {
      throw new PoolCorrupt(
        `Cannot read slab ${index} as its length exceeds the slab size ${this.slabSize}: received ${
          hex(length)
        }`,
      );
    }
    return length;
  }

  /** Publishes a slab's payload length (and the bytes written before it), for its owner. */
  setLength(index: number, length: number): void {
    Atomics.store(this.meta, index * META_WORDS + M_LENGTH, length);
  }

  /** A view of slab `index`'s first `length` bytes. Allocates the view object. */
  view(index: number, length: number): Uint8Array {
    return new Uint8Array(this.#buffer, this.#dataStart + index * this.stride, length);
  }

  /** Counts the zero bits of the bitmap's real slabs: O(numSlabs / 32). */
  available(): number {
    let free = 0;
    for (let w = 0; w < this.#words; w++) {
      let bits = ~Atomics.load(this.bitmap, w);
      if (w === this.#words - 1) bits &= this.#lastMask;
      for (; bits !== 0; bits &= bits - 1) free++;
    }
    return free;
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
    if (index >= this.numSlabs) {
      throw new InvalidHandle(
        `Cannot ${what} slab as the handle's index is outside the pool: received index ${index} of ${this.numSlabs}`,
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
}
