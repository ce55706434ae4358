/**
 * zero_copy: the seed's pointer-ring pattern. Payloads live in a BufferPool
 * slab; only the 4-byte handle travels through the ring. The consumer reads
 * the payload in place and frees the slab.
 *
 * Run: deno run examples/zero_copy.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { BufferPool, Ring, u32 } from "@ringmpsc/ringmpsc";

const pool = new BufferPool(4096, 64); // 64 slabs of 4 KiB in one SharedArrayBuffer
const ring = new Ring(u32, { ringBits: 6 }); // handles only

let checked = 0;
for (let i = 0; i < 1000; i++) {
  // producer: fill a slab in place, send its handle
  const handle = pool.alloc();
  assert.ok(handle !== null, "a free slab");
  const slab = pool.getWritable(handle);
  const length = 100 + (i % 3000);
  slab.fill(i & 0xff, 0, length);
  pool.setLen(handle, length);
  ring.sendOne(handle);

  // consumer: read the payload where it lies, then give the slab back
  const h = ring.tryRecv()!;
  const payload = pool.get(h);
  assert.equal(payload.length, length);
  assert.equal(payload[length - 1], i & 0xff);
  pool.free(h);
  checked++;
}
assert.equal(pool.availableCount(), pool.capacity(), "every slab is back");
console.log(
  `zero_copy: ${checked} payloads passed as 4-byte handles; free slabs ${pool.availableCount()} of ${pool.capacity()}`,
);
