/**
 * Multi-Worker tests of `mpsc.Channel` and its producers: P producer Workers
 * each send their own sequence, a consumer (this thread or a Worker) checks
 * that every item arrives exactly once and in its producer's order, through
 * every receiving API; registration growth under traffic, deregistration,
 * close and shutdown, drains, status queries, adaptive skip, metrics,
 * blocking waits across Workers, a producer killed mid-stream and positions
 * crossing 2^32.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, Metrics, mpsc, record, TimedOut, u32, WaitStrategy } from "../mod.ts";
import {
  channelRingOffset,
  type ConsumeMethod,
  consumeMpsc,
  type ConsumeReport,
  HangGuard,
  positions,
  type ProduceMode,
  RecordChecker,
  SeqChecker,
  setPositions,
} from "./workers/channel_check.ts";
import { type Peer, rejectsNamed, startPeers, stopPeers, until } from "./workers/channel_client.ts";

type U32Channel = mpsc.Channel<number, Uint32Array>;
type Sent = { id: number; sent: number };

/** Header word index of the channel's doorbell waiters (layout in src/mpsc/channel.ts). */
const DOORBELL_WAITERS = 5;

function channel(config: Partial<mpsc.ChannelHandle["config"]> = {}): U32Channel {
  return new mpsc.Channel(u32, { ringBits: 8, maxProducers: 4, ...config });
}

function produce(
  peer: Peer,
  ch: U32Channel,
  tag: number,
  count: number,
  mode: ProduceMode,
  extra: { batch?: number; deregister?: boolean; progress?: Int32Array } = {},
): Promise<Sent> {
  return peer.call<Sent>({
    op: "mpscProduce",
    handle: ch.handle(),
    tag,
    count,
    mode,
    batch: extra.batch ?? 32,
    ext: mode === "extSendOne" || mode === "sendBlocking",
    deregister: extra.deregister,
    progress: extra.progress,
  });
}

function assertComplete(report: ConsumeReport, counts: number[], checked = true): void {
  if (checked) {
    assert.equal(report.firstError, null);
    assert.equal(report.errors, 0);
    counts.forEach((n, tag) => assert.equal(report.perTag[tag], n, `producer ${tag}`));
  }
  assert.equal(report.received, counts.reduce((a, b) => a + b, 0));
}

Deno.test("mpsc: producer Workers, every consumer API, nothing lost, duplicated or reordered", async (t) => {
  const peers = await startPeers(4, "mpsc-producer-");
  try {
    const plans: [ConsumeMethod, ProduceMode[], number][] = [
      ["consumeAll", ["send", "reserve"], 20_000],
      ["consumeAllCount", ["sendOne", "send", "reserveWithBackoff"], 20_000],
      ["consumeAllUpTo", ["send", "extSendOne", "sendBlocking", "blockingSendOne"], 15_000],
      ["recv", ["reserve", "send", "sendOne"], 20_000],
      ["recvOne", ["send", "reserve"], 10_000],
      ["tryRecv", ["sendOne", "send"], 10_000],
      ["drain", ["send", "reserve", "sendBlocking"], 20_000],
      ["recvBlocking", ["send", "sendOne"], 5_000],
    ];
    for (const [method, modes, count] of plans) {
      await t.step(`${method} with ${modes.length} producers (${modes.join(", ")})`, async () => {
        const ch = channel({ maxProducers: 2 });
        const producing = modes.map((mode, tag) => produce(peers[tag], ch, tag, count, mode));
        const report = consumeMpsc(ch, method, count * modes.length, 100);
        const sent = await Promise.all(producing);
        assert.deepEqual(sent.map((s) => s.sent), modes.map(() => count));
        assert.deepEqual(new Set(sent.map((s) => s.id)), new Set(modes.map((_, i) => i)));
        assertComplete(report, modes.map(() => count), method !== "consumeAllCount");
        assert.ok(ch.isEmpty());
        assert.equal(ch.totalPending(), 0);
        assert.equal(ch.snapshot().producers, modes.length);
      });
    }
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpsc: record items {producer, seq} from Workers", async () => {
  const ch = new mpsc.Channel(record({ producer: "u32", seq: "u32" }), { ringBits: 7 });
  const peers = await startPeers(2, "mpsc-record-");
  try {
    const count = 20_000;
    const producing = peers.map((p, tag) =>
      p.call<Sent>({ op: "mpscProduceRecords", handle: ch.handle(), tag, count })
    );
    const checker = new RecordChecker();
    const guard = new HangGuard("receiving records");
    while (checker.summary().received < 2 * count) {
      if (ch.consumeAll(checker) > 0) guard.progress();
      else {
        guard.check();
        try {
          ch.waitReadable(WaitStrategy.timedBlocking(50));
        } catch (err) {
          if (!(err instanceof TimedOut)) throw err;
        }
      }
    }
    await Promise.all(producing);
    const s = checker.summary();
    assert.equal(s.firstError, null);
    assert.deepEqual(s.perTag.slice(0, 2), [count, count]);
    assert.equal(ch.recvOne(), null);
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpsc: registration grows the channel while a consumer Worker runs", async () => {
  const ch = channel({ maxProducers: 1, ringBits: 7 });
  const initialBytes = ch.handle().buffer.byteLength;
  const progress = new Int32Array(new SharedArrayBuffer(4));
  const [consumer, ...producers] = await startPeers(5, "mpsc-grow-");
  try {
    const count = 25_000;
    const consuming = consumer.call<ConsumeReport>({
      op: "mpscConsume",
      handle: ch.handle(),
      method: "consumeAll",
      progress,
    });
    const producing = [produce(producers[0], ch, 0, count, "send")];
    await until(() => Atomics.load(progress, 0) >= 2_000, "the consumer to receive 2,000 items");
    producing.push(produce(producers[1], ch, 1, count, "reserve"));
    await until(() => Atomics.load(progress, 0) >= 6_000, "the consumer to receive 6,000 items");
    // two more register at once, racing for the registration lock and the next growth
    producing.push(produce(producers[2], ch, 2, count, "sendOne"));
    producing.push(produce(producers[3], ch, 3, count, "send"));
    const sent = await Promise.all(producing);
    assert.deepEqual(sent.map((s) => s.id).toSorted(), [0, 1, 2, 3]);
    ch.close();
    const report = await consuming;
    assertComplete(report, [count, count, count, count]);
    assert.ok(report.fullyDrained);
    assert.ok(ch.handle().buffer.byteLength >= channelRingOffset(4, 7, 4));
    assert.ok(ch.handle().buffer.byteLength > initialBytes);
    assert.equal(ch.snapshot().producers, 4);
  } finally {
    stopPeers([consumer, ...producers]);
  }
});

Deno.test("mpsc: a deregistered producer's remaining messages are still delivered", async () => {
  const ch = channel({ ringBits: 10 });
  const [a, b] = await startPeers(2, "mpsc-dereg-");
  try {
    const gone = await produce(a, ch, 0, 700, "send", { deregister: true });
    const stays = await produce(b, ch, 1, 300, "reserve");
    const ring = ch.getRing(gone.id)!;
    assert.ok(ring.isClosed());
    assert.ok(!ring.isActive());
    assert.ok(!ch.getRing(stays.id)!.isClosed());
    assert.ok(!ch.isClosed());
    const snap = ch.snapshot();
    assert.equal(snap.producers, 2);
    assert.equal(snap.activeProducers, 1);
    assert.equal(snap.pending, 1000);
    const checker = new SeqChecker();
    assert.equal(ch.consumeAll(checker), 1000);
    assert.equal(checker.firstError, null);
    assert.deepEqual(Array.from(checker.counts.subarray(0, 2)), [700, 300]);
    // the other producer goes on working
    assert.equal((await produce(b, ch, 1, 10, "send")).sent, 10);
    assert.equal(ch.totalPending(), 10);
  } finally {
    stopPeers([a, b]);
  }
});

Deno.test("mpsc: close and shutdown", async (t) => {
  const [a, b] = await startPeers(2, "mpsc-close-");
  try {
    await t.step(
      "register after close or shutdown throws Closed, here and in a Worker",
      async () => {
        const ch = channel();
        await a.call({ op: "mpscClose", handle: ch.handle(), how: "close" });
        assert.ok(ch.isClosed());
        assert.throws(() => ch.register(), Closed);
        assert.throws(() => ch.registerExt(), Closed);
        await rejectsNamed(
          a.call({ op: "mpscRegister", handle: ch.handle(), ext: false }),
          "Closed",
        );
        const ch2 = channel();
        ch2.shutdown();
        ch2.shutdown(); // idempotent
        await rejectsNamed(
          b.call({ op: "mpscRegister", handle: ch2.handle(), ext: true }),
          "Closed",
        );
        const ch3 = channel();
        await b.call({ op: "mpscClose", handle: ch3.handle(), how: "deinit" });
        assert.throws(() => ch3.register(), Closed);
      },
    );

    await t.step("producers see isClosed and stop; drainAll delivers what they sent", async () => {
      const ch = channel({ ringBits: 6 });
      const ids = await Promise.all([
        a.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false }),
        b.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: true }),
      ]);
      const items = (tag: number, from: number, n: number) =>
        Array.from({ length: n }, (_, i) => (tag << 24) | (from + i));
      await a.call({ op: "mpscProducer", id: ids[0], call: "send", items: items(0, 0, 40) });
      await b.call({ op: "mpscProducer", id: ids[1], call: "send", items: items(1, 0, 25) });
      assert.equal(await a.call({ op: "mpscProducer", id: ids[0], call: "isClosed" }), false);
      ch.shutdown();
      assert.equal(await a.call({ op: "mpscProducer", id: ids[0], call: "isClosed" }), true);
      assert.equal(await b.call({ op: "mpscProducer", id: ids[1], call: "isClosed" }), true);
      // a ProducerExt's blocking send stops at once on a closed channel
      assert.equal(
        await b.call({ op: "mpscProducer", id: ids[1], call: "sendBlocking", items: [7] }),
        0,
      );
      await rejectsNamed(
        a.call({ op: "mpscProducer", id: ids[0], call: "blockingSend", items: [7] }),
        "Closed",
      );
      assert.ok(!ch.isFullyDrained());
      const checker = new SeqChecker();
      assert.equal(ch.drainAll(checker), 65);
      assert.equal(checker.firstError, null);
      assert.ok(ch.isFullyDrained());
      assert.equal(ch.drainAll(checker), 0);
    });

    await t.step("drainAllCount after producer Workers finish", async () => {
      const ch = channel({ ringBits: 12 });
      await Promise.all([produce(a, ch, 0, 3000, "send"), produce(b, ch, 1, 1234, "sendOne")]);
      ch.close();
      assert.equal(ch.totalPending(), 4234);
      assert.equal(ch.drainAllCount(), 4234);
      assert.ok(ch.isFullyDrained());
    });

    await t.step("a producer Worker stops early once the channel closes", async () => {
      const ch = channel({ ringBits: 4 });
      const progress = new Int32Array(new SharedArrayBuffer(4));
      const producing = produce(a, ch, 0, 1_000_000, "send", { progress });
      await until(() => Atomics.load(progress, 0) >= 16, "the producer to fill its ring");
      ch.close();
      const { sent } = await producing; // the producer sees isClosed and gives up
      assert.ok(sent < 1_000_000);
      const checker = new SeqChecker();
      assert.equal(ch.drainAll(checker), sent);
      assert.equal(checker.firstError, null);
    });
  } finally {
    stopPeers([a, b]);
  }
});

Deno.test("mpsc: snapshot, totalPending, isEmpty, hottestRing, getRing and reset", async () => {
  const ch = channel({ ringBits: 8 });
  const [a, b] = await startPeers(2, "mpsc-status-");
  try {
    assert.ok(ch.isEmpty());
    assert.equal(ch.hottestRing(), null);
    assert.equal(ch.getRing(0), null);
    const ida = await a.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
    const idb = await b.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
    const items = (tag: number, n: number) => Array.from({ length: n }, (_, i) => (tag << 24) | i);
    await a.call({ op: "mpscProducer", id: ida, call: "send", items: items(0, 10) });
    await b.call({ op: "mpscProducer", id: idb, call: "send", items: items(1, 50) });
    assert.equal(ch.totalPending(), 60);
    assert.ok(!ch.isEmpty());
    assert.equal(ch.hottestRing(), ch.getRing(idb));
    assert.equal(ch.getRing(ida)!.len(), 10);
    assert.equal(ch.getRing(idb)!.len(), 50);
    assert.equal(ch.getRing(2), null);
    assert.throws(() => ch.getRing(-1), RangeError);
    assert.throws(() => ch.getRing(0.5), RangeError);
    const snap = ch.snapshot();
    assert.equal(snap.pending, 60);
    assert.equal(snap.producers, 2);
    assert.equal(snap.activeProducers, 2);
    assert.equal(snap.closed, false);
    assert.equal(snap.metrics, null); // metrics are off by default
    const out = new Uint32Array(20);
    assert.equal(ch.recv(out), 20);
    assert.equal(ch.totalPending(), 40);
    await a.call({ op: "mpscProducer", id: ida, call: "send", items: items(0, 5) });
    assert.equal(ch.totalPending(), 45);
    ch.reset();
    assert.equal(ch.totalPending(), 0);
    assert.ok(ch.isEmpty());
    assert.equal(ch.hottestRing(), null);
    assert.equal(ch.getRing(ida)!.len(), 0);
    assert.equal(ch.recvOne(), null);
    assert.equal(ch.snapshot().pending, 0);
  } finally {
    stopPeers([a, b]);
  }
});

Deno.test("mpsc: adaptive skip delivers a long-empty ring's data within 65 sweeps", async () => {
  const ch = channel({ ringBits: 8 });
  const [a, b] = await startPeers(2, "mpsc-skip-");
  try {
    const ida = await a.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
    const idb = await b.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
    const checker = new SeqChecker();
    let seqA = 0;
    let seqB = 0;
    const sendA = () => a.call({ op: "mpscProducer", id: ida, call: "sendOne", items: [seqA++] });
    const sendB = () =>
      b.call({ op: "mpscProducer", id: idb, call: "sendOne", items: [(1 << 24) | seqB++] });
    const sweepsUntilDelivered = (sweep: () => number): number => {
      for (let calls = 1; calls <= 1000; calls++) if (sweep() > 0) return calls;
      return Infinity;
    };
    for (
      const [name, sweep] of [
        ["consumeAll", () => ch.consumeAll(checker)],
        ["consumeAllCount", () => ch.consumeAllCount()],
      ] as const
    ) {
      for (let i = 0; i < 300; i++) assert.equal(sweep(), 0); // both rings long empty
      await sendA();
      const calls = sweepsUntilDelivered(sweep);
      assert.ok(calls <= 65, `${name}: delivered after ${calls} sweeps`);
      for (let i = 0; i < 300; i++) assert.equal(sweep(), 0);
      await sendA();
      ch.resetAdaptiveSkip();
      assert.equal(sweep(), 1, `${name}: delivered on the first sweep after resetAdaptiveSkip`);
      // a ring that has data on every sweep is polled on every sweep
      ch.resetAdaptiveSkip();
      for (let i = 0; i < 50; i++) {
        await sendB();
        assert.equal(sweep(), 1, `${name}: busy ring delivered on every sweep`);
      }
    }
    assert.equal(checker.firstError, null);
    assert.equal(ch.totalPending(), 0);
  } finally {
    stopPeers([a, b]);
  }
});

Deno.test("mpsc: Producer and ProducerExt API from a Worker", async () => {
  const ch = channel({ ringBits: 4 }); // 16 slots
  const [a] = await startPeers(1, "mpsc-api-");
  try {
    const id = await a.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: true });
    const call = <T>(c: string, items: number[] = [], n?: number) =>
      a.call<T>({ op: "mpscProducer", id, call: c as "send", items, n });
    let next = 0;
    const seqs = (n: number) => Array.from({ length: n }, () => next++);
    assert.equal(await call("availableCapacity"), 16);
    assert.equal(await call("reserveCommit", seqs(3)), 3);
    assert.equal(await call("send", seqs(4)), 4);
    assert.equal(await call("sendOne", seqs(1)), true);
    assert.equal(await call("extSendOne", seqs(1)), true);
    assert.equal(await call("reserveWithBackoff", seqs(2)), 2);
    assert.equal(await call("availableCapacity"), 5);
    // full ring, no consumer: sendBlocking gives up after its backoff with what fitted
    assert.equal(await call("sendBlocking", seqs(8)), 5);
    next -= 3;
    assert.equal(await call("availableCapacity"), 0);
    assert.equal(await call("reserveWithBackoff", [0], 1), null);
    assert.equal(await call("reserveCommit", [0], 1), null);
    assert.equal(await call("sendOne", [0]), false);
    await rejectsNamed(call("blockingSend", [0], 2), "TimedOut");
    const checker = new SeqChecker();
    assert.equal(ch.consumeAll(checker), 16);
    assert.equal(checker.firstError, null);
    assert.equal(await call("availableCapacity"), 16);
    assert.equal(await call("blockingSend", seqs(1), 2), true);
    assert.equal(ch.recvOne(), next - 1);
  } finally {
    stopPeers([a]);
  }
});

Deno.test("mpsc: a blocked consumer is woken by a producer in another Worker", async (t) => {
  const [waiter, producer] = await startPeers(2, "mpsc-wake-");
  try {
    const doorbellWaiters = (ch: U32Channel) =>
      Atomics.load(new Int32Array(ch.handle().buffer, 0, 8), DOORBELL_WAITERS);

    await t.step("waitReadable in a Worker", async () => {
      const ch = channel();
      const waiting = waiter.call<number>({ op: "mpscWait", handle: ch.handle(), how: "blocking" });
      await until(() => doorbellWaiters(ch) > 0, "the consumer to sleep");
      await produce(producer, ch, 0, 3, "send");
      assert.equal(await waiting, 3);
    });

    await t.step("readableAsync in a Worker", async () => {
      const ch = channel();
      const waiting = waiter.call<number>({ op: "mpscWait", handle: ch.handle(), how: "async" });
      await until(() => doorbellWaiters(ch) > 0, "the consumer to sleep");
      await produce(producer, ch, 0, 2, "sendOne");
      assert.equal(await waiting, 2);
    });

    await t.step("readableAsync on this thread", async () => {
      const ch = channel();
      const waiting = ch.readableAsync();
      assert.ok(doorbellWaiters(ch) > 0);
      await produce(producer, ch, 0, 1, "reserve");
      await waiting;
      assert.equal(ch.recvOne(), 0);
    });

    await t.step("close wakes a blocked consumer with Closed", async () => {
      const ch = channel();
      const waiting = waiter.call({ op: "mpscWait", handle: ch.handle(), how: "blocking" });
      await until(() => doorbellWaiters(ch) > 0, "the consumer to sleep");
      await producer.call({ op: "mpscClose", handle: ch.handle(), how: "shutdown" });
      await rejectsNamed(waiting, "Closed");
      await assert.rejects(ch.readableAsync(), Closed);
    });

    await t.step("timeouts and abort", async () => {
      const ch = channel();
      await rejectsNamed(
        waiter.call({ op: "mpscWait", handle: ch.handle(), how: "blocking", timeoutMs: 2 }),
        "TimedOut",
      );
      await rejectsNamed(
        waiter.call({ op: "mpscWait", handle: ch.handle(), how: "async", timeoutMs: 2 }),
        "TimedOut",
      );
      await assert.rejects(ch.readableAsync({ timeoutMs: 2 }), TimedOut);
      const controller = new AbortController();
      const waiting = ch.readableAsync({ signal: controller.signal });
      const reason = new Error("stop waiting");
      controller.abort(reason);
      await assert.rejects(waiting, (err) => err === reason);
      assert.equal(doorbellWaiters(ch), 0);
    });
  } finally {
    stopPeers([waiter, producer]);
  }
});

Deno.test("mpsc: a producer Worker killed mid-stream loses only what it had not committed", async () => {
  const ch = channel({ ringBits: 6 });
  const consumed = new Int32Array(new SharedArrayBuffer(4));
  const [consumer, doomed, survivor] = await startPeers(3, "mpsc-crash-");
  try {
    const consuming = consumer.call<ConsumeReport>({
      op: "mpscConsume",
      handle: ch.handle(),
      method: "consumeAll",
      progress: consumed,
    });
    const sentByDoomed = new Int32Array(new SharedArrayBuffer(4));
    produce(doomed, ch, 0, 10_000_000, "reserve", { progress: sentByDoomed }).catch(() => {});
    await until(() => Atomics.load(consumed, 0) >= 5_000, "the consumer to receive 5,000 items");
    doomed.terminate(); // wherever it is: between reserve and commit, or inside send
    const committed = Atomics.load(sentByDoomed, 0);
    assert.equal((await produce(survivor, ch, 1, 5_000, "send")).sent, 5_000);
    ch.close();
    const report = await consuming;
    assert.equal(report.firstError, null); // the dead producer's items: a gap-free prefix
    assert.ok(report.perTag[0] >= committed, `${report.perTag[0]} < ${committed}`);
    assert.equal(report.perTag[1], 5_000);
    assert.ok(report.fullyDrained);
  } finally {
    stopPeers([consumer, doomed, survivor]);
  }
});

Deno.test("mpsc: ring positions crossing 2^32 with producer Workers", async () => {
  const ringBits = 6;
  const ch = channel({ ringBits, maxProducers: 2 });
  const buffer = ch.handle().buffer;
  const start = 2n ** 32n - 3000n;
  // the rings' memory exists before registration; registering views it as it is
  setPositions(buffer, channelRingOffset(0, ringBits, 4), start);
  setPositions(buffer, channelRingOffset(1, ringBits, 4), start);
  const peers = await startPeers(2, "mpsc-wrap-");
  try {
    const count = 20_000;
    const producing = [
      produce(peers[0], ch, 0, count, "send"),
      produce(peers[1], ch, 1, count, "reserve"),
    ];
    const report = consumeMpsc(ch, "consumeAll", 2 * count);
    const sent = await Promise.all(producing);
    assertComplete(report, [count, count]);
    for (const { id } of sent) {
      assert.equal(ch.getRing(id)!.handle().byteOffset, channelRingOffset(id, ringBits, 4));
      const [tail, head] = positions(buffer, channelRingOffset(id, ringBits, 4));
      assert.equal(tail, start + BigInt(count));
      assert.equal(head, start + BigInt(count));
    }
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpsc: metrics count across Workers and merge in snapshot", async (t) => {
  const [a, b] = await startPeers(2, "mpsc-metrics-");
  try {
    await t.step("enableMetrics counts sends, receives and batches", async () => {
      const ch = channel({ ringBits: 12, enableMetrics: true });
      await Promise.all([
        produce(a, ch, 0, 1000, "send", { batch: 100 }),
        produce(b, ch, 1, 600, "send", { batch: 100 }),
      ]);
      const checker = new SeqChecker();
      assert.equal(ch.consumeAll(checker), 1600);
      assert.equal(checker.firstError, null);
      const m0 = ch.getRing(0)!.getMetrics()!;
      const m1 = ch.getRing(1)!.getMetrics()!;
      const perRing = [m0, m1].toSorted((x, y) => y.messagesSent - x.messagesSent);
      assert.deepEqual(perRing.map((m) => m.messagesSent), [1000, 600]);
      assert.deepEqual(perRing.map((m) => m.batchesSent), [10, 6]);
      assert.deepEqual(perRing.map((m) => m.messagesReceived), [1000, 600]);
      assert.deepEqual(perRing.map((m) => m.batchesReceived), [1, 1]);
      assert.deepEqual(perRing.map((m) => m.maxBatchSize), [1000, 600]);
      assert.deepEqual(perRing.map((m) => m.latencyCount), [1, 1]);
      const snap = ch.snapshot();
      const merged = snap.metrics!;
      assert.ok(merged instanceof Metrics);
      assert.equal(merged.messagesSent, 1600);
      assert.equal(merged.messagesReceived, 1600);
      assert.equal(merged.batchesSent, 16);
      assert.equal(merged.batchesReceived, 2);
      assert.equal(merged.maxBatchSize, 1000);
      assert.equal(merged.latencyCount, 2);
      assert.equal(merged.latencySumNs, m0.latencySumNs + m1.latencySumNs);
      assert.equal(merged.latencyMinNs, Math.min(m0.latencyMinNs, m1.latencyMinNs));
      assert.equal(merged.latencyMaxNs, Math.max(m0.latencyMaxNs, m1.latencyMaxNs));
      assert.equal(merged.avgBatchSize(), 800);
      assert.equal(merged.avgLatencyNs(), merged.latencySumNs / 2);
      assert.equal(merged.throughputPerSecond(1e9), 1600);
      assert.equal(merged.throughputPerSecond(0), 0);
      assert.equal(snap.avgLatencyNs, merged.avgLatencyNs());
      const byHand = new Metrics();
      byHand.merge(m0);
      byHand.merge(m1);
      assert.deepEqual({ ...byHand }, { ...merged });
      assert.ok(snap.throughputPerSecond > 0);
      merged.reset();
      assert.deepEqual({ ...merged }, { ...new Metrics() });
      assert.equal(merged.avgBatchSize(), 0);
      assert.equal(merged.avgLatencyNs(), 0);
    });

    await t.step("metrics off: getMetrics() is null and snapshot has none", async () => {
      const ch = channel();
      await produce(a, ch, 0, 100, "send");
      assert.equal(ch.getRing(0)!.getMetrics(), null);
      const snap = ch.snapshot();
      assert.equal(snap.metrics, null);
      assert.equal(snap.throughputPerSecond, 0);
      assert.equal(snap.avgLatencyNs, 0);
    });

    await t.step("trackContention counts reserves that found the ring full", async () => {
      const ch = channel({ ringBits: 3, enableMetrics: true, trackContention: true });
      const id = await a.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
      const fill = Array.from({ length: 8 }, (_, i) => i);
      assert.equal(await a.call({ op: "mpscProducer", id, call: "send", items: fill }), 8);
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await a.call({ op: "mpscProducer", id, call: "reserveCommit", items: [0] }),
          null,
        );
      }
      const m = ch.getRing(id)!.getMetrics()!;
      assert.equal(m.reserveFailures, 5);
      assert.ok(m.reserveSpins >= 5);
    });
  } finally {
    stopPeers([a, b]);
  }
});
