/**
 * Internal: argument checks and NUL-terminated UTF-8 strings for the native
 * helper's `const char *` parameters.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Encodes `text` as UTF-8 followed by one NUL byte.
 *
 * @param text The string to encode; it must not contain a NUL character.
 * @param what What the string is, for the error message (e.g. "path").
 * @returns The encoded bytes, NUL included.
 * @throws {TypeError} When `text` is not a string or contains a NUL character.
 */
export function cString(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot use ${what} as it must be a string: received ${typeof text}`);
  }
  if (text.includes("\0")) {
    throw new TypeError(
      `Cannot use ${what} as it must not contain NUL: received ${JSON.stringify(text)}`,
    );
  }
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/**
 * Throws a RangeError unless `fd` is a non-negative 32-bit integer.
 *
 * @param fd The value to check.
 * @param action What the caller tried, e.g. "attach shared memory".
 * @throws {RangeError} When `fd` is not a non-negative 32-bit integer.
 */
export function assertFd(fd: number, action: string): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new RangeError(
      `Cannot ${action} as the fd must be a non-negative integer: received ${fd}`,
    );
  }
}
