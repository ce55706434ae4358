/**
 * The wait engine: every wait of the library — rings, channels, consumers,
 * SharedRing, broadcast, the blocking wrappers, backoff-based sends — runs
 * through the one step machine here (`Waiter`) and its two drivers, sync
 * (`Waiter.wait`) and async (`Waiter.waitAsync`). No other file spins,
 * sleeps or parks; the parkers (src/parker.ts, src/native/futex.ts) only
 * perform the one sleep the engine asks for.
 *
 * ## Steps
 *
 * Each round the step machine checks, in order: the abort signal (throws its
 * reason), the deadline (throws `TimedOut`), then picks by the strategy and
 * the round number one of SPIN (n atomic loads), YIELD (a 1 µs sleep on a
 * private word), SLEEP (a fixed sleep on a private word; async: a timer) or
 * PARK (below). The async driver never spins or yields: it parks (or, for
 * `sleeping`, sleeps on a timer) at once. A park lasts at most
 * `min(time left, spot.sliceMs)`; when it ends, `spot.peer()` (if any) says
 * whether the peer process is gone, and if it is and the condition still
 * does not hold (everything the peer published first is taken first) the
 * wait throws `PeerGone`.
 *
 * ## The sleep/wake protocol (the words of one direction of a structure)
 *
 * A *spot* names the words: `waiters` (how many sleep), and either `seq` (an
 * in-process spot: what sleepers sleep on, bumped by wakers) or `watch` (a
 * foreign spot, memory a process that is not us may share: the words whose
 * change ends a sleep — the other side's position word and `closed`).
 *
 * Sleeper (PARK), every access an `Atomics` (sequentially consistent) one:
 *
 * 1. `W = add(waiters, 1) + 1` — count ourselves a sleeper.
 * 2. Snapshot: in-process `s = load(seq)`; foreign `v[i] = load(watch[i])`.
 * 3. `done()` — re-check the condition (items? room? closed?); if it holds go to 5.
 * 4. Sleep: in-process `wait(seq == s)` (`Atomics.wait`, or FUTEX_WAIT across
 *    processes); foreign `futex_waitv(waiters == W, watch[i] == v[i] …)`, so
 *    a FUTEX_WAKE on the waiters word itself — what ringmpsc's commit and
 *    advance do — or any change of a watched word ends it.
 * 5. `sub(waiters, 1)`.
 *
 * Waker, after its publishing store (tail on commit, head on advance, closed):
 *
 * 1. `if load(waiters) === 0` stop — one load when nobody sleeps.
 * 2. In-process: `add(seq, 1)`, then notify `seq`. Foreign: FUTEX_WAKE the
 *    waiters word (exactly ringmpsc's wake). `wakeSpot` does both kinds and
 *    also notifies the waiters word of an in-process spot (harmless).
 *
 * No lost wake between our own peers: either the waker's load of `waiters`
 * comes after the sleeper's step 1 (then it wakes, and the sleeper's step 4
 * either is queued already or finds `seq` / a watched word changed), or it
 * comes before (then the publishing store comes before the sleeper's step 2,
 * and step 3 sees it). ringmpsc's own waker orders its store and its load
 * with release/acquire only, so its wake can be lost (a store still in the
 * store buffer); `spot.sliceMs` is the guard re-check for that case and for
 * a ringmpsc `close()`, which wakes nobody — a guard, not the way wakes arrive.
 * Spin models: `models/wake.pml` (our peers), `models/wake_ringmpsc.pml` (a ringmpsc waker).
 *
 * @module
 */

import { Closed, PeerGone, TimedOut } from "./errors.ts";
import { atomicsParker, type Parker } from "./parker.ts";
import { WaitStrategy } from "./wait_strategy.ts";
import { checkInstance, checkObject, checkTimeoutMs } from "./_validate.ts";

/** Spin steps (1, 2 … 64 rounds) before yielding. */
const SPIN_STEPS = 7;
/** Yield steps after spinning, before sleeping. */
const YIELD_STEPS = 4;
/** Rounds of a `yielding` wait that backoff-based sends try before giving up (spin, then yield). */
export const BACKOFF_ROUNDS: number = SPIN_STEPS + YIELD_STEPS;

/**
 * The condition of a wait that only backs off (it never parks, so it is never asked).
 *
 * @returns `false`.
 */
export function never(): boolean {
  return false;
}

/** Where a waiter sleeps: the words of one direction of a structure. */
export interface WaitSpot {
  /** The structure's header words. */
  readonly words: Int32Array;
  /** Index of the waiters counter. */
  readonly waitersIndex: number;
  /** Index of the sequence word sleepers wait on (in-process spots); -1 for foreign spots. */
  readonly seqIndex: number;
  /**
   * Foreign spots: the words sleepers watch besides the waiters word (the
   * other side's position, `closed`); empty for in-process spots.
   */
  readonly watch: readonly number[];
  /** How sleepers and wakers meet on these words. */
  readonly parker: Parker;
  /** Longest single sleep in ms: the guard re-check and the peer check interval. */
  readonly sliceMs: number;
  /** Says how the other side died ("the producer process 42 exited"), or `null` while it lives; `null` when not watched. */
  readonly peer: (() => string | null) | null;
}

/** Optional parts of a {@linkcode WaitSpot}. */
export interface WaitSpotOptions {
  /** How sleepers and wakers meet; default `Atomics.wait`/`notify`. */
  readonly parker?: Parker;
  /** Longest single sleep; default unlimited. */
  readonly sliceMs?: number;
  /** Foreign spots: watched words (their presence makes the spot foreign). */
  readonly watch?: readonly number[];
  /** Says how the peer died, or `null` while it lives; asked after each park. */
  readonly peer?: () => string | null;
}

/**
 * Describes where one direction of a structure sleeps.
 *
 * @param words The shared words.
 * @param seqIndex Index of the sequence word (in-process spots); ignored when `options.watch` is given.
 * @param waitersIndex Index of the waiters counter.
 * @param options Parker, guard slice, watched words, peer check.
 * @returns The frozen spot.
 */
export function makeSpot(
  words: Int32Array,
  seqIndex: number,
  waitersIndex: number,
  options: WaitSpotOptions = {},
): WaitSpot {
  const watch = Object.freeze([...(options.watch ?? [])]);
  return Object.freeze({
    words,
    waitersIndex,
    seqIndex: watch.length > 0 ? -1 : seqIndex,
    watch,
    parker: options.parker ?? atomicsParker,
    sliceMs: options.sliceMs ?? Infinity,
    peer: options.peer ?? null,
  });
}

/**
 * Wakes the sleepers of one direction (waker step 2, unconditionally): bumps
 * and notifies the sequence word of an in-process spot, and notifies the
 * waiters word (where foreign sleepers, ours and ringmpsc's, wait).
 *
 * @param spot The direction to wake.
 */
export function wakeSpot(spot: WaitSpot): void {
  if (spot.seqIndex >= 0) {
    Atomics.add(spot.words, spot.seqIndex, 1);
    spot.parker.notify(spot.words, spot.seqIndex);
  }
  spot.parker.notify(spot.words, spot.waitersIndex);
}

/** How long a wait may take, and what may cancel it: the library's one timeout convention. */
export interface WaitOptions {
  /**
   * Give up with `TimedOut` after this many milliseconds (fractions allowed;
   * default `Infinity`, no limit). NaN or negative values are a `RangeError`,
   * a non-number a `TypeError`.
   */
  readonly timeoutMs?: number;
  /**
   * Give up with the signal's reason when it aborts. A blocking (sync) wait
   * looks at it between sleeps; only an async wait is ended by it at once.
   */
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

/** A private word: loading it is the spin hint, sleeping on it is the yield and the sleep. */
const scratch = new Int32Array(new SharedArrayBuffer(4));

/**
 * Gives the CPU away for the shortest time JavaScript can: a 1 µs
 * `Atomics.wait` on a private word (JS has no `sched_yield`). On Linux the
 * kernel's timer slack makes that sleep about 50 µs, so blocking waits skip
 * this phase and go from spinning straight to the futex.
 */
export function yieldThread(): void {
  Atomics.wait(scratch, 0, 0, 0.001);
}

/**
 * Busy-waits `n` rounds. Each round is an atomic load the compiler cannot
 * remove, the nearest thing to a PAUSE instruction.
 *
 * @param n Rounds to spin.
 */
export function spinRounds(n: number): void {
  for (let i = 0; i < n; i++) Atomics.load(scratch, 0);
}

const SPIN = 0;
const YIELD = 1;
const SLEEP = 2;
const PARK = 3;

/**
 * The step machine of one wait: runs a {@linkcode WaitStrategy} (or
 * {@linkcode WaitOptions}) one round at a time. Call {@linkcode Waiter.wait}
 * (blocking) or {@linkcode Waiter.waitAsync} in a loop until the condition
 * holds; {@linkcode Waiter.reset} after success to reuse it.
 *
 * @example Waiting for a flag another Worker sets
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSpot, Waiter } from "./wait_engine.ts";
 * import { WaitStrategy } from "./wait_strategy.ts";
 * const words = new Int32Array(new SharedArrayBuffer(12));
 * const spot = makeSpot(words, 0, 1);
 * const waiter = new Waiter(WaitStrategy.timedBlocking(1000));
 * Atomics.store(words, 2, 1); // the flag, set by "another Worker"
 * const done = () => Atomics.load(words, 2) !== 0;
 * while (!done()) waiter.wait(spot, done);
 * assert.equal(Atomics.load(words, 1), 0); // no sleeper left counted
 * ```
 */
export class Waiter {
  readonly #strategy: WaitStrategy;
  readonly #signal: AbortSignal | undefined;
  readonly #action: string;
  /** The wait's time limit in ms (`Infinity`: none). */
  readonly #limitMs: number;
  #step = 0;
  #deadline = Infinity;
  /** SPIN: rounds; SLEEP and PARK: milliseconds. */
  #amount = 0;

  /**
   * Creates the step machine of one wait.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @param action What waits, for error messages (default "wait").
   * @param limits With a strategy: a further time limit and abort signal.
   * @throws {RangeError} If a timeout is NaN or negative.
   * @throws {TypeError} If the options have the wrong shape.
   */
  constructor(
    wait: WaitStrategy | WaitOptions = WaitStrategy.blocking,
    action = "wait",
    limits: WaitOptions = {},
  ) {
    const isStrategy = typeof (wait as WaitStrategy)?.kind === "string";
    const strategy = isStrategy
      ? wait as WaitStrategy
      : checkWaitOptions(wait as WaitOptions, action);
    const limit = checkWaitOptions(limits, action);
    this.#strategy = strategy;
    this.#signal = (isStrategy ? undefined : (wait as WaitOptions).signal) ?? limits.signal;
    this.#limitMs = Math.min(
      strategy.kind === "timedBlocking" ? strategy.timeoutMs : Infinity,
      limit.kind === "timedBlocking" ? limit.timeoutMs : Infinity,
    );
    this.#action = action;
    this.reset();
  }

  /** Starts over: step 0, and a fresh deadline. */
  reset(): void {
    this.#step = 0;
    this.#deadline = performance.now() + this.#limitMs;
  }

  /** The next step; throws the signal's reason or `TimedOut`. */
  #next(spot: WaitSpot | null, async: boolean): number {
    this.#signal?.throwIfAborted();
    const remaining = this.#deadline - performance.now();
    if (remaining <= 0) {
      throw new TimedOut(
        `Cannot ${this.#action} as the deadline of ${this.#limitMs} ms has passed`,
      );
    }
    const step = this.#step++;
    const s = this.#strategy;
    let kind = PARK;
    if (s.kind === "busySpin") kind = SPIN;
    else if (s.kind === "yielding") kind = step < SPIN_STEPS ? SPIN : YIELD;
    else if (s.kind === "sleeping") {
      kind = step < SPIN_STEPS ? SPIN : step < SPIN_STEPS + YIELD_STEPS ? YIELD : SLEEP;
    } else if (s.kind === "phasedBackoff") {
      kind = step < s.spinIterations
        ? SPIN
        : step < s.spinIterations + s.yieldIterations
        ? YIELD
        : PARK;
    } else if (step < SPIN_STEPS) {
      // blocking strategies go straight from spinning to the futex: a JS yield sleeps
      // ~50 µs (timer slack), longer than a futex sleep and wake
      kind = SPIN;
    }
    if (async && (kind === SPIN || kind === YIELD)) kind = s.kind === "sleeping" ? SLEEP : PARK;
    if (kind === PARK && spot === null) kind = async ? SLEEP : YIELD;
    if (kind === SPIN) {
      this.#amount = s.kind === "busySpin" || s.kind === "phasedBackoff" ? 64 : 1 << step;
    } else if (kind === SLEEP) {
      this.#amount = Math.min(remaining, s.kind === "sleeping" ? s.sleepMs : 1);
    } else if (kind === PARK) this.#amount = Math.min(remaining, spot!.sliceMs);
    return kind;
  }

  /**
   * Waits one round, blocking the thread (the sync driver): spins, yields,
   * sleeps or parks on `spot` as the strategy's phase says.
   *
   * @param spot Where to park; `null` for a wait that only polls.
   * @param done Re-checked after registering as a sleeper; may throw (`Closed`).
   * @throws {TimedOut} If the deadline has passed.
   * @throws {PeerGone} If the spot's peer died.
   */
  wait(spot: WaitSpot | null, done: () => boolean): void {
    const kind = this.#next(spot, false);
    if (kind === SPIN) return spinRounds(this.#amount);
    if (kind === YIELD) return yieldThread();
    if (kind === SLEEP) {
      Atomics.wait(scratch, 0, 0, this.#amount);
      return spot === null ? undefined : this.#checkPeer(spot, done);
    }
    const expected = prepare(spot!, done);
    if (expected === null) return;
    try {
      spot!.parker.waitMany(spot!.words, wordsOf(spot!), expected, this.#amount);
    } finally {
      Atomics.sub(spot!.words, spot!.waitersIndex, 1);
    }
    this.#checkPeer(spot!, done);
  }

  /** After a park: `PeerGone` if the peer died and what it left does not end the wait. */
  #checkPeer(spot: WaitSpot, done: () => boolean): void {
    const gone = spot.peer?.() ?? null;
    if (gone !== null && !done()) throw new PeerGone(`Cannot ${this.#action} as ${gone}`);
  }

  /**
   * Waits one round without blocking the event loop (the async driver): parks
   * on `spot` (`Atomics.waitAsync`, or the native futex on a helper thread),
   * or sleeps on a timer. The signal aborting wakes the spot.
   *
   * @param spot Where to park; `null` for a wait that only polls.
   * @param done Re-checked after registering as a sleeper; may throw.
   * @throws {TimedOut} If the deadline has passed.
   * @throws {PeerGone} If the spot's peer died.
   */
  async waitAsync(spot: WaitSpot | null, done: () => boolean): Promise<void> {
    const kind = this.#next(spot, true);
    if (kind === SLEEP) {
      await new Promise((r) => setTimeout(r, this.#amount));
      return spot === null ? undefined : this.#checkPeer(spot, done);
    }
    const expected = prepare(spot!, done);
    if (expected === null) return;
    const signal = this.#signal;
    const onAbort = () => wakeSpot(spot!);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await spot!.parker.waitManyAsync(spot!.words, wordsOf(spot!), expected, this.#amount);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      Atomics.sub(spot!.words, spot!.waitersIndex, 1);
    }
    signal?.throwIfAborted();
    this.#checkPeer(spot!, done);
  }
}

/** The words a park sleeps on: `[seq]`, or `[waiters, ...watch]`. */
const spotWords = new WeakMap<WaitSpot, Int32Array>();

function wordsOf(spot: WaitSpot): Int32Array {
  let words = spotWords.get(spot);
  if (words === undefined) {
    words = Int32Array.from(
      spot.seqIndex >= 0 ? [spot.seqIndex] : [spot.waitersIndex, ...spot.watch],
    );
    spotWords.set(spot, words);
  }
  return words;
}

/**
 * Sleeper steps 1–3: counts itself a waiter, snapshots what it will sleep on,
 * re-checks. Returns the expected values, or `null` when `done()` already holds.
 * The caller does step 5 (`sub(waiters, 1)`) in a `finally`.
 */
function prepare(spot: WaitSpot, done: () => boolean): Int32Array | null {
  const w = spot.words;
  const waiting = Atomics.add(w, spot.waitersIndex, 1) + 1;
  const indexes = wordsOf(spot);
  const expected = new Int32Array(indexes.length);
  if (spot.seqIndex >= 0) expected[0] = Atomics.load(w, spot.seqIndex);
  else {
    expected[0] = waiting;
    for (let i = 1; i < indexes.length; i++) expected[i] = Atomics.load(w, indexes[i]);
  }
  let ready: boolean;
  try {
    ready = done();
  } catch (err) {
    Atomics.sub(w, spot.waitersIndex, 1);
    throw err;
  }
  if (!ready) return expected;
  Atomics.sub(w, spot.waitersIndex, 1);
  return null;
}

/**
 * `true` once items are there; throws `Closed` once closed with none left.
 * Items committed before a close are visible once the close is, so they are
 * looked for again after seeing it.
 */
function itemsOrClosed(hasItems: () => boolean, isClosed: () => boolean, what: string): boolean {
  if (hasItems()) return true;
  if (!isClosed()) return false;
  if (hasItems()) return true;
  throw new Closed(`Cannot ${what} as it is closed and drained`);
}

/**
 * Waits until `done()` holds (the sync driver's loop).
 *
 * @param spot Where to park (`null`: only poll).
 * @param wait A strategy, or `{ timeoutMs, signal }`.
 * @param done The condition; may throw to end the wait (`Closed`).
 * @param action What waits, for error messages.
 * @param limits With a strategy: a further time limit and abort signal.
 * @throws {TimedOut} If the deadline passes.
 * @throws {PeerGone} If the spot's peer died.
 */
export function waitUntil(
  spot: WaitSpot | null,
  wait: WaitStrategy | WaitOptions,
  done: () => boolean,
  action: string,
  limits?: WaitOptions,
): void {
  const waiter = new Waiter(wait, action, limits);
  while (!done()) waiter.wait(spot, done);
}

/**
 * Resolves once `done()` holds (the async driver's loop).
 *
 * @param spot Where to park (`null`: only poll).
 * @param wait A strategy, or `{ timeoutMs, signal }`.
 * @param done The condition; may throw to end the wait.
 * @param action What waits, for error messages.
 * @param limits With a strategy: a further time limit and abort signal.
 * @throws {TimedOut} If the deadline passes.
 * @throws {PeerGone} If the spot's peer died.
 */
export async function waitUntilAsync(
  spot: WaitSpot | null,
  wait: WaitStrategy | WaitOptions,
  done: () => boolean,
  action: string,
  limits?: WaitOptions,
): Promise<void> {
  const waiter = new Waiter(wait, action, limits);
  while (!done()) await waiter.waitAsync(spot, done);
}

/**
 * Waits until an item is readable (sync driver), as `wait` says.
 *
 * @param spot Where to sleep.
 * @param wait A strategy, or `{ timeoutMs, signal }`.
 * @param hasItems The condition waited for.
 * @param isClosed Whether nothing more can arrive.
 * @param what The operation, for error messages ("receive").
 * @throws {Closed} If closed with nothing left.
 * @throws {TimedOut} If the deadline passes.
 * @throws {PeerGone} If the peer died with nothing left.
 */
export function waitForItems(
  spot: WaitSpot,
  wait: WaitStrategy | WaitOptions,
  hasItems: () => boolean,
  isClosed: () => boolean,
  what: string,
): void {
  waitUntil(spot, wait, () => itemsOrClosed(hasItems, isClosed, what), what);
}

/**
 * Resolves once an item is readable (async driver).
 *
 * @param spot Where to sleep.
 * @param options Timeout (ms) and abort signal.
 * @param hasItems The condition waited for.
 * @param isClosed Whether nothing more can arrive.
 * @param what The operation, for error messages.
 * @throws {Closed} If closed with nothing left.
 * @throws {TimedOut} If the timeout passes.
 * @throws {PeerGone} If the peer died with nothing left.
 */
export function waitForItemsAsync(
  spot: WaitSpot,
  options: WaitOptions,
  hasItems: () => boolean,
  isClosed: () => boolean,
  what: string,
): Promise<void> {
  return waitUntilAsync(spot, options, () => itemsOrClosed(hasItems, isClosed, what), what);
}

/**
 * For waits that answer `false` on timeout: `false` for a `TimedOut`, any
 * other error rethrown.
 *
 * @param err What the wait threw.
 * @returns `false`.
 */
export function falseOnTimeout(err: unknown): false {
  if (err instanceof TimedOut) return false;
  throw err;
}
