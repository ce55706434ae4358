/**
 * How the benchmarks order their runs on a noisy machine: contenders
 * interleave run by run (A B C, A B C, …) so that a slow stretch of the
 * machine lands on every contender alike, and with `repeat` the rounds go on
 * until every contender's median settles.
 *
 * @module
 */
import { type MeasurementKind, median, type RunResult, summarize } from "./_stats.ts";
import type { Measurement } from "./_stats.ts";
import { type ProgressSink, silentProgress } from "./_progress.ts";

/** One contender: a stable id, a label for the table, and one run of it. */
export interface Plan {
  /** Stable key of the measurement, e.g. `u32.ring-item`. */
  id: string;
  /** What it measures, for the table. */
  label: string;
  /** Payload bytes per item (throughput rows). */
  itemBytes?: number;
  /** Runs it once; resolves with the run's figure and its checks. */
  run(): Promise<RunResult>;
}

/** When the rounds stop once the first `runs` are done. */
export interface RepeatOptions {
  /** Stop once no median moved by more than this fraction in the last round (e.g. 0.03). */
  settle: number;
  /** Never run more rounds than this. */
  maxRuns: number;
}

/** Options of {@linkcode runInterleaved}. */
export interface ScheduleOptions {
  /** Rounds that always run; each round runs every plan once, in order. */
  runs: number;
  /** What the measurements count. */
  kind: MeasurementKind;
  /** Go on after `runs` rounds until the medians settle; off when absent. */
  repeat?: RepeatOptions;
  /** Text before each step's label in the progress display. */
  prefix?: string;
  /** Where progress goes. */
  progress?: ProgressSink;
}

function settled(
  results: Map<string, RunResult[]>,
  previous: Map<string, number>,
  settle: number,
): boolean {
  let all = true;
  for (const [id, runs] of results) {
    const now = median(runs.map((r) => r.value));
    const before = previous.get(id);
    previous.set(id, now);
    if (Number.isNaN(now)) continue; // a failing contender cannot settle; it does not hold others
    if (before === undefined || Math.abs(now - before) > settle * Math.abs(before)) all = false;
  }
  return all;
}

/**
 * Runs every plan once per round, round after round (A B C, A B C, …), and
 * summarizes each plan's runs.
 *
 * @param plans The contenders, in the order each round runs them.
 * @param options Rounds, kind, repeat rule and progress.
 * @returns The measurements, in the order of `plans`.
 * @throws {RangeError} If `runs` is not a positive integer or `repeat` is out of range.
 *
 * @example Two contenders, three interleaved rounds
 * ```ts
 * import assert from "node:assert/strict";
 * import { runInterleaved } from "./_schedule.ts";
 * const order: string[] = [];
 * const plan = (id: string) => ({
 *   id, label: id, run: () => (order.push(id), Promise.resolve({ value: 1, ok: true })),
 * });
 * const [a, b] = await runInterleaved([plan("a"), plan("b")], { runs: 3, kind: "throughput" });
 * assert.deepEqual(order, ["a", "b", "a", "b", "a", "b"]);
 * assert.equal(a.runs.length, 3);
 * assert.equal(b.value, 1);
 * ```
 */
export async function runInterleaved(
  plans: readonly Plan[],
  options: ScheduleOptions,
): Promise<Measurement[]> {
  const { runs, kind, repeat } = options;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(
      `Cannot schedule runs as runs must be a positive integer: received ${runs}`,
    );
  }
  if (repeat !== undefined && !(repeat.settle > 0 && Number.isInteger(repeat.maxRuns))) {
    throw new RangeError(
      `Cannot schedule runs as repeat needs settle > 0 and an integer maxRuns: received ${
        JSON.stringify(repeat)
      }`,
    );
  }
  const progress = options.progress ?? silentProgress;
  const prefix = options.prefix === undefined ? "" : `${options.prefix} · `;
  const results = new Map<string, RunResult[]>(plans.map((p) => [p.id, []]));
  const previous = new Map<string, number>();
  const limit = repeat === undefined ? runs : Math.max(runs, repeat.maxRuns);
  for (let r = 0; r < limit; r++) {
    for (const plan of plans) {
      progress.begin(`${prefix}${plan.label} · run ${r + 1}/${r < runs ? runs : limit}`);
      const began = performance.now();
      const result = await plan.run();
      result.wallSeconds ??= (performance.now() - began) / 1000;
      results.get(plan.id)!.push(result);
      progress.advance(1);
    }
    const done = settled(results, previous, repeat?.settle ?? 0);
    if (r + 1 >= runs && (repeat === undefined || done)) break;
  }
  return plans.map((plan) => {
    const m = summarize(plan.id, plan.label, kind, results.get(plan.id)!, plan.itemBytes);
    progress.measured(m);
    return m;
  });
}
