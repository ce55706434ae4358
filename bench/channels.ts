/**
 * Scaling of the channels across Workers: aggregate throughput of MPSC with
 * P producer Workers and one consumer Worker, and of MPMC with P producer
 * Workers × C consumer Workers, each row beside the native C build of the same
 * per-producer-ring design (`bench/native_baseline.ts`) measured in the same
 * run. Every consumer reads and checks every item (MPSC: each producer's exact
 * order; MPMC: each producer's items rise within a consumer, and the union of
 * all consumers holds every item once by count and sum); a run that fails a
 * check is reported as failed, whatever its speed. Figures are medians over
 * `--runs` runs, JS and native runs interleaved, after `--warmup` untimed JS
 * runs per row.
 *
 * ```sh
 * deno run -A bench/channels.ts [--runs 3] [--warmup 1] [--items 8000000] [--native-items 40000000]
 *   [--batch 1,256] [--ring-bits 16] [--mpsc 1,2,4,8] [--mpmc 1x1,2x2,4x4] [--json FILE] [--no-native]
 * ```
 *
 * With more Workers than cores (P > 1 on a 2-core machine) the producers and
 * consumers time-share the cores: the rows then measure oversubscription,
 * on both sides of the ratio.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { mpmc, mpsc, u32 } from "../mod.ts";
import type { BenchJob, BenchReport } from "./workers/channel_bench_worker.ts";
import { SEQ_LIMIT } from "./workers/channel_bench_worker.ts";
import { median } from "./_stats.ts";

const WORKER = new URL("./workers/channel_bench_worker.ts", import.meta.url);

/** One row of the table: a design, its shape, and both sides' medians. */
export interface ChannelRow {
  /** "mpsc" or "mpmc". */
  design: "mpsc" | "mpmc";
  /** Producer Workers (threads on the native side). */
  producers: number;
  /** Consumer Workers (threads on the native side). */
  consumers: number;
  /** Items a producer publishes at once. */
  batch: number;
  /** Median JS items per second. */
  jsItemsPerSec: number;
  /** Every JS run's items per second. */
  jsRuns: number[];
  /** Median native items per second, or `null` when the baseline was not run. */
  nativeItemsPerSec: number | null;
  /** Every native run's items per second. */
  nativeRuns: number[];
  /** Whether every run passed its checks. */
  ok: boolean;
  /** The first failed check, described. */
  error: string | null;
}

/** One pooled Worker running `channel_bench_worker.ts` jobs, one at a time. */
class BenchWorker {
  readonly #worker = new Worker(WORKER, { type: "module" });
  #onReady: (() => void) | null = null;
  #onDone: ((r: BenchReport) => void) | null = null;
  #onError: ((e: Error) => void) | null = null;

  constructor() {
    this.#worker.onmessage = (
      e: MessageEvent<BenchReport | { error: string } | { ready: true }>,
    ) => {
      const m = e.data;
      if ("ready" in m) this.#onReady?.();
      else if ("error" in m) this.#onError?.(new Error(m.error));
      else this.#onDone?.(m);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#onError?.(new Error(e.message));
    };
  }

  /** Posts a job; `ready` resolves once the side waits for the start word, `done` with its report. */
  run(job: BenchJob): { ready: Promise<void>; done: Promise<BenchReport> } {
    let fail: (e: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      this.#onReady = resolve;
      fail = reject;
    });
    const done = new Promise<BenchReport>((resolve, reject) => {
      this.#onDone = resolve;
      this.#onError = (e) => {
        fail(e);
        reject(e);
      };
    });
    ready.catch(() => {});
    this.#worker.postMessage(job);
    return { ready, done };
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** One JS run: items per second, or the failed check. */
async function jsRun(
  pool: BenchWorker[],
  design: "mpsc" | "mpmc",
  producers: number,
  consumers: number,
  items: number,
  batch: number,
  ringBits: number,
): Promise<{ itemsPerSec: number; error: string | null }> {
  const perProducer = Math.floor(items / producers);
  const total = perProducer * producers;
  const start = new Int32Array(new SharedArrayBuffer(4));
  const jobs: BenchJob[] = [];
  if (design === "mpsc") {
    const ch = new mpsc.Channel(u32, { ringBits, maxProducers: producers });
    jobs.push({ role: "mpscConsumer", handle: ch.handle(), total, start });
    for (let tag = 0; tag < producers; tag++) {
      jobs.push({
        role: "mpscProducer",
        handle: ch.handle(),
        tag,
        count: perProducer,
        batch,
        start,
      });
    }
  } else {
    const ch = new mpmc.MpmcChannel(u32, {
      ringBits,
      maxProducers: producers,
      maxConsumers: consumers,
    });
    const received = new Int32Array(new SharedArrayBuffer(4));
    for (let c = 0; c < consumers; c++) {
      jobs.push({ role: "mpmcConsumer", handle: ch.handle(), total, received, start });
    }
    for (let tag = 0; tag < producers; tag++) {
      jobs.push({
        role: "mpmcProducer",
        handle: ch.handle(),
        tag,
        count: perProducer,
        batch,
        start,
      });
    }
  }
  const runs = jobs.map((job, i) => pool[i].run(job));
  await Promise.all(runs.map((r) => r.ready));
  Atomics.store(start, 0, 1); // starts every side at once
  Atomics.notify(start, 0);
  const reports = await Promise.all(runs.map((r) => r.done));
  const consumerReports = reports.slice(0, design === "mpsc" ? 1 : consumers);
  const error = checkUnion(consumerReports, design, producers, perProducer);
  const startMs = Math.min(...reports.map((r) => r.startMs));
  const endMs = Math.max(...consumerReports.map((r) => r.endMs));
  return { itemsPerSec: total / ((endMs - startMs) / 1e3), error };
}

/** Checks the consumers' reports: no order error, and every producer's items complete once. */
function checkUnion(
  reports: BenchReport[],
  design: "mpsc" | "mpmc",
  producers: number,
  perProducer: number,
): string | null {
  for (const r of reports) if (r.errors > 0) return r.firstError;
  for (let tag = 0; tag < producers; tag++) {
    const count = reports.reduce((n, r) => n + r.counts[tag], 0);
    if (count !== perProducer) {
      return `producer ${tag}: received ${count} items, sent ${perProducer}`;
    }
    if (design === "mpmc") {
      const sum = reports.reduce((n, r) => n + r.sums[tag], 0);
      const want = perProducer * (perProducer - 1) / 2;
      if (sum !== want) return `producer ${tag}: sequence sum ${sum}, expected ${want}`;
    }
  }
  return null;
}

/** What {@linkcode measureChannels} measures. */
export interface ChannelBenchOptions {
  /** Runs per row (medians are reported). */
  runs: number;
  /** Untimed JS runs per row before the measured ones. */
  warmup: number;
  /** Items per JS run, split evenly over the producers. */
  items: number;
  /** Items per native run. */
  nativeItems: number;
  /** Producer batch sizes (1 publishes every item). */
  batches: number[];
  /** Ring capacity is `2 ** ringBits`. */
  ringBits: number;
  /** MPSC producer counts. */
  mpsc: number[];
  /** MPMC shapes as `[producers, consumers]`. */
  mpmc: [number, number][];
  /** Whether to run the native baseline. */
  native: boolean;
}

/**
 * Measures every row: JS runs and native runs interleaved, `runs` of each,
 * and prints each row as it is done.
 *
 * @param options What to measure.
 * @returns The rows.
 * @throws {RangeError} If a producer would send 2^24 items or more (the item encoding's limit).
 *
 * @example A quick MPSC and MPMC check without the native baseline
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { measureChannels } from "./channels.ts";
 * const rows = await measureChannels({
 *   runs: 1, warmup: 0, items: 100_000, nativeItems: 0, batches: [256], ringBits: 12,
 *   mpsc: [2], mpmc: [[2, 2]], native: false,
 * });
 * assert.ok(rows.every((r) => r.ok));
 * ```
 */
export async function measureChannels(options: ChannelBenchOptions): Promise<ChannelRow[]> {
  let runNative:
    | ((
      design: "mpsc" | "mpmc",
      p: number,
      c: number,
      batch: number,
    ) => Promise<number>)
    | null = null;
  if (options.native) {
    const { buildNativeBaseline, runNativeBaseline } = await import("./native_baseline.ts");
    await buildNativeBaseline();
    runNative = async (design, producers, consumers, batch) => {
      const r = await runNativeBaseline(design, {
        producers,
        consumers,
        batch,
        items: options.nativeItems,
        ringBits: options.ringBits,
      });
      return r.itemsPerSec;
    };
  }
  const shapes: ["mpsc" | "mpmc", number, number][] = [
    ...options.mpsc.map((p) => ["mpsc", p, 1] as ["mpsc", number, number]),
    ...options.mpmc.map(([p, c]) => ["mpmc", p, c] as ["mpmc", number, number]),
  ];
  const most = Math.max(...shapes.map(([, p, c]) => p + c));
  const pool = Array.from({ length: most }, () => new BenchWorker());
  const rows: ChannelRow[] = [];
  try {
    for (const batch of options.batches) {
      for (const [design, producers, consumers] of shapes) {
        if (options.items / producers >= SEQ_LIMIT) {
          throw new RangeError(
            `Cannot run as items per producer must be below ${SEQ_LIMIT}: received ${
              options.items / producers
            }`,
          );
        }
        const row: ChannelRow = {
          design,
          producers,
          consumers,
          batch,
          jsItemsPerSec: 0,
          jsRuns: [],
          nativeItemsPerSec: null,
          nativeRuns: [],
          ok: true,
          error: null,
        };
        // untimed warm-up: lets the pooled Workers' JIT settle on this shape
        for (let w = 0; w < options.warmup; w++) {
          const warm = await jsRun(
            pool,
            design,
            producers,
            consumers,
            Math.ceil(options.items / 4),
            batch,
            options.ringBits,
          );
          if (warm.error !== null) {
            row.ok = false;
            row.error ??= warm.error;
          }
        }
        for (let r = 0; r < options.runs; r++) {
          const js = await jsRun(
            pool,
            design,
            producers,
            consumers,
            options.items,
            batch,
            options.ringBits,
          );
          row.jsRuns.push(js.itemsPerSec);
          if (js.error !== null) {
            row.ok = false;
            row.error ??= js.error;
          }
          if (runNative !== null) {
            try {
              row.nativeRuns.push(await runNative(design, producers, consumers, batch));
            } catch (err) {
              row.ok = false;
              row.error ??= `native: ${(err as Error).message}`;
            }
          }
        }
        row.jsItemsPerSec = median(row.jsRuns);
        row.nativeItemsPerSec = row.nativeRuns.length > 0 ? median(row.nativeRuns) : null;
        rows.push(row);
        printRow(row, rows.length === 1);
      }
    }
  } finally {
    for (const w of pool) w.terminate();
  }
  return rows;
}

function printRow(row: ChannelRow, header: boolean): void {
  if (header) {
    console.log(
      "design".padEnd(7) + "P".padStart(3) + "C".padStart(3) + "batch".padStart(7) +
        "JS M items/s".padStart(14) + "native M items/s".padStart(18) + "JS/native".padStart(11) +
        "  checks",
    );
  }
  const m = (v: number | null) => v === null ? "—" : (v / 1e6).toFixed(1);
  const ratio = row.nativeItemsPerSec === null
    ? "—"
    : (row.jsItemsPerSec / row.nativeItemsPerSec).toFixed(3);
  console.log(
    row.design.padEnd(7) + String(row.producers).padStart(3) + String(row.consumers).padStart(3) +
      String(row.batch).padStart(7) + m(row.jsItemsPerSec).padStart(14) +
      m(row.nativeItemsPerSec).padStart(18) + ratio.padStart(11) +
      (row.ok ? "  ok" : `  FAILED: ${row.error}`),
  );
}

function list(text: string, what: string): number[] {
  return text.split(",").map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot run as ${what} must list positive integers: received ${text}`);
    }
    return n;
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      items: { type: "string", default: "8000000" },
      "native-items": { type: "string", default: "40000000" },
      batch: { type: "string", default: "1,256" },
      "ring-bits": { type: "string", default: "16" },
      mpsc: { type: "string", default: "1,2,4,8" },
      mpmc: { type: "string", default: "1x1,2x2,4x4" },
      json: { type: "string" },
      "no-native": { type: "boolean", default: false },
    },
  });
  const options: ChannelBenchOptions = {
    runs: list(values.runs, "--runs")[0],
    warmup: Number(values.warmup),
    items: list(values.items, "--items")[0],
    nativeItems: list(values["native-items"], "--native-items")[0],
    batches: list(values.batch, "--batch"),
    ringBits: list(values["ring-bits"], "--ring-bits")[0],
    mpsc: values.mpsc === "" ? [] : list(values.mpsc, "--mpsc"),
    mpmc: values.mpmc === "" ? [] : values.mpmc.split(",").map((s) => {
      const [p, c] = s.split("x").map(Number);
      if (!Number.isInteger(p) || !Number.isInteger(c) || p < 1 || c < 1) {
        throw new RangeError(`Cannot run as --mpmc must list PxC shapes: received ${values.mpmc}`);
      }
      return [p, c] as [number, number];
    }),
    native: !values["no-native"],
  };
  if (!Number.isInteger(options.warmup) || options.warmup < 0) {
    throw new RangeError(
      `Cannot run as --warmup must be an integer ≥ 0: received ${values.warmup}`,
    );
  }
  console.log(
    `channels across Workers, u32 items, ring of 2^${options.ringBits}, median of ${options.runs} runs; ` +
      `JS ${options.items} items/run, native ${options.nativeItems} items/run; ` +
      `${navigator.hardwareConcurrency} CPUs`,
  );
  const rows = await measureChannels(options);
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(rows, null, 2));
  if (!rows.every((r) => r.ok)) Deno.exit(1);
}
