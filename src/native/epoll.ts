/**
 * {@linkcode Epoll}: a small wrapper over a Linux epoll instance, enough to
 * watch an `EventNotifier` (edge-triggered, as ringmpsc registers it) and a
 * few other fds, with a blocking `wait` for a dedicated thread and a
 * `waitAsync` that leaves the event loop free.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { check, native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { checkFd, checkInteger } from "../_validate.ts";

/** epoll event bits, as {@linkcode Epoll.add} takes and {@linkcode EpollEvent} reports them. */
export const EpollFlags = {
  /** The fd is readable. */
  IN: 0x001,
  /** The fd is writable. */
  OUT: 0x004,
  /** An error condition (always reported). */
  ERR: 0x008,
  /** Hang-up (always reported). */
  HUP: 0x010,
  /** The peer closed its writing end. */
  RDHUP: 0x2000,
  /** Edge-triggered: report a change once, not while the condition lasts. */
  ET: 0x80000000,
} as const;

/** One ready fd reported by {@linkcode Epoll.wait}. */
export interface EpollEvent {
  /** The ready bits (see {@linkcode EpollFlags}). */
  events: number;
  /** The data registered with the fd (by default the fd itself). */
  data: number;
}

/** Most events one wait reports (the helper's limit). */
const MAX_EVENTS = 64;
const RECORD_BYTES = 16;
const CTL_ADD = 1;
const CTL_DEL = 2;
const CTL_MOD = 3;

function toTimeoutMs(timeoutMs: number): number {
  if (timeoutMs === Infinity || Number.isNaN(timeoutMs)) return -1;
  if (timeoutMs <= 0) return 0;
  return Math.min(Math.ceil(timeoutMs), 0x7fffffff);
}

/**
 * An epoll instance.
 *
 * @example Watching an eventfd
 * ```ts
 * import assert from "node:assert/strict";
 * import { Epoll, EpollFlags, EventNotifier } from "@ringmpsc/ringmpsc/native";
 * using epoll = Epoll.create();
 * using notifier = EventNotifier.init();
 * notifier.registerEpoll(epoll);
 * notifier.signal();
 * const [event] = epoll.wait(1000);
 * assert.ok(event.data === notifier.fd());
 * assert.ok((event.events & EpollFlags.IN) !== 0);
 * ```
 */
export class Epoll {
  #fd: number;
  #closed = false;
  #pending = 0;
  #records = new Uint8Array(MAX_EVENTS * RECORD_BYTES);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Creates a close-on-exec epoll instance.
   *
   * @returns The new instance.
   * @throws {SystemError} When epoll_create1 fails.
   *
   * @example Creating one
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * assert.ok(epoll.fd >= 0);
   * ```
   */
  static create(): Epoll {
    return new Epoll(
      check(native().rmpsc_epoll_create(), "Cannot create epoll as epoll_create1 failed"),
    );
  }

  /**
   * The epoll fd.
   *
   * @returns The fd.
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Starts watching `fd` for `events`, reporting `data` with them.
   *
   * @param fd The fd to watch.
   * @param events Bits from {@linkcode EpollFlags}, e.g. `IN | ET`.
   * @param data What to report with the fd's events (default: the fd).
   * @throws {RangeError} When `fd` or `data` is out of range.
   * @throws {Closed} When this instance is closed.
   * @throws {SystemError} When epoll_ctl fails (EEXIST if already watched).
   *
   * @example Adding an fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EpollFlags, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * epoll.add(notifier.fd(), EpollFlags.IN);
   * notifier.signal();
   * assert.equal(epoll.wait(0).length, 1);
   * ```
   */
  add(fd: number, events: number, data: number = fd): void {
    this.#ctl(CTL_ADD, fd, events, data, "add an fd to");
  }

  /**
   * Changes the events and data of a watched fd.
   *
   * @param fd The watched fd.
   * @param events Bits from {@linkcode EpollFlags}.
   * @param data What to report with the fd's events (default: the fd).
   * @throws {RangeError} When `fd` or `data` is out of range.
   * @throws {Closed} When this instance is closed.
   * @throws {SystemError} When epoll_ctl fails (ENOENT if not watched).
   *
   * @example Switching to edge-triggered
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EpollFlags, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * epoll.add(notifier.fd(), EpollFlags.IN);
   * epoll.modify(notifier.fd(), EpollFlags.IN | EpollFlags.ET);
   * notifier.signal();
   * assert.equal(epoll.wait(0).length, 1);
   * assert.equal(epoll.wait(0).length, 0); // edge-triggered: reported once
   * ```
   */
  modify(fd: number, events: number, data: number = fd): void {
    this.#ctl(CTL_MOD, fd, events, data, "modify an fd in");
  }

  /**
   * Stops watching `fd`.
   *
   * @param fd The watched fd.
   * @throws {RangeError} When `fd` is out of range.
   * @throws {Closed} When this instance is closed.
   * @throws {SystemError} When epoll_ctl fails (ENOENT if not watched).
   *
   * @example Removing an fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EpollFlags, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * epoll.add(notifier.fd(), EpollFlags.IN);
   * epoll.remove(notifier.fd());
   * notifier.signal();
   * assert.equal(epoll.wait(0).length, 0);
   * ```
   */
  remove(fd: number): void {
    this.#ctl(CTL_DEL, fd, 0, 0, "remove an fd from");
  }

  #ctl(op: number, fd: number, events: number, data: number, action: string): void {
    checkFd(`${action} epoll`, fd);
    checkInteger(`${action} epoll`, "events", events, -(2 ** 31), 2 ** 32 - 1);
    checkInteger(`${action} epoll`, "data", data, 0, Number.MAX_SAFE_INTEGER);
    if (this.#closed) throw new Closed(`Cannot ${action} epoll as it is closed`);
    check(
      native().rmpsc_epoll_ctl(this.#fd, op, fd, events >>> 0, BigInt(data)),
      `Cannot ${action} epoll ${this.#fd} as epoll_ctl on fd ${fd} failed`,
    );
  }

  /**
   * Blocks the calling thread until a watched fd is ready or `timeoutMs`
   * passes, and returns up to 64 ready fds.
   *
   * @param timeoutMs The most milliseconds to wait (default `Infinity`: no
   * limit; 0 polls).
   * @returns The ready fds; empty on timeout (or an interrupted wait).
   * @throws {Closed} When this instance is closed.
   * @throws {SystemError} When epoll_wait fails.
   *
   * @example Polling without waiting
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * assert.equal(epoll.wait(0).length, 0);
   * ```
   */
  wait(timeoutMs: number = Infinity): EpollEvent[] {
    if (this.#closed) throw new Closed("Cannot wait on epoll as it is closed");
    const n = native().rmpsc_epoll_wait(
      this.#fd,
      this.#records,
      MAX_EVENTS,
      toTimeoutMs(timeoutMs),
    );
    return this.#events(n, this.#records);
  }

  /**
   * Like {@linkcode Epoll.wait}, without blocking the event loop (the wait runs
   * on a worker thread). Closing the instance while this is pending does not
   * interrupt it; the fd is closed when it returns, and it rejects with
   * {@linkcode Closed}.
   *
   * @param timeoutMs The most milliseconds to wait (default `Infinity`).
   * @returns A promise of the ready fds; empty on timeout.
   * @throws {Closed} When this instance is closed.
   * @throws {SystemError} (as a rejection) When epoll_wait fails.
   *
   * @example Awaiting an event
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * notifier.registerEpoll(epoll);
   * const ready = epoll.waitAsync(5000);
   * notifier.signal();
   * assert.equal((await ready).length, 1);
   * ```
   */
  async waitAsync(timeoutMs: number = Infinity): Promise<EpollEvent[]> {
    if (this.#closed) throw new Closed("Cannot wait on epoll as it is closed");
    const records = new Uint8Array(MAX_EVENTS * RECORD_BYTES);
    this.#pending++;
    let n: number;
    try {
      n = await native().rmpsc_epoll_wait_async(
        this.#fd,
        records,
        MAX_EVENTS,
        toTimeoutMs(timeoutMs),
      );
    } finally {
      this.#pending--;
      if (this.#closed && this.#pending === 0) native().rmpsc_close(this.#fd);
    }
    if (this.#closed) throw new Closed("Cannot wait on epoll as it was closed while waiting");
    return this.#events(n, records);
  }

  #events(n: number, records: Uint8Array): EpollEvent[] {
    if (n === -Errno.EINTR) return [];
    if (n < 0) throw systemError(n, `Cannot wait on epoll ${this.#fd} as epoll_wait failed`);
    const view = new DataView(records.buffer);
    const events: EpollEvent[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * RECORD_BYTES;
      events.push({
        events: view.getUint32(at, true),
        data: view.getUint32(at + 8, true) + view.getUint32(at + 12, true) * 2 ** 32,
      });
    }
    return events;
  }

  /**
   * Closes the epoll fd. Safe to call twice. With a
   * {@linkcode Epoll.waitAsync} pending, the fd is closed when it returns.
   *
   * @example Closing
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll } from "@ringmpsc/ringmpsc/native";
   * const epoll = Epoll.create();
   * epoll.close();
   * epoll.close();
   * assert.throws(() => epoll.wait(0));
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending === 0) native().rmpsc_close(this.#fd);
  }

  /** Same as {@linkcode Epoll.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
