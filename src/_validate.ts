/**
 * Internal: the one argument validator. Every public entry of the library
 * checks its arguments with these functions before it changes anything, so a
 * bad argument leaves every ring, channel and pool exactly as it was.
 *
 * Errors follow std's voice and state the value received:
 * `Cannot reserve as count must be an integer between 1 and 4096: received NaN`.
 * A value of the wrong kind (a string where a number belongs, a Uint8Array
 * where an Int32Array belongs) is a `TypeError`; a value of the right kind
 * outside its range (NaN, a fraction, a negative count, an index past the end)
 * is a `RangeError`.
 *
 * Each function takes `action`, the verb phrase of the failed call
 * ("reserve", "attach shared ring"), and `name`, the argument ("count"), and
 * returns the checked value so callers can write
 * `const n = checkInteger("reserve", "count", count, 1, capacity)`.
 *
 * @module
 */

/** The largest pid or fd the kernel hands out fits in a non-negative C `int`. */
const INT32_MAX = 0x7fffffff;

/**
 * Renders a value for the end of an error message: numbers as JavaScript
 * prints them (`NaN`, `-1`, `0.5`), strings quoted, bigints with `n`, objects
 * by their tag (`[object Uint8Array]`).
 *
 * @param value Anything.
 * @returns A short, printable description.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    case "object":
      return value === null ? "null" : Object.prototype.toString.call(value);
    default:
      return String(value);
  }
}

/** Prints a bound the way the docs do: `2^40` and `2^32 − 1` for the big powers of two. */
function bound(n: number): string {
  if (n >= 2 ** 20 && Number.isSafeInteger(n)) {
    const up = Math.log2(n + 1);
    if (Number.isInteger(up)) return `2^${up} − 1`;
    const exact = Math.log2(n);
    if (Number.isInteger(exact)) return `2^${exact}`;
  }
  return String(n);
}

/**
 * Checks that `value` is an integer in `[min, max]`.
 *
 * @param action What the caller tried, e.g. "reserve".
 * @param name The argument's name, e.g. "count".
 * @param value The argument as received.
 * @param min The smallest accepted value (a safe integer).
 * @param max The largest accepted value (a safe integer ≥ `min`).
 * @returns `value`, now known to be such an integer.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is NaN, fractional, infinite or outside `[min, max]`.
 */
export function checkInteger(
  action: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a number: received ${describe(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = min === max
      ? `equal to ${bound(min)}`
      : `between ${bound(min)} and ${bound(max)}`;
    throw new RangeError(
      `Cannot ${action} as ${name} must be an integer ${range}: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks an upper bound on a count ("at most `max` items"): an integer ≥ 0,
 * or `Infinity` for no bound.
 *
 * @param action What the caller tried, e.g. "consume".
 * @param name The argument's name, e.g. "max".
 * @param value The argument as received.
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is NaN, negative or fractional.
 */
export function checkLimit(action: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a number: received ${describe(value)}`,
    );
  }
  if (!(value >= 0 && (Number.isSafeInteger(value) || value === Infinity))) {
    throw new RangeError(
      `Cannot ${action} as ${name} must be an integer ≥ 0 or Infinity: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks an array-like argument (an array, a typed array, `{ length, [i] }`)
 * and returns its length, before any of its items are read or written.
 *
 * @param action What the caller tried, e.g. "send".
 * @param name The argument's name, e.g. "items".
 * @param value The argument as received.
 * @returns Its length, a safe integer ≥ 0.
 * @throws {TypeError} If it is not an object with such a length (a string is refused too).
 */
export function checkArrayLike(action: string, name: string, value: unknown): number {
  const length = typeof value === "object" && value !== null
    ? (value as { length?: unknown }).length
    : undefined;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
    throw new TypeError(
      `Cannot ${action} as ${name} must be array-like with a length: received ${describe(value)}`,
    );
  }
  return length;
}

/**
 * Checks that `value` is a function, or an object whose `method` is one (a
 * handler such as `{ process(item) {} }`).
 *
 * @param action What the caller tried, e.g. "consume".
 * @param name The argument's name, e.g. "handler".
 * @param value The argument as received.
 * @param method The method an object must have; omit to require a function.
 * @throws {TypeError} If it is neither.
 */
export function checkCallable(action: string, name: string, value: unknown, method?: string): void {
  const target = method === undefined
    ? value
    : typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[method]
    : undefined;
  if (typeof target !== "function") {
    const shape = method === undefined ? "a function" : `an object with a ${method} method`;
    throw new TypeError(
      `Cannot ${action} as ${name} must be ${shape}: received ${describe(value)}`,
    );
  }
}

/**
 * Checks an index into something of `length` elements: an integer in
 * `[0, length − 1]`.
 *
 * @param action What the caller tried.
 * @param name The argument's name, e.g. "index".
 * @param value The argument as received.
 * @param length How many elements there are (≥ 1).
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is not an integer in `[0, length − 1]`.
 */
export function checkIndex(action: string, name: string, value: unknown, length: number): number {
  return checkInteger(action, name, value, 0, length - 1);
}

/**
 * Checks a byte offset: an integer in `[0, max]` that is a multiple of `align`.
 *
 * @param action What the caller tried.
 * @param name The argument's name, e.g. "byteOffset".
 * @param value The argument as received.
 * @param max The largest accepted offset.
 * @param align The required alignment in bytes (1 for none).
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is out of range or misaligned.
 */
export function checkOffset(
  action: string,
  name: string,
  value: unknown,
  max: number,
  align: number,
): number {
  checkInteger(action, name, value, 0, max);
  if ((value as number) % align !== 0) {
    throw new RangeError(
      `Cannot ${action} as ${name} must be a multiple of ${align}: received ${value}`,
    );
  }
  return value as number;
}

/**
 * Checks a timeout in milliseconds: a number ≥ 0 (fractions allowed), or
 * `Infinity` for "wait forever".
 *
 * @param action What the caller tried, e.g. "receive".
 * @param value The argument as received.
 * @param name The argument's name (default "timeoutMs").
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is NaN or negative.
 */
export function checkTimeoutMs(action: string, value: unknown, name = "timeoutMs"): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a number: received ${describe(value)}`,
    );
  }
  if (!(value >= 0)) {
    throw new RangeError(
      `Cannot ${action} as ${name} must be a number of milliseconds ≥ 0 or Infinity: received ${value}`,
    );
  }
  return value;
}

/**
 * Checks a file descriptor: an integer in `[0, 2^31 − 1]`.
 *
 * @param action What the caller tried, e.g. "attach shared memory".
 * @param value The argument as received.
 * @param name The argument's name (default "fd").
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is out of range.
 */
export function checkFd(action: string, value: unknown, name = "fd"): number {
  return checkInteger(action, name, value, 0, INT32_MAX);
}

/**
 * Checks a process id: an integer in `[1, 2^31 − 1]`.
 *
 * @param action What the caller tried, e.g. "open pidfd".
 * @param value The argument as received.
 * @param name The argument's name (default "pid").
 * @returns `value`.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If it is out of range.
 */
export function checkPid(action: string, value: unknown, name = "pid"): number {
  return checkInteger(action, name, value, 1, INT32_MAX);
}

/**
 * Checks that `value` is a boolean.
 *
 * @param action What the caller tried.
 * @param name The argument's name.
 * @param value The argument as received.
 * @returns `value`.
 * @throws {TypeError} If it is not a boolean.
 */
export function checkBoolean(action: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a boolean: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks that `value` is a string.
 *
 * @param action What the caller tried.
 * @param name The argument's name.
 * @param value The argument as received.
 * @returns `value`.
 * @throws {TypeError} If it is not a string.
 */
export function checkString(action: string, name: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a string: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks that `value` is one of the `allowed` strings or booleans (a mode, a kind).
 *
 * @param action What the caller tried.
 * @param name The argument's name.
 * @param value The argument as received.
 * @param allowed The accepted values.
 * @returns `value`.
 * @throws {TypeError} If it is not one of them.
 */
export function checkOneOf<const T extends string | boolean>(
  action: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new TypeError(
      `Cannot ${action} as ${name} must be one of ${
        allowed.map((a) => JSON.stringify(a)).join(", ")
      }: received ${describe(value)}`,
    );
  }
  return value as T;
}

/**
 * Checks that `value` is a non-null object (a handle, an options bag) before
 * its fields are read.
 *
 * @param action What the caller tried.
 * @param name The argument's name, e.g. "handle".
 * @param value The argument as received.
 * @returns `value` as a record of unknown fields.
 * @throws {TypeError} If it is not an object.
 */
export function checkObject(
  action: string,
  name: string,
  value: unknown,
): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Cannot ${action} as ${name} must be an object: received ${describe(value)}`,
    );
  }
  return value as Readonly<Record<string, unknown>>;
}

/**
 * Checks that `value` is an instance of `type` (a typed array, a
 * `SharedArrayBuffer`, a class of this library).
 *
 * @param action What the caller tried.
 * @param name The argument's name.
 * @param value The argument as received.
 * @param type The constructor it must be an instance of.
 * @returns `value`.
 * @throws {TypeError} If it is not.
 */
export function checkInstance<T>(
  action: string,
  name: string,
  value: unknown,
  type: abstract new (...args: never[]) => T,
): T {
  if (!(value instanceof type)) {
    throw new TypeError(
      `Cannot ${action} as ${name} must be ${
        /^[AEIOU]/.test(type.name) ? "an" : "a"
      } ${type.name}: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks a region `[byteOffset, byteOffset + byteLength)` inside a buffer of
 * `available` bytes: the offset is aligned to `align` and the region fits.
 *
 * @param action What the caller tried, e.g. "attach pool".
 * @param byteOffset The region's start as received.
 * @param byteLength The region's length in bytes (already checked by the caller).
 * @param available The buffer's length in bytes.
 * @param align The required alignment of `byteOffset` (default 8).
 * @returns `byteOffset`.
 * @throws {TypeError} If `byteOffset` is not a number.
 * @throws {RangeError} If it is misaligned or the region does not fit.
 */
export function checkRegion(
  action: string,
  byteOffset: unknown,
  byteLength: number,
  available: number,
  align = 8,
): number {
  const offset = checkOffset(action, "byteOffset", byteOffset, Number.MAX_SAFE_INTEGER, align);
  if (offset + byteLength > available) {
    throw new RangeError(
      `Cannot ${action} as byteOffset must leave room for ${byteLength} bytes in a buffer of ` +
        `${available} bytes: received ${offset}`,
    );
  }
  return offset;
}
