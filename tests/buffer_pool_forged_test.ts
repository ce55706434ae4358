import assert from "node:assert/strict";
import fc from "fast-check";
import { BufferPool } from "../src/buffer_pool.ts";
import {
  Exhausted,
  InvalidHandle,
  InvalidMagic,
  PoolCorrupt,
  VersionMismatch,
} from "../src/errors.ts";
import {
  BITMAP_OFFSET,
  H_DATA_OFFSET,
  H_NUM_SLABS,
  H_VERSION,
  layout,
  M_LENGTH,
  M_STATE,
  META_WORDS,
} from "../src/_buffer_pool_layout.ts";

const typed = (e: unknown) =>
  e instanceof PoolCorrupt || e instanceof InvalidHandle || e instanceof InvalidMagic ||
  e instanceof VersionMismatch || e instanceof Exhausted;

function indexOf(pool: BufferPool, h: number): number {
  return pool.offsetOf(h) / layout(pool.slabSize, pool.capacity()).stride;
}

Deno.test("BufferPool forged: impossible words are PoolCorrupt with the full words read", async (t) => {
  await t.step("a bitmap bit cleared under an allocated slab", () => {
    const pool = new BufferPool(16, 5);
    const h = pool.alloc()!;
    const index = indexOf(pool, h);
    const bitmap = new Int32Array(pool.buffer, BITMAP_OFFSET, 1);
    bitmap[0] &= ~(1 << index);
    const other = BufferPool.attach(pool.buffer);
    let error: unknown;
    for (let i = 0; i < 5 && error === undefined; i++) {
      try {
        const got = other.alloc();
        assert.notEqual(got === null ? -1 : indexOf(other, got), index, "handed out twice");
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof PoolCorrupt, String(error));
    assert.match((error as Error).message, /state 0x00000003/);
    // free() of the real holder finds the bit already taken again by the failed alloc: fine.
    pool.free(h);
  });
  await t.step("a bitmap bit cleared before free", () => {
    const pool = new BufferPool(16, 5);
    const h = pool.alloc()!;
    new Int32Array(pool.buffer, BITMAP_OFFSET, 1)[0] = ~0x1f;
    assert.throws(
      () => pool.free(h),
      /bitmap bit was already clear: received bitmap word 0xffffffe0/,
    );
    assert.throws(() => pool.free(h), InvalidHandle, "freed all the same");
  });
  await t.step("a length word past the slab", () => {
    const pool = new BufferPool(16, 2);
    const h = pool.alloc()!;
    const meta = new Int32Array(pool.buffer, layout(16, 2).metaOffset, 2 * META_WORDS);
    meta[indexOf(pool, h) * META_WORDS + M_LENGTH] = -1;
    assert.throws(() => pool.get(h), /length exceeds the slab size 16: received 0xffffffff/);
    assert.throws(() => pool.lengthOf(h), PoolCorrupt);
  });
  await t.step("headers that lie", () => {
    const pool = new BufferPool(16, 2);
    const words = new Uint32Array(pool.buffer);
    const good = words.slice(0, 8);
    words[0] = 0;
    assert.throws(() => BufferPool.attach(pool.buffer), InvalidMagic);
    words.set(good);
    words[H_VERSION] = 1;
    assert.throws(() => BufferPool.attach(pool.buffer), VersionMismatch);
    words.set(good);
    words[H_NUM_SLABS] = 1000; // numSlabs larger than the buffer holds
    assert.throws(() => BufferPool.attach(pool.buffer), PoolCorrupt);
    words.set(good);
    words[H_DATA_OFFSET] += 64; // dataOffset disagreeing with the sizes
    assert.throws(() => BufferPool.attach(pool.buffer), PoolCorrupt);
    words.set(good);
    assert.equal(BufferPool.attach(pool.buffer).capacity(), 2);
    assert.throws(() => BufferPool.attach(new SharedArrayBuffer(16)), PoolCorrupt);
  });
});

let headerRuns = 0;
Deno.test("BufferPool forged: any forged header is refused with a typed error or sized to fit", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.nat(), fc.integer({ min: 0, max: 0xffffffff })), {
        minLength: 8,
        maxLength: 8,
      }),
      fc.nat({ max: 7 }),
      (fields, keep) => {
        headerRuns++;
        const pool = new BufferPool(64, 8);
        const words = new Uint32Array(pool.buffer);
        // Keep the first `keep` fields honest, forge the rest.
        for (let i = keep; i < 8; i++) words[i] = fields[i];
        try {
          const p = BufferPool.attach(pool.buffer);
          assert.ok(p.totalMemory() <= pool.buffer.byteLength);
          const h = p.alloc();
          if (h !== null) p.free(h);
        } catch (e) {
          assert.ok(typed(e), String(e));
        }
      },
    ),
    { numRuns: 1000 },
  );
  assert.equal(headerRuns, 1000);
});

/** One forged word: where (as a word index from the pool's start) and what. */
const forgery = (words: number) =>
  fc.record({
    // Half aim at the bitmap, the rest anywhere past the header.
    at: fc.oneof(
      fc.integer({ min: BITMAP_OFFSET >> 2, max: (BITMAP_OFFSET >> 2) + 1 }),
      fc.integer({ min: 8, max: words - 1 }),
    ),
    value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 3, 0xffffffff)),
  });

let memoryRuns = 0;
Deno.test("BufferPool forged: forged bitmap, state, owner, length and holder words never make alloc loop or hand out an allocated slab", () => {
  const slabs = 45;
  const l = layout(16, slabs);
  const controlWords = l.dataOffset >> 2;
  fc.assert(
    fc.property(
      fc.nat({ max: slabs }),
      fc.array(forgery(controlWords), { minLength: 1, maxLength: 6 }),
      fc.array(fc.constantFrom("alloc", "free", "read", "reclaim", "attach"), {
        minLength: 1,
        maxLength: 60,
      }),
      (holdCount, forged, ops) => {
        memoryRuns++;
        const pool = new BufferPool(16, slabs);
        const held: number[] = [];
        for (let i = 0; i < holdCount; i++) held.push(pool.alloc()!);
        const words = new Uint32Array(pool.buffer, 0, controlWords);
        // The header's first 8 words are covered above; forge the rest of the control region.
        for (const f of forged) words[f.at] = f.value;
        const meta = new Int32Array(pool.buffer, l.metaOffset, slabs * META_WORDS);
        const other = BufferPool.attach(pool.buffer);
        for (const op of ops) {
          try {
            if (op === "alloc") {
              const before = meta.slice();
              const h = other.alloc();
              if (h === null) continue;
              const index = indexOf(other, h);
              assert.equal(
                before[index * META_WORDS + M_STATE] & 1,
                0,
                `slab ${index} was allocated`,
              );
              held.push(h);
            } else if (op === "free" && held.length > 0) {
              other.free(held.pop()!);
            } else if (op === "read" && held.length > 0) {
              other.get(held[held.length - 1]);
            } else if (op === "reclaim") {
              other.reclaimDead(() => false);
            } else if (op === "attach") {
              BufferPool.attach(pool.buffer);
            }
          } catch (e) {
            assert.ok(typed(e), String(e));
          }
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(memoryRuns, 2000);
  console.log(`forged pool memory: ${memoryRuns} runs, forged headers: ${headerRuns} runs`);
});
