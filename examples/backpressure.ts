/**
 * backpressure: a fast producer Worker and a slow consumer on a tiny ring.
 * The producer blocks (futex sleep, no spinning) whenever the ring is full
 * and is woken by the consumer's advance; nothing is dropped.
 *
 * Run: deno run --allow-read=. examples/backpressure.ts
 *
 * (`--allow-read` lets the Worker load its module files; rings need no
 * permission.) The consumer awaits data instead of blocking the main thread,
 * so a Worker that dies surfaces here as an error instead of a hang.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ring, u32 } from "@ringmpsc/ringmpsc";
import type { BackpressureJob } from "./backpressure_worker.ts";

const COUNT = 10_000;
const ring = new Ring(u32, { ringBits: 4 }); // only 16 slots
const producer = new Worker(new URL("./backpressure_worker.ts", import.meta.url), {
  type: "module",
});
producer.postMessage({ handle: ring.handle(), count: COUNT } satisfies BackpressureJob);

let expected = 0;
let fullSeen = 0;
for await (const item of ring) { // ends when the producer has closed the ring and it is drained
  if (ring.len() === ring.capacity() - 1) fullSeen++; // the producer is ahead, waiting for room
  assert.equal(item, expected++, "items arrive in order");
  if (expected % 1000 === 0) await new Promise((r) => setTimeout(r, 1)); // be slow
}
producer.terminate();
assert.equal(expected, COUNT);
assert.ok(fullSeen > 0, "the producer had to wait for room");
console.log(`backpressure: received ${expected} of ${COUNT} in order; saw the ring full`);
