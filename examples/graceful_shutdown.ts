/**
 * graceful_shutdown: producers keep sending until the consumer shuts the
 * channel down; they see Closed, stop, and everything they managed to send
 * is still delivered by drainAll.
 *
 * Run: deno run --allow-read=. examples/graceful_shutdown.ts
 *
 * (`--allow-read` lets the Workers load their module files.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { mpsc, u32 } from "@ringmpsc/ringmpsc";

const channel = new mpsc.Channel(u32, { ringBits: 8 });
const workers = [0, 1].map(() =>
  new Worker(new URL("./graceful_shutdown_worker.ts", import.meta.url), { type: "module" })
);
const sentCounts = workers.map((w) =>
  new Promise<number>((resolve) => w.onmessage = (e) => resolve(e.data))
);
workers.forEach((w) => w.postMessage(channel.handle()));

let received = 0;
const handler = { process: () => void received++ };
const until = Date.now() + 200;
while (Date.now() < until) {
  channel.consumeAll(handler);
  await new Promise((r) => setTimeout(r, 0)); // let a dead Worker's error through
}

channel.shutdown(); // producers' next send throws Closed, and sleeping ones wake
const sent = (await Promise.all(sentCounts)).reduce((a, b) => a + b);
received += channel.drainAll(handler); // nothing committed is lost
workers.forEach((w) => w.terminate());
assert.equal(received, sent, "every item sent before the shutdown is received");
assert.ok(channel.isFullyDrained());
console.log(`graceful_shutdown: sent ${sent}, received ${received}, lost 0, fully drained`);
