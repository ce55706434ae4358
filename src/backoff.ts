/**
 * Crossbeam-style adaptive backoff (the seed's `Backoff`).
 *
 * `spin` is for a retry that can succeed soon because another thread made
 * progress (a lost compare-and-swap): it only burns a few cycles. `snooze` is
 * for waiting on another thread (an empty or full ring): it spins first, then
 * yields. After the yield phase {@linkcode Backoff.isCompleted} says it is time
 * to block instead.
 *
 * @module
 */

import { spinRounds, yieldThread } from "./wait_engine.ts";

/** Steps 0–6 spin 1, 2, 4 … 64 times. */
export const SPIN_LIMIT = 6;
/** Steps 7–10 yield; past this the backoff is completed. */
const YIELD_LIMIT = 10;

/**
 * Adaptive backoff: spin, then yield, then report completion.
 *
 * @example Retrying a full ring
 * ```ts
 * import assert from "node:assert/strict";
 * import { Backoff } from "@ringmpsc/ringmpsc";
 * const backoff = new Backoff();
 * let tries = 0;
 * while (++tries < 5) backoff.snooze();
 * assert.equal(backoff.isCompleted(), false);
 * ```
 */
export class Backoff {
  /** The current step: 0–6 spin, 7–10 yield, 11 completed. */
  step = 0;

  /** Spins 2^step rounds (at most 64); for retries after another thread's progress. */
  spin(): void {
    spinRounds(1 << Math.min(this.step, SPIN_LIMIT));
    if (this.step <= SPIN_LIMIT) this.step++;
  }

  /** Spins while in the spin phase, then yields; for waiting on another thread. */
  snooze(): void {
    if (this.step <= SPIN_LIMIT) spinRounds(1 << this.step);
    else yieldThread();
    if (this.step <= YIELD_LIMIT) this.step++;
  }

  /**
   * Whether the yield phase is over and the caller should block.
   *
   * @returns `true` once past the yield phase.
   */
  isCompleted(): boolean {
    return this.step > YIELD_LIMIT;
  }

  /** Starts over for the next wait. */
  reset(): void {
    this.step = 0;
  }
}
