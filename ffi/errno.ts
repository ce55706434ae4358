/**
 * Linux errno numbers that the native layer reports or checks, and their
 * names. x86_64 and aarch64 share these numbers (asm-generic/errno).
 *
 * @example Checking a SystemError's errno
 * ```ts
 * import assert from "node:assert/strict";
 * import { Errno, errnoName } from "@ringmpsc/ringmpsc/native";
 * assert.equal(Errno.ENOENT, 2);
 * assert.equal(errnoName(2), "ENOENT");
 * ```
 *
 * @module
 */

/** Errno values by name, for comparing with `SystemError.errno`. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
} as const;

const names: Map<number, string> = new Map(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

/**
 * Returns the symbolic name of a positive errno value.
 *
 * @param errno A positive errno value, such as 2.
 * @returns The name, such as `"ENOENT"`, or `"errno N"` for a value this
 * table does not name.
 *
 * @example Naming an errno
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoName } from "@ringmpsc/ringmpsc/native";
 * assert.equal(errnoName(110), "ETIMEDOUT");
 * ```
 */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}
