/**
 * Broadcast fan-out benchmark: one producer Worker sends every message to 1,
 * 2, 4 and 8 consumer Workers, two ways in the same run:
 *
 * - **broadcast ring**: the producer writes each message once into a
 *   `BroadcastProducer` (reserve, copy, commit); every consumer reads it in
 *   place (push wakeup) and publishes its tail once per batch;
 * - **postMessage**: the producer posts each message to one `MessageChannel`
 *   port per consumer (a structured clone per consumer).
 *
 * Every consumer checks every message's sequence number (first and last four
 * bytes) and length; a run where any consumer loses, duplicates or reorders
 * a message fails. The rate is messages per second from the producer's first
 * message to the last consumer's last message (each message reaching every
 * consumer), the median over `--runs` runs.
 *
 * ```sh
 * deno run -A bench/broadcast.ts [--runs 3] [--sizes 64,4096,65536] [--consumers 1,2,4,8]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BroadcastConsumer, BroadcastProducer } from "../src/broadcast/mod.ts";
import type { BroadcastConsumerHandle } from "../src/broadcast/mod.ts";
import { Closed } from "../src/errors.ts";
import { Backoff } from "../src/backoff.ts";
import { now, stamp, stamped } from "./_payload.ts";
import { median } from "./_stats.ts";

type Variant = "ring" | "postMessage";

interface ProducerJob {
  role: "producer";
  variant: Variant;
  consumers: number;
  size: number;
  count: number;
  sync: SharedArrayBuffer;
  ports?: MessagePort[];
}

interface ConsumerJob {
  role: "consumer";
  variant: Variant;
  size: number;
  count: number;
  sync: SharedArrayBuffer;
  handle?: BroadcastConsumerHandle;
  port?: MessagePort;
}

type Reply =
  | { kind: "handles"; handles: BroadcastConsumerHandle[] }
  | { kind: "report"; at: number; error?: string };

function capacityFor(size: number): number {
  return Math.min(2 ** 24, Math.max(2 ** 20, 2 ** Math.ceil(Math.log2((size + 16) * 16))));
}

/** Waits until `consumers` consumers said they are attached. */
function awaitAttached(sync: Int32Array, consumers: number): void {
  for (let seen = Atomics.load(sync, 0); seen < consumers; seen = Atomics.load(sync, 0)) {
    Atomics.wait(sync, 0, seen, 100);
  }
}

function produce(job: ProducerJob, post: (r: Reply) => void): void {
  const { size, count, consumers } = job;
  const sync = new Int32Array(job.sync);
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i++) src[i] = (i * 131) & 0xff;
  if (job.variant === "ring") {
    const producer = BroadcastProducer.create({
      capacity: capacityFor(size),
      maxConsumers: consumers,
      stallTimeoutMs: 60_000,
    });
    const handles = Array.from({ length: consumers }, () => producer.join());
    post({ kind: "handles", handles });
    awaitAttached(sync, consumers);
    const backoff = new Backoff();
    const at = now();
    for (let n = 0; n < count; n++) {
      let r = producer.reserve(size);
      while (r === null) {
        backoff.snooze();
        r = producer.reserve(size);
      }
      backoff.reset();
      r.array.set(src, r.offset);
      stamp(r.array, r.offset, size, n);
      producer.commit();
    }
    producer.close();
    post({ kind: "report", at });
    return;
  }
  const ports = job.ports!;
  awaitAttached(sync, consumers);
  const at = now();
  for (let n = 0; n < count; n++) {
    stamp(src, 0, size, n);
    for (let i = 0; i < ports.length; i++) ports[i].postMessage(src);
  }
  post({ kind: "report", at });
}

function consume(job: ConsumerJob): Promise<Reply> | Reply {
  const { size, count } = job;
  const sync = new Int32Array(job.sync);
  if (job.variant === "ring") {
    const consumer = BroadcastConsumer.fromHandle(job.handle!);
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
    let next = 0;
    let at = now();
    try {
      for (;;) {
        if (!consumer.wait(30_000)) return { kind: "report", at, error: "timed out" };
        for (let m = consumer.peek(); m !== null; m = consumer.peek()) {
          if (m.length !== size || stamped(m.array, m.offset, size) !== next) {
            return { kind: "report", at, error: `message ${next} is wrong` };
          }
          consumer.advance();
          next++;
        }
        consumer.publish();
        at = now();
      }
    } catch (error) {
      if (!(error instanceof Closed)) throw error;
    }
    consumer.close();
    return next === count
      ? { kind: "report", at }
      : { kind: "report", at, error: `received ${next} of ${count}` };
  }
  const port = job.port!;
  return new Promise((resolve) => {
    let next = 0;
    port.onmessage = (e: MessageEvent<Uint8Array>) => {
      const a = e.data;
      if (a.length !== size || stamped(a, 0, size) !== next) {
        port.onmessage = null;
        resolve({ kind: "report", at: now(), error: `message ${next} is wrong` });
      } else if (++next === count) {
        port.onmessage = null;
        port.close();
        resolve({ kind: "report", at: now() });
      }
    };
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
  });
}

// ── Worker side ──────────────────────────────────────────────────────────────

const workerScope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  onmessage: (e: MessageEvent<ProducerJob | ConsumerJob>) => void;
  postMessage(reply: Reply): void;
};

if (typeof workerScope.WorkerGlobalScope !== "undefined") {
  workerScope.onmessage = async (e) => {
    const job = e.data;
    if (job.role === "producer") produce(job, (r) => workerScope.postMessage(r));
    else workerScope.postMessage(await consume(job));
  };
} else if (import.meta.main) {
  await main();
}

// ── Main side ────────────────────────────────────────────────────────────────

function messagesFor(size: number): number {
  return Math.max(64, Math.min(100_000, Math.floor(2 ** 25 / size)));
}

/** Collects the replies of one worker in order. */
function replies(worker: Worker): () => Promise<Reply> {
  const queue: Reply[] = [];
  const waiting: ((r: Reply) => void)[] = [];
  worker.onmessage = (e: MessageEvent<Reply>) => {
    const w = waiting.shift();
    if (w) w(e.data);
    else queue.push(e.data);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    throw new Error(e.message);
  };
  return () => {
    const r = queue.shift();
    return r ? Promise.resolve(r) : new Promise((resolve) => waiting.push(resolve));
  };
}

async function runOnce(
  producer: Worker,
  next: (() => Promise<Reply>)[],
  consumers: Worker[],
  variant: Variant,
  size: number,
  count: number,
): Promise<number> {
  const sync = new SharedArrayBuffer(4);
  const n = consumers.length;
  const jobs: ConsumerJob[] = [];
  if (variant === "ring") {
    producer.postMessage({ role: "producer", variant, consumers: n, size, count, sync });
    const reply = await next[0]();
    if (reply.kind !== "handles") throw new Error("expected handles");
    for (const handle of reply.handles) {
      jobs.push({ role: "consumer", variant, size, count, sync, handle });
    }
    consumers.forEach((w, i) => w.postMessage(jobs[i]));
  } else {
    const channels = consumers.map(() => new MessageChannel());
    consumers.forEach((w, i) =>
      w.postMessage(
        { role: "consumer", variant, size, count, sync, port: channels[i].port2 },
        [channels[i].port2],
      )
    );
    const ports = channels.map((c) => c.port1);
    producer.postMessage(
      { role: "producer", variant, consumers: n, size, count, sync, ports },
      ports,
    );
  }
  const reports = await Promise.all(next.slice(0, n + 1).map((f) => f()));
  const start = (reports[0] as { at: number }).at;
  let end = 0;
  for (const r of reports.slice(1)) {
    if (r.kind !== "report") throw new Error("expected a report");
    if (r.error !== undefined) throw new Error(`${variant} ×${n} ${size} B: ${r.error}`);
    end = Math.max(end, r.at);
  }
  return count / ((end - start) / 1000);
}

function fmtRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k/s`;
  return `${v.toFixed(0)} /s`;
}

function fmtSize(n: number): string {
  return n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      sizes: { type: "string", default: "64,4096,65536" },
      consumers: { type: "string", default: "1,2,4,8" },
      json: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const sizes = values.sizes!.split(",").map(Number);
  const fanouts = values.consumers!.split(",").map(Number);
  const most = Math.max(...fanouts);
  const url = new URL(import.meta.url);
  const workers = Array.from({ length: most + 1 }, () => new Worker(url, { type: "module" }));
  const next = workers.map(replies);
  const rows: Record<string, unknown>[] = [];
  console.log(
    `Broadcast fan-out, producer Worker → N consumer Workers, messages/s delivered to every consumer, median of ${runs} runs (${navigator.hardwareConcurrency} CPUs)\n`,
  );
  console.log(
    "| payload | consumers | messages | broadcast ring | postMessage | ring ÷ postMessage |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  try {
    for (const size of sizes) {
      const count = messagesFor(size);
      for (const n of fanouts) {
        const consumers = workers.slice(1, n + 1);
        const medians: Record<Variant, number> = { ring: 0, postMessage: 0 };
        for (const variant of ["ring", "postMessage"] as const) {
          await runOnce(workers[0], next, consumers, variant, size, Math.min(count, 500));
          const samples: number[] = [];
          for (let r = 0; r < runs; r++) {
            samples.push(await runOnce(workers[0], next, consumers, variant, size, count));
          }
          medians[variant] = median(samples);
        }
        console.log(
          `| ${fmtSize(size)} | ${n} | ${count} | ${fmtRate(medians.ring)} | ${
            fmtRate(medians.postMessage)
          } | ${(medians.ring / medians.postMessage).toFixed(2)} |`,
        );
        rows.push({ size, consumers: n, count, ...medians });
      }
    }
  } finally {
    for (const w of workers) w.terminate();
  }
  if (values.json !== undefined) {
    Deno.writeTextFileSync(values.json, JSON.stringify({ runs, rows }, null, 2));
  }
}
