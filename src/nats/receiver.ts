/**
 * `NatsReceiver`: feeds a producer side of a ring from a NATS subject that a
 * {@linkcode NatsForwarder} publishes batches to, with flow control: a full
 * ring stops the intake, and nothing buffers without bound.
 *
 * A message on the subject that is not a well-formed batch is skipped and
 * counted (`corrupt`): anyone may publish there.
 *
 * Core NATS (default): a subscription; the server pushes, so batches that
 * arrive while the ring is full wait in a queue of at most `maxPending`
 * batches, and beyond it are dropped and counted (at most once, as core
 * NATS itself is). Sequence gaps (batches lost while the server restarted)
 * are counted too.
 *
 * JetStream (`jetstream: { stream }`): a durable pull consumer with explicit
 * acks. The receiver fetches `fetch` batches only when it has written the
 * previous ones into the ring, so a full ring stops the pull; it acks a
 * batch once all of its items are in the ring. A batch the server delivers
 * again (an ack lost in a restart, an ack wait passed) has a sequence the
 * receiver has already written and is skipped: the ring sees every item
 * once, in order.
 *
 * @module
 */

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { pause } from "../_pause.ts";
import { checkBoolean, checkInteger, checkObject, checkString } from "../_validate.ts";
import { type Producible, type StreamSink, streamSink } from "../web_streams/sink.ts";
import {
  BatchCorrupt,
  bytesCodec,
  type ItemCodec,
  readBatchHeader,
  readBatchItems,
} from "./batch.ts";
import { RingError } from "../errors.ts";
import { ensureStream } from "./stream.ts";

/** Options of {@linkcode NatsReceiver.start}. */
export interface ReceiveOptions<T> {
  /** How bytes become items (default {@linkcode bytesCodec}). */
  readonly codec?: ItemCodec<T>;
  /** Core NATS: most batches queued while the ring is full (default 64). */
  readonly maxPending?: number;
  /** JetStream: batches asked for per pull (default 4). */
  readonly fetch?: number;
  /**
   * A durable JetStream pull consumer on `stream` (both made if missing;
   * `durable` defaults to one named after the subject).
   */
  readonly jetstream?: { readonly stream: string; readonly durable?: string };
  /** Close the ring at the forwarder's end of stream (default `true`). */
  readonly closeOnEnd?: boolean;
  /** Pause between retries while the server is away, ms (default 100). */
  readonly retryMs?: number;
  /** Stops the receiver. */
  readonly signal?: AbortSignal;
}

/** What a receiver has done so far. */
export interface ReceiverStats {
  /** Items written into the ring. */
  items: number;
  /** Batches written into the ring. */
  batches: number;
  /** Batches seen again and skipped (JetStream redeliveries). */
  duplicates: number;
  /** Batches missing from the sequence (core NATS: lost while the server was away). */
  gaps: number;
  /** Core NATS: batches dropped because the queue was full. */
  dropped: number;
  /** Messages on the subject that were not well-formed batches, skipped. */
  corrupt: number;
  /** Most batches that ever waited in the queue (core) or in one pull (JetStream). */
  maxQueued: number;
}

type Checked<T> = Required<Omit<ReceiveOptions<T>, "jetstream" | "signal">> & ReceiveOptions<T>;

/**
 * Writes the items of a subject's batches into a ring until the forwarder's
 * end of stream.
 *
 * @example Argument checks come first
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageRing } from "../../mod.ts";
 * import { NatsReceiver } from "../../nats.ts";
 * const ring = new MessageRing({ ringBits: 10 });
 * const nc = {} as Parameters<typeof NatsReceiver.start>[1]; // a real connection in practice
 * await assert.rejects(NatsReceiver.start(ring, nc, "x", { maxPending: 0 }), RangeError);
 * ```
 */
export class NatsReceiver<T> {
  readonly #stats: ReceiverStats = {
    items: 0,
    batches: 0,
    duplicates: 0,
    gaps: 0,
    dropped: 0,
    corrupt: 0,
    maxQueued: 0,
  };
  readonly #abort = new AbortController();
  readonly #sink: StreamSink<T>;
  readonly #options: Checked<T>;
  /** The last batch sequence written, per forwarder origin. */
  readonly #last = new Map<number, number>();
  #ended = false;
  /** Settles at the end of stream (or when the receiver fails or is stopped). */
  readonly done: Promise<void>;

  private constructor(
    sink: StreamSink<T>,
    nc: NatsConnection,
    subject: string,
    options: Checked<T>,
    subscription: Subscription | null,
  ) {
    this.#sink = sink;
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.#abort.abort(options.signal!.reason), {
      once: true,
    });
    this.done = subscription === null
      ? this.#pull(nc, subject, options.jetstream!)
      : this.#drain(subscription);
  }

  /**
   * Starts receiving: core NATS subscribes before it resolves, so nothing
   * published after that is missed; JetStream makes its stream and durable
   * consumer first.
   *
   * @param producer A producer side (see `streamSink`) or a `StreamSink`.
   * @param nc A NATS connection (reconnecting: `maxReconnectAttempts: -1`).
   * @param subject Where the forwarder publishes.
   * @param options Codec, limits, JetStream.
   * @returns The running receiver.
   * @throws {TypeError} If `producer` is not a producer side, or an option has the wrong type.
   * @throws {RangeError} If the subject is empty or a limit is out of range.
   */
  static async start<T>(
    producer: Producible<T> | StreamSink<T> | StreamSink<Uint8Array>,
    nc: NatsConnection,
    subject: string,
    options: ReceiveOptions<T> = {},
  ): Promise<NatsReceiver<T>> {
    const what = "start receiver";
    checkString(what, "subject", subject);
    if (subject === "") {
      throw new RangeError(`Cannot ${what} as subject must not be empty: received ""`);
    }
    checkObject(what, "options", options);
    const checked: Checked<T> = {
      ...options,
      codec: options.codec ?? (bytesCodec as unknown as ItemCodec<T>),
      maxPending: checkInteger(what, "maxPending", options.maxPending ?? 64, 1, 1 << 16),
      fetch: checkInteger(what, "fetch", options.fetch ?? 4, 1, 1 << 16),
      closeOnEnd: checkBoolean(what, "closeOnEnd", options.closeOnEnd ?? true),
      retryMs: checkInteger(what, "retryMs", options.retryMs ?? 100, 1, 60_000),
    };
    const sink = typeof (producer as StreamSink<T>).trySend === "function"
      ? producer as StreamSink<T>
      : streamSink(producer as Producible<T>) as StreamSink<T>;
    let subscription: Subscription | null = null;
    if (options.jetstream === undefined) {
      subscription = nc.subscribe(subject);
      await nc.flush(); // the server has the subscription
    } else {
      const js = checkObject(what, "jetstream", options.jetstream);
      checkString(what, "jetstream.stream", js.stream);
      if (js.durable !== undefined) checkString(what, "jetstream.durable", js.durable);
    }
    return new NatsReceiver(sink, nc, subject, checked, subscription);
  }

  /**
   * What it has done so far.
   *
   * @returns A copy of the counters.
   */
  stats(): ReceiverStats {
    return { ...this.#stats };
  }

  /** Stops receiving and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#abort.abort(new DOMException("The receiver was stopped", "AbortError"));
    await this.done.catch(() => {});
  }

  /** Writes one batch into the ring; `false` if it was a duplicate or not a batch. */
  async #write(data: Uint8Array): Promise<boolean> {
    const items: T[] = [];
    let header;
    try {
      header = readBatchHeader(data);
      readBatchItems(data, this.#options.codec, (item) => items.push(item));
    } catch (err) {
      if (!(err instanceof BatchCorrupt)) throw err;
      this.#stats.corrupt++; // anyone may publish on the subject: skip it, go on
      return false;
    }
    const { origin, seq } = header;
    const last = this.#last.get(origin) ?? 0;
    if (seq <= last) {
      this.#stats.duplicates++;
      return false;
    }
    this.#stats.gaps += seq - last - 1;
    const wait = { signal: this.#abort.signal };
    for (const item of items) {
      while (!this.#sink.trySend(item)) await this.#sink.writableAsync(item, wait);
      this.#stats.items++;
    }
    this.#last.set(origin, seq);
    if (items.length === 0) {
      this.#ended = true; // the end-of-stream batch
      if (this.#options.closeOnEnd) this.#sink.close?.();
    } else this.#stats.batches++;
    return true;
  }

  /** Core NATS: the subscription's messages through a bounded queue into the ring. */
  async #drain(subscription: Subscription): Promise<void> {
    const queue: Msg[] = [];
    let wake = null as (() => void) | null;
    const onAbort = () => subscription.unsubscribe();
    this.#abort.signal.addEventListener("abort", onAbort, { once: true });
    // The subscription's own iterator never holds more than one message: it
    // moves each into `queue` (bounded) at once, so a full ring cannot make it grow.
    const intake = (async () => {
      for await (const m of subscription) {
        if (queue.length >= this.#options.maxPending) this.#stats.dropped++;
        else queue.push(m);
        this.#stats.maxQueued = Math.max(this.#stats.maxQueued, queue.length);
        wake?.();
      }
      wake?.();
    })();
    try {
      while (!this.#ended) {
        this.#abort.signal.throwIfAborted();
        const m = queue.shift();
        if (m === undefined) {
          if (subscription.isClosed()) break;
          await new Promise<void>((resolve) => wake = resolve);
          wake = null;
          continue;
        }
        await this.#write(m.data);
      }
    } finally {
      this.#abort.signal.removeEventListener("abort", onAbort);
      subscription.unsubscribe();
      await intake;
    }
  }

  /** JetStream: pull `fetch` batches at a time, only once the previous ones are in the ring. */
  async #pull(
    nc: NatsConnection,
    subject: string,
    options: { readonly stream: string; readonly durable?: string },
  ): Promise<void> {
    const durable = options.durable ?? `ringmpsc-${subject.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const signal = this.#abort.signal;
    const retry = async () => {
      if (nc.isClosed()) throw new Error("Cannot receive as the NATS connection is closed");
      await pause(this.#options.retryMs, signal);
    };
    for (;;) {
      try {
        await ensureStream(nc, options.stream, subject);
        const jsm = await jetstreamManager(nc);
        await jsm.consumers.add(options.stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          filter_subject: subject,
        });
        break;
      } catch (err) {
        signal.throwIfAborted();
        if (nc.isClosed()) throw err;
        await retry();
      }
    }
    const js = jetstream(nc);
    while (!this.#ended) {
      signal.throwIfAborted();
      try {
        const consumer = await js.consumers.get(options.stream, durable);
        const messages = await consumer.fetch({ max_messages: this.#options.fetch, expires: 1000 });
        let n = 0;
        for await (const m of messages) {
          this.#stats.maxQueued = Math.max(this.#stats.maxQueued, ++n);
          await this.#write(m.data);
          m.ack(); // after every item is in the ring: at least once
          if (this.#ended) break;
        }
        if (this.#ended) await nc.flush().catch(() => {}); // sends the last acks
      } catch (err) {
        signal.throwIfAborted();
        if (err instanceof RingError) throw err; // the ring's, not the server's: no retry helps
        await retry();
      }
    }
  }
}
