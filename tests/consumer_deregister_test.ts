/**
 * SPMC and MPMC consumers leave (`deregister()`, `using`) and their places
 * are reused: `maxConsumers` bounds the consumers registered at once, not
 * over the channel's life; an MPMC newcomer takes the lowest free slot (and
 * its shard); a consumer that left throws `Closed`; and consumer Workers
 * that register, claim and leave thousands of times between them take every
 * item exactly once — nothing unclaimed is lost.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, mpmc, spmc, TooManyConsumers, u32, yieldThread } from "../mod.ts";
import { encode } from "./workers/channel_check.ts";
import { startPeers, stopPeers } from "./workers/channel_client.ts";
import type { LifecycleJob } from "./workers/lifecycle_peer.ts";

const LIFECYCLE = new URL("./workers/lifecycle_peer.ts", import.meta.url);

Deno.test("spmc: consumers leave, their places are reused, a departed consumer throws Closed", () => {
  const ch = new spmc.Channel(u32, { ringBits: 3, maxConsumers: 2 });
  ch.send([1, 2, 3]);
  const a = ch.registerConsumer();
  const b = ch.registerConsumer();
  assert.throws(() => ch.registerConsumer(), TooManyConsumers);
  assert.equal(a.stealOne(), 1);
  a.deregister();
  a.deregister(); // idempotent: frees one place only
  assert.equal(ch.consumerCount(), 1);
  assert.throws(() => a.stealOne(), Closed);
  assert.throws(() => a.steal(new Uint32Array(2)), Closed);
  assert.throws(() => a.waitReadable(), Closed);
  {
    using c = ch.registerConsumer();
    assert.notEqual(c.id, a.id);
    assert.throws(() => ch.registerConsumer(), TooManyConsumers);
    assert.equal(c.stealOne(), 2);
  }
  ch.deregisterConsumer(b);
  assert.equal(ch.consumerCount(), 0);
  assert.throws(() => ch.deregisterConsumer({} as never), TypeError);
  for (let i = 0; i < 10_000; i++) ch.registerConsumer().deregister();
  assert.equal(ch.registerConsumer().stealOne(), 3, "the item nobody claimed is still there");
});

Deno.test("mpmc: a consumer that leaves frees its slot; the next takes it and its shard", () => {
  const ch = new mpmc.MpmcChannel(u32, { ringBits: 3, maxProducers: 3, maxConsumers: 3 });
  const producers = [ch.register(), ch.register(), ch.register()];
  producers.forEach((p, i) => p.send([10 * i]));
  const consumers = [ch.registerConsumer(), ch.registerConsumer(), ch.registerConsumer()];
  assert.deepEqual(consumers.map((c) => c.id), [0, 1, 2]);
  assert.throws(() => ch.registerConsumer(), TooManyConsumers);
  consumers[1].deregister();
  assert.equal(ch.consumerCount(), 2);
  assert.throws(() => consumers[1].steal(new Uint32Array(1)), Closed);
  assert.throws(() => consumers[1].stealBatch({ process() {} }), Closed);
  assert.throws(() => consumers[1].waitReadable(), Closed);
  const again = ch.registerConsumer();
  assert.equal(again.id, 1, "the lowest free slot");
  const got: number[] = [];
  again.stealBatch({ process: (x) => got.push(x) });
  assert.deepEqual(got, [10], "its shard: ring 1");
  for (const c of [again, consumers[0], consumers[2]]) c.deregister();
  assert.equal(ch.consumerCount(), 0);
  for (let i = 0; i < 5_000; i++) ch.registerConsumer().deregister();
  using last = ch.registerConsumer();
  const rest = new Uint32Array(4);
  assert.equal(last.steal(rest), 2, "items nobody claimed are still there");
  assert.deepEqual(Array.from(rest.subarray(0, 2)).sort((x, y) => x - y), [0, 20]);
});

Deno.test("mpmc: maxConsumers is bounded by the slot table", () => {
  assert.throws(
    () => new mpmc.MpmcChannel(u32, { maxConsumers: mpmc.MAX_CONSUMERS + 1 }),
    RangeError,
  );
  const ch = new mpmc.MpmcChannel(u32, { ringBits: 1, maxProducers: 1, maxConsumers: 70 });
  const all = Array.from({ length: 70 }, () => ch.registerConsumer());
  assert.deepEqual(all.map((c) => c.id), Array.from({ length: 70 }, (_, i) => i));
  assert.throws(() => ch.registerConsumer(), TooManyConsumers);
  all[65].deregister();
  all[3].deregister();
  assert.equal(ch.registerConsumer().id, 3);
  assert.equal(ch.registerConsumer().id, 65);
});

for (const kind of ["spmc", "mpmc"] as const) {
  Deno.test(`${kind}: consumer Workers that register, claim and leave over and over take every item once`, async () => {
    const total = 30_000;
    const workers = 3;
    const peers = await startPeers<LifecycleJob>(workers, `${kind}-leave-`, LIFECYCLE);
    try {
      const seen = new Int32Array(new SharedArrayBuffer(4 * (1 + total)));
      const send = kind === "spmc"
        ? (() => {
          const ch = new spmc.Channel(u32, { ringBits: 6, maxConsumers: workers });
          return { handle: ch.handle(), sendOne: (x: number) => ch.sendOne(x) };
        })()
        : (() => {
          const ch = new mpmc.MpmcChannel(u32, {
            ringBits: 6,
            maxProducers: 1,
            maxConsumers: workers,
          });
          const p = ch.register();
          return { handle: ch.handle(), sendOne: (x: number) => p.sendOne(x) };
        })();
      const cycling = peers.map((peer) =>
        peer.call<number>(
          { op: "consumerCycles", kind, handle: send.handle, perCycle: 7, seen, total },
          [],
          120_000,
        )
      );
      const deadline = performance.now() + 60_000;
      for (let seq = 0; seq < total;) {
        if (send.sendOne(encode(0, seq))) seq++;
        else if (performance.now() > deadline) {
          throw new Error("the consumers stalled (hang guard)");
        } else yieldThread();
      }
      const cycles = (await Promise.all(cycling)).reduce((a, b) => a + b, 0);
      assert.ok(cycles > 10 * workers, `registrations in all: ${cycles}`);
      assert.equal(Atomics.load(seen, 0), total);
      const wrong = [];
      for (let seq = 0; seq < total && wrong.length < 5; seq++) {
        if (seen[1 + seq] !== 1) wrong.push(`item ${seq} taken ${seen[1 + seq]} times`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      stopPeers(peers);
    }
  });
}
