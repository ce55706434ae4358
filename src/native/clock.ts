/**
 * Clocks read through the native helper, and the heartbeat store of a
 * SharedRing commit: {@linkcode realtimeNs}, {@linkcode monotonicNs},
 * {@linkcode heartbeatClockNs} and {@linkcode storeHeartbeat}. ringmpsc's
 * `heartbeat_ns` holds CLOCK_REALTIME nanoseconds, so Zig and Deno peers can
 * compare it; CLOCK_MONOTONIC is shared by every process on the machine,
 * which makes it fit for cross-process latency measurement.
 *
 * The heartbeat is stamped from CLOCK_REALTIME_COARSE: the same clock as of
 * the last kernel tick (1–10 ms old; 4 ms on the dev VM), read in about 5 ns
 * where CLOCK_REALTIME takes about 25 — a cost every SharedRing commit pays.
 * It is never ahead of CLOCK_REALTIME, so a ringmpsc peer reading it with its
 * fine clock sees a stamp at most one tick older than it is, never one from
 * the future.
 *
 * @module
 */

import { native, systemError } from "../../ffi/lib.ts";

/**
 * Reads CLOCK_REALTIME in nanoseconds since the Unix epoch.
 *
 * @returns The time as a bigint (it exceeds 2^53).
 *
 * @example Agreeing with Date.now()
 * ```ts
 * import assert from "node:assert/strict";
 * import { realtimeNs } from "@ringmpsc/ringmpsc/native";
 * const ms = Number(realtimeNs() / 1_000_000n);
 * assert.ok(Math.abs(ms - Date.now()) < 1000);
 * ```
 */
export function realtimeNs(): bigint {
  return BigInt(native().rmpsc_clock_ns(0));
}

/**
 * Reads CLOCK_MONOTONIC in nanoseconds (time since boot, excluding suspend),
 * the same clock in every process on the machine. Exact as a number for
 * about 104 days of uptime.
 *
 * @returns The time in nanoseconds.
 *
 * @example Time moves forward
 * ```ts
 * import assert from "node:assert/strict";
 * import { monotonicNs } from "@ringmpsc/ringmpsc/native";
 * const a = monotonicNs();
 * assert.ok(monotonicNs() >= a);
 * ```
 */
export function monotonicNs(): number {
  return Number(native().rmpsc_clock_ns(1));
}

/**
 * Reads the heartbeat's clock, CLOCK_REALTIME_COARSE, in nanoseconds since
 * the Unix epoch: what {@linkcode storeHeartbeat} stamps. Comparing a stamp
 * with this clock rather than CLOCK_REALTIME keeps a stamp that is younger
 * than one kernel tick from reading as a tick old.
 *
 * @returns The time as a bigint (it exceeds 2^53).
 *
 * @example At most a tick behind the fine clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { heartbeatClockNs, realtimeNs } from "@ringmpsc/ringmpsc/native";
 * const coarse = heartbeatClockNs();
 * assert.ok(coarse <= realtimeNs());
 * assert.ok(realtimeNs() - coarse < 1_000_000_000n);
 * ```
 */
export function heartbeatClockNs(): bigint {
  return BigInt(native().rmpsc_clock_ns(2));
}

/**
 * Stores the heartbeat's clock ({@linkcode heartbeatClockNs}) in nanoseconds
 * into the u64 at the start of `word` with release ordering, in one fast FFI
 * call: what a SharedRing commit does to `heartbeat_ns` (header offset
 * 0x90). Allocation-free.
 *
 * @param word A view whose first 8 bytes are the heartbeat word, 8-byte
 * aligned in memory (e.g. `new BigUint64Array(memory.buffer, 0x90, 1)`).
 * @throws {SystemError} (EINVAL) When the view is detached or misaligned.
 *
 * @example Stamping a heartbeat
 * ```ts
 * import assert from "node:assert/strict";
 * import { storeHeartbeat } from "@ringmpsc/ringmpsc/native";
 * const word = new BigUint64Array(1);
 * storeHeartbeat(word);
 * assert.ok(word[0] > 0n);
 * ```
 */
export function storeHeartbeat(word: ArrayBufferView): void {
  const rc = native().rmpsc_heartbeat(word);
  if (rc < 0) {
    throw systemError(rc, "Cannot store the heartbeat as the word is detached or misaligned");
  }
}
