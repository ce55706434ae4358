/**
 * Waiting (src/wait_engine.ts, src/backoff.ts, src/wait_strategy.ts) and the
 * blocking wrappers (src/blocking.ts): Backoff's phases, WaitStrategy
 * builders, a Waiter per strategy, the sleep/wake protocol on a spot's words,
 * sendBlocking/recvBlocking with both Timeout kinds, on rings and on
 * duck-typed targets, and this thread blocked until a Worker acts.
 *
 * Deadlines are asserted by the error they raise, never by elapsed time.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  atomicsParker,
  Backoff,
  Closed,
  makeSpot as makeWaitSpot,
  recvBlocking,
  Ring,
  RING_LAYOUT,
  sendBlocking,
  spinRounds,
  TimedOut,
  Timeout,
  u32,
  Waiter,
  type WaitOptions,
  type WaitSpot,
  WaitStrategy,
  wakeSpot,
  yieldThread,
} from "../mod.ts";
import type { PeerJob, PeerReport } from "./workers/ring_peer.ts";

const PEER = new URL("./workers/ring_peer.ts", import.meta.url);

function makeSpot(): WaitSpot {
  return makeWaitSpot(new Int32Array(new SharedArrayBuffer(16)), 0, 1, { parker: atomicsParker });
}

function startPeer(job: PeerJob): { worker: Worker; report: Promise<PeerReport> } {
  const worker = new Worker(PEER, { type: "module" });
  const report = new Promise<PeerReport>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  worker.postMessage(job);
  return { worker, report };
}

Deno.test("Backoff: spin, then yield, then completed", async (t) => {
  await t.step("snooze steps 0–10, completed after the 11th", () => {
    const b = new Backoff();
    assert.equal(b.step, 0);
    for (let i = 1; i <= 11; i++) {
      assert.equal(b.isCompleted(), false, `before snooze ${i}`);
      b.snooze();
      assert.equal(b.step, i);
    }
    assert.equal(b.isCompleted(), true);
    b.snooze();
    assert.equal(b.step, 11, "the step stops growing once completed");
    assert.equal(b.isCompleted(), true);
  });

  await t.step("spin stops at the spin limit and never completes", () => {
    const b = new Backoff();
    for (let i = 0; i < 20; i++) b.spin();
    assert.equal(b.step, 7);
    assert.equal(b.isCompleted(), false);
  });

  await t.step("reset starts over", () => {
    const b = new Backoff();
    for (let i = 0; i < 11; i++) b.snooze();
    assert.ok(b.isCompleted());
    b.reset();
    assert.equal(b.step, 0);
    assert.equal(b.isCompleted(), false);
  });

  await t.step("spinRounds and yieldThread return", () => {
    spinRounds(0);
    spinRounds(1000);
    yieldThread();
  });
});

Deno.test("WaitStrategy: builders and bad values", () => {
  assert.deepEqual(WaitStrategy.busySpin, { kind: "busySpin" });
  assert.deepEqual(WaitStrategy.yielding, { kind: "yielding" });
  assert.deepEqual(WaitStrategy.blocking, { kind: "blocking" });
  assert.deepEqual(WaitStrategy.sleeping(0.005), { kind: "sleeping", sleepMs: 0.005 });
  assert.deepEqual(WaitStrategy.timedBlocking(Infinity), {
    kind: "timedBlocking",
    timeoutMs: Infinity,
  });
  assert.deepEqual(WaitStrategy.timedBlocking(100), { kind: "timedBlocking", timeoutMs: 100 });
  assert.deepEqual(WaitStrategy.phasedBackoff(10, 3), {
    kind: "phasedBackoff",
    spinIterations: 10,
    yieldIterations: 3,
  });
  assert.deepEqual(WaitStrategy.timedBlocking(0), { kind: "timedBlocking", timeoutMs: 0 });
  assert.ok(Object.isFrozen(WaitStrategy.sleeping(1e-06)));
  assert.ok(Object.isFrozen(WaitStrategy));

  assert.throws(() => WaitStrategy.sleeping(Infinity), {
    name: "RangeError",
    message:
      "Cannot make wait strategy as sleepMs must be a finite number of milliseconds ≥ 0: received Infinity",
  });
  assert.throws(() => WaitStrategy.timedBlocking("5" as unknown as number), TypeError);
  for (const bad of [-1, NaN, -Infinity]) {
    assert.throws(() => WaitStrategy.sleeping(bad), {
      name: "RangeError",
      message: new RegExp(
        `sleepMs must be a number of milliseconds ≥ 0 or Infinity: received ${bad}$`,
      ),
    });
    assert.throws(() => WaitStrategy.timedBlocking(bad), {
      name: "RangeError",
      message:
        `Cannot make wait strategy as timeoutMs must be a number of milliseconds ≥ 0 or Infinity: received ${bad}`,
    });
    assert.throws(() => WaitStrategy.phasedBackoff(bad, 1), {
      name: "RangeError",
      message: new RegExp(`spinIterations .*received ${bad}$`),
    });
    assert.throws(() => WaitStrategy.phasedBackoff(1, bad), {
      name: "RangeError",
      message: new RegExp(`yieldIterations .*received ${bad}$`),
    });
  }
});

Deno.test("Waiter: every strategy", async (t) => {
  const strategies: [string, WaitStrategy, boolean][] = [
    ["busySpin", WaitStrategy.busySpin, false],
    ["yielding", WaitStrategy.yielding, false],
    ["sleeping", WaitStrategy.sleeping(0.001), false],
    ["sleeping(0)", WaitStrategy.sleeping(0), false],
    ["blocking", WaitStrategy.blocking, true],
    ["timedBlocking", WaitStrategy.timedBlocking(60_000), true],
    ["phasedBackoff", WaitStrategy.phasedBackoff(3, 2), true],
  ];
  for (const [name, strategy, parks] of strategies) {
    await t.step(`${name}: rounds return; blocking kinds re-check before sleeping`, () => {
      const spot = makeSpot();
      const waiter = new Waiter(strategy);
      let checks = 0;
      for (let round = 0; round < 20; round++) {
        waiter.wait(spot, () => {
          checks++;
          assert.equal(Atomics.load(spot.words, 1), 1, "registered as a sleeper while checking");
          return true; // ready: a parking round must not sleep
        });
        assert.equal(Atomics.load(spot.words, 1), 0, "unregistered after the round");
      }
      assert.equal(checks > 0, parks, `ready() consulted: ${checks} times`);
      assert.equal(Atomics.load(spot.words, 0), 0, "waiting never bumps the sequence");
    });
  }

  await t.step("phasedBackoff spins and yields the given rounds before parking", () => {
    const spot = makeSpot();
    const waiter = new Waiter(WaitStrategy.phasedBackoff(3, 2));
    const checkedAt: number[] = [];
    for (let round = 0; round < 8; round++) {
      waiter.wait(spot, () => {
        checkedAt.push(round);
        return true;
      });
    }
    assert.deepEqual(checkedAt, [5, 6, 7]);
    waiter.reset();
    checkedAt.length = 0;
    for (let round = 0; round < 6; round++) {
      waiter.wait(spot, () => {
        checkedAt.push(round);
        return true;
      });
    }
    assert.deepEqual(checkedAt, [5], "reset starts the phases over");
  });

  await t.step("timedBlocking throws TimedOut once its deadline passes", () => {
    const spot = makeSpot();
    const waiter = new Waiter(WaitStrategy.timedBlocking(2));
    assert.throws(
      () => {
        for (;;) waiter.wait(spot, () => false);
      },
      { name: "TimedOut", message: /deadline of 2 ms has passed/ },
    );
    assert.equal(Atomics.load(spot.words, 1), 0);
    assert.throws(() => new Waiter(WaitStrategy.timedBlocking(0)).wait(spot, () => true), TimedOut);
  });

  await t.step("reset gives a timed waiter a fresh deadline", () => {
    const spot = makeSpot();
    const waiter = new Waiter(WaitStrategy.timedBlocking(200));
    assert.throws(() => {
      for (;;) waiter.wait(spot, () => false);
    }, TimedOut);
    assert.throws(() => waiter.wait(spot, () => true), TimedOut, "still past the deadline");
    waiter.reset();
    waiter.wait(spot, () => true);
  });
});

Deno.test("Waiter: the sleep/wake protocol on a spot", async (t) => {
  await t.step("wakeSpot bumps the sequence and wakes an async sleeper", async () => {
    const spot = makeSpot();
    const waiter = new Waiter(WaitStrategy.blocking);
    let woken = false;
    const sleeping = waiter.waitAsync(spot, () => false).then(() => woken = true);
    assert.equal(Atomics.load(spot.words, 1), 1, "registered as a sleeper");
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(woken, false, "nothing woke it yet");
    wakeSpot(spot);
    await sleeping;
    assert.equal(Atomics.load(spot.words, 0), 1);
    assert.equal(Atomics.load(spot.words, 1), 0);
  });

  await t.step("a sleeper whose condition already holds does not sleep", async () => {
    const spot = makeSpot();
    await new Waiter(WaitStrategy.blocking).waitAsync(spot, () => true);
    assert.equal(Atomics.load(spot.words, 1), 0);
  });

  await t.step("a wake between loading the sequence and sleeping is not lost", async () => {
    const spot = makeSpot();
    // The condition check runs after the sleeper registered; a waker that
    // bumps the sequence there must make the sleep return at once.
    await new Waiter(WaitStrategy.blocking).waitAsync(spot, () => {
      wakeSpot(spot);
      return false;
    });
    assert.equal(Atomics.load(spot.words, 1), 0);
    // The same on this thread: were the wake lost, the park would sleep until
    // the (far) deadline and the loop would end in TimedOut.
    const waiter = new Waiter(WaitStrategy.timedBlocking(20_000));
    let checks = 0;
    while (checks === 0) {
      waiter.wait(spot, () => {
        checks++;
        wakeSpot(spot);
        return false;
      });
    }
    assert.equal(Atomics.load(spot.words, 0), 2);
    assert.equal(Atomics.load(spot.words, 1), 0);
  });

  await t.step("an AbortSignal ends an async sleep with its reason", async () => {
    const spot = makeSpot();
    const ac = new AbortController();
    const sleeping = new Waiter({ signal: ac.signal }).waitAsync(spot, () => false);
    const reason = new Error("go away");
    setTimeout(() => ac.abort(reason), 2);
    await assert.rejects(sleeping, (err) => err === reason);
    assert.equal(Atomics.load(spot.words, 1), 0);
    await assert.rejects(
      new Waiter({ signal: AbortSignal.abort() }).waitAsync(spot, () => true),
      { name: "AbortError" },
    );
  });

  await t.step("an async timed wait ends in TimedOut", async () => {
    const spot = makeSpot();
    const waiter = new Waiter(WaitStrategy.timedBlocking(2));
    await assert.rejects(async () => {
      for (;;) await waiter.waitAsync(spot, () => false);
    }, TimedOut);
    assert.equal(Atomics.load(spot.words, 1), 0);
  });
});

Deno.test("Timeout: builders", () => {
  assert.deepEqual(Timeout.unlimited, {});
  assert.deepEqual(Timeout.ms(5), { timeoutMs: 5 });
  assert.deepEqual(Timeout.ms(0), { timeoutMs: 0 });
  assert.deepEqual(Timeout.ms(Infinity), { timeoutMs: Infinity });
  assert.ok(Object.isFrozen(Timeout.ms(1e-06)));
  for (const bad of [-1, NaN, -Infinity]) {
    assert.throws(() => Timeout.ms(bad), {
      name: "RangeError",
      message:
        `Cannot make timeout as timeoutMs must be a number of milliseconds ≥ 0 or Infinity: received ${bad}`,
    });
  }
  assert.throws(() => Timeout.ms("1" as unknown as number), TypeError);
});

Deno.test("sendBlocking and recvBlocking on a ring", async (t) => {
  await t.step("send and receive at once when possible, with either timeout", () => {
    const ring = new Ring(u32, { ringBits: 2 });
    sendBlocking(ring, 1);
    sendBlocking(ring, 2, Timeout.unlimited);
    sendBlocking(ring, 3, Timeout.ms(1));
    assert.equal(recvBlocking(ring), 1);
    assert.equal(recvBlocking(ring, Timeout.unlimited), 2);
    assert.equal(recvBlocking(ring, Timeout.ms(1)), 3);
    assert.ok(ring.isEmpty());
  });

  await t.step("TimedOut on an empty ring, and on a full one", () => {
    const ring = new Ring(u32, { ringBits: 1 });
    assert.throws(() => recvBlocking(ring, Timeout.ms(2)), TimedOut);
    assert.throws(() => recvBlocking(ring, Timeout.ms(0)), TimedOut);
    ring.send([1, 2]);
    assert.throws(() => sendBlocking(ring, 3, Timeout.ms(2)), TimedOut);
    assert.equal(ring.len(), 2, "a timed-out send sends nothing");
    const w = new Int32Array(ring.handle().buffer, 0, RING_LAYOUT.data / 4);
    assert.equal(w[RING_LAYOUT.consumerWaiters / 4], 0);
    assert.equal(w[RING_LAYOUT.producerWaiters / 4], 0);
    assert.equal(recvBlocking(ring, Timeout.ms(1)), 1);
  });

  await t.step("Closed on a closed ring: receives drain first, sends are refused", () => {
    const ring = new Ring(u32, { ringBits: 2 });
    ring.send([7, 8]);
    ring.close();
    assert.throws(() => sendBlocking(ring, 9), { name: "Closed", message: /^Cannot send as/ });
    assert.equal(recvBlocking(ring, Timeout.unlimited), 7);
    assert.equal(recvBlocking(ring, Timeout.ms(1)), 8);
    assert.throws(() => recvBlocking(ring, Timeout.unlimited), Closed);
    assert.throws(() => recvBlocking(ring, Timeout.ms(1)), {
      name: "Closed",
      message: /^Cannot receive as/,
    });
  });
});

Deno.test("sendBlocking and recvBlocking on duck-typed targets", async (t) => {
  await t.step("a receiver with recvOne and no futex word", () => {
    const queue: number[] = [1, 2];
    let closed = false;
    const receiver = { recvOne: () => queue.shift() ?? null, isClosed: () => closed };
    assert.equal(recvBlocking(receiver, Timeout.ms(1)), 1);
    assert.equal(recvBlocking(receiver), 2);
    assert.throws(() => recvBlocking(receiver, Timeout.ms(2)), TimedOut);
    queue.push(3);
    closed = true;
    assert.equal(recvBlocking(receiver), 3, "what arrived before close is still received");
    assert.throws(() => recvBlocking(receiver), Closed);
  });

  await t.step("tryRecv is preferred over recvOne", () => {
    const receiver = { tryRecv: () => "a", recvOne: () => "b", isClosed: () => false };
    assert.equal(recvBlocking(receiver), "a");
  });

  await t.step("a sender that has room only after many tries", () => {
    let tries = 0;
    const sent: number[] = [];
    const sender = {
      sendOne: (x: number) => {
        if (++tries <= 30) return false;
        sent.push(x);
        return true;
      },
      isClosed: () => false,
    };
    sendBlocking(sender, 42, Timeout.unlimited);
    assert.deepEqual(sent, [42]);
    assert.equal(tries, 31);
  });

  await t.step("the target's own wait is used, with the time left and the signal", () => {
    const limits: number[] = [];
    const signals: (AbortSignal | undefined)[] = [];
    let room = false;
    const sender = {
      sendOne: () => room,
      isClosed: () => false,
      waitWritable: (n: number, w: WaitOptions) => {
        assert.equal(n, 1);
        limits.push(w.timeoutMs!);
        signals.push(w.signal);
        room = true;
      },
    };
    sendBlocking(sender, 1);
    room = false;
    const signal = new AbortController().signal;
    sendBlocking(sender, 1, { timeoutMs: 60_000, signal });
    assert.equal(limits[0], Infinity);
    assert.ok(limits[1] > 0 && limits[1] <= 60_000, `${limits[1]}`);
    assert.deepEqual(signals, [undefined, signal]);
  });

  await t.step("Closed from the target's wait ends in Closed once the target says so", () => {
    let closed = false;
    const receiver = {
      tryRecv: () => null,
      isClosed: () => closed,
      waitReadable: () => {
        closed = true;
        throw new Closed("closed while waiting");
      },
    };
    assert.throws(() => recvBlocking(receiver), {
      name: "Closed",
      message: "Cannot receive as the channel is closed",
    });
  });

  await t.step("a sender closed while it waits is refused", () => {
    let closed = false;
    const sender = {
      sendOne: () => false,
      isClosed: () => closed,
      waitWritable: () => void (closed = true),
    };
    assert.throws(() => sendBlocking(sender, 1, Timeout.unlimited), Closed);
  });
});

Deno.test("blocking wrappers: this thread is released by a Worker", async (t) => {
  await t.step("recvBlocking(unlimited) until a Worker sends", async () => {
    const ring = new Ring(u32, { ringBits: 3 });
    const { worker, report } = startPeer({
      job: "sendWhenConsumerWaits",
      handle: ring.handle(),
      values: [31, 32, 33],
    });
    try {
      assert.equal(recvBlocking(ring, Timeout.unlimited), 31);
      const done = await report;
      assert.equal(done.error, null);
      assert.equal(recvBlocking(ring, Timeout.unlimited), 32);
      assert.equal(recvBlocking(ring, Timeout.ms(1)), 33);
    } finally {
      worker.terminate();
    }
  });

  await t.step("sendBlocking(unlimited) until a Worker advances", async () => {
    const ring = new Ring(u32, { ringBits: 1 });
    ring.send([1, 2]);
    const { worker, report } = startPeer({
      job: "advanceWhenProducerWaits",
      handle: ring.handle(),
      advance: 1,
    });
    try {
      sendBlocking(ring, 3, Timeout.unlimited);
      const done = await report;
      assert.equal(done.error, null);
      assert.deepEqual(done.items, [1]);
    } finally {
      worker.terminate();
    }
    const consumer = Ring.fromHandle<number, Uint32Array>(ring.handle());
    assert.deepEqual([consumer.tryRecv(), consumer.tryRecv(), consumer.tryRecv()], [2, 3, null]);
  });

  await t.step("recvBlocking(unlimited) until a Worker closes the ring", async () => {
    const ring = new Ring(u32, { ringBits: 3 });
    const { worker, report } = startPeer({ job: "closeWhenConsumerWaits", handle: ring.handle() });
    try {
      assert.throws(() => recvBlocking(ring, Timeout.unlimited), Closed);
      assert.equal((await report).error, null);
    } finally {
      worker.terminate();
    }
  });
});
