/**
 * `toByteStream`: a readable byte stream (`type: "bytes"`, BYOB reads) over
 * the payloads of a `MessageRing`.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { MessageRing } from "../message_ring.ts";
import { checkInstance, checkInteger, checkObject } from "../_validate.ts";

/** Options of {@linkcode toByteStream}. */
export interface ByteStreamOptions {
  /** Bytes of the buffer a default (non-BYOB) read gets (default 65536, at least 1). */
  readonly autoAllocateChunkSize?: number;
}

/**
 * A byte stream of the ring's payload bytes, back to back: message
 * boundaries are not kept (write it with `toWritableStream(ring)`, which
 * splits long chunks). A BYOB read copies straight from the ring's frames
 * into the reader's buffer; a message longer than the buffer is read in
 * pieces and advanced past only once all of it is read. It pulls only when
 * the reader asks, awaits `readableAsync` when the ring is empty, closes once
 * the ring is closed and drained, and aborts its wait when cancelled (the
 * unread bytes stay in the ring).
 *
 * @param ring The consumer side.
 * @param options The chunk size of default reads.
 * @returns The stream.
 * @throws {TypeError} If `ring` is not a MessageRing or `options` not an object.
 * @throws {RangeError} If `autoAllocateChunkSize` is not an integer in [1, 2^30].
 *
 * @example A BYOB read
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageRing, toByteStream } from "../../mod.ts";
 * const ring = new MessageRing({ ringBits: 8 });
 * ring.sendMessage(Uint8Array.of(1, 2, 3));
 * ring.sendMessage(Uint8Array.of(4, 5));
 * const reader = toByteStream(ring).getReader({ mode: "byob" });
 * const { value } = await reader.read(new Uint8Array(4));
 * assert.deepEqual(value, Uint8Array.of(1, 2, 3, 4));
 * reader.releaseLock();
 * ```
 */
export function toByteStream(
  ring: MessageRing,
  options: ByteStreamOptions = {},
): ReadableStream<Uint8Array> {
  checkInstance("make byte stream", "ring", ring, MessageRing);
  checkObject("make byte stream", "options", options);
  const autoAllocateChunkSize = checkInteger(
    "make byte stream",
    "autoAllocateChunkSize",
    options.autoAllocateChunkSize ?? 65536,
    1,
    2 ** 30,
  );
  /** Bytes of the head message already handed out. */
  let done = 0;
  const abort = new AbortController();
  /** Copies readable bytes into `view`; returns how many. */
  const fill = (view: Uint8Array): number => {
    let n = 0;
    for (let m; n < view.length && (m = ring.readMessage()) !== null;) {
      const k = Math.min(m.length - done, view.length - n);
      view.set(m.array.subarray(m.offset + done, m.offset + done + k), n);
      n += k;
      done += k;
      if (done === m.length) {
        done = 0;
        ring.advanceMessage();
      }
    }
    return n;
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize,
    async pull(controller) {
      const request = controller.byobRequest!; // always set: autoAllocateChunkSize
      const view = new Uint8Array(
        request.view!.buffer,
        request.view!.byteOffset,
        request.view!.byteLength,
      );
      for (;;) {
        const n = fill(view);
        if (n > 0) return request.respond(n);
        try {
          await ring.readableAsync({ signal: abort.signal });
        } catch (err) {
          if (abort.signal.aborted) return;
          if (!(err instanceof Closed)) throw err;
          const last = fill(view);
          if (last > 0) return request.respond(last);
          controller.close();
          request.respond(0);
          return;
        }
      }
    },
    cancel() {
      abort.abort(new DOMException("The stream was cancelled", "AbortError"));
    },
  });
}
