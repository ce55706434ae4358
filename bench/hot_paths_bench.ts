/**
 * `deno bench` for the hot paths, single thread (no cross-core traffic): what
 * one operation costs in instructions, beside ringbuf.js doing the same.
 * Run: `deno bench bench/hot_paths_bench.ts`.
 *
 * @module
 */
import { RingBuffer } from "ringbuf.js";
import { MessageRing, mpsc, Ring, u32 } from "../mod.ts";

const ring = new Ring(u32, { ringBits: 12 });
const rb = new RingBuffer(RingBuffer.getStorageForCapacity(4096, Uint32Array), Uint32Array);
const one = new Uint32Array(1);
const batch = new Uint32Array(256).map((_, i) => i);
const out = new Uint32Array(256);
let sink = 0;
const handler = { process: (x: number) => void (sink += x) };

Deno.bench("Ring sendOne + tryRecv", { group: "one item", baseline: true }, () => {
  ring.sendOne(7);
  sink += ring.tryRecv()!;
});

Deno.bench("ringbuf.js push + pop of 1", { group: "one item" }, () => {
  one[0] = 7;
  rb.push(one);
  rb.pop(one);
  sink += one[0];
});

// The same work on both sides: JS writes 256 items and reads them back. In place, the
// writes go straight into the ring's window; by copy, into an array that `send` copies in,
// and the reads come from the array that `recv` copied out to.
Deno.bench(
  "Ring reserve/commit 256 + readable/advance, filled and read in place",
  { group: "256 items", baseline: true },
  () => {
    const r = ring.reserve(256)!;
    const a = r.array;
    for (let i = r.offset, end = r.offset + r.length; i < end; i++) a[i] = i;
    ring.commit(r.length);
    const region = ring.readable()!;
    let sum = 0;
    for (let i = region.offset, end = region.offset + region.length; i < end; i++) sum += a[i];
    ring.advance(region.length);
    sink += sum;
  },
);

Deno.bench("Ring send 256 + recv 256, filled and read by copy", { group: "256 items" }, () => {
  for (let i = 0; i < 256; i++) batch[i] = i;
  ring.send(batch);
  ring.recv(out);
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += out[i];
  sink += sum;
});

Deno.bench("Ring send 256 + consumeBatch", { group: "256 items" }, () => {
  ring.send(batch);
  ring.consumeBatch(handler);
});

Deno.bench("ringbuf.js push 256 + pop 256, filled and read by copy", { group: "256 items" }, () => {
  for (let i = 0; i < 256; i++) batch[i] = i;
  rb.push(batch);
  rb.pop(out);
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += out[i];
  sink += sum;
});

const channel = new mpsc.Channel(u32, { ringBits: 12, maxProducers: 4 });
const producers = [0, 1, 2, 3].map(() => channel.register());
Deno.bench("mpsc 4 producers sendOne + consumeAll", { group: "channels" }, () => {
  for (const p of producers) p.sendOne(3);
  channel.consumeAll(handler);
});

const messages = new MessageRing({ ringBits: 16 });
const payload = new Uint8Array(100);
Deno.bench(
  "MessageRing sendMessage 100 B + readMessage/advanceMessage",
  { group: "channels" },
  () => {
    messages.sendMessage(payload);
    const m = messages.readMessage()!;
    sink += m.length;
    messages.advanceMessage();
  },
);

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink); // keeps the work observable
});
