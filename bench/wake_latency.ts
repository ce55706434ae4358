/**
 * Wake latency: how long a sleeping thread takes to run again after another
 * thread wakes it, measured in one run for
 *
 * - `Atomics.wait/notify` between a Worker and the main thread (V8's
 *   in-process emulation; the baseline for rings in a SharedArrayBuffer),
 * - futex between a Worker and the main thread (the native helper on a SAB),
 * - futex between two processes (a /dev/shm region; what SharedRing uses),
 * - eventfd between two processes (the fd passed with SCM_RIGHTS; what an
 *   `EventNotifier` consumer in an event loop sees),
 * - a SharedRing commit waking a consumer asleep in another process, three
 *   ways: a Deno producer → a Deno consumer in `waitReadable`; a
 *   ringmpsc-style C producer (bench/native/wake_bench.c: commit, then
 *   FUTEX_WAKE on consumer_waiters, as ringmpsc 2.3.0) → a Deno consumer; and
 *   that C producer → a C sleeper that FUTEX_WAITs on consumer_waiters (what
 *   a ringmpsc application does, ringmpsc having no wait API). The item sent
 *   is the CLOCK_MONOTONIC stamp taken just before the commit; the sleeper
 *   subtracts it from its own stamp on waking.
 *
 * For each sample the waiter announces that it is about to sleep and
 * sleeps; the waker sees the announcement, spins `--delay-us` so the waiter
 * is surely asleep in the kernel, stamps CLOCK_MONOTONIC into shared memory
 * and wakes it; the waiter stamps the clock again on waking. Every waiter
 * checks that it woke for the sample it waited for (none lost, doubled or
 * out of order). Methods are interleaved round by round.
 *
 * Byte layout of the shared control block (SharedArrayBuffer or region):
 *
 *   0x000  i32  seq     waker: number of wakes published (release)
 *   0x004  i32  ready   waiter: number of the sample it is about to sleep for
 *   0x008  i32  errors  waiter: samples that woke for the wrong seq
 *   0x040  f64  t0      waker: CLOCK_MONOTONIC ns just before the wake
 *   0x1000 f64[samples] waiter: latency of each sample in ns
 *
 * Usage: deno run --allow-read --allow-write --allow-ffi --allow-run --allow-env
 *   bench/wake_latency.ts [--samples 2000] [--rounds 5] [--delay-us 50]
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  closeFd,
  connectUnix,
  EventNotifier,
  FdServer,
  futexWait,
  futexWake,
  monotonicNs,
  recvFd,
  sendFd,
  SharedMemory,
} from "../native.ts";
const CONSUMER_WAITERS = SHARED_RING_LAYOUT.consumerWaiters / 4;
import { median, percentile } from "./_stats.ts";
import { spawnBenchProcess } from "./_workers.ts";
import { u64 } from "../mod.ts";
import { SharedRing } from "../native.ts";
import { SHARED_RING_LAYOUT } from "../src/layout.ts";

const SEQ = 0;
const READY = 1;
const ERRORS = 2;
const T0_BYTE = 0x40;
const RESULTS_BYTE = 0x1000;
const GIVE_UP_NS = 10e9;

/** A wake mechanism. */
export type Method =
  | "atomics"
  | "futex-thread"
  | "futex"
  | "eventfd"
  | "ring-deno"
  | "ring-c"
  | "ring-c-c";

interface Views {
  control: Int32Array;
  t0: Float64Array;
  results: Float64Array;
}

function views(buffer: ArrayBufferLike, samples: number): Views {
  return {
    control: new Int32Array(buffer, 0, 16),
    t0: new Float64Array(buffer, T0_BYTE, 1),
    results: new Float64Array(buffer, RESULTS_BYTE, samples),
  };
}

function bytesFor(samples: number): number {
  return Math.ceil((RESULTS_BYTE + samples * 8) / 4096) * 4096;
}

/** The waiter's side: announce, sleep until woken, stamp. */
function waitLoop(
  v: Views,
  samples: number,
  sleep: (expected: number) => void,
): void {
  for (let i = 0; i < samples; i++) {
    const expected = i;
    // Announces that sample i's sleep begins.
    Atomics.store(v.control, READY, i + 1);
    while (Atomics.load(v.control, SEQ) === expected) sleep(expected);
    const woke = monotonicNs();
    if (Atomics.load(v.control, SEQ) !== i + 1) Atomics.add(v.control, ERRORS, 1);
    v.results[i] = woke - v.t0[0];
  }
}

/** The waker's side: wait for the announcement, let the waiter sleep, stamp, wake. */
function wakeLoop(v: Views, samples: number, delayNs: number, wake: () => void): void {
  for (let i = 0; i < samples; i++) {
    const deadline = monotonicNs() + GIVE_UP_NS;
    while (Atomics.load(v.control, READY) !== i + 1) {
      if (monotonicNs() > deadline) throw new Error(`waiter never got ready for sample ${i}`);
    }
    const until = monotonicNs() + delayNs;
    while (monotonicNs() < until) { /* let the waiter fall asleep */ }
    v.t0[0] = monotonicNs();
    // Publishes sample i's wake (t0 above is written before it).
    Atomics.store(v.control, SEQ, i + 1);
    wake();
  }
}

// ---- Worker side -----------------------------------------------------------

interface WorkerStart {
  method: "atomics" | "futex-thread";
  buffer: SharedArrayBuffer;
  samples: number;
}

function runWorker(): void {
  const scope = self as unknown as {
    onmessage: ((event: MessageEvent<WorkerStart>) => void) | null;
    postMessage(message: unknown): void;
    close(): void;
  };
  scope.onmessage = (event) => {
    const { method, buffer, samples } = event.data;
    const v = views(buffer, samples);
    if (method === "atomics") {
      waitLoop(v, samples, (expected) => void Atomics.wait(v.control, SEQ, expected, 5000));
    } else {
      waitLoop(v, samples, (expected) => void futexWait(v.control, SEQ, expected, 5000));
    }
    scope.postMessage("done");
    scope.close();
  };
}

// ---- Child process side -----------------------------------------------------

function runChild(method: string, shm: string, socket: string, samples: number): void {
  using memory = SharedMemory.attachPath(shm);
  const v = views(memory.buffer, samples);
  if (method === "futex") {
    console.log("ready");
    waitLoop(v, samples, (expected) => void futexWait(v.control, SEQ, expected, 5000));
  } else {
    const conn = connectUnix(socket);
    using notifier = EventNotifier.fromFd(recvFd(conn));
    closeFd(conn);
    console.log("ready");
    waitLoop(v, samples, () => void notifier.wait(5000));
  }
}

/** The Deno producer of the "ring-deno" row: commits a stamp whenever the consumer sleeps. */
function runRingWaker(path: string, samples: number, delayNs: number): void {
  using ring = SharedRing.attachPath(u64, path);
  using memory = SharedMemory.attachPath(path);
  const words = new Int32Array(memory.buffer, 0, 128);
  for (let i = 0; i < samples; i++) {
    const deadline = monotonicNs() + GIVE_UP_NS;
    while (Atomics.load(words, CONSUMER_WAITERS) === 0 || ring.len() !== 0) {
      if (monotonicNs() > deadline) throw new Error(`consumer never slept for sample ${i}`);
    }
    const until = monotonicNs() + delayNs;
    while (monotonicNs() < until) { /* let the consumer fall asleep */ }
    ring.sendOne(BigInt(Math.round(monotonicNs())));
  }
}

// ---- Main -------------------------------------------------------------------

interface Round {
  latencies: Float64Array;
  errors: number;
}

async function roundInWorker(
  method: "atomics" | "futex-thread",
  samples: number,
  delayNs: number,
): Promise<Round> {
  const buffer = new SharedArrayBuffer(bytesFor(samples));
  const v = views(buffer, samples);
  const worker = new Worker(import.meta.url, { type: "module" });
  const done = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => reject(event.error ?? new Error(event.message));
  });
  worker.postMessage({ method, buffer, samples } satisfies WorkerStart);
  const wake = method === "atomics"
    ? () => void Atomics.notify(v.control, SEQ)
    : () => void futexWake(v.control, SEQ);
  wakeLoop(v, samples, delayNs, wake);
  await done;
  worker.terminate();
  return { latencies: v.results.slice(), errors: Atomics.load(v.control, ERRORS) };
}

async function roundInProcess(
  method: "futex" | "eventfd",
  samples: number,
  delayNs: number,
): Promise<Round> {
  const id = `ringmpsc-bench-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const socket = `/tmp/${id}.sock`;
  using memory = SharedMemory.createPath(id, bytesFor(samples));
  try {
    const v = views(memory.buffer, samples);
    using server = method === "eventfd" ? FdServer.listen(socket) : undefined;
    using notifier = EventNotifier.init();
    const child = spawnBenchProcess(
      new URL(import.meta.url),
      [`--role=${method}`, `--shm=${id}`, `--socket=${socket}`, `--samples=${samples}`],
      "inherit",
    );
    if (server !== undefined) {
      const conn = await server.acceptAsync();
      sendFd(conn, notifier.fd());
      closeFd(conn);
    }
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    if (first.value?.trim() !== "ready") throw new Error(`child said ${first.value}`);
    const wake = method === "futex"
      ? () => void futexWake(v.control, SEQ)
      : () => notifier.signal();
    wakeLoop(v, samples, delayNs, wake);
    while (!(await reader.read()).done) { /* drain */ }
    const status = await child.status;
    if (!status.success) throw new Error(`${method} child failed: ${status.code}`);
    return { latencies: v.results.slice(), errors: Atomics.load(v.control, ERRORS) };
  } finally {
    SharedMemory.unlinkPath(id);
  }
}

let wakeBench: string | undefined;

/** Builds bench/native/wake_bench.c once per process. */
async function wakeBenchPath(): Promise<string> {
  if (wakeBench !== undefined) return wakeBench;
  const script = new URL("./native/build.sh", import.meta.url).pathname;
  const out = await new Deno.Command(script, { args: ["wake_bench"], stdout: "piped" }).output();
  if (!out.success) throw new Error("bench/native/build.sh wake_bench failed");
  return wakeBench = new TextDecoder().decode(out.stdout).trim();
}

function spawn(command: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(command, { args, stdout: "piped", stderr: "inherit" }).spawn();
}

/** A Deno consumer sleeping in `waitReadable`: each sample is its wake time minus the item. */
function sleepOnRing(ring: SharedRing<bigint, BigUint64Array>, samples: number): Round {
  const latencies = new Float64Array(samples);
  let errors = 0;
  for (let i = 0; i < samples; i++) {
    ring.waitReadable({ timeoutMs: GIVE_UP_NS / 1e6 });
    const woke = monotonicNs();
    const stamp = ring.tryRecv();
    if (stamp === null || ring.len() !== 0) errors++;
    latencies[i] = woke - Number(stamp);
  }
  return { latencies, errors };
}

/** One round of a SharedRing row: the ring is a /dev/shm file made here. */
async function roundOnRing(
  method: "ring-deno" | "ring-c" | "ring-c-c",
  samples: number,
  delayNs: number,
): Promise<Round> {
  const path = `/dev/shm/ringmpsc-wake-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  // a guard slice far longer than a round: only the producer's wake ends a sleep in time
  using ring = SharedRing.createPath(u64, path, 4, { sliceMs: 600_000 });
  try {
    const native = await wakeBenchPath();
    const sleeper = method === "ring-c-c" ? spawn(native, ["sleep", path, String(samples)]) : null;
    const waker = method === "ring-deno"
      ? spawn(Deno.execPath(), [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--role=ring-wake",
        `--shm=${path}`,
        `--samples=${samples}`,
        `--delay-us=${delayNs / 1000}`,
      ])
      : spawn(native, ["wake", path, String(samples), String(delayNs / 1000)]);
    const round = sleeper === null ? sleepOnRing(ring, samples) : null;
    const [woke, slept] = await Promise.all([waker.output(), sleeper?.output()]);
    if (!woke.success || (slept !== undefined && !slept.success)) {
      throw new Error(`${method} peer failed`);
    }
    if (round !== null) return round;
    const list = JSON.parse(new TextDecoder().decode(slept!.stdout)) as number[];
    return { latencies: Float64Array.from(list), errors: samples - list.length };
  } finally {
    Deno.removeSync(path);
  }
}

/** One wake method's latencies, pooled over every round. */
export interface WakeRow {
  /** Which mechanism woke the waiter. */
  method: Method;
  /** The row's name in the table. */
  label: string;
  /** Samples pooled. */
  samples: number;
  /** Percentiles of the pooled samples, in ns. */
  p50Ns: number;
  /** 99th percentile, ns. */
  p99Ns: number;
  /** 99.9th percentile, ns. */
  p999Ns: number;
  /** Slowest sample, ns. */
  maxNs: number;
  /** Median over rounds of each round's p50, ns. */
  roundP50Ns: number;
  /** Samples that woke for the wrong wake (lost, duplicated or reordered). */
  errors: number;
}

/** The methods, in table order: the Atomics baseline first. */
export const WAKE_METHODS: readonly { method: Method; label: string }[] = [
  { method: "atomics", label: "Atomics.wait/notify (Worker ↔ main)" },
  { method: "futex-thread", label: "futex, native helper (Worker ↔ main)" },
  { method: "futex", label: "futex, native helper (process ↔ process)" },
  { method: "eventfd", label: "eventfd, native helper (process ↔ process)" },
  { method: "ring-deno", label: "SharedRing commit: Deno → Deno waitReadable" },
  { method: "ring-c", label: "SharedRing commit: ringmpsc-style C → Deno" },
  { method: "ring-c-c", label: "SharedRing commit: ringmpsc-style C → C" },
];

/**
 * Measures every wake method, interleaved round by round.
 *
 * @param samples Samples per method per round.
 * @param rounds Rounds.
 * @param delayNs How long the waker spins before each wake (so the waiter surely sleeps).
 * @returns One row per method, in {@linkcode WAKE_METHODS} order.
 */
export async function measureWakeLatency(
  samples: number,
  rounds: number,
  delayNs = 50_000,
): Promise<WakeRow[]> {
  const results = new Map<Method, Round[]>(WAKE_METHODS.map(({ method }) => [method, []]));
  for (let round = 0; round < rounds; round++) {
    for (const { method } of WAKE_METHODS) {
      const result = method === "atomics" || method === "futex-thread"
        ? await roundInWorker(method, samples, delayNs)
        : method === "futex" || method === "eventfd"
        ? await roundInProcess(method, samples, delayNs)
        : await roundOnRing(method, samples, delayNs);
      results.get(method)!.push(result);
    }
  }
  return WAKE_METHODS.map(({ method, label }) => {
    const list = results.get(method)!;
    const all = new Float64Array(list.reduce((n, r) => n + r.latencies.length, 0));
    let at = 0;
    for (const r of list) {
      all.set(r.latencies, at);
      at += r.latencies.length;
    }
    all.sort();
    return {
      method,
      label,
      samples: all.length,
      p50Ns: percentile(all, 0.5),
      p99Ns: percentile(all, 0.99),
      p999Ns: percentile(all, 0.999),
      maxNs: all[all.length - 1],
      roundP50Ns: median(list.map((r) => percentile(r.latencies.slice().sort(), 0.5))),
      errors: list.reduce((n, r) => n + r.errors, 0),
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      samples: { type: "string", default: "2000" },
      rounds: { type: "string", default: "5" },
      "delay-us": { type: "string", default: "50" },
      role: { type: "string" },
      shm: { type: "string" },
      socket: { type: "string" },
    },
  });
  const samples = Number(values.samples);
  if (values.role === "ring-wake") {
    runRingWaker(values.shm!, samples, Number(values["delay-us"]) * 1000);
    return;
  }
  if (values.role !== undefined) {
    runChild(values.role, values.shm!, values.socket!, samples);
    return;
  }
  const rounds = Number(values.rounds);
  const rows = await measureWakeLatency(samples, rounds, Number(values["delay-us"]) * 1000);
  const us = (ns: number) => (ns / 1000).toFixed(1).padStart(10);
  console.log(
    `wake latency in µs: ${rounds} rounds × ${samples} samples per method, ` +
      `waker spins ${
        values["delay-us"]
      } µs before each wake; ${navigator.hardwareConcurrency} CPUs, ` +
      `Deno ${Deno.version.deno}`,
  );
  console.log(
    `${"method".padEnd(44)}${"p50".padStart(10)}${"p99".padStart(10)}${"p99.9".padStart(10)}` +
      `${"max".padStart(10)}  round p50 (median)  lost/dup/reordered`,
  );
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(44)}${us(r.p50Ns)}${us(r.p99Ns)}${us(r.p999Ns)}${us(r.maxNs)}` +
        `${us(r.roundP50Ns).padStart(20)}${String(r.errors).padStart(20)}`,
    );
    if (r.errors > 0) throw new Error(`${r.label}: ${r.errors} samples woke for the wrong wake`);
  }
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  runWorker();
} else if (import.meta.main) {
  await main();
}
