/**
 * The wire format of the NATS bridge: one NATS message carries one batch of
 * ring items, each encoded by an {@linkcode ItemCodec}.
 *
 * ```text
 * +0   magic u32 = 0x31424d52 ("RMB1", little-endian)
 * +4   count u32        items in the batch; 0 marks the end of the stream
 * +8   origin u32       the forwarder's random id
 * +12  reserved u32 = 0
 * +16  seq f64         the forwarder's batch sequence: 1, 2, 3 … (a safe integer)
 * +24  items           count × (length u32, length bytes), back to back
 * ```
 *
 * The receiver trusts nothing: a wrong magic, a count or length that runs
 * past the message, or a sequence that is not a positive safe integer is
 * {@linkcode BatchCorrupt}.
 *
 * @module
 */

import { RingError } from "../errors.ts";
import type { ElementStore, ElementType } from "../element.ts";

/** Bytes before the first item. */
export const BATCH_HEADER_BYTES = 24;
const MAGIC = 0x31424d52;

/** A NATS message that is not a well-formed batch. */
export class BatchCorrupt extends RingError {}

/** How items become bytes and back. */
export interface ItemCodec<T> {
  /** The item's bytes (may be a reused buffer: the caller copies them at once). */
  encode(item: T): Uint8Array;
  /**
   * An item from its bytes (a window that is only valid during the call).
   *
   * @throws {BatchCorrupt} If the bytes are no such item.
   */
  decode(bytes: Uint8Array): T;
}

/** Payload bytes as they are (MessageRing and broadcast items). */
export const bytesCodec: ItemCodec<Uint8Array> = Object.freeze({
  encode: (item: Uint8Array) => item,
  decode: (bytes: Uint8Array) => bytes.slice(),
});

/**
 * JSON values as UTF-8 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "./batch.ts";
 * assert.deepEqual(jsonCodec.decode(jsonCodec.encode({ a: [1] })), { a: [1] });
 * ```
 */
export const jsonCodec: ItemCodec<unknown> = Object.freeze({
  encode: (item: unknown) => new TextEncoder().encode(JSON.stringify(item)),
  decode(bytes: Uint8Array) {
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw new BatchCorrupt(
        `Cannot decode item as it is not JSON: received ${bytes.length} bytes`,
        {
          cause,
        },
      );
    }
  },
});

/**
 * The codec of a ring's element type: each item as its slot's bytes
 * (little-endian numbers, records as their padded struct).
 *
 * @param element The element type.
 * @returns The codec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementCodec } from "./batch.ts";
 * import { u32 } from "../element.ts";
 * const codec = elementCodec(u32);
 * assert.deepEqual(codec.encode(258), Uint8Array.of(2, 1, 0, 0));
 * assert.equal(codec.decode(Uint8Array.of(2, 1, 0, 0)), 258);
 * ```
 */
export function elementCodec<V, S extends ElementStore>(
  element: ElementType<V, S>,
): ItemCodec<V> {
  const scratch = new Uint8Array(element.bytes);
  const store = element.view(scratch.buffer, 0, 1);
  return {
    encode(item) {
      element.write(store, 0, item);
      return scratch;
    },
    decode(bytes) {
      if (bytes.length !== element.bytes) {
        throw new BatchCorrupt(
          `Cannot decode item as it must be ${element.bytes} bytes: received ${bytes.length}`,
        );
      }
      scratch.set(bytes);
      return element.read(store, 0);
    },
  };
}

/** Builds batches in one reused buffer. */
export class BatchWriter<T> {
  readonly #codec: ItemCodec<T>;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #origin: number;
  #at = BATCH_HEADER_BYTES;
  #count = 0;

  /**
   * @param codec How items become bytes.
   * @param maxBytes Largest batch.
   * @param origin The forwarder's id.
   */
  constructor(codec: ItemCodec<T>, maxBytes: number, origin: number) {
    this.#codec = codec;
    this.#bytes = new Uint8Array(maxBytes);
    this.#view = new DataView(this.#bytes.buffer);
    this.#origin = origin;
  }

  /** Items in the batch being built. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends one item.
   *
   * @param item The item.
   * @returns `false` (nothing appended) if the batch has no room for it.
   * @throws {RangeError} If the item alone is larger than a batch.
   */
  add(item: T): boolean {
    const bytes = this.#codec.encode(item);
    if (this.#at + 4 + bytes.length > this.#bytes.length) {
      if (this.#count === 0) {
        throw new RangeError(
          `Cannot forward item as it must be at most ${
            this.#bytes.length - BATCH_HEADER_BYTES - 4
          } bytes: received ${bytes.length}`,
        );
      }
      return false;
    }
    this.#view.setUint32(this.#at, bytes.length, true);
    this.#bytes.set(bytes, this.#at + 4);
    this.#at += 4 + bytes.length;
    this.#count++;
    return true;
  }

  /**
   * Seals the batch as sequence `seq` and starts the next one.
   *
   * @param seq The batch sequence.
   * @returns A copy of the batch's bytes.
   */
  finish(seq: number): Uint8Array {
    const v = this.#view;
    v.setUint32(0, MAGIC, true);
    v.setUint32(4, this.#count, true);
    v.setUint32(8, this.#origin, true);
    v.setUint32(12, 0, true);
    v.setFloat64(16, seq, true);
    const out = this.#bytes.slice(0, this.#at);
    this.#at = BATCH_HEADER_BYTES;
    this.#count = 0;
    return out;
  }
}

/** A received batch's header. */
export interface BatchHeader {
  /** Items in it. */
  count: number;
  /** The forwarder's id. */
  origin: number;
  /** The batch sequence. */
  seq: number;
}

/**
 * Reads a batch's header, checking every field and every item's length
 * against the message.
 *
 * @param bytes The NATS message data.
 * @returns The header.
 * @throws {BatchCorrupt} If the batch is malformed.
 */
export function readBatchHeader(bytes: Uint8Array): BatchHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < BATCH_HEADER_BYTES || v.getUint32(0, true) !== MAGIC) {
    throw new BatchCorrupt(
      `Cannot read batch as its magic is wrong: received ${bytes.length} bytes`,
    );
  }
  const count = v.getUint32(4, true);
  const seq = v.getFloat64(16, true);
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new BatchCorrupt(
      `Cannot read batch as its sequence must be a positive safe integer: received ${seq}`,
    );
  }
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length || at + 4 + v.getUint32(at, true) > bytes.length) {
      throw new BatchCorrupt(`Cannot read batch as item ${i} runs past its ${bytes.length} bytes`);
    }
    at += 4 + v.getUint32(at, true);
  }
  return { count, origin: v.getUint32(8, true), seq };
}

/**
 * Hands each item of a checked batch to `emit`, decoded.
 *
 * @param bytes A batch that passed {@linkcode readBatchHeader}.
 * @param codec How bytes become items.
 * @param emit Gets each item.
 */
export function readBatchItems<T>(
  bytes: Uint8Array,
  codec: ItemCodec<T>,
  emit: (item: T) => void,
): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = v.getUint32(4, true);
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const length = v.getUint32(at, true);
    emit(codec.decode(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
}
