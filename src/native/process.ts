/**
 * Process liveness through pidfds: {@linkcode isProcessAlive} tells whether a
 * peer process (for example a SharedRing's creator) still runs, and
 * {@linkcode getPid} reads this process's id from the kernel.
 *
 * @module
 */

import { checkPid } from "../_validate.ts";
import { check, native } from "../../ffi/lib.ts";

/**
 * Tells whether process `pid` is alive. Uses `pidfd_open` and a zero-timeout
 * poll, so an exited process that its parent has not reaped yet (a zombie)
 * counts as dead; falls back to `kill(pid, 0)` on kernels without pidfds.
 * A process of another user that this one may not signal still counts as
 * alive.
 *
 * @param pid A process id, 1 or more.
 * @returns `true` while the process runs, `false` once it has exited or when
 * no such process exists.
 * @throws {RangeError} When `pid` is not an integer between 1 and 2^31-1.
 * @throws {SystemError} When the check fails for another reason (e.g. EMFILE).
 *
 * @example This process is alive
 * ```ts
 * import assert from "node:assert/strict";
 * import { isProcessAlive } from "@ringmpsc/ringmpsc/native";
 * assert.ok(isProcessAlive(Deno.pid));
 * ```
 */
export function isProcessAlive(pid: number): boolean {
  checkPid("check the process", pid);
  return check(
    native().rmpsc_process_alive(pid),
    `Cannot check process ${pid} as pidfd_open failed`,
  ) === 1;
}

/**
 * Returns this process's id, as the kernel reports it (SharedRing's
 * `creator_pid`).
 *
 * @returns The process id.
 *
 * @example Agreeing with Deno
 * ```ts
 * import assert from "node:assert/strict";
 * import { getPid } from "@ringmpsc/ringmpsc/native";
 * assert.ok(getPid() === Deno.pid);
 * ```
 */
export function getPid(): number {
  return native().rmpsc_getpid();
}
