/**
 * basic: an SPSC ring in one thread — reserve/commit, readable/advance,
 * send/recv.
 *
 * Run: deno run examples/basic.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ring, u64 } from "@ringmpsc/ringmpsc";

const ring = new Ring(u64, { ringBits: 12 }); // 4096 slots of u64 (bigint)

// Zero-copy write: reserve a window, fill it, publish it with one store.
const r = ring.reserve(3)!;
for (let i = 0; i < r.length; i++) r.array[r.offset + i] = BigInt(i + 1);
ring.commit(r.length);

// Convenience: copy in and out.
ring.send([4n, 5n]);

// Zero-copy read: the readable window, then advance past it.
let sum = 0n;
const region = ring.readable()!;
for (let i = 0; i < region.length; i++) sum += region.array[region.offset + i];
ring.advance(region.length);

assert.equal(region.length, 5);
assert.equal(sum, 15n);
assert.ok(ring.isEmpty());
console.log(`basic: read ${region.length} items, sum ${sum}, ring empty: ${ring.isEmpty()}`);
