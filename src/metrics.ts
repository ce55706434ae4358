/**
 * Optional throughput counters (the seed's `metrics.Metrics`).
 *
 * A ring with `enableMetrics` keeps these counters in its shared cold region
 * so that `getMetrics()` in any Worker sees both sides; with metrics off the
 * ring skips every counting branch.
 *
 * @module
 */

import { METRIC_FIELDS } from "./layout.ts";

/**
 * A snapshot of a ring's or channel's counters.
 *
 * @example Averages
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "@ringmpsc/ringmpsc";
 * const m = new Metrics();
 * m.messagesReceived = 100;
 * m.batchesReceived = 4;
 * assert.equal(m.avgBatchSize(), 25);
 * ```
 */
export class Metrics {
  /** Items committed by producers. */
  messagesSent = 0;
  /** Items consumed. */
  messagesReceived = 0;
  /** Commits. */
  batchesSent = 0;
  /** Consume batches (each advance of the head). */
  batchesReceived = 0;
  /** Reserve retries that found the ring full (with `trackContention`). */
  reserveSpins = 0;
  /** Reserves that gave up (with `trackContention`). */
  reserveFailures = 0;
  /** Nanoseconds spent in blocking waits for room or data (both sides add to it; approximate). */
  totalWaitNs = 0;
  /** Largest batch consumed at once. */
  maxBatchSize = 0;
  /** Sum of per-batch handler latencies, in ns. */
  latencySumNs = 0;
  /** Batches whose latency was recorded. */
  latencyCount = 0;
  /** Shortest recorded batch latency, in ns (0 when none). */
  latencyMinNs = 0;
  /** Longest recorded batch latency, in ns. */
  latencyMaxNs = 0;

  /**
   * Mean per-batch handler latency.
   *
   * @returns Nanoseconds, or 0 when nothing was recorded.
   */
  avgLatencyNs(): number {
    return this.latencyCount === 0 ? 0 : this.latencySumNs / this.latencyCount;
  }

  /**
   * Mean items per consumed batch.
   *
   * @returns Items, or 0 when nothing was consumed.
   */
  avgBatchSize(): number {
    return this.batchesReceived === 0 ? 0 : this.messagesReceived / this.batchesReceived;
  }

  /**
   * Items received per second over an interval.
   *
   * @param elapsedNs The interval in nanoseconds.
   * @returns Items per second, or 0 for an empty interval.
   */
  throughputPerSecond(elapsedNs: number): number {
    return elapsedNs <= 0 ? 0 : this.messagesReceived * 1e9 / elapsedNs;
  }

  /**
   * Adds another snapshot's counters into this one (sums, maxima and minima).
   *
   * @param other The snapshot to fold in.
   */
  merge(other: Metrics): void {
    const latencyMinNs = this.latencyCount === 0
      ? other.latencyMinNs
      : other.latencyCount === 0
      ? this.latencyMinNs
      : Math.min(this.latencyMinNs, other.latencyMinNs);
    for (const f of METRIC_FIELDS) {
      if (f === "maxBatchSize" || f === "latencyMaxNs") this[f] = Math.max(this[f], other[f]);
      else this[f] += other[f];
    }
    this.latencyMinNs = latencyMinNs;
  }

  /** Sets every counter back to zero. */
  reset(): void {
    for (const f of METRIC_FIELDS) this[f] = 0;
  }

  /**
   * Reads a snapshot from counters stored as consecutive f64 values.
   *
   * @param counters The shared counters, in {@linkcode METRIC_FIELDS} order.
   * @returns A snapshot.
   */
  static fromCounters(counters: Float64Array): Metrics {
    const m = new Metrics();
    METRIC_FIELDS.forEach((f, i) => m[f] = counters[i]);
    return m;
  }
}
