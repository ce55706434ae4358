/**
 * Blocking wrappers with a timeout (the seed's `blocking` module) —
 * `sendBlocking`, `recvBlocking`, `stealBlocking` — and their Promise forms
 * for code on an event loop: `sendAsync`, `recvAsync`, `stealAsync`.
 *
 * They work with anything that has the methods they need (duck typing, as the
 * seed's comptime wrappers do): `sendOne` and `isClosed` to send, `tryRecv` or
 * `recvOne` and `isClosed` to receive. Between retries they sleep on the
 * peer's futex word through the target's own wait when it offers one
 * (`waitReadable`/`waitWritable`, as `Ring` does), else the wait engine
 * polls. Every wait takes `{ timeoutMs, signal }`.
 *
 * @module
 */

import { Closed, TimedOut } from "./errors.ts";
import { checkWaitOptions, never, Waiter, type WaitOptions } from "./wait_engine.ts";
import type { WaitStrategy } from "./wait_strategy.ts";

/**
 * How long a blocking call may wait: the library's {@linkcode WaitOptions}
 * (`timeoutMs`, `signal`). The seed's `Timeout` union, in milliseconds.
 */
export type Timeout = WaitOptions;

/** The builders of {@linkcode Timeout}. */
export interface TimeoutBuilders {
  /** Block forever. */
  readonly unlimited: Timeout;
  /** Block at most `ms` milliseconds. */
  ms(ms: number): Timeout;
}

/**
 * Builders for {@linkcode Timeout}.
 *
 * @example A 5 ms timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timeout } from "@ringmpsc/ringmpsc";
 * assert.deepEqual(Timeout.ms(5), { timeoutMs: 5 });
 * ```
 */
export const Timeout: TimeoutBuilders = Object.freeze({
  /** Block forever. */
  unlimited: Object.freeze({}) as Timeout,
  /**
   * Block at most `ms` milliseconds.
   *
   * @param ms The limit (fractions allowed; `Infinity` for none).
   * @returns The timeout.
   * @throws {RangeError} If `ms` is NaN or negative.
   * @throws {TypeError} If `ms` is not a number.
   */
  ms(ms: number): Timeout {
    const timeout = Object.freeze({ timeoutMs: ms });
    checkWaitOptions(timeout, "make timeout");
    return timeout;
  },
});

/** What {@linkcode sendBlocking} needs of a sender. */
export interface BlockingSender<V> {
  /** Sends one item if there is room. */
  sendOne(item: V): boolean;
  /** Whether the target was closed. */
  isClosed(): boolean;
  /** Sleeps until `n` slots are free (optional). */
  waitWritable?(n: number, wait: WaitStrategy | WaitOptions): void;
}

/** What {@linkcode recvBlocking} needs of a receiver: `tryRecv` or `recvOne`, and `isClosed`. */
export interface BlockingReceiver<V> {
  /** Receives one item, or `null`. */
  tryRecv?(): V | null;
  /** Receives one item, or `null`. */
  recvOne?(): V | null;
  /** Whether the source was closed. */
  isClosed(): boolean;
  /** Sleeps until an item is readable (optional). */
  waitReadable?(wait: WaitStrategy | WaitOptions): void;
}

/**
 * The retry loop of every wrapper, written once for both drivers: tries,
 * applies the closed rule (a closed target may still hold items: one more
 * try), and otherwise yields the wait to make next — the time left and the
 * signal — or throws `TimedOut` once none is left.
 */
function* retries<R>(
  attempt: () => R | null,
  isClosed: () => boolean,
  timeout: Timeout,
  what: string,
): Generator<WaitOptions, R> {
  const strategy = checkWaitOptions(timeout, what);
  const deadline = performance.now() +
    (strategy.kind === "timedBlocking" ? strategy.timeoutMs : Infinity);
  for (;;) {
    timeout.signal?.throwIfAborted();
    const r = attempt();
    if (r !== null) return r;
    if (isClosed()) {
      const last = attempt();
      if (last !== null) return last;
      throw new Closed(`Cannot ${what} as the channel is closed`);
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new TimedOut(`Cannot ${what} as the timeout passed`);
    yield { timeoutMs: left, signal: timeout.signal };
  }
}

/** A target's own wait may end with `Closed`: the next try decides. */
function unlessClosed(err: unknown): void {
  if (!(err instanceof Closed)) throw err;
}

/** One try at sending `item`: `true` when sent, `null` to retry (full, or closed). */
function sendAttempt<V>(sender: BlockingSender<V>, item: V): () => true | null {
  return () => (sender.isClosed() ? null : sender.sendOne(item) ? true : null);
}

/** One try at receiving: the item, or `null` to retry. */
function recvAttempt<V>(receiver: BlockingReceiver<V>): () => V | null {
  return receiver.tryRecv !== undefined ? () => receiver.tryRecv!() : () => receiver.recvOne!();
}

/** One try at stealing into `out`: the count, or `null` to retry. */
function stealAttempt<V>(
  consumer: BlockingStealer<V>,
  out: { length: number; [i: number]: V },
): () => number | null {
  return () => {
    const n = consumer.steal(out);
    return n === 0 ? null : n;
  };
}

/**
 * Runs `attempt` until it returns non-null (the sync driver of
 * {@linkcode retries}); between tries `park` sleeps on the target's own futex
 * word when it has one, else the engine polls (spin, then yield).
 */
export function retryBlocking<R>(
  attempt: () => R | null,
  isClosed: () => boolean,
  park: ((wait: WaitOptions) => void) | undefined,
  timeout: Timeout,
  what: string,
): R {
  const steps = retries(attempt, isClosed, timeout, what);
  const poll = new Waiter(timeout, what);
  for (let step = steps.next();; step = steps.next()) {
    if (step.done) return step.value;
    try {
      if (park === undefined) poll.wait(null, never);
      else park(step.value);
    } catch (err) {
      unlessClosed(err);
    }
  }
}

/**
 * Sends one item, waiting for room up to `timeout`.
 *
 * @param sender A ring, producer or anything with `sendOne` and `isClosed`.
 * @param item The item.
 * @param timeout How long to wait; default unlimited.
 * @throws {Closed} If the target is closed.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example Send with a deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, sendBlocking, Timeout, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 2 });
 * sendBlocking(ring, 42, Timeout.ms(1));
 * assert.equal(ring.tryRecv(), 42);
 * ```
 */
export function sendBlocking<V>(
  sender: BlockingSender<V>,
  item: V,
  timeout: Timeout = Timeout.unlimited,
): void {
  retryBlocking(
    sendAttempt(sender, item),
    () => sender.isClosed(),
    sender.waitWritable === undefined ? undefined : (w) => sender.waitWritable!(1, w),
    timeout,
    "send",
  );
}

/**
 * Receives one item, waiting for data up to `timeout`.
 *
 * @param receiver A ring, channel or anything with `tryRecv`/`recvOne` and `isClosed`.
 * @param timeout How long to wait; default unlimited.
 * @returns The item.
 * @throws {Closed} If the source is closed and drained.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example Receive with a deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { recvBlocking, Ring, Timeout, TimedOut, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 2 });
 * try {
 *   recvBlocking(ring, Timeout.ms(1));
 * } catch (err) {
 *   assert.ok(err instanceof TimedOut);
 * }
 * ```
 */
export function recvBlocking<V>(
  receiver: BlockingReceiver<V>,
  timeout: Timeout = Timeout.unlimited,
): V {
  return retryBlocking(
    recvAttempt(receiver),
    () => receiver.isClosed(),
    receiver.waitReadable === undefined ? undefined : (w) => receiver.waitReadable!(w),
    timeout,
    "receive",
  );
}

/** What {@linkcode stealBlocking} needs of a consumer. */
export interface BlockingStealer<V> {
  /** Claims items into `out`. */
  steal(out: { length: number; [i: number]: V }): number;
  /** Whether the source was closed. */
  isClosed(): boolean;
  /** Sleeps until an item is readable (optional). */
  waitReadable?(wait: WaitStrategy | WaitOptions): void;
}

/**
 * Steals into `out`, waiting for data up to `timeout` (SPMC and MPMC consumers).
 *
 * @param consumer A consumer with `steal` and `isClosed`.
 * @param out Where the items go.
 * @param timeout How long to wait; default unlimited.
 * @returns Items stolen (at least 1).
 * @throws {Closed} If the source is closed and drained.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spmc, stealBlocking, Timeout, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new spmc.Channel(u32, { ringBits: 4 });
 * ch.send([1, 2]);
 * assert.equal(stealBlocking(ch.registerConsumer(), new Uint32Array(4), Timeout.ms(1)), 2);
 * ```
 */
export function stealBlocking<V>(
  consumer: BlockingStealer<V>,
  out: { length: number; [i: number]: V },
  timeout: Timeout = Timeout.unlimited,
): number {
  return retryBlocking(
    stealAttempt(consumer, out),
    () => consumer.isClosed(),
    consumer.waitReadable === undefined ? undefined : (w) => consumer.waitReadable!(w),
    timeout,
    "steal",
  );
}

/** What the async wrappers can await on a target (each optional). */
export interface AsyncWaits {
  /** Resolves once something is readable. */
  readableAsync?(options?: WaitOptions): Promise<void>;
  /** Resolves once `n` slots are free. */
  writableAsync?(n: number, options?: WaitOptions): Promise<void>;
}

/**
 * The event-loop form of {@linkcode retryBlocking}: never blocks the thread.
 * Between tries it awaits the target's own wait when it has one, else the
 * engine's timer poll.
 */
async function retryAsync<R>(
  attempt: () => R | null,
  isClosed: () => boolean,
  park: ((wait: WaitOptions) => Promise<void>) | undefined,
  options: WaitOptions,
  what: string,
): Promise<R> {
  const steps = retries(attempt, isClosed, options, what);
  const poll = new Waiter(options, what);
  for (let step = steps.next();; step = steps.next()) {
    if (step.done) return step.value;
    await (park?.(step.value) ?? poll.waitAsync(null, never)).catch(unlessClosed);
  }
}

/**
 * Sends one item, awaiting room without blocking the event loop.
 *
 * @param sender A ring, producer or anything with `sendOne` and `isClosed`
 * (and, for a wait without polling, `writableAsync`).
 * @param item The item.
 * @param options Timeout (ms) and abort signal.
 * @throws {Closed} If the target is closed.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, sendAsync, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 2 });
 * await sendAsync(ring, 9, { timeoutMs: 1 });
 * assert.equal(ring.len(), 1);
 * ```
 */
export async function sendAsync<V>(
  sender: BlockingSender<V> & AsyncWaits,
  item: V,
  options: WaitOptions = {},
): Promise<void> {
  await retryAsync(
    sendAttempt(sender, item),
    () => sender.isClosed(),
    sender.writableAsync === undefined ? undefined : (o) => sender.writableAsync!(1, o),
    options,
    "send",
  );
}

/**
 * Receives one item, awaiting data without blocking the event loop.
 *
 * @param receiver A ring, channel or anything with `tryRecv`/`recvOne` and
 * `isClosed` (and, for a wait without polling, `readableAsync`).
 * @param options Timeout (ms) and abort signal.
 * @returns The item.
 * @throws {Closed} If the source is closed and drained.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, recvAsync, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, { ringBits: 4 });
 * setTimeout(() => ch.register().sendOne(5), 1);
 * assert.equal(await recvAsync(ch), 5);
 * ```
 */
export function recvAsync<V>(
  receiver: BlockingReceiver<V> & AsyncWaits,
  options: WaitOptions = {},
): Promise<V> {
  return retryAsync(
    recvAttempt(receiver),
    () => receiver.isClosed(),
    receiver.readableAsync === undefined ? undefined : (o) => receiver.readableAsync!(o),
    options,
    "receive",
  );
}

/**
 * Steals into `out`, awaiting data without blocking the event loop (SPMC and
 * MPMC consumers).
 *
 * @param consumer A consumer with `steal` and `isClosed` (and `readableAsync`).
 * @param out Where the items go.
 * @param options Timeout (ms) and abort signal.
 * @returns Items stolen (at least 1).
 * @throws {Closed} If the source is closed and drained.
 * @throws {TimedOut} If the timeout passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spmc, stealAsync, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new spmc.Channel(u32, { ringBits: 4 });
 * const c = ch.registerConsumer();
 * setTimeout(() => ch.send([1, 2]), 1);
 * assert.equal(await stealAsync(c, new Uint32Array(4)), 2);
 * ```
 */
export function stealAsync<V>(
  consumer: BlockingStealer<V> & AsyncWaits,
  out: { length: number; [i: number]: V },
  options: WaitOptions = {},
): Promise<number> {
  return retryAsync(
    stealAttempt(consumer, out),
    () => consumer.isClosed(),
    consumer.readableAsync === undefined ? undefined : (o) => consumer.readableAsync!(o),
    options,
    "steal",
  );
}
