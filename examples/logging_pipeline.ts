/**
 * logging_pipeline: variable-length log lines from two Workers through
 * MessageRings (zero-copy frames that never split at the wrap) to one
 * writer that formats them.
 *
 * Run: deno run --allow-read=. examples/logging_pipeline.ts
 *
 * (`--allow-read` lets the Workers load their module files.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { MessageRing } from "@ringmpsc/ringmpsc";
import type { LoggerJob } from "./logging_pipeline_worker.ts";

const LINES = 2_000;
const rings = [new MessageRing({ ringBits: 14 }), new MessageRing({ ringBits: 14 })];
const workers = rings.map((ring, id) => {
  const w = new Worker(new URL("./logging_pipeline_worker.ts", import.meta.url), {
    type: "module",
  });
  w.postMessage({ handle: ring.handle(), id, lines: LINES } satisfies LoggerJob);
  return w;
});

const decoder = new TextDecoder();
const counts = [0, 0];
let bytes = 0;
while (rings.some((r) => !(r.isClosed() && r.ring.isEmpty()))) {
  for (const [id, ring] of rings.entries()) {
    for (let m = ring.readMessage(); m !== null; m = ring.readMessage()) {
      const line = decoder.decode(m.array.subarray(m.offset, m.offset + m.length)); // one copy: the string
      assert.ok(line.startsWith(`worker ${id} event ${counts[id]} `), `in order: ${line}`);
      counts[id]++;
      bytes += m.length;
      ring.advanceMessage();
    }
  }
  await Promise.race(rings.map((r) => r.readableAsync().catch(() => {})));
}
workers.forEach((w) => w.terminate());
assert.deepEqual(counts, [LINES, LINES]);
console.log(
  `logging_pipeline: ${counts[0] + counts[1]} lines (${bytes} bytes), each worker's lines in order`,
);
