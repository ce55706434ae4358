/**
 * Internal: checking a Unix socket path and encoding it for the helper.
 *
 * @module
 */

import { cString } from "./_args.ts";

/** Longest socket path in bytes (sun_path holds 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Encodes a socket path as a NUL-terminated C string.
 *
 * @param path The path, 1 to 107 bytes of UTF-8.
 * @param action What the caller tried, e.g. "listen".
 * @returns The bytes, NUL included.
 * @throws {TypeError} When `path` is not a string or contains NUL.
 * @throws {RangeError} When it is empty or too long.
 */
export function socketPath(path: string, action: string): Uint8Array<ArrayBuffer> {
  const bytes = cString(path, "the socket path");
  if (bytes.length < 2 || bytes.length - 1 > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(
      `Cannot ${action} as the socket path must be 1 to ${MAX_SOCKET_PATH_BYTES} bytes long: ` +
        `received ${bytes.length - 1} bytes (${JSON.stringify(path)})`,
    );
  }
  return bytes;
}
