/**
 * Payload stamping shared by the large-message benchmarks (bench/buffer_pool.ts,
 * bench/broadcast.ts): every payload carries its number in its first four
 * bytes and the complement in its last four, so a consumer catches a lost,
 * duplicated, reordered or torn payload without reading all of it.
 *
 * @module
 */

/**
 * A wall-clock reading comparable across the Workers of one process.
 *
 * @returns Milliseconds since the epoch, fractional.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Writes `n` at the start and `~n` at the end of a `size`-byte payload at `o`.
 *
 * @param a The bytes.
 * @param o Where the payload starts.
 * @param size The payload's length (at least 8).
 * @param n The payload's number.
 */
export function stamp(a: Uint8Array, o: number, size: number, n: number): void {
  a[o] = n;
  a[o + 1] = n >>> 8;
  a[o + 2] = n >>> 16;
  a[o + 3] = n >>> 24;
  const e = o + size - 4;
  a[e] = ~n;
  a[e + 1] = ~n >>> 8;
  a[e + 2] = ~n >>> 16;
  a[e + 3] = ~n >>> 24;
}

/**
 * Reads a payload's number back.
 *
 * @param a The bytes.
 * @param o Where the payload starts.
 * @param size The payload's length.
 * @returns The number, or -1 if its two stamps disagree (a torn payload).
 */
export function stamped(a: Uint8Array, o: number, size: number): number {
  const n = (a[o] | (a[o + 1] << 8) | (a[o + 2] << 16) | (a[o + 3] << 24)) >>> 0;
  const e = o + size - 4;
  const m = (a[e] | (a[e + 1] << 8) | (a[e + 2] << 16) | (a[e + 3] << 24)) >>> 0;
  return m === (~n >>> 0) ? n : -1;
}
