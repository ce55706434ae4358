/**
 * Typed errors that callers of ringmpsc are expected to catch.
 *
 * Out-of-range arguments throw `RangeError` and wrongly shaped arguments throw
 * `TypeError`; the classes here stand for the conditions of the seed's error
 * unions (`error.TimedOut`, `error.Closed`, …). "Nothing available" is never
 * an error: hot paths return `null` or `0` instead.
 *
 * @module
 */

/** Base class of every ringmpsc error, so callers can catch them all at once. */
export class RingError extends Error {
  /**
   * Creates an error with the given message.
   *
   * @param message What went wrong, stating the value involved.
   * @param options Standard error options, such as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A blocking operation reached its deadline before it could complete.
 *
 * @example Catching a timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimedOut } from "@ringmpsc/ringmpsc";
 * const err = new TimedOut("Cannot receive as the wait timed out after 1000000 ns");
 * assert.ok(err instanceof TimedOut);
 * assert.equal(err.name, "TimedOut");
 * ```
 */
export class TimedOut extends RingError {}

/** The ring or channel was closed, so the operation cannot go on. */
export class Closed extends RingError {}

/**
 * The process on the other side of a cross-process ring died while this side
 * waited, and left nothing more to take: a wait that could never end.
 */
export class PeerGone extends RingError {}

/**
 * Shared memory holds a state no honest peer could have written (for example
 * `tail - head > capacity`); the ring is not touched further.
 */
export class RingCorrupt extends RingError {}

/**
 * A `BufferPool`'s shared words hold a state no honest peer could have written
 * (a slab both free in the bitmap and allocated in its state, a length past the
 * slab, a header that disagrees with itself); the message prints the words as
 * read. A `RingCorrupt`, so one catch covers every forged shared structure.
 */
export class PoolCorrupt extends RingCorrupt {}

/** A shared-memory header does not start with the expected magic number. */
export class InvalidMagic extends RingError {}

/** A shared-memory header carries a layout version this library does not speak. */
export class VersionMismatch extends RingError {}

/** A shared-memory header's slot size differs from the element type's size. */
export class SlotSizeMismatch extends RingError {}

/** A channel already holds its maximum number of consumers. */
export class TooManyConsumers extends RingError {}

/** A channel already holds its maximum number of producers and cannot grow. */
export class TooManyProducers extends RingError {}

/** A pool or slab handle is stale, foreign, or was already freed. */
export class InvalidHandle extends RingError {}

/** A fixed-size resource, such as a BufferPool, has nothing left to hand out. */
export class Exhausted extends RingError {}

/**
 * A system call made through the native helper failed; `errno` holds the
 * positive error number the kernel returned.
 */
export class SystemError extends RingError {
  /** The positive errno value, for example 2 for ENOENT. */
  readonly errno: number;

  /**
   * Creates an error for a failed system call.
   *
   * @param message What was attempted, stating the value involved.
   * @param errno The positive errno value.
   */
  constructor(message: string, errno: number) {
    super(`${message}: errno ${errno}`);
    this.errno = errno;
  }
}

/**
 * A broadcast consumer was evicted by its producer (it stopped making progress
 * while it held the ring full, or its slot was taken back); the messages it was
 * reading when this is thrown may have been overwritten.
 */
export class Evicted extends RingError {}

/**
 * Shared memory received from another process is not safe to map: it lacks
 * the seals against shrinking and growing and cannot be given them, or its
 * size differs from what the caller expects.
 */
export class InvalidSharedMemory extends RingError {}

/**
 * The process on the other end of a Unix socket is not one the caller allows:
 * a server refused a client (its connection was closed and no fd was sent;
 * the server goes on serving), or a client refused a server (for example one
 * that squatted a stale socket path). The kernel-vouched credentials
 * (SO_PEERCRED) of the refused peer are attached.
 *
 * @example Telling who was refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { PeerRefused } from "./errors.ts";
 * const err = new PeerRefused("Cannot accept as the peer is not allowed", { pid: 7, uid: 1000, gid: 100 });
 * assert.equal(err.uid, 1000);
 * assert.equal(err.name, "PeerRefused");
 * ```
 */
export class PeerRefused extends RingError {
  /** The refused peer's process id (when it connected or listened). */
  readonly pid: number;
  /** The refused peer's effective user id. */
  readonly uid: number;
  /** The refused peer's effective group id. */
  readonly gid: number;

  /**
   * Creates an error for a refused peer.
   *
   * @param message What was refused and why, stating the peer's ids.
   * @param peer The peer's credentials.
   */
  constructor(message: string, peer: { pid: number; uid: number; gid: number }) {
    super(message);
    this.pid = peer.pid;
    this.uid = peer.uid;
    this.gid = peer.gid;
  }
}

/**
 * A file or directory that would let others in is refused: a socket's
 * directory (or one above it) that someone other than the caller or root owns
 * or may write into, or a /dev/shm file that is not owned by an allowed user
 * or is writable by group or others. The message says which.
 *
 * @example Telling what was refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { UntrustedPath } from "./errors.ts";
 * const err = new UntrustedPath("Cannot listen as /x is writable by others", "/x", 0, 0o40777);
 * assert.equal(err.mode & 0o777, 0o777);
 * ```
 */
export class UntrustedPath extends RingError {
  /** The file or directory refused. */
  readonly path: string;
  /** Its owner's user id. */
  readonly uid: number;
  /** Its mode (file type and permission bits, as stat reports). */
  readonly mode: number;

  /**
   * Creates an error for a refused path.
   *
   * @param message What was refused and why.
   * @param path The file or directory refused.
   * @param uid Its owner's user id.
   * @param mode Its mode.
   */
  constructor(message: string, path: string, uid: number, mode: number) {
    super(message);
    this.path = path;
    this.uid = uid;
    this.mode = mode;
  }
}
