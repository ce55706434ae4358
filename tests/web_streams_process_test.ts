/**
 * Web Streams over a SharedRing between two processes: a child pipes a
 * sequence into `toWritableStream` while this process reads
 * `toReadableStream`, cancels midway and hands the rest to a second reader
 * (nothing lost); and the other way round through a tiny ring, so both
 * sides wait on the cross-process futex.
 *
 * @module
 */
import assert from "node:assert/strict";
import { toReadableStream, toWritableStream, u32 } from "../mod.ts";
import { SharedRing } from "../native.ts";
import { childOutput, streamChild } from "./_stream_child.ts";

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

const shmPath = (what: string) => `/dev/shm/ringmpsc-streams-${what}-${Deno.pid}`;

Deno.test("web streams across processes: child writes, reader cancels midway, a second reader gets the rest", async () => {
  const path = shmPath("in");
  using ring = SharedRing.createPath(u32, path, 5);
  try {
    const producer = streamChild("produce", path, "30000");
    const first = toReadableStream(ring).getReader();
    const got: number[] = [];
    while (got.length < 7777) got.push((await first.read()).value!);
    await first.cancel();
    got.push(...await Array.fromAsync(toReadableStream(ring)));
    await childOutput(producer);
    assert.deepEqual(got, range(30000));
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("web streams across processes: this process writes into a tiny ring, the child reads", async () => {
  const path = shmPath("out");
  using ring = SharedRing.createPath(u32, path, 2);
  try {
    const consumer = streamChild("consume", path);
    let i = 0;
    await new ReadableStream<number>({
      pull: (c) => i === 20000 ? c.close() : c.enqueue(i++),
    }).pipeTo(toWritableStream(ring));
    assert.deepEqual(JSON.parse(await childOutput(consumer)), { received: 20000, ok: true });
  } finally {
    Deno.removeSync(path);
  }
});
