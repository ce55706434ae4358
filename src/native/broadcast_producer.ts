/**
 * {@linkcode SharedBroadcastProducer}: the producer of a broadcast ring shared
 * between processes. The ring (laid out as drawn in
 * `src/broadcast/_layout.ts`: 256-byte control region, one 4096-byte page per
 * consumer, 16-byte-aligned messages) lives in a sealed memfd. Consumers join
 * through a Unix socket (zbq's handshake): each sends a join request with its
 * own pidfd, and the producer answers with the memfd and the consumer's slot.
 * That connection stays open as the consumer's side socket, on which file
 * descriptors sent with a message travel, tagged with its sequence id.
 *
 * Dead consumers are seen through the pidfd they sent (exit makes it
 * readable); hung ones by the ring's stall rule; a consumer whose socket stops
 * taking fds counts as hung. Every one of them is evicted and its socket and
 * pidfd closed.
 *
 * Trust: the producer never trusts the shared memory it reads back (a tail
 * out of range or moving back evicts its consumer as corrupt), and consumers
 * check every header. Unlike zbq, which maps each consumer's metadata page
 * alone, every consumer here maps the whole memfd read-write, so a hostile
 * consumer can disturb the others (overwrite their pages or the messages);
 * give one ring only to consumers that trust each other.
 *
 * @module
 */

import { BroadcastProducer, type BroadcastProducerOptions } from "../broadcast/producer.ts";
import type { ContiguousRun, DetachReason, MessageReservation } from "../broadcast/producer.ts";
import { RingCorrupt, TimedOut } from "../errors.ts";
import { futexParker } from "./futex.ts";
import { recvFdWith, recvFdWithAsync, sendFdWith } from "./fd_passing.ts";
import { FdServer, type FdServerOptions } from "./fd_server.ts";
import { peerCredentials } from "./peer_credentials.ts";
import { SharedMemory } from "./shared_memory.ts";
import { getPid, isProcessAlive } from "./process.ts";
import { readTextFile } from "./_read_file.ts";
import { native } from "../../ffi/lib.ts";
import {
  POLLERR,
  pollFd,
  POLLHUP,
  POLLIN,
  POLLOUT,
  RECORD_BYTES,
  RECORD_MAGIC,
  REPLY_BYTES,
  REPLY_MAGIC,
  REQUEST_BYTES,
  REQUEST_MAGIC,
  WIRE_VERSION,
  words,
} from "./broadcast_wire.ts";

/** Options of {@linkcode SharedBroadcastProducer.create}. */
export interface SharedBroadcastProducerOptions
  extends Omit<BroadcastProducerOptions, "parker" | "pid" | "isConsumerAlive" | "onDetach"> {
  /** The memfd's name (default `"ringmpsc-broadcast"`). */
  readonly name?: string;
  /** Longest wait for a connected consumer's join request, in ms (default 5000). */
  readonly handshakeTimeoutMs?: number;
  /** Called once a consumer's slot is let go (after its socket and pidfd are closed). */
  readonly onDetach?: (slot: number, reason: DetachReason) => void;
  /**
   * How the socket listens (as {@linkcode FdServer.listen}): its file mode
   * (default 0600), who may join (default: only this process's effective
   * uid; others are refused with `PeerRefused` before any handshake), and
   * whether a shared directory is accepted.
   */
  readonly listen?: FdServerOptions;
}

const PAGE = 4096;

function closeQuietly(fd: number): void {
  if (fd >= 0) native().rmpsc_close(fd);
}

/** The pid a pidfd refers to, from /proc/self/fdinfo, or 0 when unknown. */
function pidOfPidfd(pidfd: number): number {
  try {
    const info = readTextFile(`/proc/self/fdinfo/${pidfd}`);
    const match = info?.match(/^Pid:\s*(-?\d+)/m);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * The producer of a broadcast ring shared with consumers in other processes.
 *
 * @example One producer, one consumer (here in the same process)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedBroadcastProducer, SharedBroadcastConsumer } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-bcast-${Deno.pid}.sock`;
 * using producer = SharedBroadcastProducer.create(path, { capacity: 4096 });
 * const joining = SharedBroadcastConsumer.joinAsync(path);
 * await producer.acceptAsync();
 * using consumer = await joining;
 * producer.send(Uint8Array.of(1, 2, 3));
 * assert.deepEqual(consumer.recv(), Uint8Array.of(1, 2, 3));
 * ```
 */
export class SharedBroadcastProducer {
  #memory: SharedMemory;
  #producer: BroadcastProducer;
  #server: FdServer;
  #sockets: Int32Array;
  #pidfds: Int32Array;
  #handshakeTimeoutMs: number;
  #onDetach: ((slot: number, reason: DetachReason) => void) | null;
  #record = new Uint8Array(RECORD_BYTES);
  #closed = false;

  private constructor(
    memory: SharedMemory,
    server: FdServer,
    options: SharedBroadcastProducerOptions,
  ) {
    this.#memory = memory;
    this.#server = server;
    const maxConsumers = options.maxConsumers ?? 16;
    this.#sockets = new Int32Array(maxConsumers).fill(-1);
    this.#pidfds = new Int32Array(maxConsumers).fill(-1);
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.#onDetach = options.onDetach ?? null;
    this.#producer = BroadcastProducer.init(memory.buffer, {
      ...options,
      parker: futexParker,
      pid: getPid(),
      isConsumerAlive: (pid, slot) => this.#alive(pid, slot),
      onDetach: (slot, reason) => this.#detached(slot, reason),
    });
  }

  /**
   * Creates the ring in a sealed memfd and listens for consumers at `path`.
   *
   * @param path The Unix socket path consumers join through (at most 107 bytes).
   * @param options The ring's settings (as {@linkcode BroadcastProducer.create}) and the memfd's name.
   * @returns The producer.
   * @throws {RangeError} If an option is out of range.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {SystemError} If the memfd, its mapping or the socket cannot be made.
   * @example Creating
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * using p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-bc-${Deno.pid}.sock`, { capacity: 4096 });
   * assert.equal(p.producer.capacity, 4096);
   * ```
   */
  static create(
    path: string,
    options: SharedBroadcastProducerOptions = {},
  ): SharedBroadcastProducer {
    const timeout = options.handshakeTimeoutMs ?? 5000;
    if (!(timeout >= 0 && timeout <= 2 ** 31 - 1)) {
      throw new RangeError(
        `Cannot create broadcast ring as handshakeTimeoutMs must be between 0 and 2147483647: received ${timeout}`,
      );
    }
    const bytes = Math.ceil(BroadcastProducer.requiredBytes(options) / PAGE) * PAGE;
    const memory = SharedMemory.create(bytes, { name: options.name ?? "ringmpsc-broadcast" });
    let server: FdServer | undefined;
    try {
      server = FdServer.listen(path, options.listen);
      return new SharedBroadcastProducer(memory, server, options);
    } catch (error) {
      server?.deinit();
      memory.close();
      throw error;
    }
  }

  /** The ring itself: query, reserve, commit, send, scan, join counts. */
  get producer(): BroadcastProducer {
    return this.#producer;
  }

  /** The socket path consumers join through. */
  get path(): string {
    return this.#server.path;
  }

  /** The ring's memfd. */
  get fd(): number {
    return this.#memory.fd;
  }

  /**
   * Accepts one consumer and completes its handshake, blocking the thread.
   *
   * @returns The consumer's slot.
   * @throws {PeerRefused} If the consumer's user is not allowed (it is
   * disconnected before any handshake; the producer goes on serving).
   * @throws {TimedOut} If the consumer sends no join request in time.
   * @throws {RingCorrupt} If its join request is malformed.
   * @throws {TooManyConsumers} If every slot is taken.
   * @throws {Closed} If the producer is closed.
   * @throws {SystemError} If a socket call fails.
   * @example See {@linkcode SharedBroadcastProducer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastProducer.prototype.accept, "function");
   * ```
   */
  accept(): number {
    return this.handshake(this.#server.accept());
  }

  /**
   * Accepts one consumer without blocking the event loop, then completes its
   * handshake.
   *
   * @returns A promise of the consumer's slot.
   * @throws {PeerRefused} If the consumer's user is not allowed (it is
   * disconnected before any handshake; the producer goes on serving).
   * @throws {TimedOut} If the consumer sends no join request in time.
   * @throws {RingCorrupt} If its join request is malformed.
   * @throws {TooManyConsumers} If every slot is taken.
   * @throws {Closed} If the producer is closed, before or while waiting.
   * @example See {@linkcode SharedBroadcastProducer}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastProducer.prototype.acceptAsync, "function");
   * ```
   */
  async acceptAsync(): Promise<number> {
    const conn = await this.#server.acceptAsync();
    const request = new Uint8Array(REQUEST_BYTES);
    let abandoned = false;
    const receiving = recvFdWithAsync(conn, request);
    // A receive that completes after the timeout hands back an fd nobody wants.
    receiving.then((fd) => abandoned && closeQuietly(fd), () => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimedOut(
              `Cannot accept consumer as no join request came within ${this.#handshakeTimeoutMs} ms`,
            ),
          ),
        this.#handshakeTimeoutMs,
      );
    });
    let pidfd: number;
    try {
      pidfd = await Promise.race([receiving, timeout]);
    } catch (error) {
      abandoned = true;
      closeQuietly(conn);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return this.#complete(conn, request, pidfd);
  }

  /**
   * Completes the join handshake on an accepted connection (zbq's
   * `producer_handshake`): reads the join request and the consumer's pidfd,
   * assigns a slot starting at the current head, and answers with the
   * ring's memfd. Takes ownership of `conn`, which becomes the consumer's
   * side socket.
   *
   * @param conn An accepted AF_UNIX stream connection.
   * A consumer that sends part of a request and stops can hold this call
   * (and the thread) past the timeout: accept untrusted consumers with
   * {@linkcode SharedBroadcastProducer.acceptAsync}, which gives up on time.
   *
   * @returns The consumer's slot.
   * @throws {TimedOut} If no join request arrives within `handshakeTimeoutMs`.
   * @throws {RingCorrupt} If the join request is malformed.
   * @throws {TooManyConsumers} If every slot is taken.
   * @throws {SystemError} If a socket call fails.
   * @example See {@linkcode SharedBroadcastProducer.accept}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastProducer.prototype.handshake, "function");
   * ```
   */
  handshake(conn: number): number {
    const request = new Uint8Array(REQUEST_BYTES);
    let pidfd: number;
    try {
      if (pollFd(conn, POLLIN, this.#handshakeTimeoutMs) === 0) {
        throw new TimedOut(
          `Cannot accept consumer as no join request came within ${this.#handshakeTimeoutMs} ms`,
        );
      }
      pidfd = recvFdWith(conn, request);
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
    return this.#complete(conn, request, pidfd);
  }

  #complete(conn: number, request: Uint8Array, pidfd: number): number {
    let slot = -1;
    try {
      const w = words(request);
      const magic = w.getUint32(0, true);
      const version = w.getUint32(4, true);
      const mode = w.getUint32(8, true);
      const claimed = w.getInt32(12, true);
      if (magic !== REQUEST_MAGIC || version !== WIRE_VERSION || mode > 1) {
        throw new RingCorrupt(
          `Cannot accept consumer as its join request is malformed: received magic 0x${
            magic.toString(16)
          }, version ${version}, mode ${mode}`,
        );
      }
      // The kernel says which process connected; the request and the pidfd must agree.
      const connected = peerCredentials(conn).pid;
      if (claimed !== connected) {
        throw new RingCorrupt(
          `Cannot accept consumer as process ${connected} connected: received pid ${claimed}`,
        );
      }
      const actual = pidOfPidfd(pidfd);
      if (actual > 0 && claimed !== actual) {
        throw new RingCorrupt(
          `Cannot accept consumer as its pidfd names process ${actual}: received pid ${claimed}`,
        );
      }
      const handle = this.#producer.join({ mode: mode === 0 ? "push" : "pull", pid: connected });
      slot = handle.slot;
      this.#sockets[slot] = conn;
      this.#pidfds[slot] = pidfd;
      const reply = new Uint8Array(REPLY_BYTES);
      const r = words(reply);
      r.setUint32(0, REPLY_MAGIC, true);
      r.setUint32(4, WIRE_VERSION, true);
      r.setUint32(8, slot, true);
      r.setUint32(12, handle.epoch, true);
      r.setUint32(16, mode, true);
      r.setInt32(20, getPid(), true);
      r.setUint32(24, this.#memory.size, true);
      sendFdWith(conn, this.#memory.fd, reply);
      return slot;
    } catch (error) {
      if (slot >= 0) {
        this.#producer.evict(slot, "dead");
      } else {
        closeQuietly(conn);
        closeQuietly(pidfd);
      }
      throw error;
    }
  }

  /**
   * Sends `fds` to every consumer, tagged with `seqId`, one record per fd on
   * each consumer's socket (zbq's `broadcast_fds`). Call it after reserving
   * the message (with `fdCount = fds.length`) and before committing it, so the
   * fds wait in the socket when the message becomes visible. A consumer whose
   * socket is full or broken is evicted. The fds stay open here.
   *
   * @param seqId The message's sequence id.
   * @param fds The descriptors (1 … 253; none is a no-op).
   * @throws {RangeError} If there are more than 253 fds.
   * @example See {@linkcode SharedBroadcastProducer.send}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastProducer.prototype.broadcastFds, "function");
   * ```
   */
  broadcastFds(seqId: number, fds: readonly number[]): void {
    if (fds.length === 0) return;
    if (fds.length > 253) {
      throw new RangeError(
        `Cannot send fds as a message carries at most 253: received ${fds.length}`,
      );
    }
    const record = this.#record;
    const w = words(record);
    w.setUint32(0, RECORD_MAGIC, true);
    w.setUint32(4, seqId >>> 0, true);
    w.setUint32(8, Math.floor(seqId / 2 ** 32), true);
    w.setUint16(14, fds.length, true);
    for (let slot = 0; slot < this.#sockets.length; slot++) {
      const sock = this.#sockets[slot];
      if (sock < 0) continue;
      try {
        for (let i = 0; i < fds.length; i++) {
          const events = pollFd(sock, POLLOUT, 0);
          if ((events & (POLLERR | POLLHUP)) !== 0) throw new Error("gone");
          if ((events & POLLOUT) === 0) {
            this.#producer.evict(slot, "hung");
            break;
          }
          w.setUint16(12, i, true);
          sendFdWith(sock, fds[i], record);
        }
      } catch {
        this.#producer.evict(slot, "dead");
      }
    }
  }

  /**
   * Copies one message into the ring, sends its fds to every consumer, and
   * commits it.
   *
   * @param payload The bytes to broadcast.
   * @param fds Descriptors that travel with the message (default none).
   * @returns `true`, or `false` when the ring is clogged (nothing was sent).
   * @throws {RangeError} If the payload cannot fit the ring or there are more than 253 fds.
   * @throws {Closed} If the producer is closed.
   * @example Sending with an fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer, SharedMemory } from "@ringmpsc/ringmpsc/native";
   * using p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-bs-${Deno.pid}.sock`, { capacity: 4096 });
   * using attachment = SharedMemory.create(4096);
   * assert.ok(p.send(Uint8Array.of(1), [attachment.fd]));
   * ```
   */
  send(payload: Uint8Array, fds: readonly number[] = []): boolean {
    const r = this.reserve(payload.length, fds.length);
    if (r === null) return false;
    r.array.set(payload, r.offset);
    this.broadcastFds(r.seqId, fds);
    this.#producer.commit();
    return true;
  }

  /**
   * Reserves one message in place (see {@linkcode BroadcastProducer.reserve}).
   *
   * @param payloadLength Payload bytes.
   * @param fdCount Descriptors that will travel with it.
   * @returns The reservation, or `null` when the ring is clogged.
   * @throws {RangeError} If the message cannot fit or `fdCount` is out of range.
   * @example Reserving and committing
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * using p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-br-${Deno.pid}.sock`, { capacity: 4096 });
   * const head = p.producer.head;
   * const r = p.reserve(2)!;
   * r.array.set([1, 2], r.offset);
   * p.commit();
   * assert.ok(p.producer.head > head);
   * ```
   */
  reserve(payloadLength: number, fdCount = 0): MessageReservation | null {
    return this.#producer.reserve(payloadLength, fdCount);
  }

  /**
   * The largest contiguous writable run (see {@linkcode BroadcastProducer.query}).
   *
   * @param minBytes The run needed, a multiple of 16.
   * @returns The run; `maxBytes` is 0 when clogged.
   * @throws {RangeError} If `minBytes` is out of range.
   * @example Querying
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * using p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-bq-${Deno.pid}.sock`, { capacity: 4096 });
   * assert.equal(p.query(16).maxBytes, 4096);
   * ```
   */
  query(minBytes = 16): ContiguousRun {
    return this.#producer.query(minBytes);
  }

  /**
   * Publishes what was reserved or written (see {@linkcode BroadcastProducer.commit}).
   *
   * @param writtenBytes Bytes written by hand into the last run.
   * @param flags `COMMIT_FORCE_SCAN` to scan afterwards.
   * @throws {RangeError} If `writtenBytes` is not a multiple of 16 within the run.
   * @example See {@linkcode SharedBroadcastProducer.reserve}.
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * assert.equal(typeof SharedBroadcastProducer.prototype.commit, "function");
   * ```
   */
  commit(writtenBytes = 0, flags = 0): void {
    this.#producer.commit(writtenBytes, flags);
  }

  /**
   * Evicts dead and hung consumers now (see {@linkcode BroadcastProducer.scan}).
   *
   * @returns How many were evicted.
   * @example Scanning
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * using p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-bsc-${Deno.pid}.sock`, { capacity: 4096 });
   * assert.equal(p.scan(), 0);
   * ```
   */
  scan(): number {
    return this.#producer.scan();
  }

  /**
   * Closes the ring (consumers drain, then see `Closed`), every consumer
   * socket and pidfd, the listening socket (removing its file) and the
   * mapping. Safe to call twice.
   *
   * @example Closing
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedBroadcastProducer } from "@ringmpsc/ringmpsc/native";
   * const p = SharedBroadcastProducer.create(`/tmp/ringmpsc-doc-bcl-${Deno.pid}.sock`, { capacity: 4096 });
   * p.close();
   * p.close();
   * assert.ok(p.producer.closed);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#producer.close();
    for (let slot = 0; slot < this.#sockets.length; slot++) {
      closeQuietly(this.#sockets[slot]);
      closeQuietly(this.#pidfds[slot]);
      this.#sockets[slot] = -1;
      this.#pidfds[slot] = -1;
    }
    this.#server.deinit();
    this.#memory.close();
  }

  /** Same as {@linkcode SharedBroadcastProducer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #alive(pid: number, slot: number): boolean {
    const pidfd = this.#pidfds[slot];
    if (pidfd >= 0) {
      // A pidfd turns readable when its process exits; no pid reuse can fool it.
      const events = pollFd(pidfd, POLLIN, 0);
      return events === 0;
    }
    return isProcessAlive(pid);
  }

  #detached(slot: number, reason: DetachReason): void {
    closeQuietly(this.#sockets[slot]);
    closeQuietly(this.#pidfds[slot]);
    this.#sockets[slot] = -1;
    this.#pidfds[slot] = -1;
    if (this.#onDetach !== null) this.#onDetach(slot, reason);
  }
}
