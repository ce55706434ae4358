/**
 * Internal: NUL-terminated UTF-8 strings for the native
 * helper's `const char *` parameters.
 *
 * @module
 */

import { checkString } from "../_validate.ts";

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
  checkString(`use ${what}`, "it", text);
  if (text.includes("\0")) {
    throw new TypeError(
      `Cannot use ${what} as it must not contain NUL: received ${JSON.stringify(text)}`,
    );
  }
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}
