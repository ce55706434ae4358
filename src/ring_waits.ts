/**
 * The waiting conveniences of a `Ring` — blocking reserve, send and receive,
 * the Promise forms, the async iterator — written over the ring's protocol
 * (reserve → commit → readable → advance) and the wait engine. `Ring`'s
 * methods of the same names call these; src/ring.ts itself holds only the
 * protocol.
 *
 * @module
 */

import { checkInteger } from "./_validate.ts";
import { Closed } from "./errors.ts";
import type { ElementStore } from "./element.ts";
import type { Reservation } from "./reservation.ts";
import type { Handler, Ring } from "./ring.ts";
import {
  BACKOFF_ROUNDS,
  never,
  Waiter,
  waitForItems,
  waitForItemsAsync,
  type WaitOptions,
  type WaitSpot,
  waitUntil,
  waitUntilAsync,
} from "./wait_engine.ts";
import { WaitStrategy } from "./wait_strategy.ts";

/** What a ring tells its waits about itself, without changing any state. */
export interface RingProbe {
  /** Whether an item is readable now. */
  hasItems(): boolean;
  /** Whether `n` slots are free now. */
  hasRoom(n: number): boolean;
  /** Adds a blocking wait's duration to the ring's metrics, if it keeps them. */
  waited(startedMs: number): void;
}

/**
 * The waits of one ring object: where each side sleeps, and how it checks.
 * Made by the ring; one per `Ring` object.
 */
export class RingWaits<V, S extends ElementStore> {
  readonly #ring: Ring<V, S>;
  readonly #probe: RingProbe;
  readonly #consumerSpot: WaitSpot;
  readonly #producerSpot: WaitSpot;
  readonly #hasItems: () => boolean;
  readonly #isClosed: () => boolean;

  /**
   * Binds the waits to a ring.
   *
   * @param ring The ring.
   * @param probe Its state checks.
   * @param consumerSpot Where its consumers sleep.
   * @param producerSpot Where its producers sleep.
   */
  constructor(ring: Ring<V, S>, probe: RingProbe, consumerSpot: WaitSpot, producerSpot: WaitSpot) {
    this.#ring = ring;
    this.#probe = probe;
    this.#consumerSpot = consumerSpot;
    this.#producerSpot = producerSpot;
    this.#hasItems = () => probe.hasItems();
    this.#isClosed = () => ring.isClosed();
  }

  /** `n` slots free: the condition of a producer's wait; throws `Closed` once closed. */
  #room(n: number): () => boolean {
    return () => {
      if (this.#ring.isClosed()) throw new Closed("Cannot send as the ring is closed");
      return this.#probe.hasRoom(n);
    };
  }

  /** Checks a slot count `n` for `what`: an integer from 1 to the capacity. */
  #checkCount(what: string, n: number): void {
    checkInteger(what, "n", n, 1, this.#ring.capacity());
  }

  /** Waits until an item is readable (see `Ring.waitReadable`). */
  readable(wait: WaitStrategy | WaitOptions): void {
    if (this.#probe.hasItems()) return;
    const started = performance.now();
    try {
      waitForItems(this.#consumerSpot, wait, this.#hasItems, this.#isClosed, "receive");
    } finally {
      this.#probe.waited(started);
    }
  }

  /** Consumes a batch, waiting while the ring is empty (see `Ring.consumeBatchBlocking`). */
  consumeBatch(handler: Handler<V>, wait: WaitStrategy | WaitOptions): number {
    this.readable(wait);
    return this.#ring.consumeBatch(handler);
  }

  /** Reserves `n` slots, waiting while fewer are free (see `Ring.reserveBlocking`). */
  reserve(n: number, wait: WaitStrategy | WaitOptions): Reservation<S> {
    this.#checkCount("reserve", n);
    return this.#reserve(n, wait);
  }

  /** `reserve` with `n` known to be in range. */
  #reserve(n: number, wait: WaitStrategy | WaitOptions): Reservation<S> {
    if (this.#ring.isClosed()) throw new Closed("Cannot reserve as the ring is closed");
    const first = this.#ring.reserve(n);
    if (first !== null) return first;
    this.#writable(n, wait);
    return this.#ring.reserve(n)!; // only this producer takes room: the n free slots stay free
  }

  /** Sends one item, waiting while the ring is full (see `Ring.sendOneBlocking`). */
  sendOne(item: V, wait: WaitStrategy | WaitOptions): void {
    const r = this.#reserve(1, wait);
    this.#ring.element.write(r.array, r.offset, item);
    this.#ring.commit(1);
  }

  /** Waits until `n` slots are free, reserving nothing (see `Ring.waitWritable`). */
  writable(n: number, wait: WaitStrategy | WaitOptions): void {
    this.#checkCount("wait for room", n);
    this.#writable(n, wait);
  }

  /** `writable` with `n` known to be in range. */
  #writable(n: number, wait: WaitStrategy | WaitOptions): void {
    const done = this.#room(n);
    if (done()) return;
    const started = performance.now();
    try {
      waitUntil(this.#producerSpot, wait, done, "send");
    } finally {
      this.#probe.waited(started);
    }
  }

  /**
   * Reserves with spin-then-yield backoff (the engine's `yielding` rounds),
   * `null` if the ring stayed full through them.
   */
  reserveWithBackoff(n: number): Reservation<S> | null {
    this.#checkCount("reserve", n);
    const waiter = new Waiter(WaitStrategy.yielding, "reserve");
    for (let round = 0; round < BACKOFF_ROUNDS; round++) {
      const r = this.#ring.reserve(n);
      if (r !== null) return r;
      waiter.wait(null, never);
    }
    return this.#ring.reserve(n);
  }

  /** Resolves once an item is readable (see `Ring.readableAsync`). */
  readableAsync(options: WaitOptions): Promise<void> {
    return waitForItemsAsync(
      this.#consumerSpot,
      options,
      this.#hasItems,
      this.#isClosed,
      "receive",
    );
  }

  /**
   * Resolves once `n` slots are free (see `Ring.writableAsync`, an async
   * function: a bad `n`, thrown here, rejects its promise).
   */
  writableAsync(n: number, options: WaitOptions): Promise<void> {
    this.#checkCount("wait for room", n);
    return this.#writableAsync(n, options);
  }

  /** `writableAsync` with `n` known to be in range. */
  #writableAsync(n: number, options: WaitOptions): Promise<void> {
    return waitUntilAsync(this.#producerSpot, options, this.#room(n), "send");
  }

  /** Sends one item, awaiting room (see `Ring.sendOneAsync`). */
  async sendOneAsync(item: V, options: WaitOptions): Promise<void> {
    const ring = this.#ring;
    if (ring.isClosed()) throw new Closed("Cannot send as the ring is closed");
    while (!ring.sendOne(item)) await this.#writableAsync(1, options);
  }

  /** Receives one item, awaiting data (see `Ring.recvAsync`). */
  async recvAsync(options: WaitOptions): Promise<V> {
    for (;;) {
      const item = this.#ring.tryRecv();
      if (item !== null) return item;
      await this.readableAsync(options);
    }
  }

  /** Yields every item until the ring is closed and drained. */
  async *items(): AsyncGenerator<V, void, undefined> {
    for (;;) {
      const item = this.#ring.tryRecv();
      if (item !== null) {
        yield item;
        continue;
      }
      try {
        await this.readableAsync({});
      } catch (err) {
        if (err instanceof Closed) return;
        throw err;
      }
    }
  }
}
