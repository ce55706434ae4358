/**
 * `MessageRing`: variable-length byte messages over the SPSC `Ring`.
 *
 * The ring's slots are bytes (`u8`, `RING_LAYOUT` of src/ring.ts; positions
 * count bytes). Each message is one frame, 8-byte aligned, that never splits
 * across the wrap:
 *
 * ```text
 * frame:  +0 length u32   payload bytes (≤ capacity / 2 − 8)
 *         +4 zero u32     (keeps the payload 8-byte aligned)
 *         +8 payload …    padded with zeros to a multiple of 8
 * skip:   +0 0xFFFFFFFF   "the rest up to the end of the ring is padding"
 * ```
 *
 * Roles are the ring's: the producer writes frames at the tail and publishes
 * a whole frame with one store; the consumer reads the frame at the head and
 * advances past it. A frame that would not fit before the end of the ring is
 * preceded by a skip marker filling that gap (published first, on its own);
 * the consumer drops the padding and reads the frame at byte 0. The consumer
 * trusts nothing it reads: a length that runs past the published bytes, or a
 * skip marker short of the end, is `RingCorrupt`.
 *
 * @module
 */

import { checkIdentity, identityOf, Kind, writeIdentity } from "./_identity.ts";
import { checkInstance, checkInteger } from "./_validate.ts";
import { RingCorrupt } from "./errors.ts";
import { u8 } from "./element.ts";
import { Region } from "./reservation.ts";
import { Ring, type RingHandle } from "./ring.ts";
import type { WaitOptions } from "./wait_engine.ts";
import { IDENTITY_OFFSET, RING_LAYOUT } from "./layout.ts";
import { type Config, MAX_RING_BITS } from "./config.ts";

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 8;
/** The length word that marks padding up to the end of the ring. */
const SKIP = 0xffffffff;

function frameBytes(length: number): number {
  return FRAME_HEADER_BYTES + ((length + 7) & ~7);
}

/**
 * An SPSC ring of byte messages, zero-copy on both sides.
 *
 * @example Sending and receiving messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageRing } from "@ringmpsc/ringmpsc";
 * const ring = new MessageRing({ ringBits: 10 }); // 1 KiB of frames
 * ring.sendMessage(new TextEncoder().encode("hello"));
 * ring.sendMessage(new Uint8Array([1, 2, 3]));
 * const m = ring.readMessage()!; // a window onto the payload, in place
 * assert.equal(new TextDecoder().decode(m.array.subarray(m.offset, m.offset + m.length)), "hello");
 * ring.advanceMessage();
 * assert.deepEqual(ring.tryRecvMessage(), Uint8Array.of(1, 2, 3));
 * ```
 */
export class MessageRing {
  readonly #ring: Ring<number, Uint8Array>;
  readonly #bytes: Uint8Array;
  readonly #words: Uint32Array;
  readonly #capacity: number;
  readonly #write: Region<Uint8Array>;
  readonly #read: Region<Uint8Array>;
  /** Producer: bytes of the frame reserved by `reserveMessage`, 0 when none. */
  #pending = 0;
  /** Producer: where the pending frame's header is. */
  #pendingAt = 0;
  /** Consumer: bytes of the frame `advanceMessage` will consume, 0 when none. */
  #current = 0;

  /**
   * Creates a ring of `2 ** ringBits` bytes, or wraps an existing byte ring.
   *
   * @param config `ringBits` sets the byte capacity (at least 4, i.e. 16 bytes).
   * @param ring Internal: an existing `u8` ring (use `fromHandle`).
   * @throws {RangeError} If ringBits is out of range.
   */
  constructor(config: Partial<Config> = {}, ring?: Ring<number, Uint8Array>) {
    if (ring === undefined && config?.ringBits !== undefined) {
      checkInteger("create message ring", "ringBits", config.ringBits, 4, MAX_RING_BITS);
    }
    this.#ring = ring ?? new Ring(u8, config);
    this.#capacity = this.#ring.capacity();
    const h = this.#ring.handle();
    const identity = identityOf(Kind.messageRing, u8, this.#ring.config.ringBits);
    const at = h.byteOffset + IDENTITY_OFFSET;
    // the creator records that this ring holds frames; fromHandle checks it
    if (ring === undefined) writeIdentity(h.buffer, at, identity);
    else checkIdentity("rebuild message ring", h.buffer, at, identity);
    const data = h.byteOffset + RING_LAYOUT.data;
    this.#bytes = new Uint8Array(h.buffer, data, this.#capacity);
    this.#words = new Uint32Array(h.buffer, data, this.#capacity / 4);
    this.#write = new Region(this.#bytes);
    this.#read = new Region(this.#bytes);
  }

  /**
   * Rebuilds the ring from a handle in another Worker.
   *
   * @param handle From {@linkcode MessageRing.handle}.
   * @returns The ring.
   * @throws {TypeError} If the handle is malformed or its memory holds no MessageRing.
   * @throws {RangeError} If its byteOffset or ringBits is out of range.
   */
  static fromHandle(handle: RingHandle): MessageRing {
    return new MessageRing({}, Ring.fromHandle<number, Uint8Array>(handle));
  }

  /**
   * A structured-cloneable handle for another Worker.
   *
   * @returns The handle.
   */
  handle(): RingHandle {
    return this.#ring.handle();
  }

  /** The underlying byte ring (waits, close, status). */
  get ring(): Ring<number, Uint8Array> {
    return this.#ring;
  }

  /**
   * The longest payload a frame can carry: half the ring less the header, so
   * that padding to the end plus the frame always fits.
   *
   * @returns Bytes.
   */
  maxMessage(): number {
    return this.#capacity / 2 - FRAME_HEADER_BYTES;
  }

  // ── Producer ────────────────────────────────────────────────────────────

  #checkLength(what: string, length: number): void {
    checkInteger(what, "length", length, 0, this.maxMessage());
  }

  /**
   * Reserves room for a message of `length` bytes; write the payload into
   * `array[offset … offset + length)` of the returned window (reused), then
   * call {@linkcode MessageRing.commitMessage}.
   *
   * @param length Payload bytes.
   * @returns The payload window, or `null` if the ring lacks room now.
   * @throws {RangeError} If `length` is not an integer between 0 and {@linkcode MessageRing.maxMessage}.
   * @throws {TypeError} If `length` is not a number.
   * @throws {Closed} If the ring was closed (a frame at the wrap publishes padding first).
   */
  reserveMessage(length: number): Region<Uint8Array> | null {
    this.#checkLength("reserve a message", length);
    const frame = frameBytes(length);
    let r = this.#ring.reserve(frame);
    if (r === null) return null;
    if (r.length < frame) {
      // the frame would cross the end: pad to the end (if there is room for both), start at 0
      const pad = r.length;
      if (this.#ring.reserve(pad + frame) === null) return null;
      this.#words[r.offset / 4] = SKIP;
      this.#ring.commit(pad); // publishes the padding; the frame follows at byte 0
      r = this.#ring.reserve(frame)!;
    }
    this.#pendingAt = r.offset;
    this.#pending = frame;
    const w = this.#write;
    w.offset = r.offset + FRAME_HEADER_BYTES;
    w.length = length;
    return w;
  }

  /**
   * Publishes the reserved message with one store.
   *
   * @param length Payload bytes written, when fewer than reserved (an
   * encoder that reserved its worst case); default all of them.
   * @throws {RangeError} If no message is reserved, or `length` exceeds the reservation.
   * @throws {Closed} If the ring was closed: the message is dropped, nothing is published.
   */
  commitMessage(length: number = this.#write.length): void {
    if (this.#pending === 0) throw new RangeError("Cannot commit a message as none is reserved");
    checkInteger("commit a message", "length", length, 0, this.#write.length);
    const at = this.#pendingAt / 4;
    this.#words[at] = length;
    this.#words[at + 1] = 0;
    this.#pending = 0;
    this.#ring.commit(frameBytes(length)); // publishes the whole frame
  }

  /**
   * Copies `payload` into one frame and publishes it.
   *
   * @param payload The message.
   * @returns `true` if sent, `false` if the ring lacks room now.
   * @throws {RangeError} If the payload exceeds {@linkcode MessageRing.maxMessage}.
   * @throws {TypeError} If `payload` is not a Uint8Array.
   * @throws {Closed} If the ring was closed: nothing is sent.
   */
  sendMessage(payload: Uint8Array): boolean {
    checkInstance("send a message", "payload", payload, Uint8Array);
    const w = this.reserveMessage(payload.length);
    if (w === null) return false;
    w.array.set(payload, w.offset);
    this.commitMessage();
    return true;
  }

  // ── Consumer ────────────────────────────────────────────────────────────

  /**
   * The next message's payload, in place (a reused window), without consuming it.
   *
   * @returns The window, or `null` if no whole message is readable.
   * @throws {RingCorrupt} If a frame's length runs past the published bytes.
   */
  readMessage(): Region<Uint8Array> | null {
    let region = this.#ring.readable();
    if (region === null) return null;
    if (this.#words[region.offset / 4] === SKIP) {
      if (region.offset + region.length !== this.#capacity) {
        throw new RingCorrupt(
          `Cannot read message as a skip marker at ${region.offset} does not reach the end of the ring`,
        );
      }
      this.#ring.advance(region.length); // drops the padding
      region = this.#ring.readable();
      if (region === null) return null;
    }
    if (region.length < FRAME_HEADER_BYTES) {
      throw new RingCorrupt(
        `Cannot read message as only ${region.length} bytes of its frame are published`,
      );
    }
    const length = this.#words[region.offset / 4];
    if (length > this.maxMessage() || frameBytes(length) > region.length) {
      throw new RingCorrupt(
        `Cannot read message as its length ${length} runs past the ${region.length} published bytes`,
      );
    }
    this.#current = frameBytes(length);
    const m = this.#read;
    m.offset = region.offset + FRAME_HEADER_BYTES;
    m.length = length;
    return m;
  }

  /**
   * Consumes the message last returned by {@linkcode MessageRing.readMessage}.
   *
   * @throws {RangeError} If no message was read.
   */
  advanceMessage(): void {
    if (this.#current === 0) throw new RangeError("Cannot advance as no message was read");
    const n = this.#current;
    this.#current = 0;
    this.#ring.advance(n);
  }

  /**
   * Receives one message as a copy. Allocates.
   *
   * @returns The payload, or `null` if none is readable.
   */
  tryRecvMessage(): Uint8Array | null {
    const m = this.readMessage();
    if (m === null) return null;
    const copy = m.array.slice(m.offset, m.offset + m.length);
    this.advanceMessage();
    return copy;
  }

  /**
   * Resolves once a message is readable, without blocking the event loop.
   *
   * @param options Timeout and abort signal.
   * @throws {Closed} If closed and drained.
   */
  readableAsync(options: WaitOptions = {}): Promise<void> {
    return this.#ring.readableAsync(options);
  }

  /**
   * Resolves once a message of `length` bytes can be reserved, without
   * blocking the event loop (it waits for room for the frame and the
   * padding it may need at the end of the ring).
   *
   * @param length Payload bytes.
   * @param options Timeout and abort signal.
   * @throws {RangeError} If `length` exceeds {@linkcode MessageRing.maxMessage}.
   * @throws {Closed} If the ring is closed.
   */
  writableAsync(length: number, options: WaitOptions = {}): Promise<void> {
    this.#checkLength("wait for room", length);
    // padding before a frame is shorter than the frame, so twice the frame always does
    return this.#ring.writableAsync(Math.min(2 * frameBytes(length), this.#capacity), options);
  }

  /** Closes the ring. */
  close(): void {
    this.#ring.close();
  }

  /** Same as {@linkcode MessageRing.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Whether the ring was closed.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#ring.isClosed();
  }
}
