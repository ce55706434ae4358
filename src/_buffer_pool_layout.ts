/**
 * The shared-memory layout of a {@linkcode BufferPool}, internal: every byte
 * offset of the pool lives here. This module sizes, formats and checks a
 * pool's memory; it never allocates or frees a slab (`_buffer_pool_slabs.ts`
 * does, and `_buffer_pool_holders.ts` reclaims).
 *
 * Byte layout (version 2), little-endian, from `byteOffset` (a multiple of 8):
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
 * @module
 */

import { InvalidMagic, PoolCorrupt, VersionMismatch } from "./errors.ts";

/** The header's first word, "POOL"; format writes it last. */
export const MAGIC = 0x4c4f4f50;
/** The layout version this module reads and writes. */
export const VERSION = 2;

/** Header fields, as Int32 word indexes from the pool's start. */
export const H_MAGIC = 0x00 >> 2;
export const H_VERSION = 0x04 >> 2;
export const H_SLAB_SIZE = 0x08 >> 2;
export const H_NUM_SLABS = 0x0c >> 2;
export const H_STRIDE = 0x10 >> 2;
export const H_DATA_OFFSET = 0x14 >> 2;
export const H_META_OFFSET = 0x18 >> 2;
export const H_HOLDER_SLOTS = 0x1c >> 2;
export const H_NEXT_HOLDER = 0x40 >> 2;
export const HEADER_WORDS = 0x80 >> 2;

/** The holder table: `HOLDER_SLOTS` entries of two words from 0x80. */
export const HOLDERS_OFFSET = 0x80;
export const HOLDER_SLOTS = 64;
export const HOLDER_WORDS = 2;
export const E_HOLDER = 0;
export const E_PID = 1;

/** The allocation bitmap, one bit per slab, from 0x280. */
export const BITMAP_OFFSET = HOLDERS_OFFSET + HOLDER_SLOTS * HOLDER_WORDS * 4;

/** Slab meta: four words per slab. */
export const META_WORDS = 4;
export const M_STATE = 0;
export const M_LENGTH = 1;
export const M_OWNER = 2;

/** Largest slab: views and lengths stay 32-bit safe. */
export const MAX_SLAB_SIZE = 2 ** 30;
/** Largest pool: 16 index bits leave at least 16 generation bits in a 32-bit handle. */
export const MAX_SLABS = 2 ** 16;
/** A slab's state holds a 31-bit generation above its allocated bit. */
export const GENERATION_MASK = 0x7fffffff;

/** Where each part of a pool of this shape lies, in bytes from the pool's start. */
export interface Layout {
  /** Bitmap words: one bit per slab, rounded up to 32. */
  words: number;
  metaOffset: number;
  stride: number;
  dataOffset: number;
  total: number;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

/** The layout of a pool of `numSlabs` slabs of `slabSize` bytes. */
export function layout(slabSize: number, numSlabs: number): Layout {
  const words = Math.ceil(numSlabs / 32);
  const metaOffset = align64(BITMAP_OFFSET + 4 * words);
  const stride = align64(slabSize);
  const dataOffset = align64(metaOffset + 4 * META_WORDS * numSlabs);
  return { words, metaOffset, stride, dataOffset, total: dataOffset + stride * numSlabs };
}

/** Fewest bits that hold every index below `numSlabs` (at least 1). */
export function indexBitsFor(numSlabs: number): number {
  return Math.max(1, 32 - Math.clz32(numSlabs - 1));
}

/**
 * The bits of the last bitmap word that name real slabs (all ones when
 * `numSlabs` is a multiple of 32); the others are set at format and never
 * looked at.
 */
export function lastWordMask(numSlabs: number): number {
  const tail = numSlabs & 31;
  return tail === 0 ? -1 : (1 << tail) - 1;
}

/**
 * Formats a pool: every slab free at generation 0, no holder, the bitmap's
 * padding bits set. Nobody else may use the memory meanwhile.
 */
export function format(
  buffer: ArrayBufferLike,
  byteOffset: number,
  slabSize: number,
  numSlabs: number,
): void {
  const l = layout(slabSize, numSlabs);
  const words = new Int32Array(buffer, byteOffset, l.dataOffset >> 2);
  // Plain writes, published by the magic's store below.
  words.fill(0);
  words[BITMAP_OFFSET / 4 + l.words - 1] = ~lastWordMask(numSlabs);
  words[H_SLAB_SIZE] = slabSize;
  words[H_NUM_SLABS] = numSlabs;
  words[H_STRIDE] = l.stride;
  words[H_DATA_OFFSET] = l.dataOffset;
  words[H_META_OFFSET] = l.metaOffset;
  words[H_HOLDER_SLOTS] = HOLDER_SLOTS;
  words[H_VERSION] = VERSION;
  // Publishes the formatted pool to attachers, last.
  Atomics.store(words, H_MAGIC, MAGIC);
}

/** Hex form of a u32 word, for error messages that print full values. */
export function hex(word: number): string {
  return `0x${(word >>> 0).toString(16).padStart(8, "0")}`;
}

/**
 * Reads and checks the header another party formatted, trusting no field that
 * could put a later access outside `buffer`.
 *
 * @returns The pool's shape.
 */
export function readHeader(
  buffer: ArrayBufferLike,
  byteOffset: number,
): { slabSize: number; numSlabs: number } {
  const what = "Cannot attach buffer pool as";
  if (byteOffset + BITMAP_OFFSET > buffer.byteLength) {
    throw new PoolCorrupt(
      `${what} the buffer is too small for a header: received ${buffer.byteLength} bytes at offset ${byteOffset}`,
    );
  }
  const words = new Uint32Array(buffer, byteOffset, HEADER_WORDS);
  const magic = Atomics.load(words, H_MAGIC);
  if (magic !== MAGIC) {
    throw new InvalidMagic(`${what} the magic must be ${hex(MAGIC)}: received ${hex(magic)}`);
  }
  const version = Atomics.load(words, H_VERSION);
  if (version !== VERSION) {
    throw new VersionMismatch(`${what} the layout version must be ${VERSION}: received ${version}`);
  }
  const slabSize = Atomics.load(words, H_SLAB_SIZE);
  const numSlabs = Atomics.load(words, H_NUM_SLABS);
  if (slabSize < 1 || slabSize > MAX_SLAB_SIZE || numSlabs < 1 || numSlabs > MAX_SLABS) {
    throw new PoolCorrupt(
      `${what} its header holds impossible sizes: received slabSize ${slabSize} and numSlabs ${numSlabs}`,
    );
  }
  const l = layout(slabSize, numSlabs);
  const got = [H_STRIDE, H_DATA_OFFSET, H_META_OFFSET, H_HOLDER_SLOTS].map((w) =>
    Atomics.load(words, w)
  );
  const want = [l.stride, l.dataOffset, l.metaOffset, HOLDER_SLOTS];
  if (got.some((v, i) => v !== want[i])) {
    throw new PoolCorrupt(
      `${what} its header disagrees with its sizes: received stride, dataOffset, metaOffset, holderSlots ${
        got.join(", ")
      } where ${want.join(", ")} belong`,
    );
  }
  if (byteOffset + l.total > buffer.byteLength) {
    throw new PoolCorrupt(
      `${what} it claims ${l.total} bytes at offset ${byteOffset}: received a buffer of ${buffer.byteLength} bytes`,
    );
  }
  return { slabSize, numSlabs };
}
