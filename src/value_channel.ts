/**
 * `ValueChannel`: JSON-serializable values (objects, arrays, strings,
 * numbers, booleans, `null`) between Workers over a {@linkcode MessageRing}.
 *
 * Each value is one frame of the ring: the producer reserves the worst case
 * (3 bytes per UTF-16 unit of its JSON text, at most one frame), encodes
 * with `TextEncoder.encodeInto` straight into the reserved frame and commits
 * only the bytes written; the consumer decodes the UTF-8 in place from the
 * readable frame and parses it: the frame's bytes go through one local
 * buffer first, as `TextDecoder` reads a view of shared memory about four
 * times slower than a copy of it (and browsers refuse such views). No
 * structured clone. Roles are the MessageRing's: one producer, one consumer.
 *
 * @module
 */

import { Closed } from "./errors.ts";
import { MessageRing } from "./message_ring.ts";
import { checkInstance } from "./_validate.ts";
import type { RingHandle } from "./ring.ts";
import type { WaitOptions } from "./wait_engine.ts";
import type { Config } from "./config.ts";

/** Worst-case UTF-8 bytes of one UTF-16 code unit (a surrogate pair is 4 bytes for 2 units). */
const UTF8_PER_UNIT = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An SPSC channel of JSON values. `tryRecv` returns `undefined` when nothing
 * is readable (JSON has no `undefined`, so every value, `null` included, is
 * told apart from "empty").
 *
 * @example Objects from one side to the other
 * ```ts
 * import assert from "node:assert/strict";
 * import { ValueChannel } from "../mod.ts";
 * const ch = new ValueChannel<{ id: number; tags: string[] }>({ ringBits: 12 });
 * assert.equal(ch.sendOne({ id: 1, tags: ["a", "é"] }), true);
 * assert.deepEqual(ch.tryRecv(), { id: 1, tags: ["a", "é"] });
 * assert.equal(ch.tryRecv(), undefined);
 * ```
 */
export class ValueChannel<T = unknown> {
  readonly #ring: MessageRing;
  /** Consumer: where a frame's UTF-8 is copied to be decoded (a whole frame fits). */
  readonly #scratch: Uint8Array;

  /**
   * Creates a channel over a new ring of `2 ** ringBits` bytes, or over an
   * existing `MessageRing`.
   *
   * @param config `ringBits` sets the byte capacity; a value's JSON may take
   * up to half of it.
   * @param ring An existing ring (use `fromHandle` in another Worker).
   * @throws {RangeError} If ringBits is out of range.
   * @throws {TypeError} If `ring` is not a MessageRing.
   */
  constructor(config: Partial<Config> = {}, ring?: MessageRing) {
    this.#ring = ring === undefined
      ? new MessageRing(config)
      : checkInstance("make value channel", "ring", ring, MessageRing);
    this.#scratch = new Uint8Array(this.#ring.maxMessage());
  }

  /**
   * Rebuilds the channel from a handle in another Worker.
   *
   * @param handle From {@linkcode ValueChannel.handle}.
   * @returns The channel.
   */
  static fromHandle<T = unknown>(handle: RingHandle): ValueChannel<T> {
    return new ValueChannel<T>({}, MessageRing.fromHandle(handle));
  }

  /**
   * A structured-cloneable handle for another Worker.
   *
   * @returns The handle.
   */
  handle(): RingHandle {
    return this.#ring.handle();
  }

  /** The message ring underneath. */
  get ring(): MessageRing {
    return this.#ring;
  }

  #bound(text: string): number {
    return Math.min(text.length * UTF8_PER_UNIT, this.#ring.maxMessage());
  }

  /**
   * Sends one value if the ring has room for its worst case now. Allocates
   * its JSON text.
   *
   * @param value A JSON-serializable value.
   * @returns `true` if sent, `false` if the ring lacks room now.
   * @throws {TypeError} If `value` has no JSON form (`undefined`, a function …)
   * or `JSON.stringify` throws (a cycle, a bigint).
   * @throws {RangeError} If its UTF-8 JSON is longer than one frame.
   * @throws {Closed} If the channel is closed.
   */
  sendOne(value: T): boolean {
    return this.#send(this.#text(value));
  }

  #text(value: T): string {
    const text = JSON.stringify(value);
    if (typeof text !== "string") {
      throw new TypeError(`Cannot send value as it has no JSON form: received ${String(value)}`);
    }
    return text;
  }

  #send(text: string): boolean {
    if (this.#ring.isClosed()) throw new Closed("Cannot send as the channel is closed");
    const bound = this.#bound(text);
    const w = this.#ring.reserveMessage(bound);
    if (w === null) return false;
    const { read, written } = encoder.encodeInto(
      text,
      w.array.subarray(w.offset, w.offset + bound),
    );
    if (read < text.length) {
      // left uncommitted: the next reservation takes the same bytes
      throw new RangeError(
        `Cannot send value as its JSON must be at most ${this.#ring.maxMessage()} bytes: received more`,
      );
    }
    this.#ring.commitMessage(written); // publishes the value
    return true;
  }

  /**
   * Sends as many values as fit now, in order.
   *
   * @param values The values.
   * @returns How many were sent.
   * @throws {TypeError} As {@linkcode ValueChannel.sendOne}.
   * @throws {RangeError} As {@linkcode ValueChannel.sendOne}.
   */
  send(values: ArrayLike<T>): number {
    let n = 0;
    while (n < values.length && this.sendOne(values[n])) n++;
    return n;
  }

  /**
   * Sends one value, awaiting room without blocking the event loop.
   *
   * @param value A JSON-serializable value.
   * @param options Timeout and abort signal.
   * @throws {Closed} If the channel is closed.
   * @throws {TimedOut} If the timeout passes.
   */
  async sendAsync(value: T, options: WaitOptions = {}): Promise<void> {
    const text = this.#text(value);
    while (!this.#send(text)) await this.#ring.writableAsync(this.#bound(text), options);
  }

  /**
   * Receives one value (a fresh object). Allocates.
   *
   * @returns The value, or `undefined` if none is readable.
   * @throws {RingCorrupt} If a frame is impossible.
   * @throws {SyntaxError} If a frame is not JSON (a foreign producer).
   */
  tryRecv(): T | undefined {
    const m = this.#ring.readMessage();
    if (m === null) return undefined;
    const scratch = this.#scratch;
    scratch.set(m.array.subarray(m.offset, m.offset + m.length));
    const text = decoder.decode(scratch.subarray(0, m.length));
    this.#ring.advanceMessage();
    return JSON.parse(text);
  }

  /**
   * Receives one value, awaiting it without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @returns The value.
   * @throws {Closed} If the channel is closed and drained.
   * @throws {TimedOut} If the timeout passes.
   */
  async recvAsync(options: WaitOptions = {}): Promise<T> {
    for (;;) {
      const value = this.tryRecv();
      if (value !== undefined) return value;
      await this.#ring.readableAsync(options);
    }
  }

  /**
   * Resolves once a value is readable.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If closed and drained.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return this.#ring.readableAsync(options);
  }

  /**
   * Yields every value until the channel is closed and drained:
   * `for await (const v of channel) …`.
   *
   * @returns An async iterator over the values.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.recvAsync();
      } catch (err) {
        if (err instanceof Closed) return;
        throw err;
      }
    }
  }

  /** Closes the channel: values already sent can still be received. */
  close(): void {
    this.#ring.close();
  }

  /**
   * Whether the channel was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#ring.isClosed();
  }

  /** Closes the channel (`using ch = new ValueChannel()`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
