/**
 * `SharedRing`: the cross-process SPSC ring of the seed, over a sealed memfd
 * (or a file under /dev/shm) mapped `MAP_SHARED`, byte-compatible with
 * ringmpsc's SharedRing v1 so a Zig ringmpsc process and a Deno process can
 * share one ring in either direction.
 *
 * The header (512 bytes, little-endian; data from byte 512; mapping
 * page-rounded) is drawn in src/layout.ts, which owns its offsets
 * (`SHARED_RING_HEADER`, `SHARED_RING_LAYOUT`).
 *
 * The ring logic is `Ring`'s (src/ring.ts) over this layout, with the futex
 * parker. A Deno sleeper counts itself in consumer_waiters (producer_waiters)
 * and parks with futex_waitv on that waiters word and on the other side's
 * position and the closed word at once (src/wait_engine.ts), so ringmpsc's
 * FUTEX_WAKE on the waiters word releases it directly, and so does a Deno
 * peer's position store and wake. The slice (`sliceMs`) stays only as a guard
 * for ringmpsc's lossy wake and for its close(), which wakes nobody (Spin
 * checks both: `models/wake.pml -DFOREIGN`, `models/wake_ringmpsc.pml`).
 *
 * The peer is not trusted: attach checks the seals, the mapping size against
 * `fstat`, and every header field an honest creator would have written, and
 * every read checks `tail − head ≤ capacity`; each failure is a typed error.
 *
 * @module
 */

import type { ElementStore, ElementType } from "../element.ts";
import {
  Closed,
  InvalidMagic,
  InvalidSharedMemory,
  RingCorrupt,
  SlotSizeMismatch,
  VersionMismatch,
} from "../errors.ts";
import type { Region, Reservation } from "../reservation.ts";
import { MAX_RING_BITS } from "../config.ts";
import {
  checkBoolean,
  checkFd,
  checkInteger,
  checkObject,
  checkPid,
  checkTimeoutMs,
} from "../_validate.ts";
import { pollFd, POLLIN } from "./broadcast_wire.ts";
import { native } from "../../ffi/lib.ts";
import { readFileStart } from "./_read_file.ts";
import { Ring } from "../ring.ts";
import type { WaitOptions } from "../wait_engine.ts";
import { WaitStrategy } from "../wait_strategy.ts";
import { SHARED_RING_HEADER, SHARED_RING_HEADER_SIZE, SHARED_RING_LAYOUT } from "../layout.ts";
import { heartbeatClockNs, storeHeartbeat } from "./clock.ts";
import { futexParker } from "./futex.ts";
import { sharedCommit } from "./_shared_commit.ts";
import { getPid } from "./process.ts";
import { SharedMemory, type SharedMemoryPathOptions } from "./shared_memory.ts";

/** "RNGSHRD\0" read as a little-endian u64. */
export const SHARED_RING_MAGIC = 0x0044524853474E52n;
/** The header layout version this library speaks. */
export const SHARED_RING_VERSION = 1;
const PAGE = 4096;
const H = SHARED_RING_HEADER;

/** ringmpsc's ring_bits is a u6: the most a header from it can hold. */
const MAX_FOREIGN_RING_BITS = 63;

/** Bytes to map for a ring of `capacity` slots of `slotSize` bytes. */
function totalSize(capacity: number, slotSize: number): number {
  return Math.ceil((SHARED_RING_HEADER_SIZE + capacity * slotSize) / PAGE) * PAGE;
}

/** Writes a fresh v1 header into `memory`. */
function writeHeader(memory: SharedMemory, ringBits: number, slotSize: number): void {
  const view = new DataView(memory.buffer, 0, SHARED_RING_HEADER_SIZE);
  const capacity = 2 ** ringBits;
  view.setUint32(H.version, SHARED_RING_VERSION, true);
  view.setUint32(H.ringBits, ringBits, true);
  view.setBigUint64(H.capacity, BigInt(capacity), true);
  view.setBigUint64(H.capacityMask, BigInt(capacity - 1), true);
  view.setUint32(H.slotSize, slotSize, true);
  view.setUint32(H.headerSize, SHARED_RING_HEADER_SIZE, true);
  view.setBigUint64(H.totalSize, BigInt(memory.size), true);
  view.setUint32(H.creatorPid, getPid(), true);
  view.setUint32(H.generation, 1, true);
  // last, and atomic: an attacher that sees the magic sees every field above
  Atomics.store(new BigInt64Array(memory.buffer, 0, 1), 0, BigInt.asIntN(64, SHARED_RING_MAGIC));
}

/**
 * Checks what ringmpsc's own attach checks (magic, version, slot_size), in
 * that order, on any copy of the header.
 */
function checkIdentity(view: DataView, magic: bigint, slotSize: number): void {
  if (magic !== SHARED_RING_MAGIC) {
    throw new InvalidMagic(
      `Cannot attach shared ring as its magic is not RNGSHRD: received 0x${magic.toString(16)}`,
    );
  }
  const version = view.getUint32(H.version, true);
  if (version !== SHARED_RING_VERSION) {
    throw new VersionMismatch(
      `Cannot attach shared ring as its version must be ${SHARED_RING_VERSION}: received ${version}`,
    );
  }
  const slot = view.getUint32(H.slotSize, true);
  if (slot !== slotSize) {
    throw new SlotSizeMismatch(
      `Cannot attach shared ring as its slot size must be ${slotSize} bytes: received ${slot}`,
    );
  }
}

/**
 * Checks a header written by a peer that may lie; returns its ringBits.
 * Throws a typed error for the first field an honest creator could not have written.
 */
function readHeader(memory: SharedMemory, slotSize: number): number {
  if (memory.size < SHARED_RING_HEADER_SIZE) throw tooSmall(memory.size);
  const view = new DataView(memory.buffer, 0, SHARED_RING_HEADER_SIZE);
  const magic = BigInt.asUintN(64, Atomics.load(new BigInt64Array(memory.buffer, 0, 1), 0));
  checkIdentity(view, magic, slotSize);
  const ringBits = view.getUint32(H.ringBits, true);
  const corrupt = (what: string, value: bigint | number) =>
    new RingCorrupt(`Cannot attach shared ring as its ${what} is inconsistent: received ${value}`);
  if (ringBits < 1 || ringBits > MAX_FOREIGN_RING_BITS) throw corrupt("ring_bits", ringBits);
  if (ringBits > MAX_RING_BITS) {
    throw new RangeError(
      `Cannot attach shared ring as its ring_bits must be between 1 and ${MAX_RING_BITS} ` +
        `(ringmpsc allows up to ${MAX_FOREIGN_RING_BITS}; this library maps at most ` +
        `2^${MAX_RING_BITS} slots): received ${ringBits}`,
    );
  }
  const capacity = 2 ** ringBits;
  const headerSize = view.getUint32(H.headerSize, true);
  if (headerSize !== SHARED_RING_HEADER_SIZE) throw corrupt("header_size", headerSize);
  const cap = view.getBigUint64(H.capacity, true);
  if (cap !== BigInt(capacity)) throw corrupt("capacity", cap);
  const mask = view.getBigUint64(H.capacityMask, true);
  if (mask !== BigInt(capacity - 1)) throw corrupt("capacity_mask", mask);
  const total = view.getBigUint64(H.totalSize, true);
  if (total !== BigInt(memory.size) || memory.size < totalSize(capacity, slotSize)) {
    throw corrupt(`total_size (mapping is ${memory.size} bytes)`, total);
  }
  return ringBits;
}

function tooSmall(size: number): RingCorrupt {
  return new RingCorrupt(
    `Cannot attach shared ring as the mapping is smaller than its header: received ${size} bytes`,
  );
}

/**
 * Checks magic, version and slot_size from a read(2) copy of the memfd's
 * header, before anything is mapped: a mismatch is reported as such even for
 * a memfd that cannot be mapped safely (unsealed), and reading cannot fault.
 * Only shmem files (memfds, /dev/shm files) are read, as a read from a pipe
 * could block; other fds are left to the mapping's own checks.
 */
function peekIdentity(fd: number, slotSize: number): void {
  if (native().rmpsc_get_seals(fd) < 0) return;
  const copy = readFileStart(`/proc/self/fd/${fd}`, SHARED_RING_HEADER_SIZE);
  if (copy === undefined) return;
  if (copy.length < SHARED_RING_HEADER_SIZE) throw tooSmall(copy.length);
  const view = new DataView(copy.buffer, copy.byteOffset, SHARED_RING_HEADER_SIZE);
  checkIdentity(view, view.getBigUint64(0, true), slotSize);
}

/** How a SharedRing's waits behave (options of every factory). */
export interface SharedRingWaitOptions {
  /**
   * Longest single sleep of a wait, in ms (default 100): the guard re-check
   * for a wake that ringmpsc's own scheme can lose (or its `close()`, which
   * wakes nobody), and the interval at which a wait looks at its peer.
   * Wakes themselves arrive at once, through the waiters word.
   */
  readonly sliceMs?: number;
  /**
   * Where the peer's pid is unknown (a ringmpsc process attached to a ring
   * this process created, and `watchPeer` was not called): a consumer's wait
   * takes the producer for dead once its heartbeat is older than this many
   * ms (default `Infinity`: never). A producer that is alive but idle longer
   * than this would be declared dead: choose it above its longest pause.
   */
  readonly peerTimeoutMs?: number;
}

/** Options of {@linkcode SharedRing.attach}. */
export interface SharedRingAttachOptions extends SharedRingWaitOptions {
  /**
   * Attach a memfd that is not sealed against shrinking (default `false`).
   * ringmpsc creates its memfds without `MFD_ALLOW_SEALING`, so its rings can
   * never be sealed and are refused unless this is `true`. The risk is in the
   * name: a peer that shrinks the memfd afterwards makes this process's next
   * access to the ring fault with SIGBUS, which kills it. Pass it only for a
   * peer you trust (your own ringmpsc process).
   */
  readonly allowUnsealedSigbusRisk?: boolean;
}

function checkWaitSettings(options: SharedRingWaitOptions): void {
  checkObject("make shared ring", "options", options);
  if (options.sliceMs !== undefined) checkTimeoutMs("make shared ring", options.sliceMs, "sliceMs");
  if (options.peerTimeoutMs !== undefined) {
    checkTimeoutMs("make shared ring", options.peerTimeoutMs, "peerTimeoutMs");
  }
}

/** Options of {@linkcode SharedRing.create}. */
export interface SharedRingCreateOptions extends SharedRingWaitOptions {
  /** The memfd's name, shown in /proc/PID/fd. */
  readonly name?: string;
}

/**
 * A cross-process SPSC ring. The creator makes it and passes `getFd()` to the
 * other process (`sendFd` over a Unix socket), which calls `attach(fd)`; or
 * both use a path under /dev/shm (`createPath` / `attachPath`).
 *
 * @example Create, send, attach and receive (both sides in one process here)
 * ```ts
 * import assert from "node:assert/strict";
 * import { u64 } from "@ringmpsc/ringmpsc";
 * import { SharedRing } from "@ringmpsc/ringmpsc/native";
 * using producer = SharedRing.create(u64, 12);
 * producer.send([1n, 2n, 3n]);
 * using consumer = SharedRing.attach(u64, producer.getFd());
 * const region = consumer.readable()!;
 * assert.equal(region.length, 3);
 * assert.equal(region.array[region.offset], 1n);
 * consumer.advance(region.length);
 * ```
 */
export class SharedRing<V, S extends ElementStore> {
  readonly #memory: SharedMemory;
  readonly #ring: Ring<V, S>;
  readonly #heartbeatWord: BigInt64Array;
  readonly #peerTimeoutMs: number;
  /** The watched peer's pid, 0 while unknown. */
  #peerPid = 0;
  /** A pidfd of the watched peer (pid-reuse safe), -1 when none. */
  #peerPidfd = -1;
  #closed = false;

  private constructor(
    element: ElementType<V, S>,
    memory: SharedMemory,
    ringBits: number,
    create: boolean,
    options: SharedRingWaitOptions,
  ) {
    this.#memory = memory;
    this.#peerTimeoutMs = options.peerTimeoutMs ?? Infinity;
    const heartbeat = new BigUint64Array(memory.buffer, H.heartbeat, 1);
    this.#ring = new Ring(element, { ringBits }, {
      buffer: memory.buffer,
      byteOffset: 0,
      layout: SHARED_RING_LAYOUT,
      parker: futexParker,
      initialize: false,
      heartbeat: { signal: () => storeHeartbeat(heartbeat) }, // stamps heartbeat_ns on every commit
      commit: sharedCommit(memory.buffer), // …in the same FFI call as the publish, when it can
      sliceMs: options.sliceMs ?? SHARED_RING_LAYOUT.sliceMs,
      peer: () => this.#peerGone(),
    });
    this.#heartbeatWord = new BigInt64Array(memory.buffer, H.heartbeat, 1);
    if (create) storeHeartbeat(heartbeat);
    else {
      // the attacher's peer is the creator, whose pid the header names
      const creator = new DataView(memory.buffer).getUint32(H.creatorPid, true);
      if (creator > 0 && creator <= 0x7fffffff && creator !== getPid()) this.watchPeer(creator);
    }
  }

  /** How the peer died, or `null` while it lives (asked by waits after each sleep). */
  #peerGone(): string | null {
    if (this.#peerPid > 0) {
      const dead = this.#peerPidfd < 0 || pollFd(this.#peerPidfd, POLLIN, 0) !== 0;
      return dead ? `the peer process ${this.#peerPid} exited` : null;
    }
    if (this.#peerTimeoutMs !== Infinity && !this.isProducerAlive(this.#peerTimeoutMs)) {
      return `the producer's heartbeat is older than ${this.#peerTimeoutMs} ms`;
    }
    return null;
  }

  /**
   * Names the process on the other side, so that every wait of this ring ends
   * with `PeerGone` within one slice (default 100 ms) of its death, once
   * what it published is taken. An attacher watches the ring's creator (the
   * header's creator_pid) by itself; a creator learns its peer's pid from the
   * socket it passed the fd over (`peerCredentials(conn).pid`).
   *
   * @param pid The peer's process id.
   * @throws {RangeError} If `pid` is out of range.
   * @throws {TypeError} If `pid` is not a number.
   */
  watchPeer(pid: number): void {
    checkPid("watch the peer", pid);
    if (this.#peerPidfd >= 0) native().rmpsc_close(this.#peerPidfd);
    this.#peerPid = pid;
    this.#peerPidfd = native().rmpsc_pidfd_open(pid); // < 0 (ESRCH): gone already
  }

  static #check(element: ElementType<unknown, ElementStore>): void {
    if (typeof element?.view !== "function") {
      throw new TypeError(
        `Cannot make shared ring as the element type is not a descriptor: received ${
          String(element)
        }`,
      );
    }
  }

  /**
   * Creates a ring of `2 ** ringBits` slots in a new sealed memfd.
   *
   * @param element The element type (its byte size is the header's slot_size).
   * @param ringBits Capacity exponent, 1–30.
   * @param options The memfd's name.
   * @returns The ring; its creator owns the fd.
   * @throws {RangeError} If ringBits is out of range.
   * @throws {SystemError} If the kernel refuses the memfd or mapping.
   */
  static create<V, S extends ElementStore>(
    element: ElementType<V, S>,
    ringBits: number,
    options: SharedRingCreateOptions = {},
  ): SharedRing<V, S> {
    return SharedRing.#created(
      element,
      ringBits,
      (size) => SharedMemory.create(size, { name: options.name ?? "ringmpsc-shared-ring" }),
      options,
    );
  }

  /**
   * Attaches to a ring made by another process, from a received fd. The fd is
   * duplicated by the mapping's owner; closing the ring closes this process's
   * use of it.
   *
   * Magic, version and slot size are checked first, from a copy of the header
   * read without mapping; then the seals (see
   * {@linkcode SharedRingAttachOptions.allowUnsealedSigbusRisk} for rings made
   * by ringmpsc); then, on the mapping, every other header field.
   *
   * @param element The element type; its size must match the header's slot_size.
   * @param fd The memfd.
   * @param options Whether an unsealed memfd from a trusted peer is accepted.
   * @returns The ring.
   * @throws {InvalidMagic} If the memory holds no SharedRing.
   * @throws {VersionMismatch} If the header's version is not 1.
   * @throws {SlotSizeMismatch} If the element size differs from slot_size.
   * @throws {InvalidSharedMemory} If the memfd is not sealed against shrinking
   * and growing and cannot be, unless `allowUnsealedSigbusRisk` is `true`.
   * @throws {RangeError} If `fd` is out of range, or the header's ring_bits is
   * legal for ringmpsc (up to 63) but above 30.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RingCorrupt} If any other header field is inconsistent.
   * @throws {SystemError} If the fd is unusable.
   */
  static attach<V, S extends ElementStore>(
    element: ElementType<V, S>,
    fd: number,
    options: SharedRingAttachOptions = {},
  ): SharedRing<V, S> {
    const action = "attach shared ring";
    SharedRing.#check(element);
    checkFd(action, fd);
    checkObject(action, "options", options);
    const unsealed = options.allowUnsealedSigbusRisk ?? false;
    checkBoolean(action, "options.allowUnsealedSigbusRisk", unsealed);
    peekIdentity(fd, element.bytes);
    let memory: SharedMemory;
    try {
      memory = SharedMemory.attach(fd, { requireSeals: !unsealed });
    } catch (error) {
      if (!(error instanceof InvalidSharedMemory)) throw error;
      throw new InvalidSharedMemory(
        `${error.message}. ringmpsc's rings are never sealed: to attach one from a trusted ` +
          "peer pass { allowUnsealedSigbusRisk: true }, and a peer that then shrinks the memfd " +
          "crashes this process with SIGBUS",
        { cause: error },
      );
    }
    return SharedRing.#attached(element, memory, options);
  }

  /**
   * Creates a ring in a file under /dev/shm, for processes that do not pass fds.
   *
   * The file outlives this object and this process, as a named ring must (a
   * peer may attach by path at any time, and ringmpsc's rings behave the same):
   * `deinit()` and `using` unmap the ring but leave the file. Remove it with
   * {@linkcode SharedMemory.unlinkPath} (or `Deno.removeSync(path)`) once
   * every peer has attached or finished; mapped peers keep working after that.
   *
   * @param element The element type.
   * @param path The file's path, e.g. `/dev/shm/my-ring`.
   * @param ringBits Capacity exponent, 1–30.
   * @param options How its waits behave.
   * @returns The ring.
   *
   * @example Creating, attaching by path, then removing the file
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory, SharedRing, u32 } from "@ringmpsc/ringmpsc/native";
   * const path = `/dev/shm/ringmpsc-doc-ring-${Deno.pid}`;
   * using ring = SharedRing.createPath(u32, path, 4);
   * using peer = SharedRing.attachPath(u32, path); // another process, usually
   * SharedMemory.unlinkPath(path); // the name goes; both mappings stay
   * ring.send([5]);
   * assert.equal(peer.tryRecv(), 5);
   * ```
   */
  static createPath<V, S extends ElementStore>(
    element: ElementType<V, S>,
    path: string,
    ringBits: number,
    options: SharedRingWaitOptions = {},
  ): SharedRing<V, S> {
    return SharedRing.#created(
      element,
      ringBits,
      (size) => SharedMemory.createPath(path, size),
      options,
    );
  }

  /**
   * Attaches to a ring in a file under /dev/shm. By default only a file owned
   * by this process's effective uid that neither group nor others may write
   * is attached; `options` widens that.
   *
   * @param element The element type.
   * @param path The file's path.
   * @param options Whose files are trusted (as {@linkcode SharedMemory.attachPath}), and how
   * its waits behave.
   * @returns The ring.
   * @throws {UntrustedPath} When the file's owner is not allowed or others may write it.
   * @throws {InvalidMagic} {VersionMismatch} {SlotSizeMismatch} {RingCorrupt} As `attach`.
   */
  static attachPath<V, S extends ElementStore>(
    element: ElementType<V, S>,
    path: string,
    options: SharedMemoryPathOptions & SharedRingWaitOptions = {},
  ): SharedRing<V, S> {
    SharedRing.#check(element);
    checkObject("attach shared ring", "options", options);
    const { owners, allowWritableByOthers } = options;
    return SharedRing.#attached(
      element,
      SharedMemory.attachPath(path, { owners, allowWritableByOthers }),
      options,
    );
  }

  /** Checks the arguments, maps fresh memory with `map`, and writes a v1 header into it. */
  static #created<V, S extends ElementStore>(
    element: ElementType<V, S>,
    ringBits: number,
    map: (size: number) => SharedMemory,
    options: SharedRingWaitOptions,
  ): SharedRing<V, S> {
    SharedRing.#check(element);
    checkInteger("create shared ring", "ringBits", ringBits, 1, MAX_RING_BITS);
    checkWaitSettings(options);
    const memory = map(totalSize(2 ** ringBits, element.bytes));
    writeHeader(memory, ringBits, element.bytes);
    return new SharedRing(element, memory, ringBits, true, options);
  }

  static #attached<V, S extends ElementStore>(
    element: ElementType<V, S>,
    memory: SharedMemory,
    options: SharedRingWaitOptions,
  ): SharedRing<V, S> {
    try {
      checkWaitSettings(options);
      return new SharedRing(element, memory, readHeader(memory, element.bytes), false, options);
    } catch (err) {
      memory.close();
      throw err;
    }
  }

  /**
   * The memfd, to pass to another process with `sendFd`.
   *
   * @returns The fd.
   */
  getFd(): number {
    this.#use("get the fd");
    return this.#memory.fd;
  }

  /**
   * The `Ring` over this memory, for the rest of the ring API (blocking waits,
   * iterators …); its commits stamp the heartbeat too.
   */
  get ring(): Ring<V, S> {
    return this.#use("use the ring");
  }

  /**
   * Reserves up to `n` slots (see `Ring.reserve`).
   *
   * @param n Slots wanted.
   * @returns The window, or `null` if fewer than `n` are free.
   */
  reserve(n: number): Reservation<S> | null {
    return this.#use("reserve").reserve(n);
  }

  /**
   * Publishes `n` reserved slots, stamps the heartbeat, and wakes a sleeping consumer.
   *
   * @param n Slots written.
   */
  commit(n: number): void {
    this.#use("commit").commit(n);
  }

  /**
   * Sends as many items as fit.
   *
   * @param items The items.
   * @returns How many were sent.
   */
  send(items: ArrayLike<V>): number {
    return this.#use("send").send(items);
  }

  /**
   * Sends one item if there is room.
   *
   * @param item The item.
   * @returns `true` if sent.
   */
  sendOne(item: V): boolean {
    return this.#use("send").sendOne(item);
  }

  /**
   * The contiguous readable run (see `Ring.readable`).
   *
   * @returns The window, or `null` if empty.
   * @throws {RingCorrupt} If the header says `tail − head > capacity`.
   */
  readable(): Region<S> | null {
    return this.#use("read").readable();
  }

  /**
   * Consumes `n` items and wakes a sleeping producer.
   *
   * @param n Items consumed.
   */
  advance(n: number): void {
    this.#use("advance").advance(n);
  }

  /**
   * Receives one item.
   *
   * @returns The item, or `null` if empty.
   */
  tryRecv(): V | null {
    return this.#use("receive").tryRecv();
  }

  /**
   * Sleeps until an item is readable: in one futex_waitv on consumer_waiters
   * (where ringmpsc's commit wakes), the tail and the closed flag, so a
   * producer of either kind releases it at once.
   *
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If closed and drained.
   * @throws {TimedOut} If the deadline passes.
   * @throws {PeerGone} If the producer's process died and nothing is left.
   */
  waitReadable(wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#use("wait").waitReadable(wait);
  }

  /**
   * Resolves once an item is readable, waiting on the futex off the event loop.
   *
   * @param options Timeout (ms) and abort signal.
   * @throws {Closed} If closed and drained.
   * @throws {TimedOut} If the timeout passes.
   * @throws {PeerGone} If the producer's process died and nothing is left.
   */
  async readableAsync(options: WaitOptions = {}): Promise<void> {
    await this.#use("wait").readableAsync(options);
  }

  /**
   * Sleeps until `n` slots are free, on producer_waiters (where ringmpsc's
   * advance wakes), the head and the closed flag.
   *
   * @param n Slots wanted.
   * @param wait A strategy (default blocking), or `{ timeoutMs, signal }`.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the deadline passes.
   * @throws {PeerGone} If the consumer's process died.
   */
  waitWritable(n: number, wait: WaitStrategy | WaitOptions = WaitStrategy.blocking): void {
    this.#use("wait").waitWritable(n, wait);
  }

  /**
   * Resolves once `n` slots are free, without blocking the event loop.
   *
   * @param n Slots wanted.
   * @param options Timeout (ms) and abort signal.
   * @throws {Closed} If the ring is closed.
   * @throws {TimedOut} If the timeout passes.
   * @throws {PeerGone} If the consumer's process died.
   */
  async writableAsync(n: number, options: WaitOptions = {}): Promise<void> {
    await this.#use("wait").writableAsync(n, options);
  }

  /**
   * Items in the ring.
   *
   * @returns The count.
   */
  len(): number {
    return this.#use("count items").len();
  }

  /**
   * Whether the ring is empty.
   *
   * @returns `true` if empty.
   */
  isEmpty(): boolean {
    return this.#use("count items").isEmpty();
  }

  /** Marks the ring closed for both processes and wakes every sleeper. */
  close(): void {
    this.#use("close").close();
  }

  /**
   * Whether either side closed the ring.
   *
   * @returns `true` once closed.
   */
  isClosed(): boolean {
    return this.#use("check closed").isClosed();
  }

  /**
   * Whether the producer committed within the last `timeoutMs` (its heartbeat),
   * to within one kernel tick: commits stamp the coarse realtime clock
   * ({@linkcode heartbeatClockNs}), and the age is read with the same clock.
   * A producer that died between reserve and commit never published what it
   * wrote, and stops beating.
   *
   * @param timeoutMs The longest silence still counted as alive, in milliseconds.
   * @returns `true` if the heartbeat is fresher than `timeoutMs`.
   * @throws {RangeError} If `timeoutMs` is NaN or negative.
   * @throws {TypeError} If `timeoutMs` is not a number.
   */
  isProducerAlive(timeoutMs: number): boolean {
    checkTimeoutMs("check the producer", timeoutMs);
    this.#use("check the producer");
    const beat = BigInt.asUintN(64, Atomics.load(this.#heartbeatWord, 0));
    if (beat === 0n) return false;
    // the heartbeat's own clock: a stamp is at most one kernel tick old when read with it
    const age = heartbeatClockNs() - beat; // < 0 for a fine stamp (a ringmpsc peer's) after the tick
    return timeoutMs === Infinity || age <= BigInt(Math.floor(timeoutMs * 1e6));
  }

  /** The ring, or {@linkcode Closed} once {@linkcode SharedRing.deinit} unmapped it. */
  #use(action: string): Ring<V, S> {
    if (this.#closed) {
      throw new Closed(
        `Cannot ${action} as the shared ring was deinitialized (its memory is unmapped)`,
      );
    }
    return this.#ring;
  }

  /**
   * Unmaps the ring (idempotent); the creator also closes its fd. Does not
   * close the ring for the peer: call `close()` first for that. Every later
   * call on this object throws {@linkcode Closed}; a `Ring` taken from
   * {@linkcode SharedRing.ring} must not be used after it either.
   */
  deinit(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#peerPidfd >= 0) native().rmpsc_close(this.#peerPidfd);
    this.#memory.close();
  }

  /** Same as {@linkcode SharedRing.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }
}
