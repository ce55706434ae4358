/**
 * The API fuzz's shared parts: the values a hostile caller passes where a
 * count, a limit, an offset, an array or a handler belongs, and the check that
 * a refused call changed nothing — it throws a RangeError or TypeError and
 * every byte of the shared memory is as it was.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";

/** Not an exact count anywhere: wrong kind, NaN, fractions, infinities, negatives, past 2^31. */
export const badCount: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  NaN,
  -1,
  -0.5,
  0.5,
  1.5,
  Infinity,
  -Infinity,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53 + 2,
  -(2 ** 32),
  "1",
  "",
  null,
  undefined,
  1n,
  true,
  {},
  [1],
);

/** Not a limit ("at most n"; an integer ≥ 0 or Infinity). */
export const badLimit: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  NaN,
  -1,
  -0.5,
  0.5,
  -Infinity,
  2 ** 53 + 2,
  "1",
  null,
  1n,
  false,
  {},
);

/** Not an array-like: wrong kinds, strings, and lengths that are not safe integers ≥ 0. */
export const badArrayLike: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  null,
  undefined,
  5,
  "abc",
  {},
  { length: -1 },
  { length: 1.5 },
  { length: NaN },
  { length: Infinity },
  { length: "2" },
  { length: 2 ** 53 },
);

/** Not a handler `{ process(item) }`. */
export const badHandler: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  null,
  undefined,
  5,
  {},
  { process: 1 },
  () => {},
);

/** Every `SharedArrayBuffer` reachable from a handle, in a stable order. */
export function sharedBuffers(
  handle: unknown,
  found: SharedArrayBuffer[] = [],
): SharedArrayBuffer[] {
  if (handle instanceof SharedArrayBuffer) {
    if (!found.includes(handle)) found.push(handle);
  } else if (typeof handle === "object" && handle !== null && !ArrayBuffer.isView(handle)) {
    for (const value of Object.values(handle)) sharedBuffers(value, found);
  }
  return found;
}

/** A copy of every byte of `buffers`. */
export function snapshot(buffers: readonly SharedArrayBuffer[]): Uint8Array[] {
  return buffers.map((b) => new Uint8Array(b).slice());
}

/** Counts of what the fuzzers did, for the report. */
export const tally = { valid: 0, refused: 0 };

/**
 * Runs a call that must be refused: it throws a RangeError or a TypeError, and
 * not one byte of `buffers` changes.
 *
 * @param what The call, for the failure message.
 * @param buffers The shared memory the call could touch.
 * @param call The call.
 */
export function refused(
  what: string,
  buffers: readonly SharedArrayBuffer[],
  call: () => unknown,
): void {
  const before = snapshot(buffers);
  assert.throws(call, (error: unknown) => {
    assert.ok(
      error instanceof RangeError || error instanceof TypeError,
      `${what} must throw a RangeError or TypeError: received ${error}`,
    );
    assert.match((error as Error).message, /^Cannot /, `${what}: std's voice`);
    return true;
  }, `${what} must be refused`);
  assert.deepEqual(snapshot(buffers), before, `${what} changed shared memory`);
  tally.refused++;
}

/** A record of one valid call, counted for the report. */
export function accepted(): void {
  tally.valid++;
}

/** The handler the fuzzers consume with: it collects what it is given. */
export function collector(): { items: number[]; process(item: number): void } {
  return {
    items: [],
    process(item: number) {
      this.items.push(item);
    },
  };
}
