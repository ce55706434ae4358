/**
 * Web Streams over every ring kind, in one thread: order, close, cancel
 * midway (nothing lost: the rest stays in the ring), backpressure of the
 * writable side, BYOB reads over a MessageRing, and the argument checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  BroadcastConsumer,
  BroadcastProducer,
  Closed,
  MessageRing,
  mpmc,
  mpsc,
  record,
  Ring,
  spmc,
  streamSource,
  toByteStream,
  toReadableStream,
  toWritableStream,
  u32,
} from "../mod.ts";

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

function drain(ring: Ring<number, Uint32Array>): number[] {
  const out: number[] = [];
  for (let x; (x = ring.tryRecv()) !== null;) out.push(x);
  return out;
}

Deno.test("web streams: a ring's items in order, then the stream closes with the ring", async () => {
  const ring = new Ring(u32, { ringBits: 3 });
  const read = Array.fromAsync(toReadableStream(ring));
  await ReadableStream.from(range(1000)).pipeTo(toWritableStream(ring));
  assert.deepEqual(await read, range(1000));
});

Deno.test("web streams: records arrive as objects of their own", async () => {
  const point = record({ x: "f64", y: "u32" });
  const ring = new Ring(point, { ringBits: 4 });
  ring.send([{ x: 0.5, y: 1 }, { x: 1.5, y: 2 }]);
  ring.close();
  assert.deepEqual(await Array.fromAsync(toReadableStream(ring)), [{ x: 0.5, y: 1 }, {
    x: 1.5,
    y: 2,
  }]);
});

Deno.test("web streams: cancel midway ends the pending wait and leaves the rest in the ring", async () => {
  const ring = new Ring(u32, { ringBits: 6 });
  ring.send(range(10));
  const reader = toReadableStream(ring).getReader();
  const got: number[] = [];
  for (let i = 0; i < 4; i++) got.push((await reader.read()).value!);
  await reader.cancel();
  assert.deepEqual(got, range(4));
  assert.deepEqual(drain(ring), range(6, 4)); // pulled only what was read
  // with a high-water mark the stream takes ahead, and a cancel drops what it took
  ring.send(range(10));
  const eager = toReadableStream(ring, { highWaterMark: 3 }).getReader();
  assert.equal((await eager.read()).value, 0);
  await eager.cancel();
  assert.ok(ring.len() >= 6 && ring.len() <= 9);
  // a cancel while waiting on an empty ring settles at once
  const empty = new Ring(u32, { ringBits: 2 });
  const waiting = toReadableStream(empty).getReader();
  const pending = waiting.read();
  await waiting.cancel();
  assert.deepEqual(await pending, { done: true, value: undefined });
});

Deno.test("web streams: the writable's desiredSize drops to 0 while the ring is full", async () => {
  const ring = new Ring(u32, { ringBits: 2 });
  const writer = toWritableStream(ring).getWriter();
  for (let i = 0; i < 4; i++) await writer.write(i);
  assert.equal(writer.desiredSize, 1);
  const blocked = writer.write(4);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(writer.desiredSize, 0);
  let ready = false;
  writer.ready.then(() => ready = true);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(ready, false);
  assert.equal(ring.tryRecv(), 0); // frees a slot
  await blocked;
  await writer.ready;
  assert.equal(writer.desiredSize, 1);
  await writer.close();
  assert.deepEqual(drain(ring), [1, 2, 3, 4]);
  assert.equal(ring.isClosed(), true);
});

Deno.test("web streams: aborting a write blocked on a full ring ends its wait", async () => {
  const ring = new Ring(u32, { ringBits: 1 });
  const writer = toWritableStream(ring, { closeTarget: false }).getWriter();
  await writer.write(1);
  await writer.write(2);
  const blocked = writer.write(3);
  await writer.abort(new Error("stop"));
  await assert.rejects(blocked);
  assert.equal(ring.isClosed(), false);
  assert.equal(ring.len(), 2);
});

Deno.test("web streams: writing into a closed ring errors the stream with Closed", async () => {
  const ring = new Ring(u32, { ringBits: 2 });
  ring.close();
  await assert.rejects(toWritableStream(ring).getWriter().write(1), Closed);
});

Deno.test("web streams: mpsc, spmc and mpmc channels end to end", async () => {
  const ch = new mpsc.Channel(u32, { ringBits: 3, maxProducers: 2 });
  const a = toWritableStream(ch.register(), { closeTarget: false });
  const b = toWritableStream(ch.register(), { closeTarget: false });
  const read = Array.fromAsync(toReadableStream(ch));
  await Promise.all([
    ReadableStream.from(range(500)).pipeTo(a),
    ReadableStream.from(range(500, 1000)).pipeTo(b),
  ]);
  ch.close();
  const got = await read;
  assert.deepEqual(got.filter((x) => x < 1000), range(500));
  assert.deepEqual(got.filter((x) => x >= 1000), range(500, 1000));

  const sp = new spmc.Channel(u32, { ringBits: 3 });
  const c1 = Array.fromAsync(toReadableStream(sp.registerConsumer()));
  const c2 = Array.fromAsync(toReadableStream(sp.registerConsumer()));
  await ReadableStream.from(range(800)).pipeTo(toWritableStream(sp));
  const [g1, g2] = await Promise.all([c1, c2]);
  assert.deepEqual([...g1, ...g2].sort((x, y) => x - y), range(800));

  const mp = new mpmc.MpmcChannel(u32, { ringBits: 3, maxProducers: 2, maxConsumers: 2 });
  const p1 = mp.register();
  const p2 = mp.register();
  const m1 = Array.fromAsync(toReadableStream(mp.registerConsumer()));
  const m2 = Array.fromAsync(toReadableStream(mp.registerConsumer()));
  await Promise.all([
    ReadableStream.from(range(400)).pipeTo(toWritableStream(p1, { closeTarget: false })),
    ReadableStream.from(range(400, 400)).pipeTo(toWritableStream(p2, { closeTarget: false })),
  ]);
  mp.close();
  const all = [...await m1, ...await m2].sort((x, y) => x - y);
  assert.deepEqual(all, range(800));
});

Deno.test("web streams: a broadcast ring to two streams; cancel leaves the ring", async () => {
  const producer = BroadcastProducer.create({ capacity: 4096 });
  const first = BroadcastConsumer.fromHandle(producer.join());
  const second = BroadcastConsumer.fromHandle(producer.join());
  const all = Array.fromAsync(toReadableStream(first));
  const reader = toReadableStream(second).getReader();
  const write = ReadableStream.from(range(300)).pipeThrough(
    new TransformStream<number, Uint8Array>({
      transform: (i, c) => c.enqueue(new Uint8Array(new Uint32Array([i]).buffer)),
    }),
  ).pipeTo(toWritableStream(producer, { closeTarget: false }));
  const head = new Uint32Array((await reader.read()).value!.slice().buffer)[0];
  assert.equal(head, 0);
  await reader.cancel();
  producer.scan();
  assert.equal(producer.consumerCount, 1);
  await write;
  producer.close();
  const got = (await all).map((m) => new Uint32Array(m.slice().buffer)[0]);
  assert.deepEqual(got, range(300));
});

Deno.test("web streams: MessageRing messages, long chunks split, BYOB reads across frames", async () => {
  const ring = new MessageRing({ ringBits: 8 }); // frames of at most 120 bytes
  const bytes = Uint8Array.from(range(1000), (i) => i * 7);
  const reader = toByteStream(ring).getReader({ mode: "byob" });
  const write = ReadableStream.from([bytes.subarray(0, 10), bytes.subarray(10)]).pipeTo(
    toWritableStream(ring),
  );
  const got: number[] = [];
  for (let size = 1;; size = (size % 97) + 13) {
    const { value, done } = await reader.read(new Uint8Array(size));
    if (done) break;
    got.push(...value!);
  }
  await write;
  assert.deepEqual(got, [...bytes]);

  const messages = new MessageRing({ ringBits: 8 });
  messages.sendMessage(Uint8Array.of(1, 2));
  messages.sendMessage(Uint8Array.of());
  messages.sendMessage(Uint8Array.of(3));
  messages.close();
  assert.deepEqual(await Array.fromAsync(toReadableStream(messages)), [
    Uint8Array.of(1, 2),
    Uint8Array.of(),
    Uint8Array.of(3),
  ]);
});

Deno.test("web streams: a default read of a byte stream gets a chunk; cancel while empty", async () => {
  const ring = new MessageRing({ ringBits: 8 });
  ring.sendMessage(Uint8Array.of(9, 8, 7));
  const reader = toByteStream(ring, { autoAllocateChunkSize: 2 }).getReader();
  assert.deepEqual((await reader.read()).value, Uint8Array.of(9, 8));
  assert.deepEqual((await reader.read()).value, Uint8Array.of(7));
  const pending = reader.read();
  await reader.cancel();
  assert.equal((await pending).done, true);
});

Deno.test("web streams: arguments are checked before anything starts", () => {
  const ring = new Ring(u32, { ringBits: 2 });
  assert.throws(() => toReadableStream(ring, { highWaterMark: -1 }), RangeError);
  assert.throws(() => toReadableStream({} as Ring<number, Uint32Array>), TypeError);
  assert.throws(() => toWritableStream(42 as unknown as Ring<number, Uint32Array>), TypeError);
  assert.throws(() => toByteStream(new MessageRing(), { autoAllocateChunkSize: 0 }), RangeError);
  assert.throws(() => streamSource(null as unknown as Ring<number, Uint32Array>), TypeError);
  assert.throws(() => new MessageRing({ ringBits: 6 }).writableAsync(100), RangeError);
});
