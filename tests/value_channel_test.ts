/**
 * ValueChannel: every JSON type and non-ASCII text round-trip, worst-case
 * reservation never overruns a frame, the checks, close and the async
 * iterator; and two Workers moving objects through a small ring (many
 * wraps) with every value's sequence and fields checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, ValueChannel } from "../mod.ts";
import { valueFor, type ValueJob } from "./workers/value_peer.ts";
import { runWorker } from "./_run_worker.ts";

Deno.test("value channel: every JSON type, in order, and undefined only when empty", () => {
  const ch = new ValueChannel({ ringBits: 10 });
  const values = [null, 0, -1.5, true, "", "héllo 𝄞", [1, [2]], { a: { b: [null] } }, 1e300];
  assert.equal(ch.send(values), values.length);
  for (const v of values) assert.deepEqual(ch.tryRecv(), v);
  assert.equal(ch.tryRecv(), undefined);
});

Deno.test("value channel: full ring, wraps, the largest value, and the checks", async () => {
  const ch = new ValueChannel<string>({ ringBits: 8 }); // frames of at most 120 bytes
  // a model queue: values of changing lengths (1 to 3 bytes per unit) go round many times
  const model: string[] = [];
  let seed = 7;
  for (let round = 0; round < 2000; round++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = ["x", "é", "€"][seed % 3].repeat((seed >>> 8) % 38);
    if (ch.sendOne(v)) model.push(v);
    else assert.ok(model.length > 0, "an empty ring must take a value of one frame");
    if ((seed >>> 16) % 3 !== 0 && model.length > 0) assert.equal(ch.tryRecv(), model.shift());
  }
  while (model.length > 0) assert.equal(ch.tryRecv(), model.shift());
  assert.equal(ch.tryRecv(), undefined);
  assert.throws(() => ch.sendOne("x".repeat(200)), RangeError);
  assert.throws(() => ch.sendOne(undefined as unknown as string), TypeError);
  assert.throws(() => ch.sendOne((() => 1) as unknown as string), TypeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => new ValueChannel().sendOne(cyclic), TypeError);
  // a value of 118 JSON bytes fits a 120-byte frame once its worst case is capped
  const big = new ValueChannel<string>({ ringBits: 8 });
  assert.equal(big.sendOne("y".repeat(116)), true);
  assert.equal(big.tryRecv(), "y".repeat(116));
  big.close();
  assert.throws(() => big.sendOne("z"), Closed);
  await assert.rejects(big.recvAsync(), Closed);
});

Deno.test("value channel: the async iterator ends at close, after every value", async () => {
  const ch = new ValueChannel<{ n: number }>({ ringBits: 8 });
  const got = Array.fromAsync(ch);
  for (let n = 0; n < 100; n++) await ch.sendAsync({ n });
  ch.close();
  assert.deepEqual(await got, Array.from({ length: 100 }, (_, n) => ({ n })));
});

Deno.test("value channel: two Workers, 20000 objects through a 4 KiB ring, every one checked", async () => {
  const ch = new ValueChannel({ ringBits: 12 });
  const peer = new URL("./workers/value_peer.ts", import.meta.url);
  const run = (job: ValueJob) =>
    runWorker<ValueJob, { received: number; firstError: string | null }>(peer, job);
  const [recv] = await Promise.all([
    run({ role: "recv", handle: ch.handle(), count: 20000 }),
    run({ role: "send", handle: ch.handle(), count: 20000 }),
  ]);
  assert.deepEqual(recv, { received: 20000, firstError: null });
  assert.deepEqual(valueFor(3), { seq: 3, name: "item-3-üüü", tags: [] });
});
