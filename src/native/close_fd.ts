/**
 * {@linkcode closeFd}: closes a raw file descriptor, such as one returned by
 * `recvFd`, `connectUnix` or `FdServer.accept`.
 *
 * @module
 */

import { check, native } from "../../ffi/lib.ts";
import { checkFd } from "../_validate.ts";

/**
 * Closes the file descriptor `fd`.
 *
 * @param fd The fd to close.
 * @throws {RangeError} When `fd` is not a non-negative integer.
 * @throws {SystemError} When close fails (EBADF for an fd that is not open).
 *
 * @example Closing a received fd
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, connectUnix, FdServer } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-close-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * closeFd(conn);
 * closeFd(client);
 * assert.throws(() => closeFd(client)); // EBADF: it is closed
 * ```
 */
export function closeFd(fd: number): void {
  checkFd("close an fd", fd);
  check(native().rmpsc_close(fd), `Cannot close fd ${fd} as close failed`);
}
