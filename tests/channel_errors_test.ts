/**
 * Typed errors for every misuse of the channels, here and from Workers:
 * out-of-range configs (RangeError), wrong shapes (TypeError), register after
 * close (Closed), too many producers or consumers, reserve/commit misuse,
 * timeouts and aborts of the blocking and async waits, and hostile shared
 * memory written by another Worker (RingCorrupt, never a hang or garbage).
 * Also checks that `spsc.Channel` is the Ring itself, across Workers.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Closed,
  mpmc,
  mpsc,
  recvBlocking,
  Ring,
  RING_LAYOUT,
  RingCorrupt,
  sendBlocking,
  spmc,
  spsc,
  stealBlocking,
  TimedOut,
  Timeout,
  TooManyConsumers,
  TooManyProducers,
  u32,
  u8,
  WaitStrategy,
} from "../mod.ts";
import { channelRingOffset, SeqChecker } from "./workers/channel_check.ts";
import { rejectsNamed, startPeers, stopPeers } from "./workers/channel_client.ts";

const TAIL = RING_LAYOUT.tail / 4;
const HEAD = RING_LAYOUT.head / 4;

Deno.test("spsc.Channel is the Ring itself, from a producer Worker", async () => {
  assert.equal(spsc.Channel, Ring);
  assert.equal(spsc.defaultConfig.ringBits, 16);
  const ch = new spsc.Channel(u32, { ringBits: 5 });
  const [producer] = await startPeers(1, "spsc-");
  try {
    const count = 30_000;
    const producing = producer.call<number>({
      op: "spscProduce",
      handle: ch.handle(),
      count,
      mode: "reserve",
    });
    const checker = new SeqChecker();
    const out = new Uint32Array(64);
    for (;;) {
      const n = ch.recv(out);
      checker.processArray(out, n);
      if (n > 0) continue;
      try {
        ch.waitReadable(WaitStrategy.timedBlocking(50));
      } catch (err) {
        if (err instanceof Closed) break;
        if (!(err instanceof TimedOut)) throw err;
      }
    }
    assert.equal(await producing, count);
    assert.equal(checker.firstError, null);
    assert.equal(checker.received, count);
  } finally {
    stopPeers([producer]);
  }
});

Deno.test("channel configs out of range or of the wrong shape", () => {
  assert.throws(() => new mpsc.Channel(u32, { ringBits: 31 }), RangeError);
  assert.throws(() => new mpsc.Channel(u32, { ringBits: 0 }), RangeError);
  assert.throws(() => new mpsc.Channel(u32, { maxProducers: 0 }), RangeError);
  assert.throws(() => new mpsc.Channel(u32, { ringBits: 1.5 }), RangeError);
  assert.throws(() => new mpsc.Channel(u32, { ringBits: "8" as unknown as number }), TypeError);
  assert.throws(
    () => new mpsc.Channel(u32, { enableMetrics: "yes" as unknown as boolean }),
    TypeError,
  );
  assert.throws(
    () =>
      mpsc.Channel.fromHandle({
        buffer: new SharedArrayBuffer(1024),
        element: u32.spec,
        config: mpsc.defaultConfig,
      }),
    TypeError,
  );
  assert.throws(
    () => mpsc.Channel.fromHandle(undefined as unknown as mpsc.ChannelHandle),
    TypeError,
  );
  assert.throws(() => new spmc.Channel(u32, { maxConsumers: 0 }), RangeError);
  assert.throws(() => new spmc.Channel(u32, { maxConsumers: 2.5 }), RangeError);
  assert.throws(() => new spmc.Channel(u32, { ringBits: 31 }), RangeError);
  for (
    const bad of [
      { ringBits: 0 },
      { ringBits: 31 },
      { maxProducers: 0 },
      { maxConsumers: 5000 },
      { ringsPerShard: 0 },
      { maxProducers: 1.5 },
    ]
  ) {
    assert.throws(() => new mpmc.MpmcChannel(u32, bad), RangeError, JSON.stringify(bad));
  }
  assert.throws(() => Timeout.ms(-1), RangeError);
  assert.throws(() => Timeout.ms(NaN), RangeError);
  assert.throws(() => WaitStrategy.timedBlocking(-1), RangeError);
  assert.throws(() => WaitStrategy.sleeping(Infinity), RangeError);
});

Deno.test("registration misuse: Closed, TooManyProducers, TooManyConsumers, here and in Workers", async () => {
  const [peer] = await startPeers(1, "errors-reg-");
  try {
    // mpsc grows up to MAX_RINGS rings, then refuses
    const big = new mpsc.Channel(u8, { ringBits: 1, maxProducers: 1 });
    for (let i = 0; i < mpsc.MAX_RINGS; i++) assert.equal(big.register().id, i);
    assert.throws(() => big.register(), TooManyProducers);
    await rejectsNamed(
      peer.call({ op: "mpscRegister", handle: big.handle(), ext: true }),
      "TooManyProducers",
    );
    big.close();
    assert.throws(() => big.register(), Closed); // closed wins over full

    const sp = new spmc.Channel(u32, { ringBits: 4, maxConsumers: 1 });
    sp.registerConsumer();
    assert.throws(() => sp.registerConsumer(), TooManyConsumers);
    await rejectsNamed(peer.call({ op: "spmcRegister", handle: sp.handle() }), "TooManyConsumers");
    sp.close();
    assert.throws(() => sp.registerConsumer(), Closed);

    const mp = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 1, maxConsumers: 1 });
    mp.register();
    mp.registerConsumer();
    assert.throws(() => mp.register(), TooManyProducers);
    assert.throws(() => mp.registerConsumer(), TooManyConsumers);
    mp.close();
    await rejectsNamed(
      peer.call({ op: "mpmcRegister", handle: mp.handle(), side: "producer" }),
      "Closed",
    );
    await rejectsNamed(
      peer.call({ op: "mpmcRegister", handle: mp.handle(), side: "consumer" }),
      "Closed",
    );
  } finally {
    stopPeers([peer]);
  }
});

Deno.test("reserve and commit misuse on a producer", async () => {
  const ch = new mpsc.Channel(u32, { ringBits: 4 });
  const p = ch.register();
  assert.throws(() => p.reserve(0), RangeError);
  assert.throws(() => p.reserve(17), RangeError);
  assert.throws(() => p.reserve(1.5), RangeError);
  const r = p.reserve(2)!;
  r.array[r.offset] = 1;
  assert.throws(() => p.commit(3), RangeError);
  p.commit(1);
  assert.throws(() => p.commit(1), RangeError); // nothing reserved any more
  assert.equal(ch.totalPending(), 1);
  const [peer] = await startPeers(1, "errors-commit-");
  try {
    const id = await peer.call<number>({ op: "mpscRegister", handle: ch.handle(), ext: false });
    await rejectsNamed(
      peer.call({ op: "mpscProducer", id, call: "reserveCommit", items: [1], n: 0 }),
      "RangeError",
    );
  } finally {
    stopPeers([peer]);
  }
});

Deno.test("blocking and async waits: TimedOut, Closed and abort", async () => {
  const ch = new mpsc.Channel(u32, { ringBits: 2 });
  const p = ch.registerExt();
  assert.throws(() => recvBlocking(ch, Timeout.ms(1)), TimedOut);
  assert.equal(p.sendBlocking([1, 2, 3, 4]), 4);
  assert.throws(() => sendBlocking(p, 5, Timeout.ms(1)), TimedOut);
  assert.equal(recvBlocking(ch, Timeout.ms(1)), 1);
  sendBlocking(p, 5, Timeout.ms(1));
  ch.close();
  assert.throws(() => sendBlocking(p, 6), Closed);
  // closed but not drained: what is left still comes out, then Closed
  const got = [2, 3, 4, 5].map(() => recvBlocking(ch));
  assert.deepEqual(got, [2, 3, 4, 5]);
  assert.throws(() => recvBlocking(ch), Closed);

  const sp = new spmc.Channel(u32, { ringBits: 2 });
  const sc = sp.registerConsumer();
  assert.throws(() => stealBlocking(sc, new Uint32Array(2), Timeout.ms(1)), TimedOut);
  await assert.rejects(sc.readableAsync({ timeoutMs: 1 }), TimedOut);
  const spAbort = new AbortController();
  const spWaiting = sc.readableAsync({ signal: spAbort.signal });
  spAbort.abort(new Error("spmc abort"));
  await assert.rejects(spWaiting, /spmc abort/);
  sp.close();
  await assert.rejects(sc.readableAsync(), Closed);

  const mp = new mpmc.MpmcChannel(u32, { ringBits: 2, maxProducers: 1, maxConsumers: 1 });
  mp.register();
  const mc = mp.registerConsumer();
  assert.throws(() => stealBlocking(mc, new Uint32Array(2), Timeout.ms(1)), TimedOut);
  await assert.rejects(mc.readableAsync({ timeoutMs: 1 }), TimedOut);
  const mpAbort = new AbortController();
  mpAbort.abort(new Error("already aborted"));
  await assert.rejects(mc.readableAsync({ signal: mpAbort.signal }), /already aborted/);
  mp.close();
  assert.throws(() => stealBlocking(mc, new Uint32Array(2)), Closed);
  assert.throws(() => mc.waitReadable(), Closed);
});

Deno.test("hostile shared memory written by another Worker", async (t) => {
  const [hostile] = await startPeers(1, "hostile-");
  try {
    const scribble = (buffer: SharedArrayBuffer, byteOffset: number, writes: [number, number][]) =>
      hostile.call({ op: "scribble", buffer, byteOffset, writes });

    await t.step("mpsc: a tail past head + capacity is RingCorrupt for the consumer", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 4 });
      ch.register().send([1, 2]);
      await scribble(ch.handle().buffer, channelRingOffset(0, 4, 4), [[TAIL, 1000]]);
      assert.throws(() => ch.consumeAll({ process() {} }), RingCorrupt);
      assert.throws(() => ch.recvOne(), RingCorrupt);
      assert.throws(() => ch.drainAll({ process() {} }), RingCorrupt);
    });

    await t.step("mpsc: a head ahead of tail is RingCorrupt for the producer", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 4 });
      const p = ch.register();
      assert.equal(p.send(new Uint32Array(16)), 16); // full: the next send reloads head
      await scribble(ch.handle().buffer, channelRingOffset(0, 4, 4), [[HEAD, 21]]);
      assert.throws(() => p.send([1]), RingCorrupt);
      assert.throws(() => p.reserve(1), RingCorrupt);
    });

    await t.step("mpsc: a registration count beyond the memory throws, never hangs", async () => {
      const ch = new mpsc.Channel(u32, { ringBits: 4, maxProducers: 2 });
      ch.register().send([1]);
      await scribble(ch.handle().buffer, 0, [[2, 1_000_000]]); // header word 2: rings
      assert.throws(() => mpsc.Channel.fromHandle(ch.handle()).consumeAll({ process() {} }));
    });

    await t.step("spmc: a corrupt tail is RingCorrupt for every consumer API", async () => {
      const ch = new spmc.Channel(u32, { ringBits: 4 });
      ch.send([1, 2, 3]);
      const h = ch.handle().ring;
      await scribble(h.buffer, h.byteOffset, [[TAIL, 500]]);
      const c = ch.registerConsumer();
      assert.throws(() => c.steal(new Uint32Array(4)), RingCorrupt);
      assert.throws(() => c.stealOne(), RingCorrupt);
      assert.throws(() => c.consumeBatch({ process() {} }), RingCorrupt);
      assert.throws(() => c.available(), RingCorrupt);
      assert.throws(() => stealBlocking(c, new Uint32Array(4), Timeout.ms(1)), RingCorrupt);
    });

    await t.step(
      "mpmc: a corrupt tail is RingCorrupt for stealBatch, steal and totalPending",
      async () => {
        const ch = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 1, maxConsumers: 1 });
        ch.register().send([1]);
        await scribble(ch.handle().buffer, channelRingOffset(0, 4, 4), [[TAIL, -7]]);
        const c = ch.registerConsumer();
        assert.throws(() => c.stealBatch({ process() {} }), RingCorrupt);
        assert.throws(() => c.steal(new Uint32Array(4)), RingCorrupt);
        assert.throws(() => ch.totalPending(), RingCorrupt);
      },
    );
  } finally {
    stopPeers([hostile]);
  }
});
