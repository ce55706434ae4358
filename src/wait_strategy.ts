/**
 * How a thread waits when a ring is empty (consumer) or full (producer): the
 * seed's `WaitStrategy` union.
 *
 * @module
 */

import { checkTimeoutMs } from "./_validate.ts";

/**
 * One of the seed's six strategies. Blocking strategies sleep on a futex word
 * (`Atomics.wait`, or the native futex across processes) after spinning and
 * yielding, so an idle waiter costs no CPU.
 */
export type WaitStrategy =
  | { readonly kind: "busySpin" }
  | { readonly kind: "yielding" }
  | { readonly kind: "sleeping"; readonly sleepMs: number }
  | { readonly kind: "blocking" }
  | { readonly kind: "timedBlocking"; readonly timeoutMs: number }
  | {
    readonly kind: "phasedBackoff";
    readonly spinIterations: number;
    readonly yieldIterations: number;
  };

function checkMs(what: string, value: number, infinite: boolean): number {
  checkTimeoutMs("make wait strategy", value, what);
  if (!infinite && value === Infinity) {
    throw new RangeError(
      `Cannot make wait strategy as ${what} must be a finite number of milliseconds ≥ 0: received ${value}`,
    );
  }
  return value;
}

function checkCount(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(
      `Cannot make wait strategy as ${what} must be an integer between 0 and 2^32 − 1: received ${value}`,
    );
  }
  return value;
}

/** The builders of {@linkcode WaitStrategy}. */
export interface WaitStrategyBuilders {
  /** Spin loop: lowest latency, a whole core while waiting. */
  readonly busySpin: WaitStrategy;
  /** Spin, then yield. */
  readonly yielding: WaitStrategy;
  /** Spin, yield, then block on the futex word. */
  readonly blocking: WaitStrategy;
  /** Spin, yield, then sleep `sleepMs` per round. */
  sleeping(sleepMs: number): WaitStrategy;
  /** Blocking with a deadline of `timeoutMs`. */
  timedBlocking(timeoutMs: number): WaitStrategy;
  /** Spin `spinIterations` rounds, yield `yieldIterations` rounds, then block. */
  phasedBackoff(spinIterations: number, yieldIterations: number): WaitStrategy;
}

/**
 * Builders for each strategy.
 *
 * @example Blocking with a deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { WaitStrategy } from "@ringmpsc/ringmpsc";
 * const s = WaitStrategy.timedBlocking(100); // 100 ms
 * assert.deepEqual(s, { kind: "timedBlocking", timeoutMs: 100 });
 * ```
 */
export const WaitStrategy: WaitStrategyBuilders = Object.freeze({
  /** Spin loop: lowest latency, a whole core while waiting. */
  busySpin: Object.freeze({ kind: "busySpin" }) as WaitStrategy,
  /** Spin, then yield: a good balance. */
  yielding: Object.freeze({ kind: "yielding" }) as WaitStrategy,
  /** Spin, yield, then block on the futex word: no CPU when idle. */
  blocking: Object.freeze({ kind: "blocking" }) as WaitStrategy,
  /**
   * Spin, yield, then sleep `sleepMs` per round.
   *
   * @param sleepMs Milliseconds to sleep per round (fractions allowed).
   * @returns The strategy.
   * @throws {RangeError} If `sleepMs` is NaN, negative or infinite.
   * @throws {TypeError} If `sleepMs` is not a number.
   */
  sleeping: (sleepMs: number): WaitStrategy =>
    Object.freeze({ kind: "sleeping", sleepMs: checkMs("sleepMs", sleepMs, false) }),
  /**
   * Blocking with a deadline: the wait throws `TimedOut` after `timeoutMs`.
   *
   * @param timeoutMs The deadline, in milliseconds from the start of the wait
   * (`Infinity` for none).
   * @returns The strategy.
   * @throws {RangeError} If `timeoutMs` is NaN or negative.
   * @throws {TypeError} If `timeoutMs` is not a number.
   */
  timedBlocking: (timeoutMs: number): WaitStrategy =>
    Object.freeze({ kind: "timedBlocking", timeoutMs: checkMs("timeoutMs", timeoutMs, true) }),
  /**
   * Spin `spinIterations` rounds, yield `yieldIterations` rounds, then block.
   *
   * @param spinIterations Rounds of spinning.
   * @param yieldIterations Rounds of yielding.
   * @returns The strategy.
   */
  phasedBackoff: (spinIterations: number, yieldIterations: number): WaitStrategy =>
    Object.freeze({
      kind: "phasedBackoff",
      spinIterations: checkCount("spinIterations", spinIterations),
      yieldIterations: checkCount("yieldIterations", yieldIterations),
    }),
});
