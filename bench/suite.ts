/**
 * The comparison suite behind `ringmpsc bench`: every JS row measured side
 * by side with its peers in one run, every consumer reading and checking
 * every item, medians over several runs, latency as p50/p99/p99.9.
 *
 * 1. Ping-pong round trip (bench/pingpong.ts): Rings between Workers
 *    (spinning, `waitReadable()`, always sleeping), SharedRings between
 *    processes, beside postMessage, MessageChannel and the native C build.
 * 2. SPSC throughput by element type (bench/spsc_types.ts): u32, f64 and
 *    1 KiB messages, per item and batched, beside postMessage,
 *    MessageChannel, ringbuf.js and the native C build.
 * 3. MPSC and MPMC scaling (bench/channels.ts) beside the native C build.
 * 4. Wake latency (bench/wake_latency.ts, measureWakeLatency): Atomics.wait/notify, futex
 *    across threads and processes, eventfd.
 *
 * While it runs, a progress bar goes to stderr (a line per measured row
 * when stderr is not a terminal); at the end a table goes to stdout, and
 * optionally the whole report to a JSON file and the ratios to an SVG bar
 * chart.
 *
 * Run: `deno run -A --v8-flags=--expose-gc cli.ts bench [--quick] [--repeat] [--json FILE] [--svg FILE]`
 * (or `bench/suite.ts` with the same options, plus the hidden `--tiny`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ChannelBenchOptions, type ChannelRow, measureChannels } from "./channels.ts";
import { buildNativeBaseline } from "./native_baseline.ts";
import { measurePingPong, pingPongSteps } from "./pingpong.ts";
import { measureSpscTypes, spscTypesSteps } from "./spsc_types.ts";
import { measureWakeLatency, type Method } from "./wake_latency.ts";
import { Progress, type ProgressOptions } from "./_progress.ts";
import { type Measurement, type RunResult, summarize } from "./_stats.ts";
import { renderSvg } from "./_svg.ts";
import { formatReport, reportJson, type Section, type SuiteReport } from "./_table.ts";
import { withTimeout } from "./_workers.ts";

export type { SuiteReport } from "./_table.ts";

/** Options of {@linkcode runSuite}. */
export interface SuiteOptions {
  /** Three runs and small counts (about a minute and a half on two cores); otherwise five runs. */
  quick: boolean;
  /** Also write the whole report, raw runs included, as JSON to this file. */
  json?: string;
  /** Also write a bar chart of the JS ÷ peer ratios as SVG to this file. */
  svg?: string;
  /**
   * After the mode's runs, go on round by round (contenders interleaved)
   * until no median of the ping-pong and SPSC sections moves by more than
   * 3 %, at most three times as many runs.
   */
  repeat?: boolean;
  /**
   * Hidden (not on the command line): one run with the smallest counts, a
   * few seconds in all, for the smoke test (tests/bench_suite_test.ts).
   * Its figures mean nothing; its checks are the real ones. Overrides `quick`.
   */
  tiny?: boolean;
  /** Hidden: where the table goes; default stdout. */
  write?: (text: string) => void;
  /** Hidden: where the progress goes; default stderr (a bar when it is a terminal). */
  progress?: ProgressOptions;
}

/** Counts of one suite mode. */
interface Sizes {
  runs: number;
  pingRounds: number;
  pingSlowRounds: number;
  count: number;
  postCount: number;
  messages: number;
  postMessages: number;
  nativeItems: number;
  timeoutMs: number;
  channels: Omit<ChannelBenchOptions, "runs" | "native">;
  wake: { samples: number; rounds: number };
}

const SIZES: Record<"tiny" | "quick" | "full", Sizes> = {
  tiny: {
    runs: 1,
    pingRounds: 1_000,
    pingSlowRounds: 100,
    count: 100_000,
    postCount: 5_000,
    messages: 5_000,
    postMessages: 1_000,
    nativeItems: 1_000_000,
    timeoutMs: 60_000,
    channels: {
      warmup: 0,
      items: 20_000,
      nativeItems: 200_000,
      batches: [1, 256],
      ringBits: 12,
      mpsc: [1, 2],
      mpmc: [[2, 2]],
    },
    wake: { samples: 200, rounds: 1 },
  },
  quick: {
    runs: 3,
    pingRounds: 10_000,
    pingSlowRounds: 1_000,
    count: 4_000_000,
    postCount: 50_000,
    messages: 100_000,
    postMessages: 10_000,
    nativeItems: 20_000_000,
    timeoutMs: 60_000,
    channels: {
      warmup: 1,
      items: 1_000_000,
      nativeItems: 10_000_000,
      batches: [1, 256],
      ringBits: 16,
      mpsc: [1, 2, 4, 8],
      mpmc: [[1, 1], [2, 2], [4, 4]],
    },
    wake: { samples: 1_000, rounds: 3 },
  },
  full: {
    runs: 5,
    pingRounds: 200_000,
    pingSlowRounds: 20_000,
    count: 10_000_000,
    postCount: 300_000,
    messages: 1_000_000,
    postMessages: 100_000,
    nativeItems: 100_000_000,
    timeoutMs: 120_000,
    channels: {
      warmup: 1,
      items: 8_000_000,
      nativeItems: 40_000_000,
      batches: [1, 256],
      ringBits: 16,
      mpsc: [1, 2, 4, 8],
      mpmc: [[1, 1], [2, 2], [4, 4]],
    },
    wake: { samples: 5_000, rounds: 5 },
  },
};

function stdoutWriter(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

function columns(): number | undefined {
  try {
    const { columns } = Deno.consoleSize();
    return columns >= 40 ? columns : undefined; // a pseudo-terminal may report 0
  } catch {
    return undefined;
  }
}

function stderrProgress(): ProgressOptions {
  const encoder = new TextEncoder();
  return {
    write: (text) => {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
    },
    tty: Deno.stderr.isTerminal(),
    columns: columns(),
  };
}

function channelSteps(sizes: Sizes): number {
  const c = sizes.channels;
  return c.batches.length * (c.mpsc.length + c.mpmc.length) * (sizes.runs + c.warmup);
}

function shapeLabel(row: ChannelRow): string {
  const every = row.batch === 1 ? "every item" : `every ${row.batch}`;
  return `${row.design.toUpperCase()} ${row.producers}P→${row.consumers}C, publish ${every}`;
}

/**
 * Calls `work` with `console.log` silenced: bench/channels.ts prints its own
 * rows to stdout, where the suite prints only its table at the end (it
 * reports each row through the progress display instead).
 */
async function withoutConsoleLog<T>(work: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await work();
  } finally {
    console.log = log;
  }
}

/** Section 3: bench/channels.ts's rows, each beside its native build. */
async function channelSection(sizes: Sizes, progress: Progress): Promise<Section> {
  const measurements: Measurement[] = [];
  const rows: Section["rows"] = [];
  const notes = [
    "bench/channels.ts: u32 items, P producer Workers (threads natively) each with its own " +
    "ring, MPSC into one consumer, MPMC with C consumers claiming ring heads by CAS; the " +
    "consumers check each producer's order and that every item arrived once.",
    `Items per run: ${sizes.channels.items} JS, ${sizes.channels.nativeItems} native; ` +
    `${sizes.channels.warmup} untimed JS warm-up run(s) per row. With more Workers than ` +
    `cores (${navigator.hardwareConcurrency} here) both sides measure oversubscription.`,
  ];
  progress.begin(`MPSC / MPMC scaling (${channelSteps(sizes)} runs, bench/channels.ts)`);
  let channelRows: ChannelRow[];
  try {
    const limitMs = sizes.timeoutMs * 5;
    const rows = await withoutConsoleLog(() =>
      withTimeout<ChannelRow[] | null>(
        measureChannels({ ...sizes.channels, runs: sizes.runs, native: true }),
        limitMs,
        () => {},
        null,
      )
    );
    if (rows === null) throw new Error(`it ran longer than ${limitMs} ms`);
    channelRows = rows;
  } catch (err) {
    notes.push(`bench/channels.ts failed: ${(err as Error).message}`);
    const m = summarize("channels.failed", "MPSC / MPMC scaling", "throughput", [{
      value: NaN,
      ok: false,
      error: (err as Error).message,
    }]);
    progress.advance(channelSteps(sizes));
    progress.measured(m);
    return {
      id: "channels",
      title: "3. MPSC and MPMC scaling across Workers (consumers check every item)",
      kind: "throughput",
      peerKinds: ["native C"],
      measurements: [m],
      rows: [],
      notes,
    };
  }
  progress.advance(channelSteps(sizes));
  for (const row of channelRows) {
    const key = `channels.${row.design}-${row.producers}x${row.consumers}-b${row.batch}`;
    // channels.ts says ok per row, not per run: a failed row marks each of its runs.
    const mark = (values: number[]): RunResult[] =>
      values.map((value) => ({ value, ok: row.ok, error: row.error ?? undefined }));
    const js = summarize(key, shapeLabel(row), "throughput", mark(row.jsRuns), 4);
    const native = summarize(
      `${key}.native`,
      `native C, ${shapeLabel(row)}`,
      "throughput",
      mark(row.nativeRuns),
      4,
    );
    measurements.push(js, native);
    rows.push({ js: js.id, peers: { "native C": native.id } });
    progress.measured(js);
  }
  return {
    id: "channels",
    title: "3. MPSC and MPMC scaling across Workers (consumers check every item)",
    kind: "throughput",
    peerKinds: ["native C"],
    measurements,
    rows,
    notes,
  };
}

/** Suite ids of bench/wake_latency.ts's methods. */
const WAKE_IDS: Record<Method, string> = {
  atomics: "wake.atomics",
  "futex-thread": "wake.futex-thread",
  futex: "wake.futex-process",
  eventfd: "wake.eventfd",
  "ring-deno": "wake.shared-ring-deno",
  "ring-c": "wake.shared-ring-c-deno",
  "ring-c-c": "wake.shared-ring-c-c",
};

/** Section 4: bench/wake_latency.ts's measureWakeLatency, percentiles pooled over its rounds. */
async function wakeSection(sizes: Sizes, progress: Progress): Promise<Section> {
  const { samples, rounds } = sizes.wake;
  progress.begin(`wake latency (${rounds} round(s) × ${samples} samples, bench/wake_latency.ts)`);
  const notes = [
    "bench/wake_latency.ts: the waiter announces it is about to sleep, the waker spins 50 µs " +
    "so it surely sleeps, stamps CLOCK_MONOTONIC and wakes it; the waiter stamps on waking " +
    "and checks it woke for that sample. Methods interleave round by round; percentiles pool " +
    `${rounds} round(s) × ${samples} samples.`,
  ];
  const expected = Object.values(WAKE_IDS);
  let measurements: Measurement[] = [];
  let failure: string | null = null;
  try {
    const rows = await withTimeout(
      measureWakeLatency(samples, rounds),
      sizes.timeoutMs * 2,
      () => {},
      null,
    );
    if (rows === null) failure = `wake latency ran longer than ${sizes.timeoutMs * 2} ms`;
    measurements = (rows ?? []).map((r) =>
      summarize(WAKE_IDS[r.method], r.label, "latency", [{
        value: r.p50Ns,
        ok: r.errors === 0,
        items: r.samples,
        error: r.errors > 0 ? `${r.errors} samples woke for the wrong wake` : undefined,
        latency: {
          samples: r.samples,
          minNs: NaN,
          p50Ns: r.p50Ns,
          p99Ns: r.p99Ns,
          p999Ns: r.p999Ns,
          maxNs: r.maxNs,
          meanNs: NaN,
        },
      }])
    );
  } catch (err) {
    failure = `wake latency could not run: ${(err as Error).message}`;
  }
  for (const id of expected) {
    if (!measurements.some((m) => m.id === id)) {
      measurements.push(
        summarize(id, id, "latency", [{ value: NaN, ok: false, error: failure ?? "no row" }]),
      );
    }
  }
  if (failure !== null) {
    notes.push(failure);
    for (const m of measurements) {
      m.ok = false;
      for (const r of m.runs) r.error ??= failure;
    }
  }
  progress.advance(1);
  for (const m of measurements) progress.measured(m);
  const peers = { "Atomics.wait/notify": "wake.atomics" };
  return {
    id: "wake",
    title: "4. Wake latency: a sleeping waiter woken by another thread or process",
    kind: "latency",
    peerKinds: Object.keys(peers),
    measurements: [
      ...measurements.filter((m) => m.id !== "wake.atomics"),
      ...measurements.filter((m) => m.id === "wake.atomics"),
    ],
    rows: expected.slice(1).map((js) => ({ js, peers })),
    notes,
  };
}

/**
 * Runs the comparison suite, prints its table, and writes the JSON report
 * and the SVG chart when asked.
 *
 * @param options `quick` for three runs and small counts, `json` and `svg`
 * for the output files (and the hidden `tiny`, `write`, `progress`).
 * @returns `true` when every run of every row finished and its consumer
 * found every item once, in order.
 * @throws {Deno.errors.NotFound} If a folder of `json` or `svg` does not exist.
 *
 * @example The quick suite with a JSON report
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { runSuite } from "./suite.ts";
 * const ok = await runSuite({ quick: true, json: "/tmp/bench.json", svg: "/tmp/bench.svg" });
 * assert.ok(ok);
 * ```
 */
export async function runSuite(options: SuiteOptions): Promise<boolean> {
  const mode = options.tiny ? "tiny" : options.quick ? "quick" : "full";
  const sizes = SIZES[mode];
  const write = options.write ?? stdoutWriter;
  const startedAt = new Date();
  const started = performance.now();
  const total = pingPongSteps(sizes.runs) + spscTypesSteps(sizes.runs) + channelSteps(sizes) + 1;
  const progress = new Progress(total, options.progress ?? stderrProgress());
  const sections: Section[] = [];
  const repeat = options.repeat ? { settle: 0.03, maxRuns: 3 * sizes.runs } : undefined;

  progress.begin("building the native C baseline");
  try {
    await buildNativeBaseline();
  } catch {
    // Each native row reports the build failure itself.
  }

  progress.section("1. ping-pong round trip");
  sections.push(
    await measurePingPong({
      runs: sizes.runs,
      rounds: sizes.pingRounds,
      slowRounds: sizes.pingSlowRounds,
      timeoutMs: sizes.timeoutMs,
      progress,
      repeat,
    }),
  );

  progress.section("2. SPSC throughput by element type");
  sections.push(
    await measureSpscTypes({
      runs: sizes.runs,
      count: sizes.count,
      postCount: sizes.postCount,
      messages: sizes.messages,
      postMessages: sizes.postMessages,
      nativeItems: sizes.nativeItems,
      timeoutMs: sizes.timeoutMs,
      progress,
      repeat,
    }),
  );

  progress.section("3. MPSC and MPMC scaling");
  sections.push(await channelSection(sizes, progress));

  progress.section("4. wake latency");
  sections.push(await wakeSection(sizes, progress));

  progress.end();
  const report: SuiteReport = {
    version: 1,
    mode,
    runs: sizes.runs,
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    versions: { ...Deno.version },
    cpus: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    sections,
    ok: sections.every((s) => s.measurements.every((m) => m.ok)),
  };
  write(formatReport(report));
  if (options.json !== undefined) await Deno.writeTextFile(options.json, reportJson(report));
  if (options.svg !== undefined) await Deno.writeTextFile(options.svg, renderSvg(report));
  return report.ok;
}

if (import.meta.main) {
  // `--tiny` is for tests/bench_suite_test.ts; cli.ts offers only the documented options.
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      repeat: { type: "boolean", default: false },
      tiny: { type: "boolean", default: false },
      json: { type: "string" },
      svg: { type: "string" },
    },
  });
  const ok = await runSuite(values);
  Deno.exit(ok ? 0 : 1);
}
