/**
 * Multi-Worker tests of `spmc.Channel`: one producer Worker, several consumer
 * Workers claiming with compare-and-swap on the shared head through steal,
 * stealOne, consumeBatch and stealBlocking. Every item must reach exactly one
 * consumer, each consumer sees its items in ring order, a consumer killed
 * mid-run loses at most its one claim in flight, and registration limits,
 * close, len/isEmpty/isClosed and positions crossing 2^32 behave.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, RING_LAYOUT, spmc, TooManyConsumers, u32 } from "../mod.ts";
import { positions, setPositions } from "./workers/channel_check.ts";
import { type Peer, rejectsNamed, startPeers, stopPeers, until } from "./workers/channel_client.ts";

type Method = "steal" | "stealOne" | "consumeBatch" | "stealBlocking";

function channel(config: Partial<spmc.SpmcConfig> = {}): spmc.Channel<number, Uint32Array> {
  return new spmc.Channel(u32, { ringBits: 6, maxConsumers: 8, ...config });
}

function consume(
  peer: Peer,
  ch: spmc.Channel<number, Uint32Array>,
  method: Method,
  bufferSize = 64,
  seen?: Int32Array,
): Promise<Uint32Array> {
  return peer.call<Uint32Array>({
    op: "spmcConsume",
    handle: ch.handle(),
    method,
    bufferSize,
    seen,
  });
}

/** Asserts each consumer's items rise strictly and together hold 0 … count − 1 exactly once. */
function assertExactlyOnce(parts: Uint32Array[], count: number): void {
  const seen = new Uint8Array(count);
  for (const [c, items] of parts.entries()) {
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      assert.ok(x < count, `consumer ${c} received ${x}, out of range`);
      assert.equal(seen[x], 0, `item ${x} delivered twice`);
      seen[x] = 1;
      if (i > 0) assert.ok(x > items[i - 1], `consumer ${c}: ${x} after ${items[i - 1]}`);
    }
  }
  assert.equal(parts.reduce((n, p) => n + p.length, 0), count);
}

function consumerWaiters(ch: spmc.Channel<number, Uint32Array>): number {
  const h = ch.handle().ring;
  return Atomics.load(new Int32Array(h.buffer, h.byteOffset, 96), RING_LAYOUT.consumerWaiters / 4);
}

Deno.test("spmc: one producer Worker, consumer Workers, every item exactly once", async (t) => {
  const peers = await startPeers(5, "spmc-");
  try {
    const plans: [string, number, number, Method[], "send" | "sendOne" | "reserve"][] = [
      ["3 consumers, ring of 64", 6, 60_000, ["steal", "stealOne", "consumeBatch"], "send"],
      [
        "4 consumers, ring of 16",
        4,
        40_000,
        ["stealBlocking", "consumeBatch", "steal", "stealOne"],
        "reserve",
      ],
      ["2 consumers, ring of 2", 1, 20_000, ["stealOne", "stealBlocking"], "sendOne"],
    ];
    for (const [name, ringBits, count, methods, mode] of plans) {
      await t.step(name, async () => {
        const ch = channel({ ringBits });
        const consuming = methods.map((m, i) => consume(peers[i], ch, m, 16));
        const sent = await peers[4].call<number>({
          op: "spmcProduce",
          handle: ch.handle(),
          count,
          mode,
          batch: 16,
          close: true,
        });
        assert.equal(sent, count);
        const parts = await Promise.all(consuming);
        assertExactlyOnce(parts, count);
        assert.ok(ch.isClosed() && ch.isEmpty());
        assert.equal(ch.len(), 0);
      });
    }
  } finally {
    stopPeers(peers);
  }
});

Deno.test("spmc: an honest reader never sees RingCorrupt while others claim", async () => {
  // available() loads head, then tail; a claim by another consumer in between
  // must not read as tail − head > capacity.
  const ch = channel({ ringBits: 1 });
  const peers = await startPeers(5, "spmc-probe-");
  try {
    const consuming = [0, 1, 2].map((i) => consume(peers[i], ch, "stealOne"));
    const probing = peers[3].call<number>({ op: "spmcProbe", handle: ch.handle() });
    const count = 100_000; // sized for a loaded 2-core machine: each item crosses a ring of 2
    const sent = await peers[4].call<number>({
      op: "spmcProduce",
      handle: ch.handle(),
      count,
      mode: "sendOne",
      batch: 1,
      close: true,
    });
    assert.equal(sent, count);
    assertExactlyOnce(await Promise.all(consuming), count);
    assert.ok((await probing) > 0);
  } finally {
    stopPeers(peers);
  }
});

Deno.test("spmc: a consumer Worker killed mid-run loses at most its claim in flight", async () => {
  const ringBits = 8;
  const ch = channel({ ringBits });
  const count = 100_000;
  const seen = new Int32Array(new SharedArrayBuffer(count * 4));
  const [a, b, victim, producer] = await startPeers(4, "spmc-crash-");
  try {
    const survivors = [consume(a, ch, "consumeBatch", 32, seen), consume(b, ch, "steal", 32, seen)];
    consume(victim, ch, "consumeBatch", 32, seen).catch(() => {});
    const producing = producer.call<number>({
      op: "spmcProduce",
      handle: ch.handle(),
      count,
      mode: "send",
      batch: 32,
      close: true,
    });
    const h = ch.handle().ring;
    await until(() => positions(h.buffer, h.byteOffset)[1] >= 20_000n, "20,000 items claimed");
    victim.terminate();
    assert.equal(await producing, count);
    const parts = await Promise.all(survivors);
    let missing = 0;
    for (let i = 0; i < count; i++) {
      assert.ok(seen[i] <= 1, `item ${i} delivered ${seen[i]} times`);
      if (seen[i] === 0) missing++;
    }
    assert.ok(missing <= 32, `${missing} items lost, more than one claim`);
    for (const part of parts) {
      for (let i = 1; i < part.length; i++) assert.ok(part[i] > part[i - 1]);
    }
    assert.ok(ch.isEmpty());
  } finally {
    stopPeers([a, b, victim, producer]);
  }
});

Deno.test("spmc: registerConsumer limits, close, len, isEmpty and isClosed", async () => {
  const ch = channel({ ringBits: 4, maxConsumers: 2 });
  const peers = await startPeers(3, "spmc-reg-");
  try {
    const results = await Promise.allSettled(
      peers.map((p) => p.call<number>({ op: "spmcRegister", handle: ch.handle() })),
    );
    const ids = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    assert.deepEqual(ids.toSorted(), [0, 1]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].name, "TooManyConsumers");
    assert.throws(() => ch.registerConsumer(), TooManyConsumers);
    await rejectsNamed(
      peers[0].call({ op: "spmcRegister", handle: ch.handle() }),
      "TooManyConsumers",
    );

    const open = channel({ ringBits: 4 });
    assert.ok(open.isEmpty() && !open.isClosed());
    assert.equal(open.send([1, 2, 3, 4, 5]), 5);
    assert.equal(open.len(), 5);
    assert.ok(!open.isEmpty());
    const c = open.registerConsumer();
    assert.equal(c.stealOne(), 1);
    assert.equal(open.len(), 4);
    open.close();
    open.close(); // idempotent
    assert.ok(open.isClosed() && c.isClosed());
    assert.throws(() => open.registerConsumer(), Closed);
    await rejectsNamed(peers[1].call({ op: "spmcRegister", handle: open.handle() }), "Closed");
    const out = new Uint32Array(8);
    assert.equal(c.steal(out), 4); // what was sent before close is still there
    assert.deepEqual(Array.from(out.subarray(0, 4)), [2, 3, 4, 5]);
    assert.equal(c.stealOne(), null);
    assert.ok(open.isEmpty());
  } finally {
    stopPeers(peers);
  }
});

Deno.test("spmc: stealBlocking across Workers", async (t) => {
  const [consumer] = await startPeers(1, "spmc-block-");
  try {
    await t.step("a blocked consumer Worker is released by data", async () => {
      const ch = channel();
      const waiting = consumer.call<number[]>({ op: "spmcStealBlocking", handle: ch.handle() });
      await until(() => consumerWaiters(ch) > 0, "the consumer to sleep");
      ch.send([7, 8, 9]);
      assert.deepEqual(await waiting, [7, 8, 9]);
    });

    await t.step("closed but not drained: returns what is left, then Closed", async () => {
      const ch = channel();
      await consumer.call({ op: "spmcRegister", handle: ch.handle() });
      ch.send([1, 2]);
      ch.close();
      const job = { op: "spmcStealBlocking", handle: ch.handle(), reuse: true } as const;
      assert.deepEqual(await consumer.call(job), [1, 2]);
      await rejectsNamed(consumer.call(job), "Closed");
    });

    await t.step("close releases a blocked consumer with Closed", async () => {
      const ch = channel();
      const waiting = consumer.call({ op: "spmcStealBlocking", handle: ch.handle() });
      await until(() => consumerWaiters(ch) > 0, "the consumer to sleep");
      ch.close();
      await rejectsNamed(waiting, "Closed");
    });

    await t.step("Timeout.ms on an empty channel: TimedOut", async () => {
      const ch = channel();
      await rejectsNamed(
        consumer.call({ op: "spmcStealBlocking", handle: ch.handle(), timeoutMs: 2 }),
        "TimedOut",
      );
    });
  } finally {
    stopPeers([consumer]);
  }
});

Deno.test("spmc: positions crossing 2^32 with consumer Workers", async () => {
  const ch = channel({ ringBits: 5 });
  const h = ch.handle().ring;
  const start = 2n ** 32n - 2000n;
  setPositions(h.buffer, h.byteOffset, start); // before the producer Worker views the ring
  const peers = await startPeers(3, "spmc-wrap-");
  try {
    const count = 20_000;
    const consuming = [consume(peers[0], ch, "consumeBatch"), consume(peers[1], ch, "steal")];
    const sent = await peers[2].call<number>({
      op: "spmcProduce",
      handle: ch.handle(),
      count,
      mode: "send",
      batch: 8,
      close: true,
    });
    assert.equal(sent, count);
    assertExactlyOnce(await Promise.all(consuming), count);
    const [tail, head] = positions(h.buffer, h.byteOffset);
    assert.equal(tail, start + BigInt(count));
    assert.equal(head & 0xffffffffn, (start + BigInt(count)) & 0xffffffffn); // claims move the low word
  } finally {
    stopPeers(peers);
  }
});
