/**
 * How a thread sleeps on, and wakes, a 32-bit word of shared memory.
 *
 * Rings in a `SharedArrayBuffer` use {@linkcode atomicsParker} (V8's
 * `Atomics.wait`/`Atomics.notify`, which only meet waiters of the same
 * process). Rings in memory shared between processes use the native layer's
 * futex parker instead, because V8's emulation never meets a kernel futex
 * waiter in another process and `Atomics.wait` throws on FFI memory.
 *
 * @module
 */

/** What a wait ended with, named as `Atomics.wait` names it. */
export type WaitResult = "ok" | "not-equal" | "timed-out";

/**
 * Sleeps on and wakes 32-bit words. `words` is an `Int32Array` over the shared
 * memory and `index` the word's index within it.
 */
export interface Parker {
  /**
   * Sleeps while `words[index] === expected`, at most `timeoutMs` milliseconds
   * (`Infinity` for no limit). Blocks the calling thread.
   */
  wait(words: Int32Array, index: number, expected: number, timeoutMs: number): WaitResult;
  /** Like {@linkcode Parker.wait}, without blocking the event loop. */
  waitAsync(
    words: Int32Array,
    index: number,
    expected: number,
    timeoutMs: number,
  ): Promise<WaitResult>;
  /**
   * Sleeps while every `words[indexes[i]] === expected[i]`, until a wake on
   * any of them, at most `timeoutMs` (the engine's park). A parker that can
   * sleep on one word only (`Atomics.wait`) takes one.
   */
  waitMany(
    words: Int32Array,
    indexes: Int32Array,
    expected: Int32Array,
    timeoutMs: number,
  ): WaitResult;
  /** Like {@linkcode Parker.waitMany}, without blocking the event loop. */
  waitManyAsync(
    words: Int32Array,
    indexes: Int32Array,
    expected: Int32Array,
    timeoutMs: number,
  ): Promise<WaitResult>;
  /** Wakes every thread sleeping on `words[index]`. */
  notify(words: Int32Array, index: number): void;
}

function one(indexes: Int32Array): number {
  if (indexes.length !== 1) {
    throw new RangeError(
      `Cannot park as Atomics.wait sleeps on one word: received ${indexes.length}`,
    );
  }
  return indexes[0];
}

/** Keeps the event loop alive while an `Atomics.waitAsync` is pending (denoland/deno#15358). */
const KEEP_ALIVE_MS = 2 ** 30;

function atomicsWaitAsync(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number,
): Promise<WaitResult> {
  const result = Atomics.waitAsync(words, index, expected, timeoutMs);
  if (!result.async) return Promise.resolve(result.value);
  const keepAlive = setTimeout(() => {}, KEEP_ALIVE_MS);
  return result.value.finally(() => clearTimeout(keepAlive));
}

/**
 * The parker for rings in a `SharedArrayBuffer`, shared between Workers of one
 * process: `Atomics.wait`, `Atomics.waitAsync` and `Atomics.notify`.
 *
 * @example Waking a sleeper
 * ```ts
 * import assert from "node:assert/strict";
 * import { atomicsParker } from "@ringmpsc/ringmpsc";
 * const words = new Int32Array(new SharedArrayBuffer(4));
 * assert.equal(atomicsParker.wait(words, 0, 1, 0), "not-equal");
 * ```
 */
export const atomicsParker: Parker = {
  wait: (words, index, expected, timeoutMs) => Atomics.wait(words, index, expected, timeoutMs),
  waitAsync: atomicsWaitAsync,
  waitMany: (words, indexes, expected, timeoutMs) =>
    Atomics.wait(words, one(indexes), expected[0], timeoutMs),
  waitManyAsync: (words, indexes, expected, timeoutMs) =>
    atomicsWaitAsync(words, one(indexes), expected[0], timeoutMs),
  notify: (words, index) => void Atomics.notify(words, index),
};
