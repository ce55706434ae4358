/**
 * Items/s through the NATS bridge against a plain publish-per-message loop
 * with the same client, same server, same run (interleaved run by run;
 * medians and the spread, min–max). Every item is a u32 sequence number and
 * the receiving side checks each one.
 *
 * - bridge, core: Ring → NatsForwarder → NATS → NatsReceiver → Ring.
 * - publish per message, core: `nc.publish` of each item as its own 4-byte
 *   message; a subscription on a second connection.
 * - bridge, JetStream, against `await js.publish` per message (fewer items:
 *   one round trip each) and `js.publish` with 256 acks in flight.
 *
 * Needs nats-server (scripts/install_nats_server.sh); it starts its own on
 * loopback.
 *
 * Run: deno run -A bench/nats_bridge.ts [--runs N] [--count N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Ring, u32 } from "../mod.ts";
import { elementCodec, NatsForwarder, NatsReceiver } from "../nats.ts";
import { NatsServer } from "../tests/_nats_server.ts";
import { type Plan, runInterleaved } from "./_schedule.ts";
import type { RunResult } from "./_stats.ts";
import { spread } from "./_stats.ts";

const codec = elementCodec(u32);
let subjects = 0;

function result(count: number, received: number, ok: boolean, started: number): RunResult {
  const seconds = (performance.now() - started) / 1000;
  const good = ok && received === count;
  return { value: good ? count / seconds : NaN, ok: good, items: received, seconds };
}

async function bridge(
  tx: NatsConnection,
  rx: NatsConnection,
  count: number,
  js: boolean,
): Promise<RunResult> {
  const subject = `bench.bridge.${subjects++}`;
  const jetstream = js ? { stream: "BENCH" } : undefined;
  const a = new Ring(u32, { ringBits: 14 });
  const b = new Ring(u32, { ringBits: 14 });
  const receiver = await NatsReceiver.start(b, rx, subject, { codec, jetstream });
  const started = performance.now();
  const forwarder = NatsForwarder.start(a, tx, subject, { codec, jetstream });
  const producing = (async () => {
    for (let i = 0; i < count;) {
      const want = Math.min(1024, count - i);
      const r = a.reserve(want);
      if (r === null) {
        await a.writableAsync(want); // reserve(n) wants n free slots
        continue;
      }
      for (let k = 0; k < r.length; k++) r.array[r.offset + k] = i + k;
      a.commit(r.length);
      i += r.length;
    }
    a.close();
  })();
  let next = 0;
  let ok = true;
  const check = {
    process(x: number) {
      if (x !== next++) ok = false;
    },
  };
  while (next < count) {
    if (b.consumeBatch(check) > 0) continue;
    try {
      await b.readableAsync();
    } catch {
      break;
    }
  }
  const r = result(count, next, ok, started);
  await Promise.all([producing, forwarder.done, receiver.done]);
  return r;
}

async function perMessage(
  tx: NatsConnection,
  rx: NatsConnection,
  count: number,
): Promise<RunResult> {
  const subject = `bench.plain.${subjects++}`;
  const sub = rx.subscribe(subject);
  await rx.flush();
  const started = performance.now();
  let next = 0;
  let ok = true;
  const receiving = (async () => {
    for await (const m of sub) {
      if (
        m.data.length !== 4 ||
        new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true) !== next
      ) ok = false;
      if (++next === count) break;
    }
  })();
  for (let i = 0; i < count; i++) {
    // a fresh payload each time: the client holds it until it is written out
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, i, true);
    tx.publish(subject, payload);
  }
  await tx.flush();
  await receiving;
  sub.unsubscribe();
  return result(count, next, ok, started);
}

async function jsPerMessage(tx: NatsConnection, count: number): Promise<RunResult> {
  const js = jetstream(tx);
  const subject = `bench.jsplain.${subjects++}`;
  const { ensureStream } = await import("../src/nats/stream.ts");
  await ensureStream(tx, "BENCH", subject);
  const started = performance.now();
  let ok = true;
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, i, true);
    const ack = await js.publish(subject, payload);
    if (ack.duplicate) ok = false;
  }
  return result(count, count, ok, started);
}

/** `js.publish` per message with up to 256 acks outstanding (pipelined). */
async function jsPipelined(tx: NatsConnection, count: number): Promise<RunResult> {
  const js = jetstream(tx);
  const subject = `bench.jspipe.${subjects++}`;
  const { ensureStream } = await import("../src/nats/stream.ts");
  await ensureStream(tx, "BENCH", subject);
  const started = performance.now();
  let ok = true;
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, i, true);
    pending.push(js.publish(subject, payload).then((ack) => ok &&= !ack.duplicate));
    if (pending.length === 256) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return result(count, count, ok, started);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      count: { type: "string", default: "200000" },
    },
  });
  const runs = Number(values.runs);
  const count = Number(values.count);
  await using server = await NatsServer.start();
  const opts = { servers: server.url, maxReconnectAttempts: -1 };
  const [tx, rx] = [await connect(opts), await connect(opts)];
  const plans: Plan[] = [
    { id: "nats.bridge", label: "bridge, core NATS", run: () => bridge(tx, rx, count, false) },
    { id: "nats.plain", label: "publish per message, core", run: () => perMessage(tx, rx, count) },
    { id: "nats.bridge-js", label: "bridge, JetStream", run: () => bridge(tx, rx, count, true) },
    {
      id: "nats.plain-js",
      label: "await js.publish per message",
      run: () => jsPerMessage(tx, Math.max(1, count / 40)),
    },
    {
      id: "nats.pipelined-js",
      label: "js.publish, 256 in flight",
      run: () => jsPipelined(tx, Math.max(1, count / 4)),
    },
  ];
  const ms = await runInterleaved(plans, { runs, kind: "throughput" });
  for (const m of ms) {
    const { min, max } = spread(m.runs.map((r) => r.value));
    console.log(
      `${m.label.padEnd(30)} median ${(m.value / 1e6).toFixed(3)} M items/s  ` +
        `spread ${(min / 1e6).toFixed(3)}–${
          (max / 1e6).toFixed(3)
        }  runs ${m.runs.length}  ok ${m.ok}`,
    );
  }
  console.log(`bridge ÷ publish per message (core): ${(ms[0].value / ms[1].value).toFixed(1)}×`);
  console.log(
    `bridge ÷ await js.publish per message (JetStream): ${(ms[2].value / ms[3].value).toFixed(1)}×`,
  );
  await Promise.all([tx.close(), rx.close()]);
}
