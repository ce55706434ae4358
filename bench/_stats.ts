/**
 * Statistics of the benchmarks: the shapes of a measurement and its runs,
 * medians, spreads, latency percentiles, the clock's own cost, and speed
 * ratios ("greater than 1" always means "the JS row is faster": for
 * throughput JS items/s ÷ peer items/s, for latency peer p50 ÷ JS p50).
 *
 * @module
 */

/** What a measurement counts: items per second, or round-trip/wake nanoseconds. */
export type MeasurementKind = "throughput" | "latency";

/** Percentiles of one run's latency samples, in nanoseconds. */
export interface LatencyStats {
  /** Number of samples. */
  samples: number;
  /** Fastest sample. */
  minNs: number;
  /** Median sample. */
  p50Ns: number;
  /** 99th percentile. */
  p99Ns: number;
  /** 99.9th percentile. */
  p999Ns: number;
  /** Slowest sample. */
  maxNs: number;
  /** Mean of the samples. */
  meanNs: number;
}

/** One run of one measurement, as it goes into the JSON file. */
export interface RunResult {
  /** Items per second (throughput) or the run's p50 in ns (latency); NaN when the run failed. */
  value: number;
  /** Whether the run finished and its consumer found every item, in order, once. */
  ok: boolean;
  /** Why the run failed. */
  error?: string;
  /** Items (or rounds) the run moved and checked. */
  items?: number;
  /** Seconds the consumer measured. */
  seconds?: number;
  /** Latency percentiles of the run. */
  latency?: LatencyStats;
  /** What one clock read cost in this run (ns), when the run timed itself per round. */
  clockNs?: number;
  /** Wall-clock seconds the whole run took, Worker or process start-up included. */
  wallSeconds?: number;
  /** Ping-pong: ns per round over rounds timed as one span (no clock read per round). */
  aggregateNs?: number;
  /** Bytes the heap (after GC) grew across the run, where the run measured it. */
  heapGrowth?: number;
}

/** A measured transport: its runs and their medians. */
export interface Measurement {
  /** Stable key, e.g. `pingpong.ring-spin`. */
  id: string;
  /** What was measured, for the table. */
  label: string;
  /** Throughput or latency. */
  kind: MeasurementKind;
  /** Payload bytes per item (throughput rows). */
  itemBytes?: number;
  /** Every run, in the order they ran. */
  runs: RunResult[];
  /** Median over runs of `RunResult.value`; NaN when no run produced a figure. */
  value: number;
  /** Smallest `RunResult.value` over the runs (the spread's low end); NaN when none. */
  min: number;
  /** Largest `RunResult.value` over the runs (the spread's high end); NaN when none. */
  max: number;
  /** Latency: median over runs of each run's p50 (ns). */
  p50Ns?: number;
  /** Latency: median over runs of each run's p99 (ns). */
  p99Ns?: number;
  /** Latency: median over runs of each run's p99.9 (ns). */
  p999Ns?: number;
  /** Whether every run was ok. */
  ok: boolean;
}

/**
 * The median of `values` (the mean of the middle two when the count is even).
 *
 * @param values The numbers; NaN entries are skipped.
 * @returns The median, or NaN when there is none.
 *
 * @example Medians
 * ```ts
 * import assert from "node:assert/strict";
 * import { median } from "./_stats.ts";
 * assert.equal(median([3, 1, 2]), 2);
 * assert.equal(median([4, 1, 3, 2]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The nearest-rank percentile of sorted samples: the smallest sample that
 * at least `p` of all samples do not exceed.
 *
 * @param sorted Samples in ascending order.
 * @param p The fraction, between 0 and 1.
 * @returns The sample, or NaN when there are none.
 * @throws {RangeError} If `p` is outside [0, 1].
 *
 * @example The 99th percentile of 1 … 1000
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./_stats.ts";
 * const xs = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
 * assert.equal(percentile(xs, 0.99), 990);
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot take a percentile as p must be between 0 and 1: received ${p}`);
  }
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
}

/**
 * Sorts latency samples in place and returns their percentiles.
 *
 * @param samples One latency per round, in nanoseconds; sorted on return.
 * @returns The percentiles.
 *
 * @example Percentiles of a run
 * ```ts
 * import assert from "node:assert/strict";
 * import { latencyStats } from "./_stats.ts";
 * const s = latencyStats(Float64Array.from({ length: 1000 }, (_, i) => 1000 - i));
 * assert.deepEqual([s.p50Ns, s.p999Ns, s.maxNs], [500, 999, 1000]);
 * ```
 */
export function latencyStats(samples: Float64Array): LatencyStats {
  samples.sort();
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i];
  return {
    samples: samples.length,
    minNs: samples.length > 0 ? samples[0] : NaN,
    p50Ns: percentile(samples, 0.5),
    p99Ns: percentile(samples, 0.99),
    p999Ns: percentile(samples, 0.999),
    maxNs: samples.length > 0 ? samples[samples.length - 1] : NaN,
    meanNs: samples.length > 0 ? sum / samples.length : NaN,
  };
}

/**
 * The median cost of one `performance.now()` read in nanoseconds, measured
 * back to back; printed beside per-round latencies, which include one read.
 *
 * @param reads How many reads to take.
 * @returns Nanoseconds per read (median of the gaps).
 *
 * @example Measuring the clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { clockCostNs } from "./_stats.ts";
 * assert.ok(clockCostNs() >= 0);
 * ```
 */
export function clockCostNs(reads = 2001): number {
  const t = new Float64Array(reads);
  for (let i = 0; i < reads; i++) t[i] = performance.now();
  const gaps: number[] = [];
  for (let i = 1; i < reads; i++) gaps.push((t[i] - t[i - 1]) * 1e6);
  return median(gaps);
}

/**
 * The spread of `values`: the smallest and the largest, NaN entries skipped.
 *
 * @param values The numbers.
 * @returns `min` and `max`, both NaN when there is no number.
 *
 * @example The spread of three runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { spread } from "./_stats.ts";
 * assert.deepEqual(spread([3, NaN, 1, 2]), { min: 1, max: 3 });
 * ```
 */
export function spread(values: readonly number[]): { min: number; max: number } {
  const xs = values.filter((v) => !Number.isNaN(v));
  return xs.length === 0 ? { min: NaN, max: NaN } : { min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * Builds a measurement from its runs: the medians, and ok only when every
 * run was ok (and there was at least one).
 *
 * @param id The measurement's key.
 * @param label What was measured.
 * @param kind Throughput or latency.
 * @param runs The runs, in the order they ran.
 * @param itemBytes Payload bytes per item, for throughput rows.
 * @returns The measurement.
 *
 * @example Two runs of a throughput measurement
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./_stats.ts";
 * const m = summarize("x", "x", "throughput", [{ value: 2, ok: true }, { value: 4, ok: true }]);
 * assert.equal(m.value, 3);
 * assert.equal(m.ok, true);
 * ```
 */
export function summarize(
  id: string,
  label: string,
  kind: MeasurementKind,
  runs: RunResult[],
  itemBytes?: number,
): Measurement {
  const m: Measurement = {
    id,
    label,
    kind,
    runs,
    value: median(runs.map((r) => r.value)),
    ...spread(runs.map((r) => r.value)),
    ok: runs.length > 0 && runs.every((r) => r.ok),
  };
  if (itemBytes !== undefined) m.itemBytes = itemBytes;
  if (kind === "latency") {
    const pick = (k: "p50Ns" | "p99Ns" | "p999Ns") =>
      median(runs.map((r) => r.latency?.[k] ?? NaN));
    m.p50Ns = pick("p50Ns");
    m.p99Ns = pick("p99Ns");
    m.p999Ns = pick("p999Ns");
  }
  return m;
}

/**
 * The speed ratio of a JS measurement to a peer: JS items/s ÷ peer items/s
 * for throughput, peer p50 ÷ JS p50 for latency; above 1 means JS is faster.
 *
 * @param js The JS measurement.
 * @param peer The peer measurement (of the same kind).
 * @returns The ratio, or NaN when either side has no figure.
 * @throws {TypeError} If the kinds differ.
 *
 * @example Latency ratio
 * ```ts
 * import assert from "node:assert/strict";
 * import { speedRatio, summarize } from "./_stats.ts";
 * const js = summarize("a", "a", "latency", [{ value: 200, ok: true }]);
 * const peer = summarize("b", "b", "latency", [{ value: 1000, ok: true }]);
 * assert.equal(speedRatio(js, peer), 5);
 * ```
 */
export function speedRatio(js: Measurement, peer: Measurement): number {
  if (js.kind !== peer.kind) {
    throw new TypeError(
      `Cannot compare ${js.id} with ${peer.id} as their kinds differ: received ${js.kind} and ${peer.kind}`,
    );
  }
  const ratio = js.kind === "throughput" ? js.value / peer.value : peer.value / js.value;
  return Number.isFinite(ratio) && ratio > 0 ? ratio : NaN;
}
