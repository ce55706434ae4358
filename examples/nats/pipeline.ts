/**
 * nats_pipeline: the demo pipeline split across two processes — two hosts,
 * in general — with NATS between them:
 *
 * ```text
 * front:  producers ×3 ─mpsc─▶ NatsForwarder ─┐
 *                                             NATS subject ringmpsc.demo
 * back:   consumers ×2 ◀─spmc─ NatsReceiver ◀─┘
 * ```
 *
 * With no `--half` it runs the back half as a child process and the front
 * half itself, so one command runs the whole thing on one machine; on two
 * hosts run `--half back` on one and `--half front` on the other, both
 * pointing at the same server. The back half checks that every producer's
 * items arrived exactly once and in order, and prints the figures.
 *
 * Run: deno run --allow-read --allow-net --allow-run --allow-env examples/nats/pipeline.ts
 *
 * Options: `--server URL` (default nats://127.0.0.1:4222, a server started
 * with JetStream: `nats-server -js`), `--items N` per producer (default
 * 200000). The bridge runs in JetStream mode (at least once from the
 * server, de-duplicated by sequence): a core NATS subscriber has no way to
 * slow its publisher down and drops what overflows its queue.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { mpsc, spmc, u32 } from "@ringmpsc/ringmpsc";
import { elementCodec, NatsForwarder, NatsReceiver } from "@ringmpsc/ringmpsc/nats";
import type { ConsumerReport, PipelineJob } from "./pipeline_worker.ts";

const PRODUCERS = 3;
const CONSUMERS = 2;
const SUBJECT = "ringmpsc.demo";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    server: { type: "string", default: "nats://127.0.0.1:4222" },
    items: { type: "string", default: "200000" },
    half: { type: "string" },
  },
});
const items = Number(values.items);
const codec = elementCodec(u32);
const jetstream = { stream: "RINGMPSC_DEMO" };
const WORKER = new URL("./pipeline_worker.ts", import.meta.url);

function run<R>(job: PipelineJob): Promise<R> {
  const w = new Worker(WORKER, { type: "module" });
  w.postMessage(job);
  return new Promise<R>((resolve) => w.onmessage = (e) => (w.terminate(), resolve(e.data)));
}

async function back(): Promise<void> {
  const nc = await connect({ servers: values.server, maxReconnectAttempts: -1 });
  const fan = new spmc.Channel(u32, { ringBits: 14, maxConsumers: CONSUMERS });
  const reports = Array.from(
    { length: CONSUMERS },
    () => run<ConsumerReport>({ role: "consume", handle: fan.handle(), producers: PRODUCERS }),
  );
  const receiver = await NatsReceiver.start(fan, nc, SUBJECT, { codec, jetstream });
  console.log("back: listening"); // the front half waits for this line
  const started = performance.now();
  await receiver.done; // closes the fan-out at the front's end of stream
  const got = await Promise.all(reports);
  const seconds = (performance.now() - started) / 1000;
  await nc.close();
  for (let id = 0; id < PRODUCERS; id++) {
    assert.equal(got.reduce((n, r) => n + r.counts[id], 0), items, `producer ${id}: count`);
    assert.equal(
      got.reduce((n, r) => n + r.sums[id], 0),
      items * (items - 1) / 2,
      `producer ${id}: sum`,
    );
  }
  assert.ok(got.every((r) => r.ordered), "each consumer saw each producer's items in order");
  const stats = receiver.stats();
  console.log(
    `nats_pipeline: ${
      PRODUCERS * items
    } items from ${PRODUCERS} producers to ${CONSUMERS} consumers ` +
      `over NATS JetStream in ${stats.batches} batches, ` +
      `${((PRODUCERS * items) / seconds / 1e6).toFixed(2)} M items/s, each exactly once, in order`,
  );
}

async function front(): Promise<void> {
  const nc = await connect({ servers: values.server, maxReconnectAttempts: -1 });
  const channel = new mpsc.Channel(u32, { ringBits: 14, maxProducers: PRODUCERS });
  const forwarder = NatsForwarder.start(channel, nc, SUBJECT, { codec, jetstream });
  await Promise.all(
    Array.from(
      { length: PRODUCERS },
      (_, id) => run({ role: "produce", handle: channel.handle(), id, count: items }),
    ),
  );
  channel.close(); // the forwarder drains it, then sends the end of stream
  await forwarder.done;
  await nc.close();
}

if (values.half === "back") await back();
else if (values.half === "front") await front();
else {
  // Both halves on this machine: the back half in a second process.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net",
      "--allow-env",
      new URL(import.meta.url).pathname,
      "--half=back",
      `--server=${values.server}`,
      `--items=${items}`,
    ],
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("back: listening\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  await front();
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  const { code } = await child.status;
  const summary = seen.split("\n").find((line) => line.startsWith("nats_pipeline: "));
  if (code !== 0 || summary === undefined) throw new Error(`the back half failed (exit ${code})`);
  console.log(summary);
}
