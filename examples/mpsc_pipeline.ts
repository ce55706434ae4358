/**
 * mpsc_pipeline: four producer Workers register on one MPSC channel (each
 * gets its own ring); the main thread consumes with consumeAll and checks
 * every producer's order.
 *
 * Run: deno run --allow-read=. examples/mpsc_pipeline.ts
 *
 * (`--allow-read` lets the Workers load their module files.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, mpsc, u32 } from "@ringmpsc/ringmpsc";
import type { ProducerJob } from "./mpsc_pipeline_worker.ts";

const PRODUCERS = 4;
const EACH = 50_000;
const channel = new mpsc.Channel(u32, { ringBits: 12, maxProducers: 2 }); // grows to 4 on demand

const done = Array.from({ length: PRODUCERS }, (_, id) => {
  const w = new Worker(new URL("./mpsc_pipeline_worker.ts", import.meta.url), { type: "module" });
  w.postMessage({ handle: channel.handle(), id, count: EACH } satisfies ProducerJob);
  return new Promise<void>((resolve) => w.onmessage = () => (w.terminate(), resolve()));
});
Promise.all(done).then(() => channel.close());

const next = new Array(PRODUCERS).fill(0);
const handler = {
  process(v: number) {
    const id = v >>> 24;
    assert.equal(v & 0xffffff, next[id]++, `producer ${id} in order`);
  },
};
for (;;) {
  if (channel.consumeAll(handler) > 0) continue;
  try {
    await channel.readableAsync(); // lets the close above run
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
    channel.drainAll(handler);
    break;
  }
}
assert.deepEqual(next, new Array(PRODUCERS).fill(EACH));
assert.equal(channel.snapshot().producers, PRODUCERS);
console.log(`mpsc_pipeline: ${PRODUCERS * EACH} items from ${PRODUCERS} producers, each in order`);
