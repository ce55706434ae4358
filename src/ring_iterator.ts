/**
 * `RingIterator`: walks a ring's readable items without consuming them, then
 * consumes everything it yielded with one head update.
 *
 * @module
 */

/**
 * Iterates a ring's readable items without consuming them; `finish()`
 * consumes everything yielded so far with one head update.
 *
 * @example Iterate, then finish
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, u8 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u8, { ringBits: 3 });
 * ring.send([1, 2, 3]);
 * const it = ring.iterator();
 * for (const x of it) if (x === 2) break;
 * assert.equal(it.finish(), 2);
 * assert.equal(ring.len(), 1);
 * ```
 */
export class RingIterator<V> implements IterableIterator<V> {
  readonly #available: number;
  readonly #read: (i: number) => V;
  readonly #consume: (n: number) => void;
  #yielded = 0;
  #finished = false;

  /**
   * Made by {@linkcode Ring.iterator}.
   *
   * @param available Items readable when the iterator was made.
   * @param read Reads the i-th readable item.
   * @param consume Publishes the head past n items.
   */
  constructor(available: number, read: (i: number) => V, consume: (n: number) => void) {
    this.#available = available;
    this.#read = read;
    this.#consume = consume;
  }

  /**
   * The next item, consumed only by `finish()`.
   *
   * @returns The iterator result.
   */
  next(): IteratorResult<V> {
    if (this.#finished || this.#yielded >= this.#available) return { done: true, value: undefined };
    return { done: false, value: this.#read(this.#yielded++) };
  }

  /**
   * Consumes every item yielded so far; later calls do nothing.
   *
   * @returns Items consumed.
   */
  finish(): number {
    if (this.#finished) return 0;
    this.#finished = true;
    this.#consume(this.#yielded);
    return this.#yielded;
  }

  /**
   * Itself, so it works with `for … of`.
   *
   * @returns This iterator.
   */
  [Symbol.iterator](): this {
    return this;
  }
}
