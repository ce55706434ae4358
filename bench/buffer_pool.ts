/**
 * BufferPool benchmark: moving payloads of 64 B … 1 MiB from one Worker to
 * another three ways, in the same run:
 *
 * - **pool**: the producer allocates a slab, copies the payload into it and
 *   sends the 4-byte handle through a `Ring` of u32; the consumer reads the
 *   payload in place and frees the slab (the seed's pointer-ring pattern);
 * - **ring copy**: the producer copies the payload into a `Ring` of u8 (room
 *   for 64 messages, as the pool has 64 slabs) and the consumer reads it in
 *   place there and advances;
 * - **postMessage**: the producer posts the payload (structured clone) over a
 *   `MessageChannel`; the consumer reads it from the event.
 *
 * Every consumer checks every message's sequence number (stamped in its first
 * and last four bytes) and length; a run that loses, duplicates or reorders a
 * message fails. Throughput is from the producer's first message to the
 * consumer's last, as a median over `--runs` runs. A second table gives the
 * cost of one alloc + free pair and of the 32-bit CAS our bitmap uses versus
 * the BigInt CAS a seed-style 64-bit tagged free-list head would need.
 *
 * ```sh
 * deno run -A bench/buffer_pool.ts [--runs 5] [--sizes 64,4096,1048576] [--json out.json]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BufferPool, type BufferPoolHandle } from "../src/buffer_pool.ts";
import { Ring, type RingHandle } from "../src/ring.ts";
import { u32, u8 } from "../src/element.ts";
import { Backoff } from "../src/backoff.ts";
import { now, stamp, stamped } from "./_payload.ts";
import { median } from "./_stats.ts";

/** The three ways of moving a payload. */
type Variant = "pool" | "ringCopy" | "postMessage";

/** A job for one side of one run. */
interface Job {
  variant: Variant;
  role: "producer" | "consumer";
  size: number;
  count: number;
  pool?: BufferPoolHandle;
  ring?: RingHandle;
  port?: MessagePort;
}

/** What a side reports. */
interface Report {
  role: "producer" | "consumer";
  /** Producer: time of its first send; consumer: time of its last receive (ms, shared epoch). */
  at: number;
  error?: string;
}

function source(size: number): Uint8Array {
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i++) src[i] = (i * 131) & 0xff;
  return src;
}

function produce(job: Job): Report {
  const { size, count } = job;
  const src = source(size);
  const backoff = new Backoff();
  if (job.variant === "pool") {
    const pool = BufferPool.fromHandle(job.pool!);
    const ring = Ring.fromHandle<number, Uint32Array>(job.ring!);
    const bytes = pool.bytes;
    const at = now();
    for (let n = 0; n < count; n++) {
      let h = pool.alloc();
      while (h === null) {
        backoff.snooze();
        h = pool.alloc();
      }
      backoff.reset();
      const o = pool.offsetOf(h);
      bytes.set(src, o);
      stamp(bytes, o, size, n);
      pool.setLen(h, size);
      while (!ring.sendOne(h)) backoff.snooze();
      backoff.reset();
    }
    return { role: "producer", at };
  }
  if (job.variant === "ringCopy") {
    const ring = Ring.fromHandle<number, Uint8Array>(job.ring!);
    const at = now();
    for (let n = 0; n < count; n++) {
      let r = ring.reserve(size);
      while (r === null) {
        backoff.snooze();
        r = ring.reserve(size);
      }
      backoff.reset();
      r.array.set(src, r.offset);
      stamp(r.array, r.offset, size, n);
      ring.commit(size);
    }
    return { role: "producer", at };
  }
  const port = job.port!;
  const at = now();
  for (let n = 0; n < count; n++) {
    stamp(src, 0, size, n);
    port.postMessage(src);
  }
  return { role: "producer", at };
}

function consume(job: Job): Report | Promise<Report> {
  const { size, count } = job;
  if (job.variant === "pool") {
    const pool = BufferPool.fromHandle(job.pool!);
    const ring = Ring.fromHandle<number, Uint32Array>(job.ring!);
    const bytes = pool.bytes;
    const out = new Uint32Array(64);
    const backoff = new Backoff();
    let next = 0;
    while (next < count) {
      const k = ring.recv(out);
      if (k === 0) {
        backoff.snooze();
        continue;
      }
      backoff.reset();
      for (let i = 0; i < k; i++) {
        const h = out[i];
        const o = pool.offsetOf(h);
        if (pool.lengthOf(h) !== size || stamped(bytes, o, size) !== next) {
          return { role: "consumer", at: now(), error: `message ${next} is wrong` };
        }
        pool.free(h);
        next++;
      }
    }
    return { role: "consumer", at: now() };
  }
  if (job.variant === "ringCopy") {
    const ring = Ring.fromHandle<number, Uint8Array>(job.ring!);
    const backoff = new Backoff();
    let next = 0;
    while (next < count) {
      const region = ring.readable();
      if (region === null) {
        backoff.snooze();
        continue;
      }
      backoff.reset();
      const whole = region.length - (region.length % size);
      for (let o = region.offset; o < region.offset + whole; o += size) {
        if (stamped(region.array, o, size) !== next) {
          return { role: "consumer", at: now(), error: `message ${next} is wrong` };
        }
        next++;
      }
      ring.advance(whole);
    }
    return { role: "consumer", at: now() };
  }
  const port = job.port!;
  return new Promise((resolve) => {
    let next = 0;
    port.onmessage = (e: MessageEvent<Uint8Array>) => {
      const a = e.data;
      if (a.length !== size || stamped(a, 0, size) !== next) {
        port.onmessage = null;
        resolve({ role: "consumer", at: now(), error: `message ${next} is wrong` });
        return;
      }
      if (++next === count) {
        port.onmessage = null;
        port.close();
        resolve({ role: "consumer", at: now() });
      }
    };
  });
}

// ── Worker side ──────────────────────────────────────────────────────────────

const workerScope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  onmessage: (e: MessageEvent<Job>) => void;
  postMessage(report: Report): void;
};

if (typeof workerScope.WorkerGlobalScope !== "undefined") {
  workerScope.onmessage = async (e) => {
    const job = e.data;
    workerScope.postMessage(job.role === "producer" ? produce(job) : await consume(job));
  };
} else if (import.meta.main) {
  await main();
}

// ── Main side ────────────────────────────────────────────────────────────────

function messagesFor(size: number): number {
  return Math.max(64, Math.min(200_000, Math.floor(2 ** 27 / size)));
}

function ask(worker: Worker, job: Job, transfer: Transferable[] = []): Promise<Report> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Report>) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(job, transfer);
  });
}

async function runOnce(
  workers: [Worker, Worker],
  variant: Variant,
  size: number,
  count: number,
): Promise<number> {
  const [producer, consumer] = workers;
  let p: Job;
  let c: Job;
  const transferP: Transferable[] = [];
  const transferC: Transferable[] = [];
  if (variant === "pool") {
    const pool = new BufferPool(size, 64).handle();
    const ring = new Ring(u32, { ringBits: 6 }).handle();
    p = { variant, role: "producer", size, count, pool, ring };
    c = { variant, role: "consumer", size, count, pool, ring };
  } else if (variant === "ringCopy") {
    // The same buffering as the pool: room for 64 messages.
    const ringBits = Math.ceil(Math.log2(size * 64));
    const ring = new Ring(u8, { ringBits }).handle();
    p = { variant, role: "producer", size, count, ring };
    c = { variant, role: "consumer", size, count, ring };
  } else {
    const channel = new MessageChannel();
    p = { variant, role: "producer", size, count, port: channel.port1 };
    c = { variant, role: "consumer", size, count, port: channel.port2 };
    transferP.push(channel.port1);
    transferC.push(channel.port2);
  }
  const consumed = ask(consumer, c, transferC);
  const produced = ask(producer, p, transferP);
  const [pr, cr] = await Promise.all([produced, consumed]);
  if (cr.error !== undefined) throw new Error(`${variant} ${size} B: ${cr.error}`);
  return count / ((cr.at - pr.at) / 1000);
}

function allocFreeCost(): { pairNs: number; cas32Ns: number; casBigNs: number } {
  const pool = new BufferPool(64, 64);
  const rounds = 2_000_000;
  const time = (f: () => void) => {
    const samples: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      f();
      samples.push((performance.now() - t) * 1e6 / rounds);
    }
    return median(samples);
  };
  const pairNs = time(() => {
    for (let i = 0; i < rounds; i++) pool.free(pool.alloc()!);
  });
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  const cas32Ns = time(() => {
    for (let i = 0; i < rounds; i++) {
      const h = Atomics.load(i32, 0);
      Atomics.compareExchange(i32, 0, h, ((h + 64) & ~63) | ((h & 63) ^ 1));
    }
  });
  const big = new BigUint64Array(new SharedArrayBuffer(8));
  const mask = 0xffffffffn;
  const casBigNs = time(() => {
    for (let i = 0; i < rounds; i++) {
      const h = Atomics.load(big, 0);
      const index = Number(h & mask);
      Atomics.compareExchange(big, 0, h, ((((h >> 32n) + 1n) & mask) << 32n) | BigInt(index ^ 1));
    }
  });
  return { pairNs, cas32Ns, casBigNs };
}

function fmtRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k/s`;
  return `${v.toFixed(0)} /s`;
}

function fmtBytes(v: number): string {
  return v >= 1e9 ? `${(v / 1e9).toFixed(2)} GB/s` : `${(v / 1e6).toFixed(0)} MB/s`;
}

function fmtSize(n: number): string {
  return n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      sizes: { type: "string", default: "64,256,1024,4096,16384,65536,262144,1048576" },
      json: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const sizes = values.sizes!.split(",").map(Number);
  const url = new URL(import.meta.url);
  const workers: [Worker, Worker] = [
    new Worker(url, { type: "module" }),
    new Worker(url, { type: "module" }),
  ];
  const variants: Variant[] = ["pool", "ringCopy", "postMessage"];
  const rows: Record<string, unknown>[] = [];
  console.log(
    `BufferPool handle passing vs copying through a ring vs postMessage, Worker → Worker, median of ${runs} runs (${navigator.hardwareConcurrency} CPUs)\n`,
  );
  console.log(
    "| payload | messages | pool (handle via Ring<u32>) | ring copy (Ring<u8>) | postMessage | pool ÷ copy | pool ÷ postMessage |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  try {
    for (const size of sizes) {
      const count = messagesFor(size);
      const medians: Record<Variant, number> = { pool: 0, ringCopy: 0, postMessage: 0 };
      for (const variant of variants) {
        await runOnce(workers, variant, size, Math.min(count, 1000)); // warm-up
        const samples: number[] = [];
        for (let r = 0; r < runs; r++) samples.push(await runOnce(workers, variant, size, count));
        medians[variant] = median(samples);
      }
      const cell = (v: number) => `${fmtRate(v)} (${fmtBytes(v * size)})`;
      console.log(
        `| ${fmtSize(size)} | ${count} | ${cell(medians.pool)} | ${cell(medians.ringCopy)} | ${
          cell(medians.postMessage)
        } | ${(medians.pool / medians.ringCopy).toFixed(2)} | ${
          (medians.pool / medians.postMessage).toFixed(2)
        } |`,
      );
      rows.push({ size, count, ...medians });
    }
  } finally {
    for (const w of workers) w.terminate();
  }
  const cost = allocFreeCost();
  console.log("\nSingle thread, median of 5 × 2,000,000:");
  console.log("| operation | ns |");
  console.log("| --- | ---: |");
  console.log(`| BufferPool alloc + free pair | ${cost.pairNs.toFixed(1)} |`);
  console.log(
    `| load + CAS of a 32-bit word (a bitmap word: our choice) | ${cost.cas32Ns.toFixed(1)} |`,
  );
  console.log(
    `| load + CAS of a 64-bit tagged free-list head through BigInt (the seed's) | ${
      cost.casBigNs.toFixed(1)
    } |`,
  );
  if (values.json !== undefined) {
    Deno.writeTextFileSync(values.json, JSON.stringify({ runs, rows, cost }, null, 2));
  }
}
