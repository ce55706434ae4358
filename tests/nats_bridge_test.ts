/**
 * The NATS bridge against a real nats-server (tests/_nats_server.ts starts
 * it on loopback and stops it): producer process → SharedRing → forwarder →
 * NATS → receiver → SharedRing → consumer process, with a server restart
 * mid-stream and a slow consumer; every item's sequence is checked by the
 * consumer process. JetStream sees each item once through the restart;
 * core NATS keeps order and never duplicates, loses at most what was in
 * flight, and bounds its queue behind a slow ring.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Ring, u32 } from "../mod.ts";
import { SharedRing } from "../native.ts";
import { elementCodec, NatsForwarder, NatsReceiver, type ReceiveOptions } from "../nats.ts";
import { ignoreNats, NatsServer } from "./_nats_server.ts";
import { childOutput, streamChild } from "./_stream_child.ts";

const codec = elementCodec(u32);

function reconnecting(server: NatsServer): Promise<NatsConnection> {
  return connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
}

/** Core NATS in this process: ring a → forwarder → NATS → receiver → ring b, b read into `got`. */
async function corePipe(
  nc: NatsConnection,
  subject: string,
  ringBits: number,
  receive: ReceiveOptions<number>,
  maxBatchItems: number,
  slowEvery = 0,
) {
  const a = new Ring(u32, { ringBits: 10 });
  const b = new Ring(u32, { ringBits });
  const receiver = await NatsReceiver.start(b, nc, subject, { codec, ...receive });
  const forwarder = NatsForwarder.start(a, nc, subject, { codec, maxBatchItems });
  const got: number[] = [];
  const reading = (async () => {
    for await (const x of b) {
      got.push(x);
      if (slowEvery > 0 && got.length % slowEvery === 0) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  return { a, b, receiver, forwarder, got, reading };
}

function assertIncreasing(got: number[]): void {
  for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `order at ${i}`);
}

/** Resolves once `done()` holds, looking every 5 ms (a progress point, not a timing check). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
}

Deno.test({
  name:
    "nats bridge (JetStream): processes on both ends, a server restart mid-stream, a slow consumer; each item once, in order",
  ignore: ignoreNats,
  async fn() {
    await using server = await NatsServer.start();
    const [sending, receiving] = [await reconnecting(server), await reconnecting(server)];
    const count = 60_000;
    const pathA = `/dev/shm/ringmpsc-nats-a-${Deno.pid}`;
    const pathB = `/dev/shm/ringmpsc-nats-b-${Deno.pid}`;
    using a = SharedRing.createPath(u32, pathA, 10);
    using b = SharedRing.createPath(u32, pathB, 7);
    try {
      const consumer = streamChild("consume", pathB, "500"); // sleeps 1 ms every 500 items
      const jetstream = { stream: "RINGMPSC" };
      const receiver = await NatsReceiver.start(b, receiving, "pipe.js", { codec, jetstream });
      const forwarder = NatsForwarder.start(a, sending, "pipe.js", { codec, jetstream });
      const producer = streamChild("produce", pathA, String(count));
      await until(() => receiver.stats().items > count / 3);
      await server.restart();
      await Promise.all([forwarder.done, receiver.done, childOutput(producer)]);
      assert.deepEqual(JSON.parse(await childOutput(consumer)), { received: count, ok: true });
      const stats = receiver.stats();
      assert.equal(stats.items, count);
      assert.equal(stats.gaps, 0);
      assert.ok(stats.maxQueued <= 4, `one pull holds at most 4 batches: ${stats.maxQueued}`);
      assert.equal(forwarder.stats().items, count);
    } finally {
      await Promise.all([sending.close(), receiving.close()]);
      Deno.removeSync(pathA);
      Deno.removeSync(pathB);
    }
  },
});

Deno.test({
  name:
    "nats bridge (core): a server restart mid-stream keeps order, never duplicates, and recovers",
  ignore: ignoreNats,
  async fn() {
    await using server = await NatsServer.start();
    const nc = await reconnecting(server);
    try {
      const count = 100_000;
      const { a, receiver, forwarder, got, reading } = await corePipe(nc, "pipe.core", 12, {}, 100);
      let restarted = false;
      for (let i = 0; i < count; i++) {
        await a.sendOneAsync(i);
        if (!restarted && got.length > count / 3) {
          restarted = true;
          await server.restart();
        }
      }
      a.close();
      await Promise.all([forwarder.done, receiver.done, reading]);
      assert.ok(restarted);
      assertIncreasing(got);
      assert.equal(got.at(-1), count - 1);
      const stats = receiver.stats();
      assert.equal(stats.items, got.length);
      assert.equal(stats.duplicates, 0);
      // what is missing went in batches (of at most 100) lost in the restart, and was counted
      const missing = count - got.length;
      assert.ok(missing <= 100 * stats.gaps && (missing === 0) === (stats.gaps === 0));
    } finally {
      await nc.close();
    }
  },
});

Deno.test({
  name:
    "nats bridge (core): behind a slow ring the queue stays bounded; what overflows is dropped whole and counted",
  ignore: ignoreNats,
  async fn() {
    await using server = await NatsServer.start();
    const nc = await reconnecting(server);
    try {
      const count = 50_000;
      const { a, b, receiver, forwarder, got, reading } = await corePipe(
        nc,
        "pipe.slow",
        4,
        { maxPending: 3 },
        50,
        100,
      );
      for (let i = 0; i < count; i++) await a.sendOneAsync(i);
      a.close();
      await forwarder.done;
      await until(() => receiver.stats().dropped > 0 || got.length === count);
      // the end-of-stream batch itself may be dropped: stop the receiver by hand then
      await receiver.stop();
      b.close();
      await reading;
      const stats = receiver.stats();
      assert.ok(stats.maxQueued <= 3, `at most 3 batches queued: ${stats.maxQueued}`);
      assertIncreasing(got);
      assert.equal(got.length, stats.items);
      assert.equal(stats.duplicates, 0);
      if (stats.dropped === 0) assert.equal(got.length, count);
      // a dropped batch shows as a gap once a later batch is written
      assert.ok(stats.gaps <= stats.dropped, JSON.stringify(stats));
    } finally {
      await nc.close();
    }
  },
});

Deno.test({
  name:
    "nats bridge (core): a message that is not a batch is skipped and counted; the stream goes on",
  ignore: ignoreNats,
  async fn() {
    await using server = await NatsServer.start();
    const nc = await reconnecting(server);
    try {
      const { a, receiver, forwarder, got, reading } = await corePipe(nc, "pipe.forged", 8, {}, 64);
      nc.publish("pipe.forged", "not a batch");
      nc.publish("pipe.forged", new Uint8Array(40));
      await nc.flush();
      for (let i = 0; i < 1000; i++) await a.sendOneAsync(i);
      a.close();
      await Promise.all([forwarder.done, receiver.done, reading]);
      assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => i));
      assert.equal(receiver.stats().corrupt, 2);
    } finally {
      await nc.close();
    }
  },
});
