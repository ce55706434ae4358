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

Deno.bench(
  "Ring reserve/commit 256 + readable/advance",
  { group: "256 items", baseline: true },
  () => {
    const r = ring.reserve(256)!;
    const a = r.array;
    for (let i = r.offset, end = r.offset + r.length; i < end; i++) a[i] = i;
    ring.commit(r.length);
    const region = ring.readable()!;
    for (let i = region.offset, end = region.offset + region.length; i < end; i++) sink += a[i];
    ring.advance(region.length);
  },
);

Deno.bench("Ring send 256 + recv 256", { group: "256 items" }, () => {
  ring.send(batch);
  ring.recv(out);
  sink += out[255];
});

Deno.bench("Ring send 256 + consumeBatch", { group: "256 items" }, () => {
  ring.send(batch);
  ring.consumeBatch(handler);
});

Deno.bench("ringbuf.js push 256 + pop 256", { group: "256 items" }, () => {
  rb.push(batch);
  rb.pop(out);
  sink += out[255];
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
