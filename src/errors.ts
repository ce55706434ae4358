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
 * import { TimedOut } from "./errors.ts";
 * const err = new TimedOut("Cannot receive as the wait timed out after 1000000 ns");
 * console.log(err instanceof TimedOut, err.name); // true "TimedOut"
 * ```
 */
export class TimedOut extends RingError {}

/** The ring or channel was closed, so the operation cannot go on. */
export class Closed extends RingError {}

/**
 * Shared memory holds a state no honest peer could have written (for example
 * `tail - head > capacity`); the ring is not touched further.
 */
export class RingCorrupt extends RingError {}

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
