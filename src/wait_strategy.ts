/**
 * How a thread waits when a ring is empty (consumer) or full (producer): the
 * seed's `WaitStrategy` union.
 *
 * @module
 */

/**
 * One of the seed's six strategies. Blocking strategies sleep on a futex word
 * (`Atomics.wait`, or the native futex across processes) after spinning and
 * yielding, so an idle waiter costs no CPU.
 */
export type WaitStrategy =
  | { readonly kind: "busySpin" }
  | { readonly kind: "yielding" }
  | { readonly kind: "sleeping"; readonly sleepNs: number }
  | { readonly kind: "blocking" }
  | { readonly kind: "timedBlocking"; readonly timeoutNs: number }
  | {
    readonly kind: "phasedBackoff";
    readonly spinIterations: number;
    readonly yieldIterations: number;
  };

function checkNs(what: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot make wait strategy as ${what} must be a finite number ≥ 0: received ${value}`,
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
  /** Spin, yield, then sleep `sleepNs` per round. */
  sleeping(sleepNs: number): WaitStrategy;
  /** Blocking with a deadline of `timeoutNs`. */
  timedBlocking(timeoutNs: number): WaitStrategy;
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
 * const s = WaitStrategy.timedBlocking(100_000_000); // 100 ms
 * assert.equal(s.kind, "timedBlocking");
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
   * Spin, yield, then sleep `sleepNs` per round.
   *
   * @param sleepNs Nanoseconds to sleep per round.
   * @returns The strategy.
   */
  sleeping: (sleepNs: number): WaitStrategy =>
    Object.freeze({ kind: "sleeping", sleepNs: checkNs("sleepNs", sleepNs) }),
  /**
   * Blocking with a deadline: the wait throws `TimedOut` after `timeoutNs`.
   *
   * @param timeoutNs The deadline, in nanoseconds from the start of the wait.
   * @returns The strategy.
   */
  timedBlocking: (timeoutNs: number): WaitStrategy =>
    Object.freeze({ kind: "timedBlocking", timeoutNs: checkNs("timeoutNs", timeoutNs) }),
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
