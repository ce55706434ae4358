/**
 * Internal to the native broadcast ring: the little messages that travel on
 * a consumer's Unix socket, each one `sendFdWith` payload carrying one fd.
 *
 * ```text
 * join request, consumer → producer, carrying the consumer's own pidfd (16 bytes)
 *   0 u32 magic = 0x5152_4A42 ("BJRQ")   4 u32 version = 1
 *   8 u32 mode (0 push, 1 pull)          12 i32 pid (as the consumer claims it)
 * join reply, producer → consumer, carrying the ring's memfd (32 bytes)
 *   0 u32 magic = 0x4B4F_4A42 ("BJOK")   4 u32 version = 1
 *   8 u32 slot   12 u32 epoch   16 u32 mode   20 i32 producer pid
 *   24 u32 ring bytes (the memfd's size)   28 u32 reserved = 0
 * fd record, producer → consumer, one per fd of a message (16 bytes)
 *   0 u32 magic = 0x5344_4642 ("BFDS")   4 u32 seqLo   8 u32 seqHi
 *   12 u16 index (0-based)   14 u16 count (fds of the message, 1 … 253)
 * ```
 *
 * A reader trusts none of these fields until it has checked them.
 *
 * @module
 */

import { native } from "../../ffi/lib.ts";

export const REQUEST_MAGIC = 0x51524a42;
export const REPLY_MAGIC = 0x4b4f4a42;
export const RECORD_MAGIC = 0x53444642;
export const WIRE_VERSION = 1;
export const REQUEST_BYTES = 16;
export const REPLY_BYTES = 32;
export const RECORD_BYTES = 16;

/** poll(2) event bits. */
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;

/** Little-endian u32 words of a wire message. */
export function words(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Polls one fd: the returned events, 0 on timeout, or a negative errno.
 *
 * @param fd The fd.
 * @param events The events wanted.
 * @param timeoutMs How long to wait (0: just look).
 * @returns revents, 0, or −errno.
 */
export function pollFd(fd: number, events: number, timeoutMs: number): number {
  return native().rmpsc_poll(fd, events, Math.max(0, Math.min(Math.ceil(timeoutMs), 2 ** 31 - 1)));
}
