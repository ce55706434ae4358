/**
 * Internal: reads small text files through the native helper, for sysfs and
 * procfs files that Deno's own file API refuses without `--allow-all`.
 *
 * @module
 */

import { native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { cString } from "./_args.ts";

/** The most bytes read from one file: 16 MiB. */
const MAX_BYTES = 1 << 24;

const decoder = new TextDecoder();

/**
 * Reads a whole text file.
 *
 * @param path The file's path.
 * @returns Its contents, or `undefined` when it does not exist.
 * @throws {SystemError} When it cannot be read, or is over 16 MiB (EFBIG).
 */
export function readTextFile(path: string): string | undefined {
  const name = cString(path, "the path");
  for (let capacity = 1 << 16; capacity <= MAX_BYTES; capacity *= 4) {
    const buffer = new Uint8Array(capacity);
    const n = native().rmpsc_read_file(name, buffer, capacity);
    if (n === -Errno.ENOENT || n === -Errno.ENOTDIR) return undefined;
    if (n < 0) throw systemError(n, `Cannot read ${JSON.stringify(path)} as open or read failed`);
    if (n < capacity) return decoder.decode(buffer.subarray(0, n));
  }
  throw systemError(Errno.EFBIG, `Cannot read ${JSON.stringify(path)} as it is over 16 MiB`);
}
