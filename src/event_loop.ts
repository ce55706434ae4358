/**
 * `EventLoop`: the seed's thin managed consumer loop — the while-loop every
 * consumer writes, packaged.
 *
 * JavaScript cannot start a thread from an object, so the loop runs where you
 * call it: {@linkcode EventLoop.run} blocks the calling Worker (host it in a
 * Worker of its own, as the seed hosts it in a thread), and
 * {@linkcode EventLoop.spawn} runs it on the event loop, awaiting data
 * without blocking. Both end once the channel is closed (by `stop()` here, or
 * `shutdown()` on the channel from any Worker) and drained. Nothing accepted
 * is lost, even from producers still sending while the loop stops: after the
 * close every commit throws `Closed`, and the channel's wait ends with
 * `Closed` only once no commit is in flight and every ring is empty
 * (src/close_gate.ts), so each send either failed visibly or its item was
 * processed by the loop.
 *
 * @module
 */

import { Closed, TimedOut } from "./errors.ts";
import type { Handler } from "./ring.ts";
import type { WaitOptions } from "./wait_engine.ts";
import { WaitStrategy } from "./wait_strategy.ts";

/** Busy sweeps `spawn()` runs before giving timers and I/O a turn. */
const BUSY_SWEEPS_PER_TURN = 64;

/** What the loop needs of a channel (an `mpsc.Channel` has it all). */
export interface LoopChannel<V> {
  /** Consumes what is readable now. */
  consumeAll(handler: Handler<V>): number;
  /** Closes the channel. */
  shutdown(): void;
  /** Sleeps until something is readable; throws `Closed` once closed, settled and drained. */
  waitReadable(strategy: WaitStrategy): void;
  /** Resolves when something is readable; rejects with `Closed` once closed, settled and drained. */
  readableAsync(options?: WaitOptions): Promise<void>;
}

/**
 * A managed consumer loop over a channel.
 *
 * @example On the event loop
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventLoop, mpsc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, { ringBits: 4 });
 * let sum = 0;
 * const loop = new EventLoop(ch, (x) => sum += x);
 * const done = loop.spawn();
 * ch.register().send([1, 2, 3]);
 * loop.stop();
 * assert.equal(await done, 3);
 * assert.equal(sum, 6);
 * ```
 */
export class EventLoop<V> {
  readonly #channel: LoopChannel<V>;
  readonly #handler: Handler<V>;
  readonly #strategy: WaitStrategy;
  #processed = 0;

  /**
   * Binds a loop to a channel (the seed's `init`).
   *
   * @param channel The channel to consume.
   * @param handler Called once per message.
   * @param strategy How `run()` waits when idle; default blocking.
   */
  constructor(
    channel: LoopChannel<V>,
    handler: (item: V) => void,
    strategy: WaitStrategy = WaitStrategy.blocking,
  ) {
    this.#channel = channel;
    this.#handler = { process: handler };
    this.#strategy = strategy;
  }

  #sweep(): number {
    const n = this.#channel.consumeAll(this.#handler);
    this.#processed += n;
    return n;
  }

  /**
   * Runs the loop in this Worker, blocking it, until the channel is closed and drained.
   *
   * @returns Messages processed in all.
   */
  run(): number {
    for (;;) {
      if (this.#sweep() > 0) continue;
      try {
        this.#channel.waitReadable(this.#strategy);
      } catch (err) {
        if (err instanceof Closed) return this.#processed; // closed, settled and drained
        if (!(err instanceof TimedOut)) throw err;
      }
    }
  }

  /**
   * Runs the loop on the event loop (the seed's `spawn`; awaiting the
   * Promise is its `join`).
   *
   * @returns Messages processed in all, once stopped and drained.
   */
  async spawn(): Promise<number> {
    for (let busy = 0;; busy++) {
      if (this.#sweep() > 0) {
        // between busy sweeps, let other tasks run: microtasks always, timers and I/O now and then
        await (busy % BUSY_SWEEPS_PER_TURN === 0 ? new Promise((r) => setTimeout(r, 0)) : null);
        continue;
      }
      try {
        await this.#channel.readableAsync();
      } catch (err) {
        if (err instanceof Closed) return this.#processed; // closed, settled and drained
        throw err;
      }
    }
  }

  /** Signals stop: shuts the channel down; the loop drains and ends. */
  stop(): void {
    this.#channel.shutdown();
  }

  /**
   * Messages processed so far.
   *
   * @returns The count.
   */
  processed(): number {
    return this.#processed;
  }
}
