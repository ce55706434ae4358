/**
 * Ping-pong round trip, one u32 each way, measured side by side in one run:
 *
 * - two `Ring`s between two Workers, waiting by spinning on `readable()`,
 *   by `waitReadable()` (spin, yield, then sleep), and by
 *   `waitReadable(WaitStrategy.phasedBackoff(0, 0))` (sleeps every round);
 * - two `SharedRing`s between a Worker of this process and another process
 *   (created under /dev/shm with `createPath`, attached with `attachPath`),
 *   spinning;
 * - the peers: `worker.postMessage` between the main thread and a Worker,
 *   a `MessageChannel` between two Workers, and the native C build of the
 *   same two rings between two threads (`bench/native_baseline.ts`), once
 *   publishing with release stores and once with seq_cst stores, the only
 *   atomic stores JS and Wasm have.
 *
 * The initiator stamps every round with `performance.now()` and checks that
 * round `i` comes back as `i`; the echo checks it receives 0, 1, 2, … in
 * order. Runs are interleaved (run 1 of every transport, then run 2, …);
 * each run reports p50/p99/p99.9 of its rounds and the row shows the median
 * over runs of each.
 *
 * Run alone: `deno run -A bench/pingpong.ts [--runs 3] [--rounds 20000]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Ring, u32 } from "../mod.ts";
import { runNativeBaseline } from "./native_baseline.ts";
import { type ProgressSink, silentProgress } from "./_progress.ts";
import { type Plan, type RepeatOptions, runInterleaved } from "./_schedule.ts";
import { cpuFor } from "./workers/_pin.ts";
import { limitPingPongMemory } from "./workers/_limit_pingpong.ts";
import {
  clockCostNs,
  latencyStats,
  type Measurement,
  median,
  type RunResult,
  summarize,
} from "./_stats.ts";
import { formatNumber, formatSection, type Section } from "./_table.ts";
import { spawnBenchProcess, type StartedWorker, startGoWorker, withTimeout } from "./_workers.ts";
import type { PingPongJob, PingPongReport, PingPongTransport } from "./workers/pingpong_worker.ts";

const WORKER = new URL("./workers/pingpong_worker.ts", import.meta.url);
const PROCESS = new URL("./workers/pingpong_process.ts", import.meta.url);

/** Options of {@linkcode measurePingPong}. */
export interface PingPongOptions {
  /** Runs per transport (each reports its own percentiles). */
  runs: number;
  /** Timed round trips per run for the spinning rows and the native build. */
  rounds: number;
  /** Timed round trips per run for the rows that sleep or queue messages (slower). */
  slowRounds: number;
  /** Longest one run may take before it is stopped and counted as failed (ms); default 60,000. */
  timeoutMs?: number;
  /** Where to report progress; default none. */
  progress?: ProgressSink;
  /** Go on after `runs` interleaved rounds until every median settles; off when absent. */
  repeat?: RepeatOptions;
}

/** What one transport is, and how to run it once. */
function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 2 ** 27) {
    throw new RangeError(
      `Cannot measure ping-pong as ${name} must be an integer between ${min} and 2^27: received ${value}`,
    );
  }
}

function failed(error: string): RunResult {
  return { value: NaN, ok: false, error };
}

/** A Worker given one end of a ping-pong. */
type Started = StartedWorker<PingPongReport>;

/** Posts `job` to a new Worker; it says "ready", then runs once told "go". */
function startWorker(job: PingPongJob, transfer: Transferable[] = []): Started {
  return startGoWorker<PingPongReport>(
    WORKER,
    job,
    transfer,
    (data) => data as PingPongReport,
    (error) => ({ ok: false, error, rounds: 0 }),
  );
}

/** The first failure among `reports`, if they arrive within 100 ms. */
async function failureOf(reports: Promise<PingPongReport>[], fallback: string): Promise<string> {
  const arrived = await Promise.race([
    Promise.all(reports),
    new Promise<PingPongReport[]>((resolve) => setTimeout(() => resolve([]), 100)),
  ]);
  return arrived.find((r) => !r.ok)?.error ?? fallback;
}

/** Waits until every end is ready, then tells each to go; false if one failed or the time ran out. */
async function go(ends: Started[], timeoutMs: number, stop: () => void): Promise<boolean> {
  const ready = await withTimeout(Promise.all(ends.map((e) => e.ready)), timeoutMs, stop, []);
  if (ready.length !== ends.length || !ready.every(Boolean)) return false;
  for (const end of ends) end.worker.postMessage("go");
  return true;
}

function fromReports(initiator: PingPongReport, echo: PingPongReport): RunResult {
  if (!initiator.ok || !echo.ok || initiator.latency === undefined) {
    return failed(initiator.error ?? echo.error ?? "no latency reported");
  }
  return {
    value: initiator.latency.p50Ns,
    ok: true,
    items: initiator.rounds,
    latency: initiator.latency,
    clockNs: initiator.clockNs,
    aggregateNs: initiator.aggregateNs,
  };
}

async function workerPair(
  transport: PingPongTransport,
  warmup: number,
  rounds: number,
  timeoutMs: number,
): Promise<RunResult> {
  const base = { transport, warmup, rounds, budgetMs: timeoutMs };
  let echoJob: PingPongJob;
  let initiatorJob: PingPongJob;
  let echoTransfer: Transferable[] = [];
  let initiatorTransfer: Transferable[] = [];
  if (transport === "message-channel") {
    const { port1, port2 } = new MessageChannel();
    echoJob = { ...base, role: "echo", port: port2, cpu: cpuFor(1) };
    initiatorJob = { ...base, role: "initiator", port: port1, cpu: cpuFor(0) };
    echoTransfer = [port2];
    initiatorTransfer = [port1];
  } else if (transport.startsWith("limit-")) {
    const memory = limitPingPongMemory();
    echoJob = { ...base, role: "echo", memory, cpu: cpuFor(1) };
    initiatorJob = { ...base, role: "initiator", memory, cpu: cpuFor(0) };
  } else {
    const config = { ringBits: 10, wasmAtomics: transport === "ring-wasm-spin" };
    const ping = new Ring(u32, config).handle();
    const pong = new Ring(u32, config).handle();
    echoJob = { ...base, role: "echo", ping, pong, cpu: cpuFor(1) };
    initiatorJob = { ...base, role: "initiator", ping, pong, cpu: cpuFor(0) };
  }
  const echo = startWorker(echoJob, echoTransfer);
  const initiator = startWorker(initiatorJob, initiatorTransfer);
  const stop = () => {
    echo.worker.terminate();
    initiator.worker.terminate();
  };
  if (!(await go([echo, initiator], timeoutMs, stop))) {
    const why = await failureOf([initiator.report, echo.report], "a Worker did not start");
    stop();
    return failed(why);
  }
  const both = Promise.all([initiator.report, echo.report]);
  const timedOut: [PingPongReport, PingPongReport] = [
    { ok: false, error: `stopped after ${timeoutMs} ms`, rounds: 0 },
    { ok: true, rounds: 0 },
  ];
  const [a, b] = await withTimeout(both, timeoutMs, stop, timedOut);
  stop();
  return fromReports(a, b);
}

async function postMessageRun(
  warmup: number,
  rounds: number,
  timeoutMs: number,
): Promise<RunResult> {
  const worker = new Worker(WORKER, { type: "module" });
  const ready = new Promise<void>((resolve) => {
    worker.onmessage = () => resolve();
  });
  worker.postMessage(
    {
      transport: "post-message",
      role: "echo",
      warmup,
      rounds,
      budgetMs: timeoutMs,
    } satisfies PingPongJob,
  );
  await ready;
  const clockNs = clockCostNs();
  const total = warmup + rounds;
  const lat = new Float64Array(rounds);
  const work = new Promise<RunResult>((resolve) => {
    let i = 0;
    let t0 = 0;
    worker.onerror = (e) => {
      e.preventDefault();
      resolve(failed(`worker error: ${e.message}`));
    };
    worker.onmessage = (e) => {
      const t1 = performance.now();
      if (e.data !== i) {
        resolve(failed(`round ${i}: came back as ${JSON.stringify(e.data)}`));
        return;
      }
      if (i >= warmup) lat[i - warmup] = (t1 - t0) * 1e6;
      if (++i === total) {
        const latency = latencyStats(lat);
        resolve({ value: latency.p50Ns, ok: true, items: rounds, latency, clockNs });
        return;
      }
      t0 = performance.now();
      worker.postMessage(i);
    };
    t0 = performance.now();
    worker.postMessage(0);
  });
  const result = await withTimeout(
    work,
    timeoutMs,
    () => {},
    failed(`stopped after ${timeoutMs} ms`),
  );
  worker.terminate();
  return result;
}

function kill(child: Deno.ChildProcess | undefined): void {
  try {
    child?.kill("SIGKILL");
  } catch { /* already gone */ }
}

async function sharedRingRun(
  warmup: number,
  rounds: number,
  timeoutMs: number,
): Promise<RunResult> {
  const { SharedMemory, SharedRing } = await import("../native.ts");
  const tag = `ringmpsc-bench-pingpong-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const names: [string, string] = [`${tag}-ping`, `${tag}-pong`];
  const created: { deinit(): void; close(): void }[] = [];
  let child: Deno.ChildProcess | undefined;
  let initiator: Started | undefined;
  try {
    for (const name of names) created.push(SharedRing.createPath(u32, name, 10));
    // The initiator loads first, so the echo process never spins while a Worker starts.
    initiator = startWorker({
      transport: "shared-ring",
      role: "initiator",
      warmup,
      rounds,
      budgetMs: timeoutMs,
      paths: names,
      cpu: cpuFor(0),
    });
    const worker = initiator.worker;
    const loaded = await withTimeout(initiator.ready, timeoutMs, () => worker.terminate(), false);
    if (!loaded) return failed(await failureOf([initiator.report], "the initiator did not start"));
    child = spawnBenchProcess(PROCESS, [
      names[0],
      names[1],
      String(warmup),
      String(rounds),
      String(timeoutMs),
      String(cpuFor(1) ?? -1),
    ]);
    const running = child;
    const stderr = new Response(running.stderr).text();
    const reader = running.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await withTimeout(
      reader.read(),
      timeoutMs,
      () => kill(running),
      { done: true, value: undefined },
    );
    if (first.value?.trim() !== "ready") {
      const status = await running.status;
      return failed(`echo process did not start (exit ${status.code}): ${(await stderr).trim()}`);
    }
    worker.postMessage("go");
    const report = await withTimeout(
      initiator.report,
      timeoutMs,
      () => worker.terminate(),
      { ok: false, error: `stopped after ${timeoutMs} ms`, rounds: 0 },
    );
    if (!report.ok) kill(running);
    while (!(await reader.read()).done) { /* drain */ }
    const status = await running.status;
    const echo: PingPongReport = status.success ? { ok: true, rounds: warmup + rounds } : {
      ok: false,
      error: `echo process exited ${status.code}: ${(await stderr).trim()}`,
      rounds: 0,
    };
    return fromReports(report, echo);
  } catch (err) {
    kill(child);
    return failed((err as Error).message);
  } finally {
    initiator?.worker.terminate();
    if (child !== undefined) await child.status.catch(() => {});
    for (const ring of created) {
      ring.close();
      ring.deinit();
    }
    for (const name of names) {
      try {
        SharedMemory.unlinkPath(name);
      } catch { /* never created */ }
    }
  }
}

async function nativeRun(rounds: number, timeoutMs: number, seqCst = false): Promise<RunResult> {
  try {
    const r = await runNativeBaseline("pingpong", { rounds, timeoutMs, seqCst, pin: true });
    return {
      value: r.p50Ns,
      ok: true,
      items: r.rounds,
      seconds: r.seconds,
      latency: {
        samples: r.rounds,
        minNs: r.minNs,
        p50Ns: r.p50Ns,
        p99Ns: r.p99Ns,
        p999Ns: r.p999Ns,
        maxNs: r.maxNs,
        meanNs: r.meanNs,
      },
      aggregateNs: r.aggregateNs,
    };
  } catch (err) {
    return failed((err as Error).message);
  }
}

/**
 * The aggregate figure of a ring row: each run's round trip over one clock
 * span, as a latency measurement whose p50 is that figure (no percentiles).
 */
function aggregateOf(m: Measurement): Measurement {
  const runs = m.runs.map((r): RunResult => {
    const ns = r.aggregateNs ?? NaN;
    return {
      value: ns,
      ok: r.ok && Number.isFinite(ns),
      error: r.error ?? (Number.isFinite(ns) ? undefined : "no aggregate reported"),
      latency: {
        samples: r.items ?? 0,
        minNs: NaN,
        p50Ns: ns,
        p99Ns: NaN,
        p999Ns: NaN,
        maxNs: NaN,
        meanNs: ns,
      },
    };
  });
  return summarize(`${m.id}.aggregate`, `${m.label}, aggregate`, "latency", runs);
}

/**
 * How many steps (runs of one transport) {@linkcode measurePingPong} takes,
 * for a progress bar.
 *
 * @param runs Runs per transport.
 * @returns The step count.
 *
 * @example Steps of three runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { pingPongSteps } from "./pingpong.ts";
 * assert.equal(pingPongSteps(3), 24);
 * ```
 */
export function pingPongSteps(runs: number): number {
  return 8 * runs;
}

/**
 * Measures the ping-pong section: every transport `runs` times, interleaved,
 * each run timing every round and checking every value both ways.
 *
 * @param options Runs, rounds, timeout and progress.
 * @returns The section: JS rows (Ring spin, blocking, always sleeping;
 * SharedRing across processes) with their peers (postMessage,
 * MessageChannel, native C with release and with seq_cst stores).
 * @throws {RangeError} If a count is out of range.
 *
 * @example Measuring with few rounds
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { measurePingPong } from "./pingpong.ts";
 * const section = await measurePingPong({ runs: 1, rounds: 2000, slowRounds: 200 });
 * assert.ok(section.measurements.every((m) => m.ok));
 * ```
 */
export async function measurePingPong(options: PingPongOptions): Promise<Section> {
  const { runs, rounds, slowRounds } = options;
  checkCount("runs", runs, 1);
  checkCount("rounds", rounds, 1);
  checkCount("slowRounds", slowRounds, 1);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const progress = options.progress ?? silentProgress;
  const warm = (n: number) => Math.max(100, Math.min(10_000, Math.floor(n / 10)));
  const plans: Plan[] = [
    {
      id: "pingpong.ring-spin",
      label: "Ring ⇄ Ring, spin, Worker ⇄ Worker",
      run: () => workerPair("ring-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.ring-wasm-spin",
      label: "Ring ⇄ Ring, Wasm atomics, spin, Worker ⇄ Worker",
      run: () => workerPair("ring-wasm-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.ring-blocking",
      label: "Ring ⇄ Ring, waitReadable(), Worker ⇄ Worker",
      run: () => workerPair("ring-blocking", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.ring-sleep",
      label: "Ring ⇄ Ring, always sleeps, Worker ⇄ Worker",
      run: () => workerPair("ring-sleep", warm(slowRounds), slowRounds, timeoutMs),
    },
    {
      id: "pingpong.shared-ring",
      label: "SharedRing ⇄ SharedRing, spin, process ⇄ process",
      run: () => sharedRingRun(warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.post-message",
      label: "postMessage, main ⇄ Worker",
      run: () => postMessageRun(warm(slowRounds), slowRounds, timeoutMs),
    },
    {
      id: "pingpong.message-channel",
      label: "MessageChannel, Worker ⇄ Worker",
      run: () => workerPair("message-channel", warm(slowRounds), slowRounds, timeoutMs),
    },
    {
      id: "pingpong.limit",
      label: "JS limit: one word each way, Worker ⇄ Worker",
      run: () => workerPair("limit-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.limit-ring",
      label: "JS limit of a ring: + the head store, Worker ⇄ Worker",
      run: () => workerPair("limit-ring-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.limit-ring-wasm",
      label: "Wasm limit of a ring: + the head store, Worker ⇄ Worker",
      run: () => workerPair("limit-ring-wasm-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.limit-protocol",
      label: "JS limit of Ring's protocol: + close gate, sleepers' checks",
      run: () => workerPair("limit-protocol-spin", warm(rounds), rounds, timeoutMs),
    },
    {
      id: "pingpong.native",
      label: "native C rings, thread ⇄ thread",
      run: () => nativeRun(rounds, timeoutMs),
    },
    {
      id: "pingpong.native-sc",
      label: "native C rings, seq_cst stores, thread ⇄ thread",
      run: () => nativeRun(rounds, timeoutMs, true),
    },
  ];
  const measured = await runInterleaved(plans, {
    runs,
    kind: "latency",
    repeat: options.repeat,
    prefix: "ping-pong",
    progress,
  });
  const measurements = new Map(measured.map((m) => [m.id, m]));
  const peers = {
    postMessage: "pingpong.post-message",
    MessageChannel: "pingpong.message-channel",
    "native C": "pingpong.native",
    "native C seq_cst": "pingpong.native-sc",
    "JS limit": "pingpong.limit",
  };
  const clock = median(
    [...measurements.values()].flatMap((m) => m.runs.map((run) => run.clockNs ?? NaN)),
  );
  const rings = [
    "pingpong.ring-spin",
    "pingpong.ring-wasm-spin",
    "pingpong.ring-blocking",
    "pingpong.ring-sleep",
    "pingpong.shared-ring",
  ];
  const limits = [
    "pingpong.limit",
    "pingpong.limit-ring",
    "pingpong.limit-ring-wasm",
    "pingpong.limit-protocol",
  ];
  const aggregates = [...rings, ...limits, "pingpong.native", "pingpong.native-sc"].map((
    id,
  ) => aggregateOf(measurements.get(id)!));
  return {
    id: "pingpong",
    title: "1. Ping-pong round trip, one u32 each way (per-round timestamps; aggregate spans)",
    kind: "latency",
    peerKinds: Object.keys(peers),
    measurements: [...plans.map((p) => measurements.get(p.id)!), ...aggregates],
    rows: [
      ...rings.map((js) => ({ js, peers })),
      ...rings.map((id) => ({
        js: `${id}.aggregate`,
        peers: {
          "native C": "pingpong.native.aggregate",
          "native C seq_cst": "pingpong.native-sc.aggregate",
          "JS limit": "pingpong.limit.aggregate",
        },
      })),
    ],
    notes: [
      `Each JS round includes one performance.now() read, which cost ${
        formatNumber(clock)
      } ns here (median); the native build reads clock_gettime. The 'aggregate' rows ` +
      "run as many rounds again with no clock read inside: one span ÷ rounds (its p50 column).",
      "waitReadable() spins briefly, then sleeps: an answer due within a microsecond " +
      "rarely reaches the sleep. 'always sleeps' is waitReadable(phasedBackoff(0, 0)): it " +
      "sleeps (Atomics.wait) and is woken (Atomics.notify) on every hop.",
      "JS and Wasm atomics are sequentially consistent (Atomics.store; x86: xchg, which " +
      "drains the store buffer), where the 'native C' rings publish with release stores. " +
      "'native C seq_cst' is the same native pair publishing with seq_cst stores " +
      "(ring_bench --seq-cst): the limit for a ring that publishes with the stores " +
      "JavaScript has.",
      "'JS limit' passes each round through one shared word per direction, one " +
      "Atomics.store per hop, the receiver polling with Atomics.load " +
      "(bench/workers/_limit_pingpong.ts): what V8 allows for a hop, with no ring around it. " +
      "The 'limit of a ring' rows add what no ring can leave out, the receiver's store of its " +
      "head (how a producer learns that slots are free), through Atomics or Wasm atomics; " +
      "'limit of Ring's protocol' adds the close gate (announce, load closed, publish) and " +
      "the sleepers' checks (a waiters load after each store): Ring's protocol, bare.",
      `Rounds per run: ${rounds} (spinning rows, native C), ${slowRounds} (sleeping and ` +
      "message rows), after warm-up rounds. Worker pairs and the native threads are pinned " +
      "to CPUs 0 and 1 where the native layer can (bench/workers/_pin.ts).",
    ],
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      rounds: { type: "string", default: "20000" },
      "slow-rounds": { type: "string", default: "2000" },
    },
  });
  const runs = Number(values.runs);
  const section = await measurePingPong({
    runs,
    rounds: Number(values.rounds),
    slowRounds: Number(values["slow-rounds"]),
  });
  console.log(formatSection(section));
  if (!section.measurements.every((m) => m.ok)) Deno.exit(1);
}
