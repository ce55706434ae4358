/**
 * `toReadableStream`: a WHATWG `ReadableStream` over any consumer side.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { checkInteger, checkObject } from "../_validate.ts";
import { type Consumable, type StreamSource, streamSource } from "./source.ts";
import type { MessageRing } from "../message_ring.ts";
import type { BroadcastLike } from "./source.ts";

/** Options of {@linkcode toReadableStream}. */
export interface ReadableStreamOptions {
  /**
   * Items the stream takes ahead of its reader (default 0: only what a read
   * asks for, so a cancel loses nothing). Items taken ahead are the stream's:
   * a cancel drops them, as Web Streams do.
   */
  readonly highWaterMark?: number;
}

/** The largest high-water mark: more than any ring holds. */
const MAX_HIGH_WATER_MARK = 2 ** 30;

function isSource<T>(x: unknown): x is StreamSource<T> {
  const s = x as StreamSource<T>;
  return typeof s?.take === "function" && typeof s.readableAsync === "function";
}

/**
 * A `ReadableStream` of the items of a consumer side. It pulls only when the
 * reader wants more: it takes what is readable (what the read asks for, plus
 * the high-water mark) and, when nothing is, awaits the side's own `readableAsync` instead
 * of polling. It closes once the side is closed and drained. Cancelling
 * aborts the pending wait and calls the source's `release` (a broadcast
 * consumer leaves its ring); items not yet taken stay in the ring.
 *
 * @param from A consumer side (see {@linkcode streamSource}) or a {@linkcode StreamSource}.
 * @param options The high-water mark.
 * @returns The stream.
 * @throws {TypeError} If `from` is not a consumer side.
 * @throws {TypeError} If `options` is not an object.
 * @throws {RangeError} If the high-water mark is not an integer in [0, 2^30].
 *
 * @example Reading a ring as a stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, toReadableStream, u32 } from "../../mod.ts";
 * const ring = new Ring(u32, { ringBits: 4 });
 * ring.send([1, 2, 3]);
 * ring.close();
 * assert.deepEqual(await Array.fromAsync(toReadableStream(ring)), [1, 2, 3]);
 * ```
 */
export function toReadableStream(
  from: MessageRing | BroadcastLike,
  options?: ReadableStreamOptions,
): ReadableStream<Uint8Array>;
/**
 * A `ReadableStream` of a ring's or channel's items, or of a {@linkcode StreamSource}.
 *
 * @param from The consumer side or source.
 * @param options The high-water mark.
 * @returns The stream.
 */
export function toReadableStream<V>(
  from: StreamSource<V> | Consumable<V>,
  options?: ReadableStreamOptions,
): ReadableStream<V>;
export function toReadableStream<V>(
  from: StreamSource<V> | Consumable<V>,
  options: ReadableStreamOptions = {},
): ReadableStream<V> {
  checkObject("make readable stream", "options", options);
  const highWaterMark = checkInteger(
    "make readable stream",
    "highWaterMark",
    options.highWaterMark ?? 0,
    0,
    MAX_HIGH_WATER_MARK,
  );
  const source: StreamSource<V> = isSource<V>(from) ? from : streamSource(from as Consumable<V>);
  const abort = new AbortController();
  return new ReadableStream<V>({
    async pull(controller) {
      const emit = (item: V) => controller.enqueue(item);
      // a pull comes with a read waiting, or room below the high-water mark: at least 1
      const want = () => Math.max(1, controller.desiredSize ?? 1);
      for (;;) {
        if (source.take(want(), emit) > 0) return;
        try {
          await source.readableAsync({ signal: abort.signal });
        } catch (err) {
          if (abort.signal.aborted) return; // cancelled: the stream is already closed
          if (!(err instanceof Closed)) throw err;
          if (source.take(want(), emit) > 0) return;
          controller.close();
          return;
        }
      }
    },
    cancel() {
      abort.abort(new DOMException("The stream was cancelled", "AbortError"));
      source.release?.();
    },
  }, { highWaterMark, size: () => 1 });
}
