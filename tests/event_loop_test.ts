/**
 * Multi-Worker tests of `EventLoop`: `run()` hosted in a Worker of its own
 * and `spawn()` on this thread's event loop, each consuming an MPSC channel
 * fed by producer Workers; `stop()` (or the channel's `shutdown()`) from
 * another Worker must lose nothing: `processed()` equals everything sent, in
 * each producer's order, whatever the wait strategy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EventLoop, mpsc, u32, WaitStrategy } from "../mod.ts";
import { type CheckSummary, type ProduceMode, SeqChecker } from "./workers/channel_check.ts";
import { type Peer, startPeers, stopPeers, until } from "./workers/channel_client.ts";

type U32Channel = mpsc.Channel<number, Uint32Array>;
type LoopResult = CheckSummary & { returned: number; processed: number };

function produce(peer: Peer, ch: U32Channel, tag: number, count: number, mode: ProduceMode) {
  return peer.call<{ id: number; sent: number }>({
    op: "mpscProduce",
    handle: ch.handle(),
    tag,
    count,
    mode,
    batch: 64,
  });
}

Deno.test("EventLoop: run() in a Worker, stopped from another Worker with everything pending, loses nothing", async () => {
  const ch = new mpsc.Channel(u32, { ringBits: 14, maxProducers: 3 });
  // gate[0]: the test lets the loop go on; gate[1]: the loop holds its first item
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const [host, stopper, ...producers] = await startPeers(5, "loop-run-");
  try {
    const running = host.call<LoopResult>({
      op: "loopRun",
      handle: ch.handle(),
      strategy: WaitStrategy.blocking,
      gate,
    });
    const count = 10_000;
    const modes: ProduceMode[] = ["send", "reserve", "sendOne"];
    const sent = await Promise.all(
      modes.map((m, tag) => produce(producers[tag], ch, tag, count, m)),
    );
    assert.deepEqual(sent.map((s) => s.sent), [count, count, count]);
    await until(() => Atomics.load(gate, 1) === 1, "the loop to take its first item");
    await stopper.call({ op: "loopStop", handle: ch.handle() }); // EventLoop.stop in another Worker
    assert.ok(ch.isClosed());
    // the loop holds its first item inside its first batch: no head has moved yet
    assert.equal(ch.totalPending(), 3 * count);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const result = await running;
    assert.equal(result.firstError, null);
    assert.equal(result.returned, 3 * count);
    assert.equal(result.processed, 3 * count);
    assert.deepEqual(result.perTag.slice(0, 3), [count, count, count]);
    assert.ok(ch.isFullyDrained());
  } finally {
    stopPeers([host, stopper, ...producers]);
  }
});

Deno.test("EventLoop: stop while producer Workers are still sending loses no accepted message", async () => {
  // Producers send until a send throws Closed; every send that returned true
  // was accepted. The loop ends only once the channel is closed, settled (no
  // commit in flight) and drained, so it processes exactly what was accepted,
  // sends racing the stop included; nothing is left for a drainAll. Several
  // short trials.
  const [host, ...producers] = await startPeers(4, "loop-race-");
  try {
    for (let trial = 0; trial < 4; trial++) {
      // small rings that stay full: producers retry sendOne right up to the close
      const ch = new mpsc.Channel(u32, { ringBits: 6, maxProducers: 3 });
      const progress = new Int32Array(new SharedArrayBuffer(12));
      const running = host.call<LoopResult>({
        op: "loopRun",
        handle: ch.handle(),
        strategy: WaitStrategy.yielding,
      });
      const producing = producers.map((p, tag) =>
        p.call<{ id: number; sent: number }>({
          op: "mpscProduce",
          handle: ch.handle(),
          tag,
          count: 10_000_000,
          mode: "sendOne",
          batch: 1,
          progress,
        })
      );
      await until(
        () => [0, 1, 2].every((tag) => Atomics.load(progress, tag) >= 5_000),
        "every producer to be sending",
      );
      ch.shutdown();
      const sent = (await Promise.all(producing)).map((s) => s.sent);
      const result = await running;
      assert.equal(result.firstError, null);
      assert.equal(ch.drainAll({ process() {} }), 0, "nothing left behind the loop");
      assert.deepEqual(
        result.perTag.slice(0, 3),
        sent,
        `trial ${trial}: accepted ${sent}, processed ${result.perTag.slice(0, 3)}`,
      );
    }
  } finally {
    stopPeers([host, ...producers]);
  }
});

Deno.test("EventLoop: run() in a Worker with each wait strategy", async (t) => {
  const [host, producer] = await startPeers(2, "loop-strategy-");
  try {
    const strategies: [string, WaitStrategy][] = [
      ["blocking", WaitStrategy.blocking],
      ["busySpin", WaitStrategy.busySpin],
      ["yielding", WaitStrategy.yielding],
      ["sleeping", WaitStrategy.sleeping(0.05)],
      ["timedBlocking", WaitStrategy.timedBlocking(2)],
      ["phasedBackoff", WaitStrategy.phasedBackoff(10, 10)],
    ];
    for (const [name, strategy] of strategies) {
      await t.step(name, async () => {
        const ch = new mpsc.Channel(u32, { ringBits: 6 });
        const running = host.call<LoopResult>({ op: "loopRun", handle: ch.handle(), strategy });
        const { sent } = await produce(producer, ch, 0, 5_000, "send");
        ch.shutdown();
        const result = await running;
        assert.equal(result.firstError, null);
        assert.equal(result.processed, sent);
        assert.equal(result.returned, sent);
        assert.ok(ch.isFullyDrained());
      });
    }
    await t.step("stopped before any message: processed 0", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 6 });
      const running = host.call<LoopResult>({
        op: "loopRun",
        handle: ch.handle(),
        strategy: WaitStrategy.blocking,
      });
      const doorbellWaiters = new Int32Array(ch.handle().buffer, 0, 8);
      await until(() => Atomics.load(doorbellWaiters, 5) > 0, "the loop to sleep");
      new EventLoop(ch, () => {}).stop();
      assert.equal((await running).processed, 0);
    });
  } finally {
    stopPeers([host, producer]);
  }
});

Deno.test("EventLoop: spawn() on this thread, fed by producer Workers", async (t) => {
  const peers = await startPeers(3, "loop-spawn-");
  try {
    await t.step("stop() here after the producers finish", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 8, maxProducers: 2 });
      const checker = new SeqChecker();
      const loop = new EventLoop<number>(ch, (x) => checker.process(x));
      const done = loop.spawn();
      const sent = await Promise.all([
        produce(peers[0], ch, 0, 20_000, "send"),
        produce(peers[1], ch, 1, 20_000, "reserve"),
      ]);
      assert.deepEqual(sent.map((s) => s.sent), [20_000, 20_000]);
      loop.stop();
      assert.equal(await done, 40_000);
      assert.equal(loop.processed(), 40_000);
      assert.equal(checker.firstError, null);
      assert.deepEqual(Array.from(checker.counts.subarray(0, 2)), [20_000, 20_000]);
      assert.ok(ch.isFullyDrained());
    });

    await t.step(
      "stop() here while producer Workers still send: processed = accepted",
      async () => {
        const ch = new mpsc.Channel(u32, { ringBits: 6, maxProducers: 2 });
        const checker = new SeqChecker();
        const loop = new EventLoop<number>(ch, (x) => checker.process(x));
        const done = loop.spawn();
        const progress = new Int32Array(new SharedArrayBuffer(8));
        const producing = [0, 1].map((tag) =>
          peers[tag].call<{ id: number; sent: number }>({
            op: "mpscProduce",
            handle: ch.handle(),
            tag,
            count: 10_000_000,
            mode: tag === 0 ? "sendOne" : "reserve",
            batch: 8,
            progress,
          })
        );
        await until(
          () => Atomics.load(progress, 0) > 3_000 && Atomics.load(progress, 1) > 3_000,
          "both producers",
        );
        loop.stop();
        const processed = await done;
        const sent = (await Promise.all(producing)).map((s) => s.sent);
        assert.equal(checker.firstError, null);
        assert.deepEqual(Array.from(checker.counts.subarray(0, 2)), sent);
        assert.equal(processed, sent[0] + sent[1]);
        assert.equal(ch.drainAll({ process() {} }), 0);
      },
    );

    await t.step("shutdown from another Worker ends an idle spawn()", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 8 });
      const checker = new SeqChecker();
      const loop = new EventLoop<number>(ch, (x) => checker.process(x), WaitStrategy.yielding);
      const done = loop.spawn();
      await produce(peers[0], ch, 0, 3_000, "sendOne");
      await until(() => loop.processed() === 3_000, "the loop to take every item");
      await peers[2].call({ op: "mpscClose", handle: ch.handle(), how: "shutdown" });
      assert.equal(await done, 3_000);
      assert.equal(checker.firstError, null);
    });
  } finally {
    stopPeers(peers);
  }
});
