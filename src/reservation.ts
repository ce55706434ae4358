/**
 * The zero-copy windows a ring hands out: {@linkcode Reservation} for writing
 * and {@linkcode Region} for reading.
 *
 * Each ring owns one of each and returns the same object on every call, so
 * the hot path allocates nothing. A window names a run of slots of the ring's
 * whole data store: slots `offset … offset + length - 1` of `array`. Write
 * `r.array[r.offset + i]` (numbers) or `r.array.at(r.offset + i).field`
 * (records) directly; `slice` makes a standalone view when convenience beats
 * speed.
 *
 * @module
 */

import type { ElementStore } from "./element.ts";

/**
 * A contiguous run of slots of a ring's data store. Valid until the next call
 * that hands out a window of the same kind on the same ring.
 *
 * @example Reading a region
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 4 });
 * ring.send([7, 8, 9]);
 * const region = ring.readable()!;
 * let sum = 0;
 * for (let i = 0; i < region.length; i++) sum += region.array[region.offset + i];
 * ring.advance(region.length);
 * assert.equal(sum, 24);
 * ```
 */
export class Region<S extends ElementStore> {
  /** The ring's whole data store. */
  readonly array: S;
  /** Index in `array` of the first slot of the window. */
  offset = 0;
  /** Number of slots in the window; never crosses the end of the store. */
  length = 0;

  /**
   * Creates a window over a data store; rings make these, users do not.
   *
   * @param array The ring's data store.
   */
  constructor(array: S) {
    this.array = array;
  }

  /**
   * A standalone view of just the window's slots (TypedArray `subarray`, or a
   * list of records). Allocates.
   *
   * @returns The window's slots.
   */
  get slice(): S extends { subarray(a: number, b: number): infer R } ? R
    : ReturnType<S["at"]>[] {
    const a = this.array as ElementStore;
    if ("subarray" in a) return a.subarray(this.offset, this.offset + this.length) as never;
    return Array.from({ length: this.length }, (_, i) => a.get(this.offset + i)) as never;
  }
}

/**
 * A writable window from `reserve`: fill it, then `commit(k)` with `k` up to
 * `length`. `pos` is the ring position of its first slot (unsigned, modulo 2^32).
 *
 * @example Writing through a reservation
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, f64 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(f64, { ringBits: 4 });
 * const r = ring.reserve(2)!;
 * r.array[r.offset] = 1.5;
 * r.array[r.offset + 1] = 2.5;
 * ring.commit(2);
 * assert.equal(ring.len(), 2);
 * ```
 */
export class Reservation<S extends ElementStore> extends Region<S> {
  /** Ring position of the first reserved slot, unsigned modulo 2^32. */
  pos = 0;
}
