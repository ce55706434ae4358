/**
 * Multi-Worker tests of `mpmc.MpmcChannel`: P producer Workers × C consumer
 * Workers stealing with stealBatch, steal and stealBlocking. Every producer's
 * sequence must arrive complete and exactly once across the consumers, and
 * each consumer must see each producer's items in order. Also registration
 * limits, close, the three steal phases through `MpmcRing` hotness, blocking
 * steals across Workers and positions crossing 2^32.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Closed,
  mpmc,
  stealBlocking,
  TimedOut,
  Timeout,
  TooManyConsumers,
  TooManyProducers,
  u32,
} from "../mod.ts";
import {
  channelRingOffset,
  positions,
  seqOf,
  setPositions,
  tagOf,
} from "./workers/channel_check.ts";
import { type Peer, rejectsNamed, startPeers, stopPeers, until } from "./workers/channel_client.ts";

type U32Mpmc = mpmc.MpmcChannel<number, Uint32Array>;
type Sent = { id: number; sent: number };
type StealMethod = "stealBatch" | "steal" | "stealBlocking";

/** Header word index of the doorbell waiters (layout in src/mpmc/channel.ts). */
const DOORBELL_WAITERS = 5;

function channel(config: Partial<mpmc.MpmcConfig> = {}): U32Mpmc {
  return new mpmc.MpmcChannel(u32, { ringBits: 6, maxProducers: 4, maxConsumers: 4, ...config });
}

function doorbellWaiters(ch: U32Mpmc): number {
  return Atomics.load(new Int32Array(ch.handle().buffer, 0, 8), DOORBELL_WAITERS);
}

/**
 * Asserts that each producer's items 0 … count − 1 arrived exactly once over
 * all consumers, and in order within each consumer.
 */
function assertExactlyOnce(parts: Uint32Array[], producers: number, count: number): void {
  const seen = Array.from({ length: producers }, () => new Uint8Array(count));
  for (const [c, items] of parts.entries()) {
    const last = new Int32Array(producers).fill(-1);
    for (const x of items) {
      const tag = tagOf(x);
      const seq = seqOf(x);
      assert.ok(tag < producers && seq < count, `consumer ${c}: unexpected item ${tag}/${seq}`);
      assert.equal(seen[tag][seq], 0, `producer ${tag} item ${seq} delivered twice`);
      seen[tag][seq] = 1;
      assert.ok(seq > last[tag], `consumer ${c}: producer ${tag} item ${seq} after ${last[tag]}`);
      last[tag] = seq;
    }
  }
  assert.equal(parts.reduce((n, p) => n + p.length, 0), producers * count);
}

async function runPxC(
  peers: Peer[],
  ch: U32Mpmc,
  modes: ("send" | "sendOne" | "reserve")[],
  methods: StealMethod[],
  count: number,
): Promise<Uint32Array[]> {
  const consumers = peers.slice(0, methods.length);
  const producers = peers.slice(methods.length, methods.length + modes.length);
  const consuming = methods.map((method, i) =>
    consumers[i].call<Uint32Array>({
      op: "mpmcConsume",
      handle: ch.handle(),
      method,
      bufferSize: 32,
    })
  );
  const sent = await Promise.all(
    modes.map((mode, tag) =>
      producers[tag].call<Sent>({
        op: "mpmcProduce",
        handle: ch.handle(),
        tag,
        count,
        mode,
        batch: 16,
      })
    ),
  );
  assert.deepEqual(sent.map((s) => s.sent), modes.map(() => count));
  assert.deepEqual(sent.map((s) => s.id).toSorted(), modes.map((_, i) => i));
  ch.close();
  return await Promise.all(consuming);
}

Deno.test("mpmc: producer Workers × consumer Workers, every item exactly once", async (t) => {
  const peers = await startPeers(6, "mpmc-");
  try {
    await t.step("2 × 2: stealBatch and steal", async () => {
      const ch = channel({ ringBits: 6 });
      const parts = await runPxC(peers, ch, ["send", "reserve"], ["stealBatch", "steal"], 20_000);
      assertExactlyOnce(parts, 2, 20_000);
      assert.ok(ch.isEmpty());
    });

    await t.step("3 × 2: stealBatch and stealBlocking, ring of 16", async () => {
      const ch = channel({ ringBits: 4 });
      const parts = await runPxC(
        peers,
        ch,
        ["send", "sendOne", "reserve"],
        ["stealBatch", "stealBlocking"],
        15_000,
      );
      assertExactlyOnce(parts, 3, 15_000);
    });

    await t.step("2 × 3 with two rings per shard", async () => {
      const ch = channel({ ringBits: 5, ringsPerShard: 2 });
      const parts = await runPxC(
        peers,
        ch,
        ["reserve", "send"],
        ["steal", "stealBatch", "stealBatch"],
        15_000,
      );
      assertExactlyOnce(parts, 2, 15_000);
    });
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpmc: registration limits and close", async () => {
  const ch = channel({ maxProducers: 2, maxConsumers: 2 });
  const peers = await startPeers(3, "mpmc-reg-");
  try {
    for (const side of ["producer", "consumer"] as const) {
      const results = await Promise.allSettled(
        peers.map((p) => p.call<number>({ op: "mpmcRegister", handle: ch.handle(), side })),
      );
      const ids = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
      const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason.name] : []);
      assert.deepEqual(ids.toSorted(), [0, 1]);
      assert.deepEqual(errors, [side === "producer" ? "TooManyProducers" : "TooManyConsumers"]);
    }
    assert.throws(() => ch.register(), TooManyProducers);
    assert.throws(() => ch.registerConsumer(), TooManyConsumers);

    const open = channel({ maxProducers: 2, maxConsumers: 2 });
    const p = open.register();
    const c = open.registerConsumer();
    const producerId = await peers[0].call<number>({
      op: "mpmcRegister",
      handle: open.handle(),
      side: "producer",
    });
    assert.equal(p.send([1, 2, 3]), 3);
    assert.equal(
      await peers[0].call({ op: "mpmcCommit", id: producerId, items: [(1 << 24) | 0] }),
      1,
    );
    assert.equal(open.totalPending(), 4);
    assert.ok(!open.isClosed() && !p.isClosed() && !c.isClosed());
    open.close();
    open.close(); // idempotent
    assert.ok(open.isClosed() && p.isClosed() && c.isClosed());
    assert.throws(() => open.register(), Closed);
    assert.throws(() => open.registerConsumer(), Closed);
    await rejectsNamed(
      peers[1].call({ op: "mpmcRegister", handle: open.handle(), side: "consumer" }),
      "Closed",
    );
    // what was committed before close is still delivered, then Closed
    const out = new Uint32Array(8);
    let got = 0;
    while (got < 4) got += stealBlocking(c, out.subarray(got), Timeout.ms(50));
    assert.deepEqual(Array.from(out.subarray(0, 4)).toSorted((a, b) => a - b), [1, 2, 3, 1 << 24]);
    assert.throws(() => stealBlocking(c, out, Timeout.ms(50)), Closed);
    assert.ok(open.isEmpty());
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpmc: hotness rises on commit, falls on steal, and steers stealBatch", async () => {
  const ch = channel({ ringBits: 6, maxProducers: 3, maxConsumers: 1, ringsPerShard: 1 });
  const [a, b, consumer] = await startPeers(3, "mpmc-hot-");
  try {
    const ida = await a.call<number>({ op: "mpmcRegister", handle: ch.handle(), side: "producer" });
    const idb = await b.call<number>({ op: "mpmcRegister", handle: ch.handle(), side: "producer" });
    const p2 = ch.register();
    assert.deepEqual([ida, idb, p2.id], [0, 1, 2]);
    const cid = await consumer.call<number>({
      op: "mpmcRegister",
      handle: ch.handle(),
      side: "consumer",
    }); // its shard is ring 0
    assert.equal(cid, 0);
    const hot = () => ch.rings().map((r) => r.hotness());
    const commit = (peer: Peer, id: number, tag: number, from: number, n: number) =>
      peer.call({
        op: "mpmcCommit",
        id,
        items: Array.from({ length: n }, (_, i) => (tag << 24) | (from + i)),
      });
    const steal = (how: "stealBatch" | "steal", max: number) =>
      consumer.call<number[]>({ op: "mpmcSteal", id: cid, max, how });

    assert.deepEqual(hot(), [0, 0, 0]);
    for (let k = 0; k < 3; k++) await commit(b, idb, 1, 2 * k, 2);
    assert.equal(p2.send([2 << 24]), 1);
    assert.deepEqual(hot(), [0, 3, 1]);
    // own shard (ring 0) is empty: phase 2 takes from the hottest ring
    assert.deepEqual(await steal("stealBatch", 2), [(1 << 24) | 0, (1 << 24) | 1]);
    assert.deepEqual(hot(), [0, 2, 1]);
    assert.deepEqual(await steal("steal", 1), [(1 << 24) | 2]);
    assert.deepEqual(hot(), [0, 1, 1]);
    // data in the consumer's own shard comes first
    await commit(a, ida, 0, 0, 3);
    assert.deepEqual(hot(), [1, 1, 1]);
    assert.deepEqual(await steal("stealBatch", 64), [0, 1, 2]);
    assert.deepEqual(hot(), [0, 1, 1]);
    const rest = [...await steal("stealBatch", 64), ...await steal("stealBatch", 64)];
    assert.deepEqual(rest.toSorted((x, y) => x - y), [
      (1 << 24) | 3,
      (1 << 24) | 4,
      (1 << 24) | 5,
      2 << 24,
    ]);
    assert.deepEqual(hot(), [0, 0, 0]);
    assert.deepEqual(await steal("stealBatch", 64), []);
    assert.ok(ch.isEmpty());
  } finally {
    stopPeers([a, b, consumer]);
  }
});

Deno.test("mpmc: steal and stealBatch before any producer registers return 0", () => {
  const ch = channel();
  const c = ch.registerConsumer();
  assert.equal(c.steal(new Uint32Array(4)), 0);
  assert.equal(c.stealBatch({ process: () => assert.fail("nothing to process") }), 0);
  assert.throws(() => stealBlocking(c, new Uint32Array(4), Timeout.ms(1)), TimedOut);
});

Deno.test("mpmc: stealBlocking across Workers", async (t) => {
  const [consumer, producer] = await startPeers(2, "mpmc-block-");
  try {
    await t.step("a blocked consumer Worker is released by a producer Worker", async () => {
      const ch = channel();
      const waiting = consumer.call<number[]>({ op: "mpmcStealBlocking", handle: ch.handle() });
      await until(() => doorbellWaiters(ch) > 0, "the consumer to sleep");
      const id = await producer.call<number>({
        op: "mpmcRegister",
        handle: ch.handle(),
        side: "producer",
      });
      await producer.call({ op: "mpmcCommit", id, items: [5, 6] });
      assert.deepEqual(await waiting, [5, 6]);
    });

    await t.step("close releases a blocked consumer with Closed", async () => {
      const ch = channel();
      const waiting = consumer.call({ op: "mpmcStealBlocking", handle: ch.handle() });
      await until(() => doorbellWaiters(ch) > 0, "the consumer to sleep");
      ch.close();
      await rejectsNamed(waiting, "Closed");
    });

    await t.step("Timeout.ms on an empty channel: TimedOut", async () => {
      const ch = channel();
      ch.register();
      await rejectsNamed(
        consumer.call({ op: "mpmcStealBlocking", handle: ch.handle(), timeoutMs: 2 }),
        "TimedOut",
      );
    });
  } finally {
    stopPeers([consumer, producer]);
  }
});

Deno.test("mpmc: positions crossing 2^32 with Workers on both sides", async () => {
  const ringBits = 5;
  const ch = channel({ ringBits, maxProducers: 2, maxConsumers: 2 });
  const buffer = ch.handle().buffer;
  const start = 2n ** 32n - 1500n;
  setPositions(buffer, channelRingOffset(0, ringBits, 4), start);
  setPositions(buffer, channelRingOffset(1, ringBits, 4), start);
  const peers = await startPeers(4, "mpmc-wrap-");
  try {
    const count = 15_000;
    const parts = await runPxC(peers, ch, ["send", "reserve"], ["stealBatch", "steal"], count);
    assertExactlyOnce(parts, 2, count);
    for (let i = 0; i < 2; i++) {
      assert.equal(ch.rings()[i].ring.handle().byteOffset, channelRingOffset(i, ringBits, 4));
      const [tail, head] = positions(buffer, channelRingOffset(i, ringBits, 4));
      assert.equal(tail, start + BigInt(count));
      assert.equal(head & 0xffffffffn, (start + BigInt(count)) & 0xffffffffn);
    }
  } finally {
    stopPeers(peers);
  }
});
