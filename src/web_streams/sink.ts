/**
 * `StreamSink`: the small interface {@linkcode toWritableStream} writes to,
 * and `streamSink`, which fits every producer side of the library to it
 * (Ring, SharedRing, MessageRing, mpsc, spmc and mpmc producers, broadcast
 * producers).
 *
 * @module
 */

import type { WaitOptions } from "../wait_engine.ts";
import { MessageRing } from "../message_ring.ts";
import { describe } from "../_validate.ts";
import { Closed } from "../errors.ts";
import { pause } from "../_pause.ts";

/** What a writable stream needs of a producer side. */
export interface StreamSink<T> {
  /**
   * Sends `chunk` if there is room now; never waits.
   *
   * @returns `true` once all of it is sent.
   * @throws {Closed} If the side is closed.
   */
  trySend(chunk: T): boolean;
  /**
   * Resolves once `trySend(chunk)` may make progress.
   *
   * @throws {Closed} If the side is closed.
   */
  writableAsync(chunk: T, options: WaitOptions): Promise<void>;
  /** Called once when the stream is closed or aborted (no more items). */
  close?(): void;
}

/** A broadcast producer, in-process or shared: what its sink uses. */
export interface BroadcastProducerLike {
  /** Sends one message; `false` while the slowest consumer holds the room. */
  send(payload: Uint8Array): boolean;
  /** Looks for dead or hung consumers. */
  scan(): number;
  /** Closes the ring. */
  close(): void;
}

/** The producer sides {@linkcode streamSink} knows. */
export type Producible<V> =
  | MessageRing
  | BroadcastProducerLike
  | {
    sendOne(item: V): boolean;
    isClosed(): boolean;
    writableAsync(n: number, options?: WaitOptions): Promise<void>;
    close?(): void;
  }
  | {
    sendOne(item: V): boolean;
    isClosed(): boolean;
    ring: { writableAsync(n: number, options?: WaitOptions): Promise<void> };
    close?(): void;
  };

/** How long a broadcast producer sleeps between tries: it has no wake of its own. */
const BROADCAST_RETRY_MS = 1;

function closedError(): Closed {
  return new Closed("Cannot write to the stream as the ring is closed");
}

function messageSink(ring: MessageRing): StreamSink<Uint8Array> {
  // A chunk longer than one frame goes as consecutive messages; `sent` is how far it got.
  let sent = 0;
  return {
    trySend(chunk) {
      if (ring.isClosed()) throw closedError();
      const max = ring.maxMessage();
      do {
        const end = Math.min(chunk.length, sent + max);
        if (!ring.sendMessage(chunk.subarray(sent, end))) return false;
        sent = end;
      } while (sent < chunk.length);
      sent = 0;
      return true;
    },
    writableAsync: (chunk, options) =>
      ring.writableAsync(Math.min(chunk.length - sent, ring.maxMessage()), options),
    close: () => ring.close(),
  };
}

function broadcastSink(producer: BroadcastProducerLike): StreamSink<Uint8Array> {
  return {
    trySend: (chunk) => producer.send(chunk),
    async writableAsync(_chunk, options) {
      await pause(BROADCAST_RETRY_MS, options.signal);
      producer.scan(); // a dead or hung consumer may be what holds the room
    },
    close: () => producer.close(),
  };
}

/**
 * Fits a producer side to {@linkcode StreamSink}. A `MessageRing` takes
 * `Uint8Array` chunks of any length (longer than one frame: several
 * messages); a broadcast producer takes one message per chunk and, having
 * no wake for its producer, retries every millisecond while clogged.
 *
 * @param producer A `Ring`, `SharedRing`, `MessageRing`, mpsc or mpmc
 * producer, `spmc.Channel`, or a (shared) broadcast producer.
 * @returns The sink.
 * @throws {TypeError} If `producer` is none of these.
 *
 * @example A ring as a sink
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, streamSink, u32 } from "../../mod.ts";
 * const ring = new Ring(u32, { ringBits: 1 });
 * const sink = streamSink(ring);
 * assert.equal(sink.trySend(1) && sink.trySend(2), true);
 * assert.equal(sink.trySend(3), false); // full
 * ```
 */
export function streamSink(producer: MessageRing | BroadcastProducerLike): StreamSink<Uint8Array>;
/**
 * Fits a ring or channel producer to {@linkcode StreamSink}.
 *
 * @param producer The producer side.
 * @returns The sink for its items.
 */
export function streamSink<V>(producer: Producible<V>): StreamSink<V>;
export function streamSink<V>(producer: Producible<V>): StreamSink<V | Uint8Array> {
  if (producer instanceof MessageRing) return messageSink(producer);
  // deno-lint-ignore no-explicit-any
  const p = producer as any;
  if (typeof p?.scan === "function" && typeof p.send === "function") return broadcastSink(p);
  const wait = typeof p?.writableAsync === "function"
    ? p
    : typeof p?.ring?.writableAsync === "function"
    ? p.ring
    : undefined;
  if (wait === undefined || typeof p.sendOne !== "function" || typeof p.isClosed !== "function") {
    throw new TypeError(
      `Cannot make stream sink as the producer has no way to send items: received ${
        describe(producer)
      }`,
    );
  }
  return {
    trySend(item) {
      if (p.isClosed()) throw closedError();
      return p.sendOne(item);
    },
    writableAsync: (_item, options) => wait.writableAsync(1, options),
    close: typeof p.close === "function" ? () => p.close() : undefined,
  };
}
