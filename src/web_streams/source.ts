/**
 * `StreamSource`: the small interface {@linkcode toReadableStream} pulls
 * from, and `streamSource`, which fits every consumer side of the library to
 * it (Ring, SharedRing, MessageRing, mpsc channel, spmc and mpmc consumers,
 * broadcast consumers).
 *
 * @module
 */

import type { WaitOptions } from "../wait_engine.ts";
import type { Handler } from "../ring.ts";
import { MessageRing } from "../message_ring.ts";
import { describe } from "../_validate.ts";

/** What a readable stream needs of a consumer side. */
export interface StreamSource<T> {
  /**
   * Consumes up to `max` readable items, handing each to `emit` as a value
   * of its own (records are copied); never waits.
   *
   * @returns How many were consumed (0: nothing readable now).
   */
  take(max: number, emit: (item: T) => void): number;
  /**
   * Resolves once `take` may find an item.
   *
   * @throws {Closed} Once closed and drained: the stream then closes.
   */
  readableAsync(options: WaitOptions): Promise<void>;
  /** Called once when the stream is cancelled (leave a broadcast ring …). */
  release?(): void;
}

/** A broadcast consumer, in-process or shared: what its source uses. */
export interface BroadcastLike {
  /** The next message in place, or `null`. */
  peek(): { array: Uint8Array; offset: number; length: number } | null;
  /** Moves past the peeked message. */
  advance(): void;
  /** Publishes the tail to the producer. */
  publish(): void;
  /** Waits for a message; `false` on timeout; throws `Closed` once drained. */
  waitAsync(timeoutMs?: number): Promise<boolean>;
  /** Leaves the ring. */
  close(): void;
}

/** The consumer sides {@linkcode streamSource} knows, by the method they consume with. */
export type Consumable<V> =
  | MessageRing
  | BroadcastLike
  | { consumeUpTo(max: number, handler: Handler<V>): number; readableAsync: Wait }
  | { consumeAllUpTo(max: number, handler: Handler<V>): number; readableAsync: Wait }
  | { consumeBatch(handler: Handler<V>, max?: number): number; readableAsync: Wait }
  | { stealBatch(handler: Handler<V>, max?: number): number; readableAsync: Wait }
  | { ring: { consumeUpTo(max: number, handler: Handler<V>): number }; readableAsync: Wait };

/** A side's own `readableAsync`. */
export type Wait = (options?: WaitOptions) => Promise<void>;

/** Longest single broadcast wait, so an abort is seen within it. */
const BROADCAST_SLICE_MS = 20;

/** Copies a record cursor (its fields are its own enumerable properties); numbers pass. */
function own<V>(item: V): V {
  return typeof item === "object" && item !== null ? { ...item } : item;
}

/** Takes up to `max` messages, each a copy of its payload, from `peek` and `advance`. */
function takeMessages(
  max: number,
  emit: (item: Uint8Array) => void,
  peek: () => { array: Uint8Array; offset: number; length: number } | null,
  advance: () => void,
): number {
  let n = 0;
  for (let m; n < max && (m = peek()) !== null; n++) {
    emit(m.array.slice(m.offset, m.offset + m.length));
    advance();
  }
  return n;
}

function messageSource(ring: MessageRing): StreamSource<Uint8Array> {
  return {
    take: (max, emit) =>
      takeMessages(max, emit, () => ring.readMessage(), () => ring.advanceMessage()),
    readableAsync: (options) => ring.readableAsync(options),
  };
}

function broadcastSource(consumer: BroadcastLike): StreamSource<Uint8Array> {
  return {
    take(max, emit) {
      const n = takeMessages(max, emit, () => consumer.peek(), () => consumer.advance());
      if (n > 0) consumer.publish();
      return n;
    },
    async readableAsync(options) {
      // Its wait takes no signal: wait in slices and look at the signal between them.
      for (;;) {
        options.signal?.throwIfAborted();
        if (await consumer.waitAsync(BROADCAST_SLICE_MS)) return;
      }
    },
    release: () => consumer.close(),
  };
}

/**
 * Fits a consumer side to {@linkcode StreamSource}. Items of numeric rings
 * arrive as numbers (or bigints), records as fresh objects, messages
 * (MessageRing, broadcast) as copies of their payload.
 *
 * @param consumer A `Ring`, `SharedRing`, `MessageRing`, `mpsc.Channel`,
 * spmc or mpmc consumer, or a (shared) broadcast consumer.
 * @returns The source.
 * @throws {TypeError} If `consumer` is none of these.
 *
 * @example A ring as a source
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, streamSource, u32 } from "../../mod.ts";
 * const ring = new Ring(u32, { ringBits: 4 });
 * ring.send([1, 2, 3]);
 * const got: number[] = [];
 * assert.equal(streamSource(ring).take(2, (x: number) => got.push(x)), 2);
 * assert.deepEqual(got, [1, 2]);
 * ```
 */
export function streamSource(consumer: MessageRing | BroadcastLike): StreamSource<Uint8Array>;
/**
 * Fits a ring or channel consumer to {@linkcode StreamSource}.
 *
 * @param consumer The consumer side.
 * @returns The source of its items.
 */
export function streamSource<V>(consumer: Consumable<V>): StreamSource<V>;
export function streamSource<V>(consumer: Consumable<V>): StreamSource<V | Uint8Array> {
  if (consumer instanceof MessageRing) return messageSource(consumer);
  // deno-lint-ignore no-explicit-any
  const c = consumer as any;
  if (typeof c?.peek === "function" && typeof c.publish === "function") return broadcastSource(c);
  let emit: (item: V) => void = () => {};
  const handler: Handler<V> = { process: (item) => emit(own(item)) };
  const consume: ((max: number) => number) | undefined = typeof c?.consumeUpTo === "function"
    ? (max) => c.consumeUpTo(max, handler)
    : typeof c?.consumeAllUpTo === "function"
    ? (max) => c.consumeAllUpTo(max, handler)
    : typeof c?.consumeBatch === "function"
    ? (max) => c.consumeBatch(handler, max)
    : typeof c?.stealBatch === "function"
    ? (max) => c.stealBatch(handler, max)
    : typeof c?.ring?.consumeUpTo === "function"
    ? (max) => c.ring.consumeUpTo(max, handler)
    : undefined;
  if (consume === undefined || typeof c.readableAsync !== "function") {
    throw new TypeError(
      `Cannot make stream source as the consumer has no way to consume items: received ${
        describe(consumer)
      }`,
    );
  }
  return {
    take(max, next) {
      emit = next;
      return consume(max);
    },
    readableAsync: (options) => c.readableAsync(options),
  };
}
