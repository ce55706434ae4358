/**
 * The MPSC channel's producer handles: `Producer` and `ProducerExt`.
 *
 * A producer owns one SPSC ring of the channel; every method delegates to
 * that ring, so producers never contend with each other. Once deregistered
 * (`deregister()`, `Channel.deregister`, or `using`), its ring goes back to
 * the channel for reuse and every method throws `Closed`.
 *
 * @module
 */

import type { ElementStore } from "../element.ts";
import { Closed } from "../errors.ts";
import type { Reservation } from "../reservation.ts";
import type { Ring } from "../ring.ts";
import { BACKOFF_ROUNDS, never, Waiter, type WaitOptions } from "../wait_engine.ts";
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
  /** The producer's own SPSC ring (while registered: after `deregister()` another producer may own it). */
  readonly ring: Ring<V, S>;
  readonly #retire: (producer: Producer<V, S>) => void;
  #retired = false;

  /**
   * Made by `Channel.register`.
   *
   * @param id The ring index.
   * @param ring The ring.
   * @param retire Hands the ring back to the channel (called once, by `deregister`).
   */
  constructor(id: number, ring: Ring<V, S>, retire: (producer: Producer<V, S>) => void) {
    this.id = id;
    this.ring = ring;
    this.#retire = retire;
  }

  /**
   * The ring, unless this producer was deregistered.
   *
   * @returns The ring.
   * @throws {Closed} If this producer was deregistered.
   */
  protected live(): Ring<V, S> {
    if (this.#retired) {
      throw new Closed(`Cannot use producer ${this.id} as it was deregistered`);
    }
    return this.ring;
  }

  /**
   * Deregisters this producer (idempotent): closes its ring to it, waiting out
   * a commit in flight; what the ring holds is still delivered, and once the
   * consumer has drained it the ring goes to the next producer that
   * registers. Call it from this producer's Worker after its last send.
   */
  deregister(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#retire(this);
  }

  /** Same as {@linkcode Producer.deregister}, for `using`. */
  [Symbol.dispose](): void {
    this.deregister();
  }

  /**
   * Reserves up to `n` contiguous slots (see `Ring.reserve`).
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if fewer than `n` slots are free.
   */
  reserve(n: number): Reservation<S> | null {
    return this.live().reserve(n);
  }

  /**
   * Publishes `n` reserved slots.
   *
   * @param n Slots written.
   */
  commit(n: number): void {
    this.live().commit(n);
  }

  /**
   * Sends as many items as fit.
   *
   * @param items The items.
   * @returns How many were sent.
   */
  send(items: ArrayLike<V>): number {
    return this.live().send(items);
  }

  /**
   * Sends one item if there is room.
   *
   * @param item The item.
   * @returns `true` if sent.
   */
  sendOne(item: V): boolean {
    return this.live().sendOne(item);
  }

  /**
   * Reserves with adaptive backoff.
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if the ring stayed full.
   */
  reserveWithBackoff(n: number): Reservation<S> | null {
    return this.live().reserveWithBackoff(n);
  }

  /**
   * Waits as `strategy` says until `n` slots are free (lets `sendBlocking`
   * sleep on the ring's futex word).
   *
   * @param n Slots wanted.
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed.
   */
  waitWritable(n: number, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.live().waitWritable(n, wait);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop.
   *
   * @param n Slots wanted.
   * @param options Timeout and abort signal.
   * @throws {Closed} If the ring is closed.
   */
  writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    return this.live().writableAsync(n, options);
  }

  /**
   * Whether the channel (or this producer's ring) was closed, or this producer deregistered.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#retired || this.ring.isClosed();
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
   * @throws {Closed} If this producer was deregistered.
   */
  sendBlocking(items: ArrayLike<V>): number {
    const backoff = new Waiter(WaitStrategy.yielding, "send");
    let sent = 0;
    const rest = ArrayBuffer.isView(items)
      ? (from: number) => (items as unknown as Uint8Array).subarray(from) as unknown as ArrayLike<V>
      : (from: number) => Array.prototype.slice.call(items, from) as V[];
    const ring = this.live();
    for (let idle = 0; sent < items.length && !ring.isClosed();) {
      let n: number;
      try {
        n = ring.send(sent === 0 ? items : rest(sent));
      } catch (err) {
        if (err instanceof Closed) break; // closed under us: `sent` items were accepted
        throw err;
      }
      if (n > 0) {
        sent += n;
        idle = 0;
        backoff.reset();
      } else if (idle++ === BACKOFF_ROUNDS) break;
      else backoff.wait(null, never);
    }
    return sent;
  }

  /**
   * Free slots in this producer's ring.
   *
   * @returns Capacity minus current length.
   */
  availableCapacity(): number {
    const ring = this.live();
    return ring.capacity() - ring.len();
  }
}
