/**
 * The event-loop forms of the blocking wrappers (sendAsync, recvAsync,
 * stealAsync) and the producers' futex waits, against peers in other Workers:
 * every item arrives once and in order, timeouts and aborts are typed, and
 * close ends the wait.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Closed,
  mpmc,
  mpsc,
  recvAsync,
  Ring,
  sendAsync,
  sendBlocking,
  spmc,
  stealAsync,
  TimedOut,
  Timeout,
  u32,
} from "../mod.ts";

const MOD = JSON.stringify(new URL("../mod.ts", import.meta.url).href);

/** Runs `body` (a module's source, given `self.onmessage = (e) => …` access to e.data) in a Worker. */
function inWorker(body: string, data: unknown): Promise<unknown> {
  const url = URL.createObjectURL(new Blob([body], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(data);
  }).finally(() => worker.terminate());
}

Deno.test("recvAsync on an mpsc channel: producer Workers, every item once, in order", async () => {
  const channel = new mpsc.Channel(u32, { ringBits: 4 });
  const count = 5_000;
  const producers = [0, 1].map((tag) =>
    inWorker(
      `import { mpsc, sendBlocking } from ${MOD};
       self.onmessage = (e) => {
         const p = mpsc.Channel.fromHandle(e.data.handle).register();
         for (let i = 0; i < ${count}; i++) sendBlocking(p, (e.data.tag << 24) | i); // sleeps on the ring when full
         self.postMessage("done");
       };`,
      { handle: channel.handle(), tag },
    )
  );
  Promise.all(producers).then(() => channel.close());
  const next = [0, 0];
  for (;;) {
    let v: number;
    try {
      v = await recvAsync(channel);
    } catch (err) {
      if (err instanceof Closed) break;
      throw err;
    }
    assert.equal(v & 0xffffff, next[v >>> 24]++);
  }
  assert.deepEqual(next, [count, count]);
});

Deno.test("sendAsync on a full ring waits for the consumer Worker; the event loop stays free", async () => {
  const ring = new Ring(u32, { ringBits: 3 });
  const count = 3_000;
  assert.equal(ring.send(Uint32Array.from({ length: 8 }, (_, i) => i)), 8); // full
  const sending = (async () => {
    for (let i = 8; i < count; i++) await sendAsync(ring, i);
  })();
  // this timer can only fire if the pending sendAsync left the event loop free
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(ring.isFull(), "nothing was sent before a consumer existed");
  const consumer = inWorker(
    `import { Ring, recvBlocking } from ${MOD};
     self.onmessage = (e) => {
       const ring = Ring.fromHandle(e.data);
       let ok = true;
       for (let i = 0; i < ${count}; i++) if (recvBlocking(ring) !== i) ok = false;
       self.postMessage(ok);
     };`,
    ring.handle(),
  );
  await sending;
  assert.equal(await consumer, true);
});

Deno.test("stealAsync on spmc and mpmc consumers: all items once across consumers", async () => {
  const fan = new spmc.Channel(u32, { ringBits: 5, maxConsumers: 2 });
  const a = fan.registerConsumer();
  const b = fan.registerConsumer();
  const seen = new Uint8Array(2_000);
  const drain = async (c: spmc.Consumer<number, Uint32Array>) => {
    const out = new Uint32Array(16);
    for (;;) {
      try {
        const n = await stealAsync(c, out);
        for (let i = 0; i < n; i++) seen[out[i]]++;
      } catch (err) {
        if (err instanceof Closed) return;
        throw err;
      }
    }
  };
  const draining = Promise.all([drain(a), drain(b)]);
  await inWorker(
    `import { spmc, Timeout } from ${MOD};
     self.onmessage = (e) => {
       const ch = spmc.Channel.fromHandle(e.data);
       for (let i = 0; i < 2000;) if (ch.sendOne(i)) i++; else ch.waitWritable(1);
       ch.close();
       self.postMessage("done");
     };`,
    fan.handle(),
  );
  await draining;
  assert.ok(seen.every((n) => n === 1), "every item stolen exactly once");

  const ch = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 1, maxConsumers: 1 });
  const consumer = ch.registerConsumer();
  const producer = ch.register();
  setTimeout(() => producer.send([7, 8]), 1);
  const out = new Uint32Array(4);
  assert.equal(await stealAsync(consumer, out), 2);
  assert.deepEqual([...out.subarray(0, 2)], [7, 8]);
});

Deno.test("async wrappers: TimedOut, AbortSignal and Closed are typed", async () => {
  const ring = new Ring(u32, { ringBits: 1 });
  await assert.rejects(recvAsync(ring, { timeoutMs: 2 }), TimedOut);
  ring.send([1, 2]);
  await assert.rejects(sendAsync(ring, 3, { timeoutMs: 2 }), TimedOut);
  const controller = new AbortController();
  const pending = sendAsync(ring, 3, { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  ring.close();
  await assert.rejects(sendAsync(ring, 4), Closed);
  assert.equal(await recvAsync(ring), 1); // closed but not drained: items still come out
  assert.equal(await recvAsync(ring), 2);
  await assert.rejects(recvAsync(ring), Closed);
  const channel = new mpsc.Channel(u32, { ringBits: 1 });
  const p = channel.register();
  p.send([1, 2]);
  assert.throws(() => sendBlocking(p, 3, Timeout.ms(2)), TimedOut); // sleeps on the ring's futex
});
