/**
 * backpressure: a fast producer Worker and a slow consumer on a tiny ring.
 * The producer blocks (futex sleep, no spinning) whenever the ring is full
 * and is woken by the consumer's advance; nothing is dropped.
 * Run: deno run examples/backpressure.ts
 *
 * @module
 */
import { Ring, u32, WaitStrategy } from "../mod.ts";

const COUNT = 10_000;
const ring = new Ring(u32, { ringBits: 4 }); // only 16 slots

const producer = new Worker(
  URL.createObjectURL(
    new Blob([
      `import { Ring, WaitStrategy } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
       self.onmessage = (e) => {
         const ring = Ring.fromHandle(e.data);
         for (let i = 0; i < ${COUNT}; i++) ring.sendOneBlocking(i, WaitStrategy.blocking);
         ring.close();
       };`,
    ], { type: "text/javascript" }),
  ),
  { type: "module" },
);
producer.postMessage(ring.handle());

let expected = 0;
let fullSeen = 0;
for (;;) {
  if (ring.isFull()) fullSeen++; // the producer is ahead and must wait for us
  const item = ring.tryRecv();
  if (item === null) {
    try {
      ring.waitReadable(WaitStrategy.blocking);
      continue;
    } catch {
      break; // Closed: the producer is done and the ring is drained
    }
  }
  if (item !== expected++) throw new Error(`out of order: ${item}`);
  if (expected % 1000 === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // be slow
}
producer.terminate();
console.log(
  `backpressure: received ${expected} of ${COUNT} in order; saw the ring full ${
    fullSeen > 0 ? "yes" : "no"
  }`,
);
