/**
 * Close without loss (src/close_gate.ts), for every channel kind — Ring
 * (= spsc.Channel), MessageRing, mpsc, spmc, mpmc: after `close()` every
 * send throws `Closed` and publishes nothing; producer Workers that send
 * until a send throws race a `close()` made here or in another Worker, and
 * what this thread then receives — by draining after `close()` returned, or
 * by consuming until its wait ends with `Closed` — is exactly what the
 * producers were told was accepted, each producer's items once and in order.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Closed,
  MessageRing,
  mpmc,
  mpsc,
  Ring,
  RING_LAYOUT,
  spmc,
  TimedOut,
  u32,
  WaitStrategy,
} from "../mod.ts";
import { MPMC_CLOSED, SHARED_RING_LAYOUT } from "../src/layout.ts";
import { atomicsParker } from "../src/parker.ts";
import { SeqChecker } from "./workers/channel_check.ts";
import { type Peer, startPeers, stopPeers, until } from "./workers/channel_client.ts";
import type { AnyHandle, Kind, LifecycleJob } from "./workers/lifecycle_peer.ts";

const LIFECYCLE = new URL("./workers/lifecycle_peer.ts", import.meta.url);
const GUARD_MS = 30_000;

/** This thread's side of one channel: its handle, a consume step, a wait that ends with `Closed`. */
interface Side {
  readonly handle: AnyHandle;
  readonly producers: number;
  consume(checker: SeqChecker): number;
  wait(): void;
  close(): void;
}

function side(kind: Kind): Side {
  const wait = WaitStrategy.timedBlocking(20);
  switch (kind) {
    case "ring": {
      const ring = new Ring(u32, { ringBits: 5 });
      return {
        handle: ring.handle(),
        producers: 1,
        consume: (c) => ring.consumeBatch(c),
        wait: () => ring.waitReadable(wait),
        close: () => ring.close(),
      };
    }
    case "message": {
      const ring = new MessageRing({ ringBits: 8 });
      return {
        handle: ring.handle(),
        producers: 1,
        consume(c) {
          let n = 0;
          for (let m = ring.tryRecvMessage(); m !== null; m = ring.tryRecvMessage(), n++) {
            c.process(new Uint32Array(m.buffer, m.byteOffset, 1)[0]);
          }
          return n;
        },
        wait: () => ring.ring.waitReadable(wait),
        close: () => ring.close(),
      };
    }
    case "mpsc": {
      const ch = new mpsc.Channel(u32, { ringBits: 5, maxProducers: 3 });
      return {
        handle: ch.handle(),
        producers: 3,
        consume: (c) => ch.consumeAll(c),
        wait: () => ch.waitReadable(wait),
        close: () => ch.close(),
      };
    }
    case "spmc": {
      const ch = new spmc.Channel(u32, { ringBits: 5 });
      const consumer = ch.registerConsumer();
      return {
        handle: ch.handle(),
        producers: 1,
        consume: (c) => consumer.consumeBatch(c),
        wait: () => consumer.waitReadable(wait),
        close: () => ch.close(),
      };
    }
    case "mpmc": {
      const ch = new mpmc.MpmcChannel(u32, { ringBits: 5, maxProducers: 3, maxConsumers: 1 });
      const consumer = ch.registerConsumer();
      return {
        handle: ch.handle(),
        producers: 3,
        consume: (c) => consumer.stealBatch(c),
        wait: () => consumer.waitReadable(wait),
        close: () => ch.close(),
      };
    }
  }
}

/** Consumes (sync, this thread) until every producer has sent `least` items. */
function consumeUntil(s: Side, checker: SeqChecker, progress: Int32Array, least: number): void {
  const deadline = performance.now() + GUARD_MS;
  while (
    !Array.from({ length: s.producers }, (_, t) => Atomics.load(progress, t) >= least).every(
      Boolean,
    )
  ) {
    if (performance.now() > deadline) throw new Error("producers did not start (hang guard)");
    s.consume(checker);
  }
}

/** Consumes until the channel's wait ends with `Closed`. */
function consumeToClosed(s: Side, checker: SeqChecker): void {
  const deadline = performance.now() + GUARD_MS;
  for (;;) {
    if (performance.now() > deadline) throw new Error("the wait never ended (hang guard)");
    if (s.consume(checker) > 0) continue;
    try {
      s.wait();
    } catch (err) {
      if (err instanceof Closed) return;
      if (!(err instanceof TimedOut)) throw err;
    }
  }
}

const KINDS: Kind[] = ["ring", "message", "mpsc", "spmc", "mpmc"];

Deno.test("close gate: after close() every send of every kind throws Closed and publishes nothing", () => {
  const ring = new Ring(u32, { ringBits: 3 });
  ring.send([1]);
  const r = ring.reserve(2)!;
  ring.close();
  assert.throws(() => ring.commit(r.length), Closed);
  assert.throws(() => ring.send([2]), Closed);
  assert.throws(() => ring.sendOne(3), Closed);
  assert.throws(() => ring.sendOneBlocking(3), Closed);
  assert.equal(ring.len(), 1);
  assert.equal(ring.tryRecv(), 1);
  assert.throws(() => ring.waitReadable(), Closed);
  ring.close(); // idempotent

  const msg = new MessageRing({ ringBits: 6 });
  msg.close();
  assert.throws(() => msg.sendMessage(new Uint8Array([1])), Closed);
  assert.equal(msg.tryRecvMessage(), null);

  const m = new mpsc.Channel(u32, { ringBits: 3 });
  const p = m.register();
  m.close();
  assert.throws(() => p.send([1]), Closed);
  assert.throws(() => p.sendOne(1), Closed);
  assert.throws(() => m.register(), Closed);
  assert.ok(m.isFullyDrained());

  const s = new spmc.Channel(u32, { ringBits: 3 });
  s.close();
  assert.throws(() => s.sendOne(1), Closed);
  assert.throws(() => s.registerConsumer(), Closed);

  const mm = new mpmc.MpmcChannel(u32, { ringBits: 3, maxProducers: 2 });
  const mp = mm.register();
  const c = mm.registerConsumer();
  mm.close();
  assert.throws(() => mp.send([1]), Closed);
  assert.throws(() => mp.sendOne(1), Closed);
  assert.throws(() => c.waitReadable(), Closed);
});

for (const closer of ["here", "another Worker"] as const) {
  Deno.test(`close gate: producer Workers racing a close() ${closer}, every kind: accepted = received`, async (t) => {
    const peers = await startPeers<LifecycleJob>(4, "close-gate-", LIFECYCLE);
    try {
      for (const kind of KINDS) {
        await t.step(kind, async () => {
          for (let trial = 0; trial < 3; trial++) {
            const s = side(kind);
            const progress = new Int32Array(new SharedArrayBuffer(4 * s.producers));
            const producing = peers.slice(0, s.producers).map((peer: Peer<LifecycleJob>, tag) =>
              peer.call<number>({ op: "produceUntilClosed", kind, handle: s.handle, tag, progress })
            );
            const checker = new SeqChecker();
            consumeUntil(s, checker, progress, 500 + 300 * trial);
            if (closer === "here") {
              s.close();
              // close() returned: the channel holds every accepted item; drain it all
              while (s.consume(checker) > 0);
              consumeToClosed(s, checker);
            } else {
              const closing = peers[3].call({ op: "close", kind, handle: s.handle });
              consumeToClosed(s, checker); // ends only once closed, settled and drained
              await closing;
            }
            const accepted = await Promise.all(producing);
            assert.equal(checker.firstError, null, `${kind} trial ${trial}`);
            assert.deepEqual(
              Array.from(checker.counts.subarray(0, s.producers)),
              accepted,
              `${kind} trial ${trial}: received per producer = accepted`,
            );
            assert.equal(s.consume(checker), 0);
          }
        });
      }
    } finally {
      stopPeers(peers);
    }
  });
}

Deno.test("mpsc: a channel object used after deinit() throws Closed; close() and deinit() stay idempotent", () => {
  const ch = new mpsc.Channel(u32, { ringBits: 3 });
  const other = mpsc.Channel.fromHandle<number, Uint32Array>(ch.handle());
  const p = ch.register();
  p.send([1, 2]);
  ch.deinit();
  for (
    const use of [
      () => ch.register(),
      () => ch.consumeAll({ process() {} }),
      () => ch.drainAll({ process() {} }),
      () => ch.recvOne(),
      () => ch.totalPending(),
      () => ch.snapshot(),
      () => ch.waitReadable(),
    ]
  ) assert.throws(use, Closed);
  ch.close();
  ch.deinit();
  using _ = ch;
  // another object over the same memory still drains what was accepted before the close
  const got: number[] = [];
  other.drainAll({ process: (x) => got.push(x) });
  assert.deepEqual(got, [1, 2]);
  assert.ok(other.isFullyDrained());
});

Deno.test("close gate: a commit in flight is waited for by close() and keeps consumers from ending", async (t) => {
  const SENDING = RING_LAYOUT.sending / 4;
  const CLOSED_WORD = RING_LAYOUT.closed / 4;

  await t.step("consumers: CLOSING with a commit in flight is not closed yet", () => {
    const ring = new Ring(u32, { ringBits: 2 });
    const h = ring.handle();
    const words = new Int32Array(h.buffer, h.byteOffset, RING_LAYOUT.data / 4);
    Atomics.store(words, SENDING, 1); // the producer is between P1 (announcing tail 1) and P3
    Atomics.store(words, CLOSED_WORD, 1); // a closer has begun (C1)
    assert.equal(ring.isClosed(), false);
    assert.throws(() => ring.waitReadable(WaitStrategy.timedBlocking(1)), TimedOut);
    new Uint32Array(h.buffer, h.byteOffset + RING_LAYOUT.data, 1)[0] = 7;
    Atomics.store(words, RING_LAYOUT.tail / 4, 1); // P3: publishes, the commit is over
    assert.equal(ring.isClosed(), true);
    ring.waitReadable(); // an item: returns
    assert.equal(ring.tryRecv(), 7);
    assert.throws(() => ring.waitReadable(), Closed);
  });

  await t.step("close() returns only after the commit in flight has published", async () => {
    const [peer] = await startPeers<LifecycleJob>(1, "close-settle-", LIFECYCLE);
    try {
      const ring = new Ring(u32, { ringBits: 2 });
      const h = ring.handle();
      const words = new Int32Array(h.buffer, h.byteOffset, RING_LAYOUT.data / 4);
      Atomics.store(words, SENDING, 1); // the producer (the Worker) is inside a commit: P1 done
      const ready = new Int32Array(new SharedArrayBuffer(4));
      const finishing = peer.call<number>({
        op: "finishCommitOnClose",
        handle: h,
        value: 42,
        ready,
      });
      await until(() => Atomics.load(ready, 0) === 1, "the Worker to stand inside its commit");
      ring.close(); // waits: the Worker publishes once it sees CLOSING
      assert.equal(ring.len(), 1, "close() returned with the accepted item in the ring");
      assert.equal(Atomics.load(words, CLOSED_WORD), 2);
      assert.equal(ring.tryRecv(), 42);
      assert.equal(await finishing, 1);
    } finally {
      stopPeers([peer]);
    }
  });
});

Deno.test("close gate on ringmpsc's layout: a producer that never announces has no commit in flight; ours does", () => {
  const at = (offset: number) => offset / 4;
  const { tail, sending, closed, announced, data } = SHARED_RING_LAYOUT;
  const ringOver = (buffer: SharedArrayBuffer) =>
    new Ring(u32, { ringBits: 4 }, {
      buffer,
      byteOffset: 0,
      layout: SHARED_RING_LAYOUT,
      parker: atomicsParker,
      initialize: true,
    });
  const bytes = data + 16 * 4;

  // a ringmpsc producer publishes with its tail store alone: `sending` stays 0, `announced` too
  const foreignMemory = new SharedArrayBuffer(bytes);
  const foreign = new Int32Array(foreignMemory);
  const consumer = ringOver(foreignMemory);
  new Uint32Array(foreignMemory, data, 1)[0] = 9;
  Atomics.store(foreign, at(tail), 1);
  Atomics.store(foreign, at(closed), 1); // a closer has begun (C1)
  assert.equal(consumer.isClosed(), true, "sending ≠ tail means nothing before an announce");
  assert.equal(consumer.tryRecv(), 9);

  // our producer announces before its first commit; from then on sending ≠ tail is in flight
  const oursMemory = new SharedArrayBuffer(bytes);
  const ours = new Int32Array(oursMemory);
  const producer = ringOver(oursMemory);
  assert.equal(Atomics.load(ours, at(announced)), 0);
  assert.equal(producer.send([1]), 1);
  assert.equal(Atomics.load(ours, at(announced)), 1);
  assert.equal(Atomics.load(ours, at(sending)), 1, "after the commit: sending = tail");
  Atomics.store(ours, at(closed), 1); // C1
  assert.throws(() => producer.send([2]), Closed);
  assert.equal(Atomics.load(ours, at(sending)), 1, "a refused commit leaves sending = tail");
  assert.equal(producer.isClosed(), true);
  Atomics.store(ours, at(sending), 2); // P1 of a commit that passed P2 before C1, by hand
  assert.equal(producer.isClosed(), false, "a commit in flight keeps CLOSING from sealing");
  Atomics.store(ours, at(tail), 2); // its P3
  assert.equal(producer.isClosed(), true);
});

Deno.test("close gate: a forged closed word (no state of the three) reads as closed to commits and to isClosed", () => {
  const ring = new Ring(u32, { ringBits: 4, wasmAtomics: false });
  const words = new Int32Array(ring.handle().buffer);
  const closed = RING_LAYOUT.closed / 4;
  for (const forged of [3, 7, -1]) {
    Atomics.store(words, closed, forged);
    assert.throws(() => ring.send([1]), Closed);
    assert.equal(ring.isClosed(), true, `closed = ${forged}`);
    assert.equal(ring.len(), 0, "nothing was published");
  }
  const channel = new mpmc.MpmcChannel(u32, { maxProducers: 1, maxConsumers: 1 });
  const header = new Int32Array(channel.handle().buffer, 0, 4);
  Atomics.store(header, MPMC_CLOSED, 5); // forged channel state
  assert.equal(channel.isClosed(), true);
  assert.throws(() => channel.register(), Closed);
});
