/**
 * {@linkcode EventNotifier}: ringmpsc's eventfd wrapper. A producer signals
 * after commit; a consumer that also serves sockets, timers or signals waits
 * in epoll (edge-triggered) or, in Deno, awaits {@linkcode EventNotifier.waitAsync}
 * without blocking the event loop, then drains the ring. Signals coalesce:
 * the counter adds up until `consume` reads and resets it.
 *
 * The eventfd can be passed to another process with `sendFd` and wrapped
 * there with {@linkcode EventNotifier.fromFd}, so a producer in one process
 * wakes a consumer in another.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { check, native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { checkFd, checkIndex, checkInstance } from "../_validate.ts";
import { Epoll, EpollFlags } from "./epoll.ts";

const POLLIN = 1;

function toTimeoutMs(timeoutMs: number): number {
  if (timeoutMs === Infinity || Number.isNaN(timeoutMs)) return -1;
  if (timeoutMs <= 0) return 0;
  return Math.min(Math.ceil(timeoutMs), 0x7fffffff);
}

function epollFd(epoll: Epoll | number, action: string): number {
  const fd = epoll instanceof Epoll ? epoll.fd : epoll;
  checkFd(action, fd);
  return fd;
}

/**
 * A non-blocking, close-on-exec eventfd.
 *
 * @example Signals coalesce until consumed
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
 * using notifier = EventNotifier.init();
 * notifier.signal();
 * notifier.signal();
 * assert.equal(notifier.consume(), 2);
 * assert.equal(notifier.consume(), 0);
 * ```
 */
export class EventNotifier {
  #fd: number;
  #closed = false;
  #pending = 0;
  /** The counter read by `consume`, as two little-endian u32 halves. */
  #counter = new Uint32Array(2);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Creates a notifier over a new non-blocking eventfd with counter 0.
   *
   * @returns The notifier, owning its fd.
   * @throws {SystemError} When eventfd fails.
   *
   * @example Creating one
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * const notifier = EventNotifier.init();
   * assert.ok(notifier.fd() >= 0);
   * assert.equal(notifier.consume(), 0); // the counter starts at 0
   * notifier.deinit();
   * ```
   */
  static init(): EventNotifier {
    return new EventNotifier(
      check(native().rmpsc_eventfd(0, 1), "Cannot create an eventfd as eventfd failed"),
    );
  }

  /**
   * Wraps an eventfd received from another process (see `recvFd`). The
   * notifier takes ownership: {@linkcode EventNotifier.deinit} closes `fd`.
   * The fd should be non-blocking, as {@linkcode EventNotifier.init} makes
   * them; `consume` on a blocking one waits for a signal.
   *
   * @param fd An eventfd.
   * @returns The notifier.
   * @throws {RangeError} When `fd` is not a non-negative integer.
   *
   * @example Sharing one eventfd
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * const other = EventNotifier.fromFd(notifier.fd());
   * other.signal();
   * assert.equal(notifier.consume(), 1);
   * ```
   */
  static fromFd(fd: number): EventNotifier {
    checkFd("wrap an eventfd", fd);
    return new EventNotifier(fd);
  }

  /**
   * The eventfd, for custom event loop integration.
   *
   * @returns The fd.
   *
   * @example Reading the fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * assert.ok(notifier.fd() >= 0);
   * ```
   */
  fd(): number {
    return this.#fd;
  }

  /**
   * Producer: adds 1 to the counter, waking a consumer in epoll, poll or
   * {@linkcode EventNotifier.wait}. A counter already at its maximum means a
   * wake is pending, so that case is not an error.
   *
   * @throws {Closed} When the notifier is closed.
   * @throws {SystemError} When the write fails otherwise.
   *
   * @example Signalling
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * notifier.signal();
   * assert.equal(notifier.consume(), 1);
   * ```
   */
  signal(): void {
    if (this.#closed) throw new Closed("Cannot signal the eventfd as the notifier is closed");
    const rc = native().rmpsc_eventfd_write(this.#fd, 1);
    if (rc < 0 && rc !== -Errno.EAGAIN) {
      throw systemError(rc, `Cannot signal eventfd ${this.#fd} as write failed`);
    }
  }

  /**
   * Producer: signals only when `waiters[index]` is non-zero, so nothing is
   * spent while no consumer sleeps.
   *
   * @param waiters A word array the consumer raises before it sleeps.
   * @param index The waiter count's index within `waiters`.
   * @throws {Closed} When a signal is due and the notifier is closed.
   * @throws {SystemError} When the write fails.
   *
   * @example Skipping the signal
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * const waiters = new Int32Array(new SharedArrayBuffer(4));
   * notifier.signalIfWaiting(waiters, 0);
   * assert.equal(notifier.consume(), 0);
   * ```
   * @throws {TypeError} If `waiters` is not an Int32Array.
   * @throws {RangeError} If `index` is not an index of `waiters`.
   */
  signalIfWaiting(waiters: Int32Array, index: number): void {
    checkInstance("signal", "waiters", waiters, Int32Array);
    checkIndex("signal", "index", index, waiters.length);
    if (Atomics.load(waiters, index) !== 0) this.signal();
  }

  /**
   * Consumer: reads and resets the counter, without blocking.
   *
   * @returns The number of signals since the last consume (0 when none;
   * values past 2^53 lose precision).
   * @throws {Closed} When the notifier is closed.
   * @throws {SystemError} When the read fails otherwise.
   *
   * @example Nothing to consume
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * assert.equal(notifier.consume(), 0);
   * ```
   */
  consume(): number {
    if (this.#closed) throw new Closed("Cannot consume the eventfd as the notifier is closed");
    const rc = native().rmpsc_eventfd_read(this.#fd, this.#counter);
    if (rc === -Errno.EAGAIN) return 0;
    if (rc < 0) throw systemError(rc, `Cannot consume eventfd ${this.#fd} as read failed`);
    return this.#counter[0] + this.#counter[1] * 2 ** 32;
  }

  /**
   * Registers the eventfd with an epoll instance, edge-triggered (EPOLLIN |
   * EPOLLET), reporting the eventfd as the event's data.
   *
   * @param epoll An {@linkcode Epoll} or an epoll fd.
   * @throws {RangeError} When the epoll fd is out of range.
   * @throws {Closed} When the notifier is closed.
   * @throws {SystemError} When epoll_ctl fails.
   *
   * @example Registering
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * notifier.registerEpoll(epoll);
   * notifier.signal();
   * assert.equal(epoll.wait(0).length, 1);
   * notifier.unregisterEpoll(epoll);
   * ```
   */
  registerEpoll(epoll: Epoll | number): void {
    const epfd = epollFd(epoll, "register the eventfd with epoll");
    if (this.#closed) throw new Closed("Cannot register the eventfd as the notifier is closed");
    check(
      native().rmpsc_epoll_ctl(
        epfd,
        1,
        this.#fd,
        (EpollFlags.IN | EpollFlags.ET) >>> 0,
        BigInt(this.#fd),
      ),
      `Cannot register eventfd ${this.#fd} with epoll ${epfd} as epoll_ctl failed`,
    );
  }

  /**
   * Removes the eventfd from an epoll instance. Like ringmpsc's, this never
   * fails: an fd that is not registered is ignored.
   *
   * @param epoll An {@linkcode Epoll} or an epoll fd.
   * @throws {RangeError} When the epoll fd is out of range.
   *
   * @example Unregistering twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { Epoll, EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using epoll = Epoll.create();
   * using notifier = EventNotifier.init();
   * notifier.registerEpoll(epoll);
   * notifier.unregisterEpoll(epoll);
   * notifier.unregisterEpoll(epoll);
   * notifier.signal();
   * assert.equal(epoll.wait(0).length, 0);
   * ```
   */
  unregisterEpoll(epoll: Epoll | number): void {
    const epfd = epollFd(epoll, "unregister the eventfd from epoll");
    if (this.#closed) return;
    native().rmpsc_epoll_ctl(epfd, 2, this.#fd, 0, 0n);
  }

  /**
   * Consumer: blocks the calling thread until a signal arrives or
   * `timeoutMs` passes, then consumes.
   *
   * @param timeoutMs The most milliseconds to wait (default `Infinity`).
   * @returns The consumed count; 0 on timeout.
   * @throws {Closed} When the notifier is closed.
   * @throws {SystemError} When poll or read fails.
   *
   * @example A pending signal returns at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * notifier.signal();
   * assert.equal(notifier.wait(1000), 1);
   * assert.equal(notifier.wait(1), 0);
   * ```
   */
  wait(timeoutMs: number = Infinity): number {
    if (this.#closed) throw new Closed("Cannot wait on the eventfd as the notifier is closed");
    const rc = native().rmpsc_poll(this.#fd, POLLIN, toTimeoutMs(timeoutMs));
    if (rc < 0 && rc !== -Errno.EINTR) {
      throw systemError(rc, `Cannot wait on eventfd ${this.#fd} as poll failed`);
    }
    return rc > 0 ? this.consume() : 0;
  }

  /**
   * Consumer: like {@linkcode EventNotifier.wait}, without blocking the event
   * loop (the poll runs on a worker thread). Closing the notifier while this is
   * pending wakes it; it then rejects with {@linkcode Closed}.
   *
   * @param timeoutMs The most milliseconds to wait (default `Infinity`).
   * @returns A promise of the consumed count; 0 on timeout.
   * @throws {Closed} When the notifier is closed (before or while waiting).
   * @throws {SystemError} (as a rejection) When poll or read fails.
   *
   * @example Awaiting a signal
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * using notifier = EventNotifier.init();
   * const woken = notifier.waitAsync(5000);
   * notifier.signal();
   * assert.equal(await woken, 1);
   * ```
   */
  async waitAsync(timeoutMs: number = Infinity): Promise<number> {
    if (this.#closed) throw new Closed("Cannot wait on the eventfd as the notifier is closed");
    this.#pending++;
    let rc: number;
    try {
      rc = await native().rmpsc_poll_async(this.#fd, POLLIN, toTimeoutMs(timeoutMs));
    } finally {
      this.#pending--;
      if (this.#closed && this.#pending === 0) native().rmpsc_close(this.#fd);
    }
    if (this.#closed) throw new Closed("Cannot wait on the eventfd as the notifier was closed");
    if (rc < 0 && rc !== -Errno.EINTR) {
      throw systemError(rc, `Cannot wait on eventfd ${this.#fd} as poll failed`);
    }
    return rc > 0 ? this.consume() : 0;
  }

  /**
   * Closes the eventfd. Safe to call twice. With a
   * {@linkcode EventNotifier.waitAsync} pending, it first signals to wake the
   * poll, and the fd is closed when the poll returns.
   *
   * @example Closing twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventNotifier } from "@ringmpsc/ringmpsc/native";
   * const notifier = EventNotifier.init();
   * notifier.deinit();
   * notifier.deinit();
   * assert.throws(() => notifier.signal()); // closed
   * ```
   */
  deinit(): void {
    if (this.#closed) return;
    this.#closed = true;
    const lib = native();
    if (this.#pending > 0) lib.rmpsc_eventfd_write(this.#fd, 1);
    else lib.rmpsc_close(this.#fd);
  }

  /** Same as {@linkcode EventNotifier.deinit}. */
  close(): void {
    this.deinit();
  }

  /** Same as {@linkcode EventNotifier.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }
}
