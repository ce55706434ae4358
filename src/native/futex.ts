/**
 * Futex wait and wake on 32-bit words of shared memory, across processes.
 *
 * V8's `Atomics.wait/notify` is an in-process emulation that never meets a
 * kernel futex waiter in another process, and `Atomics.wait` throws on the
 * plain `ArrayBuffer` Deno gives for foreign memory. These functions call the
 * kernel's FUTEX_WAIT/FUTEX_WAKE (shared, not PRIVATE) through the native
 * helper instead, so a waiter in one process and a waker in another meet as
 * long as both map the same file (a {@linkcode SharedMemory}). They also work
 * on `SharedArrayBuffer` views between Workers of one process.
 *
 * The word's address is the view's data pointer plus `4 * index`, resolved by
 * the FFI call itself, so no address table is needed.
 *
 * {@linkcode futexParker} packages them as the `Parker` that rings in shared
 * memory use.
 *
 * @module
 */

import type { Parker, WaitResult } from "../parker.ts";
import { native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { checkIndex, checkInstance, checkInteger, checkTimeoutMs } from "../_validate.ts";

/** Wake count meaning "every waiter". */
const WAKE_ALL = 0x7fffffff;

function assertWord(words: Int32Array, index: number, action: string): void {
  checkInstance(action, "words", words, Int32Array);
  checkIndex(action, "index", index, words.length);
}

function toResult(rc: number, action: string): WaitResult {
  if (rc === 0 || rc === -Errno.EINTR) return "ok";
  if (rc === -Errno.EAGAIN) return "not-equal";
  if (rc === -Errno.ETIMEDOUT) return "timed-out";
  throw systemError(rc, `Cannot ${action} as FUTEX_WAIT failed`);
}

/** Turns milliseconds (`Infinity`: no limit) into the helper's nanoseconds (-1: no limit). */
function msToNs(timeoutMs: number): number {
  if (timeoutMs === Infinity) return -1;
  if (timeoutMs <= 0) return 0;
  return Math.min(Math.ceil(timeoutMs * 1e6), Number.MAX_SAFE_INTEGER);
}

/**
 * Sleeps while `words[index] === expected`, at most `timeoutMs` milliseconds,
 * blocking the calling thread (use {@linkcode futexWaitAsync} on an event
 * loop that must keep running). The arguments mirror `Atomics.wait`. A wake
 * may be spurious: callers re-check the word in a loop.
 *
 * @param words An Int32Array over shared memory (a {@linkcode SharedMemory}
 * buffer, or a SharedArrayBuffer).
 * @param index The word's index within `words`.
 * @param expected The value the caller saw; the call returns at once if the
 * word holds another.
 * @param timeoutMs The most milliseconds to sleep (fractions allowed);
 * `Infinity` (the default) for no limit.
 * @returns `"ok"` when woken, `"not-equal"` when the word differed,
 * `"timed-out"` when the time ran out.
 * @throws {TypeError} When `words` is not an Int32Array.
 * @throws {RangeError} When `index` or `timeoutMs` is out of range (a closed
 * region's views have length 0).
 * @throws {SystemError} When FUTEX_WAIT fails otherwise.
 *
 * @example A wait that times out
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWait, SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(4096);
 * const words = new Int32Array(memory.buffer);
 * assert.equal(futexWait(words, 0, 0, 1), "timed-out");
 * assert.equal(futexWait(words, 0, 7, 1), "not-equal");
 * ```
 */
export function futexWait(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number = Infinity,
): WaitResult {
  assertWord(words, index, "wait on a futex");
  const ns = msToNs(checkTimeoutMs("wait on a futex", timeoutMs));
  return toResult(native().rmpsc_futex_wait(words, index, expected | 0, ns), "wait on a futex");
}

/**
 * Like {@linkcode futexWait}, without blocking the event loop: the wait runs
 * on a worker thread of Deno's FFI pool. While pending it keeps the process
 * alive; it cannot be cancelled, so pair an unlimited wait with a wake.
 *
 * @param words An Int32Array over shared memory.
 * @param index The word's index within `words`.
 * @param expected The value the caller saw.
 * @param timeoutMs The most milliseconds to sleep; `Infinity` (the default)
 * for no limit.
 * @returns A promise of `"ok"`, `"not-equal"` or `"timed-out"`.
 * @throws {TypeError} When `words` is not an Int32Array.
 * @throws {RangeError} When `index` or `timeoutMs` is out of range.
 * @throws {SystemError} (as a rejection) When FUTEX_WAIT fails otherwise.
 *
 * @example Waking an asynchronous waiter
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWaitAsync, futexWake, SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(4096);
 * const words = new Int32Array(memory.buffer);
 * const result = futexWaitAsync(words, 0, 0, 5000);
 * const timer = setInterval(() => {
 *   Atomics.store(words, 0, 1);
 *   futexWake(words, 0);
 * }, 1);
 * assert.ok(["ok", "not-equal"].includes(await result)); // "not-equal" if the store came first
 * clearInterval(timer);
 * ```
 */
export function futexWaitAsync(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number = Infinity,
): Promise<WaitResult> {
  assertWord(words, index, "wait on a futex");
  const ns = msToNs(checkTimeoutMs("wait on a futex", timeoutMs));
  return native().rmpsc_futex_wait_async(words, index, expected | 0, ns)
    .then((rc) => toResult(rc, "wait on a futex"));
}

/**
 * Wakes at most `count` threads, in any process, sleeping on
 * `words[index]`. Costs one system call even when nobody sleeps, so callers
 * keep a waiter count and wake only when it is non-zero.
 *
 * @param words An Int32Array over shared memory.
 * @param index The word's index within `words`.
 * @param count How many waiters to wake (default: all).
 * @returns How many were woken.
 * @throws {TypeError} When `words` is not an Int32Array.
 * @throws {RangeError} When `index` or `count` is out of range.
 * @throws {SystemError} When FUTEX_WAKE fails.
 *
 * @example Waking nobody
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWake, SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(4096);
 * assert.equal(futexWake(new Int32Array(memory.buffer), 0), 0);
 * ```
 */
export function futexWake(words: Int32Array, index: number, count: number = WAKE_ALL): number {
  assertWord(words, index, "wake a futex");
  checkInteger("wake a futex", "count", count, 0, WAKE_ALL);
  const woken = native().rmpsc_futex_wake(words, index, count);
  if (woken < 0) throw systemError(woken, "Cannot wake a futex as FUTEX_WAKE failed");
  return woken;
}

/**
 * The `Parker` for rings in memory shared between processes: `wait` and
 * `waitAsync` sleep in FUTEX_WAIT, `waitMany` in one futex_waitv on several
 * words (Linux 5.16+; FUTEX_WAIT on the first word where it is missing),
 * `notify` wakes every sleeper with FUTEX_WAKE, all on shared (not PRIVATE)
 * futexes. Timeouts are in
 * milliseconds, `Infinity` for none, as `Atomics.wait` takes them.
 *
 * @example Parking on a region's word
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexParker, SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(4096);
 * const words = new Int32Array(memory.buffer);
 * assert.equal(futexParker.wait(words, 1, 0, 1), "timed-out");
 * futexParker.notify(words, 1);
 * ```
 */
export const futexParker: Parker = {
  wait(words, index, expected, timeoutMs) {
    assertWord(words, index, "park");
    const rc = native().rmpsc_futex_wait(words, index, expected | 0, msToNs(timeoutMs));
    return toResult(rc, "park");
  },
  waitAsync(words, index, expected, timeoutMs) {
    assertWord(words, index, "park");
    return native().rmpsc_futex_wait_async(words, index, expected | 0, msToNs(timeoutMs))
      .then((rc) => toResult(rc, "park"));
  },
  waitMany(words, indexes, expected, timeoutMs) {
    const rc = native().rmpsc_futex_wait_any(
      words,
      indexes,
      expected,
      indexes.length,
      msToNs(timeoutMs),
    );
    return toResult(rc > 0 ? 0 : rc, "park");
  },
  waitManyAsync(words, indexes, expected, timeoutMs) {
    return native().rmpsc_futex_wait_any_async(
      words,
      indexes,
      expected,
      indexes.length,
      msToNs(timeoutMs),
    ).then((rc) => toResult(rc > 0 ? 0 : rc, "park"));
  },
  notify(words, index) {
    assertWord(words, index, "unpark");
    const woken = native().rmpsc_futex_wake(words, index, WAKE_ALL);
    if (woken < 0) throw systemError(woken, "Cannot unpark as FUTEX_WAKE failed");
  },
};
