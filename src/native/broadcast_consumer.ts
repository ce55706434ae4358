/**
 * {@linkcode SharedBroadcastConsumer}: a consumer of a broadcast ring in
 * another process. It joins through the producer's Unix socket (sending its
 * own pidfd, receiving the ring's memfd and its slot), maps the ring (laid out
 * as drawn in `src/broadcast/_layout.ts`) and reads it like any
 * `BroadcastConsumer`, sleeping on the broadcast token with the kernel futex.
 *
 * File descriptors sent with a message arrive on the join socket, tagged with
 * the message's sequence id; {@linkcode SharedBroadcastConsumer.recvFds}
 * claims them. Fds of messages the consumer moves past without claiming them
 * are closed, so a producer cannot make this process pile up descriptors.
 *
 * **Untrusted producers.** As zbq warns, do not take fds from a producer you
 * do not trust, or treat them with care: an fd can be anything the producer
 * could open (a FIFO or socket that blocks a read forever, a huge or
 * growing file, a device, a memfd without seals that it can truncate under a
 * mapping and so raise SIGBUS). Check an fd's kind before use, never block
 * on it without a timeout, and map only memfds sealed against shrinking (as
 * `SharedMemory.attach` insists). This module bounds what it accepts (at most
 * 253 per message, close-on-exec, records checked against the message's
 * sequence id and count, a timeout on every receive) but cannot make the fds
 * themselves safe.
 *
 * @module
 */

import { checkInteger, checkOneOf, checkTimeoutMs } from "../_validate.ts";
import { BroadcastConsumer, type MessageView } from "../broadcast/consumer.ts";
import type { WakeupMode } from "../broadcast/producer.ts";
import { RingCorrupt, TimedOut } from "../errors.ts";
import { futexParker } from "./futex.ts";
import type { WaitOptions } from "../wait_engine.ts";
import { connectUnix, recvFdWith, recvFdWithAsync, sendFdWith } from "./fd_passing.ts";
import { peerCredentials, type PeerPolicy } from "./peer_credentials.ts";
import { SharedMemory } from "./shared_memory.ts";
import { getPid } from "./process.ts";
import { check, native } from "../../ffi/lib.ts";
import {
  pollFd,
  POLLIN,
  RECORD_BYTES,
  RECORD_MAGIC,
  REPLY_BYTES,
  REPLY_MAGIC,
  REQUEST_BYTES,
  REQUEST_MAGIC,
  WIRE_VERSION,
  words,
} from "./broadcast_wire.ts";

/** Options of {@linkcode SharedBroadcastConsumer.join}. */
export interface SharedBroadcastJoinOptions {
  /** `"push"` sleeps on the broadcast futex, `"pull"` polls (default `"push"`). */
  readonly mode?: WakeupMode;
  /** Longest wait for the producer's reply, in ms (default 5000). */
  readonly timeoutMs?: number;
  /**
   * Which producer may be listening (as {@linkcode connectUnix}; default:
   * only one running as this process's effective uid). A process that
   * squatted the path is refused with `PeerRefused` before anything is sent.
   */
  readonly allow?: PeerPolicy;
}

/** Longest single sleep of a wait: the interval of its looks at the producer's pidfd. */
const LIVENESS_SLICE_MS = 100;

/** Longest wait for the fd records of a message being skipped (they normally wait already). */
const DISCARD_WAIT_MS = 100;
/** Records of earlier messages recvFds always closes before it looks at its deadline. */
const DISCARD_FREE = 64;

/** One fd record read from the socket. */
interface FdRecord {
  seqId: number;
  index: number;
  count: number;
  fd: number;
}

function closeQuietly(fd: number): void {
  if (fd >= 0) native().rmpsc_close(fd);
}

function request(mode: WakeupMode): Uint8Array {
  const bytes = new Uint8Array(REQUEST_BYTES);
  const w = words(bytes);
  w.setUint32(0, REQUEST_MAGIC, true);
  w.setUint32(4, WIRE_VERSION, true);
  w.setUint32(8, mode === "push" ? 0 : 1, true);
  w.setInt32(12, getPid(), true);
  return bytes;
}

/**
 * A consumer of a broadcast ring whose producer is another process.
 *
 * @example Joining and receiving (both sides in one process here)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedBroadcastProducer, SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-bcc-${Deno.pid}.sock`;
 * using producer = SharedBroadcastProducer.create(path, { capacity: 4096 });
 * const joining = SharedBroadcastConsumer.joinAsync(path, { mode: "pull" });
 * await producer.acceptAsync();
 * using consumer = await joining;
 * producer.send(Uint8Array.of(9));
 * assert.equal(consumer.recv()?.[0], 9);
 * ```
 */
export class SharedBroadcastConsumer {
  #socket: number;
  #memory: SharedMemory;
  #consumer: BroadcastConsumer;
  #producerPidfd: number;
  #producerPid: number;
  /** Records read ahead of the message they belong to. */
  #stash: FdRecord[] = [];
  #record = new Uint8Array(RECORD_BYTES);
  /** Sequence id and fd count of the message the last peek returned. */
  #peekedSeq = 0;
  #peekedFds = 0;
  /** The last sequence id whose fds were claimed. */
  #claimedSeq = -1;
  #discarded = 0;
  #closed = false;

  private constructor(socket: number, reply: Uint8Array, memfd: number, mode: WakeupMode) {
    const w = words(reply);
    const magic = w.getUint32(0, true);
    const version = w.getUint32(4, true);
    if (magic !== REPLY_MAGIC || version !== WIRE_VERSION) {
      throw new RingCorrupt(
        `Cannot join broadcast ring as the producer's reply is malformed: received magic 0x${
          magic.toString(16)
        } and version ${version}`,
      );
    }
    const slot = w.getUint32(8, true);
    const epoch = w.getUint32(12, true);
    const producerPid = w.getInt32(20, true);
    // The kernel says which process listens; the reply must agree.
    const listening = peerCredentials(socket).pid;
    if (producerPid !== listening) {
      throw new RingCorrupt(
        `Cannot join broadcast ring as process ${listening} listens: received producer pid ${producerPid}`,
      );
    }
    const memory = SharedMemory.attach(memfd);
    try {
      this.#consumer = BroadcastConsumer.attach(memory.buffer, slot, epoch, {
        mode,
        parker: futexParker,
        peer: () => this.#producerGone(),
        sliceMs: LIVENESS_SLICE_MS,
      });
    } catch (error) {
      memory.close();
      throw error;
    }
    this.#socket = socket;
    this.#memory = memory;
    this.#producerPid = producerPid;
    this.#producerPidfd = native().rmpsc_pidfd_open(producerPid);
  }

  /**
   * Joins the ring whose producer listens at `path`, blocking the thread
   * until the producer accepts (zbq's `consumer_join`). The consumer starts
   * at the current head.
   *
   * @param path The producer's socket path.
   * @param options Wakeup mode and how long to wait for the producer.
   * @returns The consumer.
   * @throws {PeerRefused} If the process listening at `path` is not an allowed producer.
   * @throws {TimedOut} If the producer does not answer in time.
   * @throws {RingCorrupt} If its answer or the ring it sends is malformed.
   * @throws {InvalidMagic} If the memfd holds no broadcast ring.
   * @throws {SystemError} If a socket or mapping call fails (ENOENT: nobody listens at `path`).
   * @example See {@linkcode SharedBroadcastConsumer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.join, "function");
   * ```
   */
  static join(path: string, options: SharedBroadcastJoinOptions = {}): SharedBroadcastConsumer {
    const mode = checkOneOf("join broadcast ring", "mode", options.mode ?? "push", [
      "push",
      "pull",
    ]);
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = connectUnix(path, { allow: options.allow });
    let memfd = -1;
    try {
      SharedBroadcastConsumer.#sendRequest(socket, mode);
      if (pollFd(socket, POLLIN, timeoutMs) === 0) {
        throw new TimedOut(
          `Cannot join broadcast ring at ${path} as the producer did not answer within ${timeoutMs} ms`,
        );
      }
      const reply = new Uint8Array(REPLY_BYTES);
      memfd = recvFdWith(socket, reply);
      return new SharedBroadcastConsumer(socket, reply, memfd, mode);
    } catch (error) {
      closeQuietly(socket);
      throw error;
    } finally {
      closeQuietly(memfd);
    }
  }

  /**
   * Like {@linkcode SharedBroadcastConsumer.join}, without blocking the event
   * loop while the producer accepts.
   *
   * @param path The producer's socket path.
   * @param options Wakeup mode and how long to wait for the producer.
   * @returns A promise of the consumer.
   * @throws {PeerRefused} If the process listening at `path` is not an allowed producer.
   * @throws {TimedOut} If the producer does not answer in time.
   * @throws {RingCorrupt} If its answer or the ring it sends is malformed.
   * @throws {SystemError} If a socket or mapping call fails.
   * @example See {@linkcode SharedBroadcastConsumer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.joinAsync, "function");
   * ```
   */
  static async joinAsync(
    path: string,
    options: SharedBroadcastJoinOptions = {},
  ): Promise<SharedBroadcastConsumer> {
    const mode = checkOneOf("join broadcast ring", "mode", options.mode ?? "push", [
      "push",
      "pull",
    ]);
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = connectUnix(path, { allow: options.allow });
    let memfd = -1;
    try {
      SharedBroadcastConsumer.#sendRequest(socket, mode);
      const ready = await native().rmpsc_poll_async(socket, POLLIN, Math.ceil(timeoutMs));
      if (ready === 0) {
        throw new TimedOut(
          `Cannot join broadcast ring at ${path} as the producer did not answer within ${timeoutMs} ms`,
        );
      }
      const reply = new Uint8Array(REPLY_BYTES);
      memfd = await recvFdWithAsync(socket, reply);
      return new SharedBroadcastConsumer(socket, reply, memfd, mode);
    } catch (error) {
      closeQuietly(socket);
      throw error;
    } finally {
      closeQuietly(memfd);
    }
  }

  static #sendRequest(socket: number, mode: WakeupMode): void {
    // Our own pidfd: the producer learns of our exit through it, whatever happens to pid numbers.
    const pidfd = check(
      native().rmpsc_pidfd_open(getPid()),
      "Cannot join broadcast ring as pidfd_open failed",
    );
    try {
      sendFdWith(socket, pidfd, request(mode));
    } finally {
      closeQuietly(pidfd);
    }
  }

  /** The portable consumer underneath, for everything not wrapped here. */
  get consumer(): BroadcastConsumer {
    return this.#consumer;
  }

  /** The consumer's slot. */
  get slot(): number {
    return this.#consumer.slot;
  }

  /** File descriptors received with messages that were never claimed, and closed. */
  get discardedFds(): number {
    return this.#discarded;
  }

  /** The producer's pid, as it told us. */
  get producerPid(): number {
    return this.#producerPid;
  }

  /**
   * The message at the local tail, in place (see {@linkcode BroadcastConsumer.peek}).
   *
   * @returns The reused message view, or `null` when caught up.
   * @throws {RingCorrupt} If the producer wrote an impossible head or header.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Peeking
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.peek, "function");
   * ```
   */
  peek(): MessageView | null {
    const m = this.#consumer.peek();
    if (m !== null) {
      this.#peekedSeq = m.seqId;
      this.#peekedFds = m.fdCount;
    } else {
      this.#peekedFds = 0;
    }
    return m;
  }

  /**
   * Moves past the peeked message; fds sent with it and not claimed by
   * {@linkcode SharedBroadcastConsumer.recvFds} are received and closed.
   *
   * @throws {RingCorrupt} If the producer's fd records are malformed.
   * @example Advancing
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.advance, "function");
   * ```
   */
  advance(): void {
    if (this.#peekedFds > 0 && this.#claimedSeq !== this.#peekedSeq) {
      this.#discard(this.#peekedSeq, this.#peekedFds);
    }
    this.#peekedFds = 0;
    this.#consumer.advance();
  }

  /**
   * Gives read bytes back to the producer (see {@linkcode BroadcastConsumer.publish}).
   *
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Publishing
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.publish, "function");
   * ```
   */
  publish(): void {
    this.#consumer.publish();
  }

  /**
   * Copies the next message out and consumes it, closing any fds sent with
   * it. Allocates the copy.
   *
   * @returns The payload, or `null` when caught up.
   * @throws {RingCorrupt} If the producer wrote an impossible head or header.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example See {@linkcode SharedBroadcastConsumer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.recv, "function");
   * ```
   */
  recv(): Uint8Array | null {
    const m = this.peek();
    if (m === null) return null;
    const copy = m.array.slice(m.offset, m.offset + m.length);
    this.advance();
    this.publish();
    return copy;
  }

  /**
   * Blocks until a message is available (see {@linkcode BroadcastConsumer.wait}).
   * Every sleep lasts at most 100 ms, after which the producer's pidfd is
   * looked at: once the producer's process is gone and every message it
   * committed was read, the wait ends with `PeerGone` (within about 100 ms of
   * the death).
   *
   * @param timeout Longest wait in milliseconds (default `Infinity`), or `{ timeoutMs, signal }`.
   * @returns `true` if a message is available, `false` on timeout.
   * @throws {Closed} If the ring is closed and every message was read.
   * @throws {PeerGone} If the producer died and every message was read.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.wait, "function");
   * ```
   */
  wait(timeout: number | WaitOptions = Infinity): boolean {
    return this.#consumer.wait(timeout);
  }

  /**
   * Waits for a message without blocking the event loop, watching the
   * producer's liveness as {@linkcode SharedBroadcastConsumer.wait} does.
   *
   * @param timeout Longest wait in milliseconds (default `Infinity`), or `{ timeoutMs, signal }`.
   * @returns `true` if a message is available, `false` on timeout.
   * @throws {Closed} If the ring is closed and every message was read.
   * @throws {PeerGone} If the producer died and every message was read.
   * @throws {Evicted} If the producer evicted this consumer.
   * @example Awaiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.waitAsync, "function");
   * ```
   */
  waitAsync(timeout: number | WaitOptions = Infinity): Promise<boolean> {
    return this.#consumer.waitAsync(timeout);
  }

  /** How the producer died, or `null` while its process runs (the wait engine's peer check). */
  #producerGone(): string | null {
    return this.isProducerAlive() ? null : `the producer process ${this.#producerPid} exited`;
  }

  /**
   * Whether the producer closed the ring.
   *
   * @returns `true` once closed.
   * @example Checking
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.isClosed, "function");
   * ```
   */
  isClosed(): boolean {
    return this.#consumer.isClosed();
  }

  /**
   * Whether the producer's process still runs, seen through a pidfd opened
   * at join.
   *
   * @returns `false` once the producer has exited.
   * @example Checking the producer
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.isProducerAlive, "function");
   * ```
   */
  isProducerAlive(): boolean {
    if (this.#producerPidfd < 0) return false;
    return pollFd(this.#producerPidfd, POLLIN, 0) === 0;
  }

  /**
   * Receives the `count` fds sent with message `seqId` (zbq's `recv_fds`),
   * closing fds of earlier messages that were never claimed. **Do not use on
   * an untrusted producer** without the care described in the module doc.
   *
   * @param seqId The message's sequence id (`MessageView.seqId`).
   * @param count How many fds the message carries (`MessageView.fdCount`).
   * @param timeoutMs Longest wait for them, in ms (default 1000; they normally wait in the socket already).
   * @returns The fds, close-on-exec, now owned by the caller.
   * @throws {TimedOut} If they do not all arrive in time.
   * @throws {RingCorrupt} If the producer's records skip, repeat or miscount fds.
   * @throws {RangeError} If `count` is not between 0 and 253, `seqId` not a
   * safe integer or `timeoutMs` negative.
   * @throws {TypeError} If an argument is not a number.
   * @example Receiving fds with a message
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer, SharedBroadcastConsumer, SharedMemory, closeFd } from "@ringmpsc/ringmpsc/native";
   * const path = `/tmp/ringmpsc-doc-bfd-${Deno.pid}.sock`;
   * using producer = SharedBroadcastProducer.create(path, { capacity: 4096 });
   * const joining = SharedBroadcastConsumer.joinAsync(path);
   * await producer.acceptAsync();
   * using consumer = await joining;
   * using attachment = SharedMemory.create(4096);
   * new Uint8Array(attachment.buffer)[0] = 77;
   * producer.send(Uint8Array.of(1), [attachment.fd]);
   * const m = consumer.peek()!;
   * const [fd] = consumer.recvFds(m.seqId, m.fdCount);
   * const got = SharedMemory.attach(fd);
   * assert.equal(new Uint8Array(got.buffer)[0], 77);
   * got.close();
   * closeFd(fd); // received fds are the caller's to close
   * consumer.advance();
   * consumer.publish();
   * ```
   */
  recvFds(seqId: number, count: number, timeoutMs = 1000): number[] {
    checkInteger("receive fds", "seqId", seqId, 0, Number.MAX_SAFE_INTEGER);
    checkInteger("receive fds", "count", count, 0, 253);
    checkTimeoutMs("receive fds", timeoutMs);
    const fds: number[] = [];
    if (count === 0) return fds;
    const deadline = performance.now() + timeoutMs;
    let discarded = 0;
    try {
      while (fds.length < count) {
        const r = this.#stash.shift() ?? this.#read(deadline - performance.now());
        if (r === null) {
          throw new TimedOut(
            `Cannot receive fds of message ${seqId} as ${fds.length} of ${count} arrived within ${timeoutMs} ms`,
          );
        }
        if (r.seqId < seqId) {
          closeQuietly(r.fd); // an earlier message's fd nobody claimed
          this.#discarded++;
          // Bounded: a producer flooding old records runs this loop only until the deadline.
          if (++discarded > DISCARD_FREE && performance.now() > deadline) {
            throw new TimedOut(
              `Cannot receive fds of message ${seqId} as the producer sent ${discarded} records of earlier messages within ${timeoutMs} ms`,
            );
          }
          continue;
        }
        if (r.seqId > seqId || r.count !== count || r.index !== fds.length) {
          const detail =
            `message ${r.seqId} fd ${r.index} of ${r.count} while expecting message ${seqId} fd ${fds.length} of ${count}`;
          if (r.seqId > seqId) this.#stash.unshift(r);
          else closeQuietly(r.fd);
          throw new RingCorrupt(`Cannot receive fds as the producer sent ${detail}`);
        }
        fds.push(r.fd);
      }
    } catch (error) {
      for (const fd of fds) closeQuietly(fd);
      throw error;
    }
    this.#claimedSeq = seqId;
    return fds;
  }

  /**
   * Leaves the ring, closes fds still waiting on the socket, the socket, the
   * pidfd and the mapping. Safe to call twice.
   *
   * @example Leaving
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastConsumer.prototype.close, "function");
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer.close();
    for (const r of this.#stash) closeQuietly(r.fd);
    this.#discarded += this.#stash.length;
    this.#stash = [];
    try {
      for (let r = this.#read(0); r !== null; r = this.#read(0)) {
        closeQuietly(r.fd);
        this.#discarded++;
      }
    } catch {
      // A malformed record on the way out changes nothing.
    }
    closeQuietly(this.#socket);
    closeQuietly(this.#producerPidfd);
    this.#memory.close();
  }

  /** Same as {@linkcode SharedBroadcastConsumer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the `count` fd records of message `seqId` and any older ones still waiting. */
  #discard(seqId: number, count: number): void {
    for (let closed = 0; closed < count;) {
      const r = this.#stash.shift() ?? this.#read(DISCARD_WAIT_MS);
      if (r === null) return;
      if (r.seqId > seqId) {
        this.#stash.unshift(r);
        return;
      }
      closeQuietly(r.fd);
      this.#discarded++;
      if (r.seqId === seqId) closed++;
    }
  }

  /** Reads one fd record, or `null` if none arrives within `timeoutMs`. */
  #read(timeoutMs: number): FdRecord | null {
    const events = pollFd(this.#socket, POLLIN, Math.max(0, timeoutMs));
    if (events <= 0) return null;
    let fd: number;
    try {
      fd = recvFdWith(this.#socket, this.#record);
    } catch {
      return null; // the producer hung up: no more records
    }
    const w = words(this.#record);
    const magic = w.getUint32(0, true);
    const count = w.getUint16(14, true);
    const index = w.getUint16(12, true);
    const seqLo = w.getUint32(4, true);
    const seqHi = w.getUint32(8, true);
    if (
      magic !== RECORD_MAGIC || count < 1 || count > 253 || index >= count || seqHi >= 2 ** 21
    ) {
      closeQuietly(fd);
      throw new RingCorrupt(
        `Cannot receive fds as the producer sent a malformed record: received magic 0x${
          magic.toString(16)
        }, fd ${index} of ${count}, seqHi 0x${seqHi.toString(16)} seqLo 0x${seqLo.toString(16)}`,
      );
    }
    return {
      seqId: seqHi * 2 ** 32 + seqLo,
      index,
      count,
      fd,
    };
  }
}
