/**
 * The MPSC channel's producer handles: `Producer` and `ProducerExt`.
 *
 * A producer owns one SPSC ring of the channel; every method delegates to
 * that ring, so producers never contend with each other.
 *
 * @module
 */

import { Backoff } from "../backoff.ts";
import type { ElementStore } from "../element.ts";
import type { Reservation } from "../reservation.ts";
import type { Ring } from "../ring.ts";
import type { WaitOptions } from "../waiter.ts";
import { WaitStrategy } from "../wait_strategy.ts";

/**
 * A registered producer: its ring and id. Use it from one thread at a time.
 *
 * @example Sending through a producer
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, { ringBits: 4 });
 * const p = ch.register();
 * p.send([1, 2]);
 * assert.ok(p.sendOne(3));
 * assert.equal(ch.totalPending(), 3);
 * ```
 */
export class Producer<V, S extends ElementStore> {
  /** The producer's id: the index of its ring in the channel. */
  readonly id: number;
  /** The producer's own SPSC ring. */
  readonly ring: Ring<V, S>;

  /**
   * Made by `Channel.register`.
   *
   * @param id The ring index.
   * @param ring The ring.
   */
  constructor(id: number, ring: Ring<V, S>) {
    this.id = id;
    this.ring = ring;
  }

  /**
   * Reserves up to `n` contiguous slots (see `Ring.reserve`).
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if fewer than `n` slots are free.
   */
  reserve(n: number): Reservation<S> | null {
    return this.ring.reserve(n);
  }

  /**
   * Publishes `n` reserved slots.
   *
   * @param n Slots written.
   */
  commit(n: number): void {
    this.ring.commit(n);
  }

  /**
   * Sends as many items as fit.
   *
   * @param items The items.
   * @returns How many were sent.
   */
  send(items: ArrayLike<V>): number {
    return this.ring.send(items);
  }

  /**
   * Sends one item if there is room.
   *
   * @param item The item.
   * @returns `true` if sent.
   */
  sendOne(item: V): boolean {
    return this.ring.sendOne(item);
  }

  /**
   * Reserves with adaptive backoff.
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if the ring stayed full.
   */
  reserveWithBackoff(n: number): Reservation<S> | null {
    return this.ring.reserveWithBackoff(n);
  }

  /**
   * Waits as `strategy` says until `n` slots are free (lets `sendBlocking`
   * sleep on the ring's futex word).
   *
   * @param n Slots wanted.
   * @param strategy How to wait; default blocking.
   * @throws {Closed} If the ring is closed.
   */
  waitWritable(n: number, strategy: WaitStrategy = WaitStrategy.blocking): void {
    this.ring.waitWritable(n, strategy);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop.
   *
   * @param n Slots wanted.
   * @param options Timeout and abort signal.
   * @throws {Closed} If the ring is closed.
   */
  writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    return this.ring.writableAsync(n, options);
  }

  /**
   * Whether the channel (or this producer's ring) was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.ring.isClosed();
  }
}

/**
 * A producer with blocking operations.
 *
 * @example Blocking batch send
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, { ringBits: 4 });
 * const p = ch.registerExt();
 * assert.equal(p.sendBlocking([1, 2, 3]), 3);
 * assert.equal(p.availableCapacity(), 13);
 * ```
 */
export class ProducerExt<V, S extends ElementStore> extends Producer<V, S> {
  /**
   * Sends all of `items`, backing off while the ring is full; stops early when
   * the channel closes or the backoff completes without progress.
   *
   * @param items The items.
   * @returns How many were sent.
   */
  sendBlocking(items: ArrayLike<V>): number {
    const backoff = new Backoff();
    let sent = 0;
    const rest = ArrayBuffer.isView(items)
      ? (from: number) => (items as unknown as Uint8Array).subarray(from) as unknown as ArrayLike<V>
      : (from: number) => Array.prototype.slice.call(items, from) as V[];
    while (sent < items.length && !this.ring.isClosed()) {
      const n = this.ring.send(sent === 0 ? items : rest(sent));
      if (n > 0) {
        sent += n;
        backoff.reset();
      } else if (backoff.isCompleted()) break;
      else backoff.snooze();
    }
    return sent;
  }

  /**
   * Free slots in this producer's ring.
   *
   * @returns Capacity minus current length.
   */
  availableCapacity(): number {
    return this.ring.capacity() - this.ring.len();
  }
}
