/**
 * Internal: reads small files through the native helper, for sysfs and
 * procfs files that Deno's own file API refuses without `--allow-all`, and
 * for the first bytes of a memfd without mapping it.
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
 * Reads the first `capacity` bytes of a file with read(2) (a file shorter
 * than that gives fewer bytes). Reading, unlike mapping, cannot fault when a
 * peer truncates the file meanwhile.
 *
 * @param path The file's path (e.g. `/proc/self/fd/7`).
 * @param capacity The most bytes to read.
 * @returns The bytes read, or `undefined` when the file does not exist.
 * @throws {SystemError} When it cannot be opened or read.
 */
export function readFileStart(path: string, capacity: number): Uint8Array | undefined {
  const buffer = new Uint8Array(capacity);
  const n = native().rmpsc_read_file(cString(path, "the path"), buffer, capacity);
  if (n === -Errno.ENOENT || n === -Errno.ENOTDIR) return undefined;
  if (n < 0) throw systemError(n, `Cannot read ${JSON.stringify(path)} as open or read failed`);
  return buffer.subarray(0, n);
}

/**
 * Reads a whole text file.
 *
 * @param path The file's path.
 * @returns Its contents, or `undefined` when it does not exist.
 * @throws {SystemError} When it cannot be read, or is over 16 MiB (EFBIG).
 */
export function readTextFile(path: string): string | undefined {
  for (let capacity = 1 << 16; capacity <= MAX_BYTES; capacity *= 4) {
    const bytes = readFileStart(path, capacity);
    if (bytes === undefined || bytes.length < capacity) return bytes && decoder.decode(bytes);
  }
  throw systemError(Errno.EFBIG, `Cannot read ${JSON.stringify(path)} as it is over 16 MiB`);
}
