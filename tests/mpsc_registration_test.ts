/**
 * Tests of `mpsc.Channel` registration (src/mpsc/channel.ts, steps R1–R6 and
 * D1–D2): a deregistered producer's ring is reused once drained, so register
 * and deregister can cycle far past `MAX_RINGS`, here and across Workers,
 * with nothing of an old producer lost or reordered; registration is
 * lock-free, so the state a dead registrant leaves behind (a stale lock word,
 * a ring id taken but never grown, a ring taken but never used) and a Worker
 * terminated while registering in a loop block no later `register()` or
 * `close()`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, mpsc, RING_LAYOUT, TooManyProducers, u32 } from "../mod.ts";
import { channelRingOffset, SeqChecker } from "./workers/channel_check.ts";
import { startPeers, stopPeers, until } from "./workers/channel_client.ts";
import type { LifecycleJob } from "./workers/lifecycle_peer.ts";

const LIFECYCLE = new URL("./workers/lifecycle_peer.ts", import.meta.url);
const RINGS_WORD = 2; // header word: ring ids handed out (layout in src/mpsc/channel.ts)

type U32Channel = mpsc.Channel<number, Uint32Array>;

Deno.test("mpsc: 5000 register/send/deregister cycles on one thread reuse one ring, in order", () => {
  const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 4, maxProducers: 1 });
  const checker = new SeqChecker();
  const next = new Int32Array(256);
  const cycles = mpsc.MAX_RINGS + 904;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const tag = cycle % 256;
    const p = ch.register();
    assert.equal(p.id, 0, `cycle ${cycle}: the drained ring is taken again`);
    for (let i = 0; i < 3; i++) assert.ok(p.sendOne(((tag << 24) | next[tag]++) >>> 0));
    p.deregister();
    assert.throws(() => p.sendOne(1), Closed); // a deregistered producer is closed for good
    assert.equal(ch.consumeAll(checker), 3);
  }
  assert.equal(checker.firstError, null);
  assert.equal(checker.received, 3 * cycles);
  const stats = ch.snapshot();
  assert.equal(stats.producers, 1);
  assert.equal(stats.activeProducers, 0);
});

Deno.test("mpsc: a ring still holding items is not reused until drained; old items come first", () => {
  const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 4, maxProducers: 2 });
  const a = ch.register();
  a.send([1, 2, 3]);
  a.deregister();
  const b = ch.register();
  assert.equal(b.id, 1, "ring 0 still holds a's items");
  b.deregister();
  const out: number[] = [];
  ch.drainAll({ process: (x) => out.push(x) });
  assert.deepEqual(out, [1, 2, 3]);
  const c = ch.register();
  assert.equal(c.id, 0, "drained now: the lowest free ring is taken");
  c.send([4, 5]);
  assert.equal(ch.register().id, 1);
  ch.drainAll({ process: (x) => out.push(x) });
  assert.deepEqual(out, [1, 2, 3, 4, 5]);
});

Deno.test("mpsc: TooManyProducers only while every ring is taken", () => {
  const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 1, maxProducers: 1 });
  const all = Array.from({ length: mpsc.MAX_RINGS }, () => ch.register());
  assert.throws(() => ch.register(), TooManyProducers);
  all[1234].deregister();
  assert.equal(ch.register().id, 1234);
  assert.throws(() => ch.register(), TooManyProducers);
  all[7].deregister();
  all[7].deregister(); // idempotent: does not free ring 7 a second time
  assert.equal(ch.register().id, 7);
  assert.throws(() => ch.register(), TooManyProducers);
});

Deno.test("mpsc: deregister refuses a producer of another channel", () => {
  const a: U32Channel = new mpsc.Channel(u32, { ringBits: 2 });
  const b: U32Channel = new mpsc.Channel(u32, { ringBits: 2 });
  const p = a.register();
  assert.throws(() => b.deregister(p), TypeError);
  assert.throws(() => b.deregister({} as never), TypeError);
  assert.ok(!p.isClosed());
  using q = a.register();
  assert.equal(q.id, 1);
});

Deno.test("mpsc: Workers cycling register/send/deregister 6000 times in all while this thread consumes", async () => {
  const workers = 3;
  const cycles = 2000; // 6000 registrations in all, more than MAX_RINGS
  const batch = 5;
  assert.ok(workers * cycles > mpsc.MAX_RINGS);
  const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 3, maxProducers: 2 });
  const peers = await startPeers<LifecycleJob>(workers, "mpsc-cycles-", LIFECYCLE);
  try {
    const running = peers.map((peer, worker) =>
      peer.call<number>(
        { op: "mpscCycles", handle: ch.handle(), worker, cycles, batch },
        [],
        120_000,
      )
    );
    // next[worker × cycles + cycle]: the sequence number expected next from that producer
    const next = new Int32Array(workers * 16384);
    let received = 0;
    let firstError: string | null = null;
    const check = {
      process(x: number) {
        const key = (x >>> 30) * 16384 + ((x >>> 16) & 0x3fff);
        if ((x & 0xffff) !== next[key]) firstError ??= `item ${x >>> 0}: expected seq ${next[key]}`;
        next[key]++;
        received++;
      },
    };
    const total = workers * cycles * batch;
    await until(() => {
      ch.consumeAll(check);
      return received >= total;
    }, "every item of every cycle");
    const highest = await Promise.all(running);
    assert.equal(ch.drainAll(check), 0);
    assert.equal(firstError, null);
    assert.equal(received, total);
    for (let w = 0; w < workers; w++) {
      for (let c = 0; c < cycles; c++) {
        assert.equal(next[w * 16384 + c], batch, `worker ${w} cycle ${c}`);
      }
    }
    const stats = ch.snapshot();
    // each Worker waits for its last ring to drain before registering again: rings are reused
    assert.ok(stats.producers <= 2 * workers, `rings handed out: ${stats.producers}`);
    assert.ok(Math.max(...highest) < stats.producers);
    assert.equal(stats.activeProducers, 0);
  } finally {
    stopPeers(peers);
  }
});

Deno.test("mpsc: what a dead registrant leaves behind blocks no register() or close()", async (t) => {
  await t.step("a held word 0 (the old registration lock)", () => {
    const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 2 });
    Atomics.store(new Int32Array(ch.handle().buffer, 0, 1), 0, 1);
    assert.equal(ch.register().id, 0);
    ch.close();
    assert.throws(() => ch.register(), Closed);
  });

  await t.step("a ring id taken (R3) whose memory was never grown (R4)", () => {
    const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 2, maxProducers: 1 });
    const header = new Int32Array(ch.handle().buffer, 0, 8);
    assert.equal(ch.register().id, 0);
    Atomics.store(header, RINGS_WORD, 2); // ring 1 handed out; its registrant died before growing
    const p = ch.register();
    assert.equal(p.id, 2, "the next registrant grows past the hole");
    p.send([9]);
    const got: number[] = [];
    ch.drainAll({ process: (x) => got.push(x) });
    assert.deepEqual(got, [9]);
    assert.equal(ch.register().id, 1, "the hole is a FREE ring: taken next");
    ch.close();
    assert.ok(ch.isFullyDrained());
  });

  await t.step("a ring taken (ACTIVE) by a registrant that died before using it", () => {
    const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 2, maxProducers: 2 });
    const dead = ch.register(); // stands for the dead one: never deregistered
    assert.equal(dead.id, 0);
    assert.equal(ch.register().id, 1);
    ch.close();
    assert.ok(ch.isFullyDrained());
  });

  await t.step("a Worker terminated while registering and deregistering in a loop", async () => {
    const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 2, maxProducers: 1 });
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const [peer] = await startPeers<LifecycleJob>(1, "mpsc-dying-", LIFECYCLE);
    const looping = peer.call<number>({ op: "mpscRegisterLoop", handle: ch.handle(), progress });
    await until(() => Atomics.load(progress, 0) > 100, "the Worker to be registering");
    peer.terminate();
    await looping.catch(() => {}); // fails: terminated
    const p = ch.register();
    p.send([1]);
    assert.equal(ch.consumeAllCount(), 1);
    ch.close(); // returns, whatever state the Worker died in
    assert.throws(() => ch.register(), Closed);
  });
});

Deno.test("mpsc: a ring taken again after close() is closed at once (R6)", () => {
  const ch: U32Channel = new mpsc.Channel(u32, { ringBits: 2, maxProducers: 1 });
  const p = ch.register();
  p.deregister();
  ch.close();
  assert.throws(() => ch.register(), Closed);
  const words = new Int32Array(
    ch.handle().buffer,
    channelRingOffset(0, 2, 4),
    RING_LAYOUT.data / 4,
  );
  assert.equal(Atomics.load(words, RING_LAYOUT.closed / 4), 2, "ring 0 stays closed");
});
