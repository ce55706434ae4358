/**
 * `NatsForwarder`: drains a consumer side of a ring into a NATS subject, in
 * batches (src/nats/batch.ts), with flow control both ways: it takes from
 * the ring only after the previous batches went out, so a slow or absent
 * server fills the ring and stops its producer, and nothing buffers without
 * bound.
 *
 * Core NATS (default): each batch is published at once and the forwarder
 * awaits `flush()` (one round trip) every `window` batches, so at most
 * `window` batches wait in the client. Delivery is at most once: batches in
 * flight when the server restarts are lost (the receiver counts the gap).
 *
 * JetStream (`jetstream: { stream }`): each batch is published with the
 * message id `origin-seq` and the forwarder awaits the server's ack before
 * it takes more; a failed publish is retried with the same id until it is
 * acked (the server drops a retry it already stored), so every batch is
 * stored at least once, in order, through server restarts.
 *
 * @module
 */

import { errors, type NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { Closed } from "../errors.ts";
import { pause } from "../_pause.ts";
import { checkInteger, checkObject, checkString } from "../_validate.ts";
import { type Consumable, type StreamSource, streamSource } from "../web_streams/source.ts";
import { BATCH_HEADER_BYTES, BatchWriter, bytesCodec, type ItemCodec } from "./batch.ts";
import { ensureStream } from "./stream.ts";

/** Options of {@linkcode NatsForwarder.start}. */
export interface ForwardOptions<T> {
  /** How items become bytes (default {@linkcode bytesCodec}: byte messages). */
  readonly codec?: ItemCodec<T>;
  /** Most items per batch (default 512). */
  readonly maxBatchItems?: number;
  /** Most bytes per batch, header included (default 65536; NATS allows 1 MiB by default). */
  readonly maxBatchBytes?: number;
  /** Core NATS: batches published between flushes (default 8). */
  readonly window?: number;
  /** At-least-once through a JetStream stream (made if missing) instead of core NATS. */
  readonly jetstream?: { readonly stream: string };
  /** Pause between retries while the server is away, ms (default 100). */
  readonly retryMs?: number;
  /** Stops the forwarder. */
  readonly signal?: AbortSignal;
}

/** What a forwarder has done so far. */
export interface ForwarderStats {
  /** Items taken from the ring and published. */
  items: number;
  /** Batches published (acked, with JetStream). */
  batches: number;
  /** Publishes or flushes that failed and were retried. */
  retries: number;
}

/**
 * Forwards a ring's items to a NATS subject until the ring is closed and
 * drained, then publishes an end-of-stream batch (count 0) so the receiver
 * can close its ring.
 *
 * @example Argument checks come first
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageRing } from "../../mod.ts";
 * import { NatsForwarder } from "../../nats.ts";
 * const ring = new MessageRing({ ringBits: 10 });
 * const nc = {} as Parameters<typeof NatsForwarder.start>[1]; // a real connection in practice
 * assert.throws(() => NatsForwarder.start(ring, nc, "", {}), RangeError);
 * ```
 */
export class NatsForwarder<T> {
  readonly #stats: ForwarderStats = { items: 0, batches: 0, retries: 0 };
  readonly #abort = new AbortController();
  /** Settles once the end-of-stream batch is out (or the forwarder failed or was stopped). */
  readonly done: Promise<void>;

  private constructor(
    source: StreamSource<T>,
    nc: NatsConnection,
    subject: string,
    options: Required<Omit<ForwardOptions<T>, "jetstream" | "signal">> & ForwardOptions<T>,
  ) {
    options.signal?.addEventListener("abort", () => this.#abort.abort(options.signal!.reason), {
      once: true,
    });
    this.done = this.#run(source, nc, subject, options);
  }

  /**
   * Starts forwarding.
   *
   * @param consumer A consumer side (see `streamSource`) or a `StreamSource`.
   * @param nc A NATS connection (reconnecting: `maxReconnectAttempts: -1`).
   * @param subject Where batches go.
   * @param options Codec, batch limits, window, JetStream.
   * @returns The running forwarder.
   * @throws {TypeError} If `consumer` is not a consumer side, or an option has the wrong type.
   * @throws {RangeError} If the subject is empty or a limit is out of range.
   */
  static start<T>(
    consumer: Consumable<T> | StreamSource<T> | StreamSource<Uint8Array>,
    nc: NatsConnection,
    subject: string,
    options: ForwardOptions<T> = {},
  ): NatsForwarder<T> {
    const what = "start forwarder";
    checkString(what, "subject", subject);
    if (subject === "") {
      throw new RangeError(`Cannot ${what} as subject must not be empty: received ""`);
    }
    checkObject(what, "options", options);
    const maxBatchBytes = checkInteger(
      what,
      "maxBatchBytes",
      options.maxBatchBytes ?? 65536,
      BATCH_HEADER_BYTES + 4,
      1 << 20,
    );
    const checked = {
      ...options,
      codec: options.codec ?? (bytesCodec as unknown as ItemCodec<T>),
      maxBatchItems: checkInteger(what, "maxBatchItems", options.maxBatchItems ?? 512, 1, 1 << 20),
      maxBatchBytes,
      window: checkInteger(what, "window", options.window ?? 8, 1, 1 << 16),
      retryMs: checkInteger(what, "retryMs", options.retryMs ?? 100, 1, 60_000),
    };
    if (options.jetstream !== undefined) {
      checkString(
        what,
        "jetstream.stream",
        checkObject(what, "jetstream", options.jetstream).stream,
      );
    }
    const source = typeof (consumer as StreamSource<T>).take === "function"
      ? consumer as StreamSource<T>
      : streamSource(consumer as Consumable<T>) as StreamSource<T>;
    return new NatsForwarder(source, nc, subject, checked);
  }

  /**
   * What it has done so far.
   *
   * @returns A copy of the counters.
   */
  stats(): ForwarderStats {
    return { ...this.#stats };
  }

  /**
   * Stops taking items (what was taken and not yet published is lost) and
   * waits for the loop to end.
   */
  async stop(): Promise<void> {
    this.#abort.abort(new DOMException("The forwarder was stopped", "AbortError"));
    await this.done.catch(() => {});
  }

  async #run(
    source: StreamSource<T>,
    nc: NatsConnection,
    subject: string,
    options: Required<Omit<ForwardOptions<T>, "jetstream" | "signal">> & ForwardOptions<T>,
  ): Promise<void> {
    const signal = this.#abort.signal;
    const origin = crypto.getRandomValues(new Uint32Array(1))[0];
    const writer = new BatchWriter(options.codec, options.maxBatchBytes, origin);
    const js = options.jetstream === undefined ? null : jetstream(nc);
    if (options.jetstream !== undefined) {
      await this.#retry(
        nc,
        () => ensureStream(nc, options.jetstream!.stream, subject),
        options.retryMs,
      );
    }
    /** Items taken but not in a batch yet (the batch ran out of bytes). */
    const carry: T[] = [];
    const add = (item: T) => {
      if (carry.length > 0 || !writer.add(item)) carry.push(item);
    };
    let seq = 0;
    let unflushed = 0;
    const publish = async (bytes: Uint8Array) => {
      if (js !== null) {
        const msgID = `${origin}-${seq}`;
        await this.#retry(nc, () => js.publish(subject, bytes, { msgID }), options.retryMs);
      } else {
        nc.publish(subject, bytes);
        if (++unflushed >= options.window) {
          await this.#retry(nc, () => nc.flush(), options.retryMs);
          unflushed = 0;
        }
      }
    };
    for (;;) {
      signal.throwIfAborted();
      while (carry.length > 0 && writer.add(carry[0])) carry.shift();
      if (carry.length === 0) source.take(options.maxBatchItems - writer.count, add);
      if (writer.count > 0) {
        const n = writer.count;
        await publish(writer.finish(++seq));
        this.#stats.items += n;
        this.#stats.batches++;
        continue;
      }
      try {
        await source.readableAsync({ signal });
      } catch (err) {
        if (!(err instanceof Closed)) throw err;
        source.take(options.maxBatchItems, add);
        if (writer.count > 0 || carry.length > 0) continue;
        await publish(writer.finish(++seq)); // count 0: the end of the stream
        if (js === null) await this.#retry(nc, () => nc.flush(), options.retryMs);
        return;
      }
    }
  }

  /** Runs `op` until it succeeds, pausing between tries; gives up once the connection is closed. */
  async #retry<R>(nc: NatsConnection, op: () => Promise<R>, retryMs: number): Promise<R> {
    for (;;) {
      try {
        return await op();
      } catch (err) {
        this.#abort.signal.throwIfAborted();
        if (isClosedConnection(err) || nc.isClosed()) throw err;
        this.#stats.retries++;
        await pause(retryMs, this.#abort.signal);
      }
    }
  }
}

/** Whether an error means the connection is closed for good (no reconnect will come). */
function isClosedConnection(err: unknown): boolean {
  return err instanceof errors.ClosedConnectionError ||
    err instanceof errors.DrainingConnectionError;
}
