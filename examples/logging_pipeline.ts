/**
 * logging_pipeline: variable-length log lines from two Workers through
 * MessageRings (zero-copy frames that never split at the wrap) to one
 * writer that formats them. Run: deno run examples/logging_pipeline.ts
 *
 * @module
 */
import { MessageRing } from "../mod.ts";

const LINES = 2_000;
const rings = [new MessageRing({ ringBits: 14 }), new MessageRing({ ringBits: 14 })];
const source = `import { MessageRing } from ${
  JSON.stringify(new URL("../mod.ts", import.meta.url).href)
};
self.onmessage = (e) => {
  const ring = MessageRing.fromHandle(e.data.handle);
  const encoder = new TextEncoder();
  for (let i = 0; i < ${LINES};) {
    const line = encoder.encode("worker " + e.data.id + " event " + i + " " + "x".repeat(i % 50));
    if (ring.sendMessage(line)) i++;
  }
  ring.close();
};`;
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const workers = rings.map((ring, id) => {
  const w = new Worker(url, { type: "module" });
  w.postMessage({ handle: ring.handle(), id });
  return w;
});

const decoder = new TextDecoder();
const counts = [0, 0];
let bytes = 0;
while (rings.some((r) => !(r.isClosed() && r.ring.isEmpty()))) {
  for (const [id, ring] of rings.entries()) {
    for (let m = ring.readMessage(); m !== null; m = ring.readMessage()) {
      const line = decoder.decode(m.array.subarray(m.offset, m.offset + m.length)); // one copy: the string
      if (!line.startsWith(`worker ${id} event ${counts[id]} `)) {
        throw new Error(`bad line: ${line}`);
      }
      counts[id]++;
      bytes += m.length;
      ring.advanceMessage();
    }
  }
  await Promise.race(rings.map((r) => r.readableAsync().catch(() => {})));
}
workers.forEach((w) => w.terminate());
console.log(
  `logging_pipeline: ${counts[0] + counts[1]} lines (${bytes} bytes), each worker's lines in order`,
);
