/**
 * `toWritableStream`: a WHATWG `WritableStream` into any producer side.
 *
 * @module
 */

import type { MessageRing } from "../message_ring.ts";
import { checkBoolean, checkObject } from "../_validate.ts";
import {
  type BroadcastProducerLike,
  type Producible,
  type StreamSink,
  streamSink,
} from "./sink.ts";

/** Options of {@linkcode toWritableStream}. */
export interface WritableStreamOptions {
  /** Whether closing or aborting the stream closes the side too (default `true`). */
  readonly closeTarget?: boolean;
}

function isSink<T>(x: unknown): x is StreamSink<T> {
  const s = x as StreamSink<T>;
  return typeof s?.trySend === "function" && typeof s.writableAsync === "function";
}

/**
 * A `WritableStream` into a producer side. A write sends at once while the
 * ring has a free slot and otherwise awaits the side's own `writableAsync`;
 * the stream queues nothing ahead of the ring (high-water mark 1), so
 * `writer.desiredSize` is 1 while a slot is free and drops to 0 (and
 * `writer.ready` stays pending) while the ring is full. Closing the stream
 * closes the side (unless `closeTarget: false`); aborting also ends the
 * pending wait.
 *
 * @param to A producer side (see {@linkcode streamSink}) or a {@linkcode StreamSink}.
 * @param options Whether to close the side.
 * @returns The stream.
 * @throws {TypeError} If `to` is not a producer side, or an option has the wrong type.
 *
 * @example Piping into a ring
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, toWritableStream, u32 } from "../../mod.ts";
 * const ring = new Ring(u32, { ringBits: 4 });
 * await ReadableStream.from([1, 2, 3]).pipeTo(toWritableStream(ring));
 * assert.equal(ring.isClosed(), true);
 * assert.deepEqual([...ring.iterator()], [1, 2, 3]);
 * ```
 */
export function toWritableStream(
  to: MessageRing | BroadcastProducerLike,
  options?: WritableStreamOptions,
): WritableStream<Uint8Array>;
/**
 * A `WritableStream` into a ring's or channel's producer, or a {@linkcode StreamSink}.
 *
 * @param to The producer side or sink.
 * @param options Whether to close the side.
 * @returns The stream.
 */
export function toWritableStream<V>(
  to: StreamSink<V> | Producible<V>,
  options?: WritableStreamOptions,
): WritableStream<V>;
export function toWritableStream<V>(
  to: StreamSink<V> | Producible<V>,
  options: WritableStreamOptions = {},
): WritableStream<V> {
  const sink: StreamSink<V> = isSink<V>(to) ? to : streamSink(to as Producible<V>);
  checkObject("make writable stream", "options", options);
  const closeTarget = checkBoolean(
    "make writable stream",
    "closeTarget",
    options.closeTarget ?? true,
  );
  return new WritableStream<V>({
    async write(chunk, controller) {
      // controller.signal aborts at once on abort(), even with this write in flight
      const options = { signal: controller.signal };
      while (!sink.trySend(chunk)) await sink.writableAsync(chunk, options);
    },
    close() {
      if (closeTarget) sink.close?.();
    },
    abort() {
      if (closeTarget) sink.close?.();
    },
  }, { highWaterMark: 1, size: () => 1 });
}
