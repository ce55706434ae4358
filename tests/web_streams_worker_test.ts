/**
 * Web Streams piped across Workers for every ring kind: a producer Worker
 * pipes a sequence into `toWritableStream`, consumer Workers read
 * `toReadableStream` (a MessageRing by BYOB reads of odd sizes); every item
 * is checked, so a lost, duplicated or reordered item fails. Cancel midway
 * hands the rest to a second reader with nothing lost; closing the writer
 * midway ends the reader after exactly what was written.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BroadcastProducer, MessageRing, mpmc, mpsc, Ring, spmc, u32 } from "../mod.ts";
import type { StreamJob, StreamResult } from "./workers/stream_peer.ts";
import { runWorker } from "./_run_worker.ts";

const PEER = new URL("./workers/stream_peer.ts", import.meta.url);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

const run = (job: StreamJob) => runWorker<StreamJob, StreamResult>(PEER, job);

const produce = (kind: StreamJob["kind"], handle: unknown, from: number, count: number) =>
  run({ role: "produce", kind, handle, from, count, close: true });
const consume = (kind: StreamJob["kind"], handle: unknown, limit: number | null = null) =>
  run({ role: "consume", kind, handle, limit });

for (const kind of ["ring", "message"] as const) {
  Deno.test(`web streams across Workers: ${kind}, cancel midway, a second reader gets the rest`, async () => {
    const count = kind === "ring" ? 20_000 : 5_000;
    const handle = kind === "ring"
      ? new Ring(u32, { ringBits: 6 }).handle()
      : new MessageRing({ ringBits: 9 }).handle();
    const writer = produce(kind, handle, 0, count);
    const first = await consume(kind, handle, 1234);
    const second = await consume(kind, handle);
    await writer;
    assert.deepEqual(first.values, range(1234));
    assert.deepEqual(second.values, range(count - 1234, 1234));
  });
}

Deno.test("web streams across Workers: closing the writer ends the reader after exactly what was written", async () => {
  const ring = new Ring(u32, { ringBits: 4 });
  const reader = consume("ring", ring.handle());
  await run({
    role: "produce",
    kind: "ring",
    handle: ring.handle(),
    from: 7,
    count: 999,
    close: true,
  });
  assert.deepEqual((await reader).values, range(999, 7));
  assert.equal(ring.isEmpty(), true);
});

Deno.test("web streams across Workers: mpsc, two producer Workers, per-producer order", async () => {
  const ch = new mpsc.Channel(u32, { ringBits: 5, maxProducers: 2 });
  const reader = consume("mpsc", ch.handle());
  await Promise.all([
    produce("mpsc", ch.handle(), 0, 10_000),
    produce("mpsc", ch.handle(), 1 << 20, 10_000),
  ]);
  ch.close();
  const got = (await reader).values;
  assert.deepEqual(got.filter((x) => x < 1 << 20), range(10_000));
  assert.deepEqual(got.filter((x) => x >= 1 << 20), range(10_000, 1 << 20));
});

Deno.test("web streams across Workers: spmc and mpmc, two consumer Workers share every item once", async () => {
  const sp = new spmc.Channel(u32, { ringBits: 5 });
  const readers = [consume("spmc", sp.handle()), consume("spmc", sp.handle())];
  await produce("spmc", sp.handle(), 0, 20_000);
  const spGot = (await Promise.all(readers)).flatMap((r) => r.values);
  assert.deepEqual(spGot.sort((a, b) => a - b), range(20_000));

  const mp = new mpmc.MpmcChannel(u32, { ringBits: 5, maxProducers: 2, maxConsumers: 2 });
  const mpReaders = [consume("mpmc", mp.handle()), consume("mpmc", mp.handle())];
  await Promise.all([
    produce("mpmc", mp.handle(), 0, 10_000),
    produce("mpmc", mp.handle(), 10_000, 10_000),
  ]);
  mp.close();
  const mpGot = (await Promise.all(mpReaders)).flatMap((r) => r.values);
  assert.deepEqual(mpGot.sort((a, b) => a - b), range(20_000));
});

Deno.test("web streams across Workers: broadcast, each consumer Worker sees every message; one cancels", async () => {
  const producer = BroadcastProducer.create({ capacity: 1024 });
  const whole = consume("broadcast", producer.join());
  const part = consume("broadcast", producer.join(), 500);
  const { toWritableStream } = await import("../mod.ts");
  const writer = toWritableStream(producer).getWriter();
  for (let i = 0; i < 5_000; i++) {
    await writer.ready;
    await writer.write(new Uint8Array(new Uint32Array([i]).buffer));
  }
  await writer.close();
  assert.deepEqual((await whole).values, range(5_000));
  assert.deepEqual((await part).values, range(500));
});
