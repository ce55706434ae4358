/**
 * `Waiter`: the stateful executor of a {@linkcode WaitStrategy}, and the one
 * place that sleeps on a ring's futex words.
 *
 * Sleeping follows a fixed protocol so no wake is ever lost. Each direction
 * of a ring has a *waiters* word (how many sleep) and a *sequence* word (what
 * they sleep on). The sleeper loads the sequence, increments the waiters,
 * re-checks its condition, then sleeps only while the sequence is unchanged.
 * The waker publishes its position, then, only if the waiters word is
 * non-zero, bumps the sequence and notifies. With sequentially consistent
 * atomics either the sleeper sees the new position or the waker sees the
 * sleeper, so a commit or advance costs one extra load when nobody sleeps.
 * Spin checks it: `models/wake.pml`, and with a ringmpsc waker `models/wake_ringmpsc.pml`.
 *
 * @module
 */

import { spinRounds, yieldThread } from "./backoff.ts";
import { Closed, TimedOut } from "./errors.ts";
import { atomicsParker, type Parker } from "./parker.ts";
import { WaitStrategy } from "./wait_strategy.ts";
import { checkInstance, checkObject, checkTimeoutMs } from "./_validate.ts";

/** Spin steps (1, 2 … 64 rounds) before yielding. */
const SPIN_STEPS = 7;
/** Yield steps after spinning, before sleeping or blocking. */
const YIELD_STEPS = 4;

/** Where a waiter sleeps: the words of one direction of a ring. */
export interface WaitSpot {
  /** The ring's header words. */
  readonly words: Int32Array;
  /** Index of the sequence word sleepers wait on. */
  readonly seqIndex: number;
  /** Index of the waiters counter. */
  readonly waitersIndex: number;
  /** How sleepers and wakers meet on these words. */
  readonly parker: Parker;
  /**
   * Longest single sleep in ms; finite where a peer may wake another word
   * (a foreign ringmpsc process), `Infinity` otherwise.
   */
  readonly sliceMs: number;
}

/**
 * Describes where one direction of a ring sleeps.
 *
 * @param words The shared words.
 * @param seqIndex Index of the sequence word sleepers wait on.
 * @param waitersIndex Index of the waiters counter.
 * @param parker How sleepers and wakers meet; default `Atomics.wait`/`notify`.
 * @param sliceMs Longest single sleep; default unlimited.
 * @returns The frozen spot.
 */
export function makeSpot(
  words: Int32Array,
  seqIndex: number,
  waitersIndex: number,
  parker: Parker = atomicsParker,
  sliceMs = Infinity,
): WaitSpot {
  return Object.freeze({ words, seqIndex, waitersIndex, parker, sliceMs });
}

/**
 * Wakes the sleepers of one direction: bumps the sequence word and notifies
 * it, and the waiters word too (where foreign peers sleep).
 *
 * @param spot The direction to wake.
 */
export function wakeSpot(spot: WaitSpot): void {
  Atomics.add(spot.words, spot.seqIndex, 1);
  spot.parker.notify(spot.words, spot.seqIndex);
  spot.parker.notify(spot.words, spot.waitersIndex);
}

/**
 * Runs a wait strategy one round at a time. Call {@linkcode Waiter.wait} in a
 * loop until the condition holds, {@linkcode Waiter.reset} after success.
 *
 * @example Waiting for a flag another Worker sets
 * ```ts
 * import assert from "node:assert/strict";
 * import { atomicsParker, Waiter, WaitStrategy } from "@ringmpsc/ringmpsc";
 * const words = new Int32Array(new SharedArrayBuffer(12));
 * const spot = { words, seqIndex: 0, waitersIndex: 1, parker: atomicsParker, sliceMs: Infinity };
 * const waiter = new Waiter(WaitStrategy.timedBlocking(1000));
 * Atomics.store(words, 2, 1); // the flag
 * while (Atomics.load(words, 2) === 0) waiter.wait(spot, () => Atomics.load(words, 2) !== 0);
 * assert.equal(Atomics.load(words, 2), 1);
 * ```
 */
export class Waiter {
  readonly #strategy: WaitStrategy;
  #step = 0;
  #deadline = Infinity;

  /**
   * Creates a waiter for one wait.
   *
   * @param strategy How to wait.
   */
  constructor(strategy: WaitStrategy) {
    this.#strategy = strategy;
    this.reset();
  }

  /** Starts over: step 0, and a fresh deadline for timed strategies. */
  reset(): void {
    this.#step = 0;
    const s = this.#strategy;
    this.#deadline = s.kind === "timedBlocking" ? performance.now() + s.timeoutMs : Infinity;
  }

  /**
   * Waits one round: spins, yields, sleeps or blocks as the strategy's phase says.
   * Blocking rounds sleep on `spot` until woken, unless `ready()` already holds.
   *
   * @param spot The words to sleep on.
   * @param ready Re-checked after registering as a sleeper.
   * @throws {TimedOut} If a timed strategy's deadline has passed.
   */
  wait(spot: WaitSpot, ready: () => boolean): void {
    const remaining = this.#deadline - performance.now();
    if (remaining <= 0) {
      const ms = (this.#strategy as { timeoutMs: number }).timeoutMs;
      throw new TimedOut(`Cannot go on waiting as the deadline of ${ms} ms has passed`);
    }
    const step = this.#step++;
    const s = this.#strategy;
    switch (s.kind) {
      case "busySpin":
        return spinRounds(64);
      case "yielding":
        return step < SPIN_STEPS ? spinRounds(1 << step) : yieldThread();
      case "sleeping":
        if (step < SPIN_STEPS) return spinRounds(1 << step);
        if (step < SPIN_STEPS + YIELD_STEPS) return yieldThread();
        return void Atomics.wait(sleepWord, 0, 0, s.sleepMs);
      case "phasedBackoff":
        if (step < s.spinIterations) return spinRounds(64);
        if (step < s.spinIterations + s.yieldIterations) return yieldThread();
        return park(spot, ready, remaining);
      default:
        // blocking strategies go straight from spinning to the futex: JavaScript
        // has no sched_yield, and its nearest stand-in sleeps ~50 µs (timer slack),
        // longer than a futex sleep and wake
        if (step < SPIN_STEPS) return spinRounds(1 << step);
        return park(spot, ready, remaining);
    }
  }

  /**
   * Waits one round without blocking the event loop: no spinning, straight to
   * sleeping on `spot` (`Atomics.waitAsync` or the native futex on a thread).
   *
   * @param spot The words to sleep on.
   * @param ready Re-checked after registering as a sleeper.
   * @param signal Aborts the wait with the signal's reason.
   * @throws {TimedOut} If a timed strategy's deadline has passed.
   */
  async waitAsync(spot: WaitSpot, ready: () => boolean, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const remaining = this.#deadline - performance.now();
    if (remaining <= 0) {
      const ms = (this.#strategy as { timeoutMs: number }).timeoutMs;
      throw new TimedOut(`Cannot go on waiting as the deadline of ${ms} ms has passed`);
    }
    const seq = Atomics.load(spot.words, spot.seqIndex);
    Atomics.add(spot.words, spot.waitersIndex, 1);
    const onAbort = () => wakeSpot(spot);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (!ready()) {
        await spot.parker.waitAsync(
          spot.words,
          spot.seqIndex,
          seq,
          Math.min(remaining, spot.sliceMs),
        );
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      Atomics.sub(spot.words, spot.waitersIndex, 1);
    }
    signal?.throwIfAborted();
  }
}

/** A private word that "sleeping" rounds sleep on (nobody notifies it). */
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

/** Registers as a sleeper, re-checks, and sleeps on the sequence word. */
function park(spot: WaitSpot, ready: () => boolean, remainingMs: number): void {
  const seq = Atomics.load(spot.words, spot.seqIndex);
  Atomics.add(spot.words, spot.waitersIndex, 1);
  try {
    if (!ready()) {
      spot.parker.wait(spot.words, spot.seqIndex, seq, Math.min(remainingMs, spot.sliceMs));
    }
  } finally {
    Atomics.sub(spot.words, spot.waitersIndex, 1);
  }
}

/** How long a wait may take, and what may cancel it: the library's one timeout convention. */
export interface WaitOptions {
  /**
   * Give up with `TimedOut` after this many milliseconds (fractions allowed;
   * default `Infinity`, no limit). NaN or negative values are a `RangeError`,
   * a non-number a `TypeError`.
   */
  readonly timeoutMs?: number;
  /** Give up with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
}

/**
 * Checks a wait's options and turns them into the strategy that waits that long.
 *
 * @param options The options.
 * @param action What waits, for error messages ("receive").
 * @returns `blocking`, or `timedBlocking(timeoutMs)`.
 * @throws {RangeError} If `timeoutMs` is NaN or negative.
 * @throws {TypeError} If `timeoutMs` is not a number or `signal` not an `AbortSignal`.
 */
export function checkWaitOptions(options: WaitOptions, action: string): WaitStrategy {
  checkObject(action, "options", options);
  const { timeoutMs, signal } = options;
  if (signal !== undefined) checkInstance(action, "signal", signal, AbortSignal);
  if (timeoutMs === undefined || timeoutMs === Infinity) return WaitStrategy.blocking;
  return WaitStrategy.timedBlocking(checkTimeoutMs(action, timeoutMs));
}

function closedAndDrained(hasItems: () => boolean, isClosed: () => boolean, what: string): boolean {
  if (hasItems()) return true;
  if (!isClosed()) return false;
  if (hasItems()) return true; // items committed before close are visible once closed is
  throw new Closed(`Cannot ${what} as it is closed and drained`);
}

/**
 * Waits as `strategy` says until `hasItems()` holds, sleeping on `spot`.
 *
 * @param spot Where to sleep.
 * @param strategy How to wait.
 * @param hasItems The condition waited for.
 * @param isClosed Whether nothing more can arrive.
 * @param what The operation, for error messages ("receive").
 * @throws {Closed} If closed with nothing left.
 * @throws {TimedOut} If a timed strategy's deadline passes.
 */
export function waitForItems(
  spot: WaitSpot,
  strategy: WaitStrategy,
  hasItems: () => boolean,
  isClosed: () => boolean,
  what: string,
): void {
  if (closedAndDrained(hasItems, isClosed, what)) return;
  const waiter = new Waiter(strategy);
  const ready = () => isClosed() || hasItems();
  while (!closedAndDrained(hasItems, isClosed, what)) waiter.wait(spot, ready);
}

/**
 * Resolves once `hasItems()` holds, without blocking the event loop.
 *
 * @param spot Where to sleep.
 * @param options Timeout (ms) and abort signal.
 * @param hasItems The condition waited for.
 * @param isClosed Whether nothing more can arrive.
 * @param what The operation, for error messages.
 * @throws {Closed} If closed with nothing left.
 * @throws {TimedOut} If the timeout passes.
 */
export async function waitForItemsAsync(
  spot: WaitSpot,
  options: WaitOptions,
  hasItems: () => boolean,
  isClosed: () => boolean,
  what: string,
): Promise<void> {
  const waiter = new Waiter(checkWaitOptions(options, what));
  if (closedAndDrained(hasItems, isClosed, what)) return;
  const ready = () => isClosed() || hasItems();
  while (!closedAndDrained(hasItems, isClosed, what)) {
    await waiter.waitAsync(spot, ready, options.signal);
  }
}
