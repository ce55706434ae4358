/**
 * A broadcast producer's settings, checked, internal to `src/broadcast/`.
 *
 * @module
 */

import { checkInteger } from "../_validate.ts";
import { MAX_CAPACITY, MAX_CONSUMERS, MIN_CAPACITY } from "./_layout.ts";
import type { BroadcastProducerOptions } from "./types.ts";

const DEFAULT_CAPACITY = 2 ** 20;
const DEFAULT_MAX_CONSUMERS = 16;
const DEFAULT_STALL_MS = 1000;
const DEFAULT_CLOG = 64;

/** The checked settings of a producer. */
export interface Settings {
  capacity: number;
  maxConsumers: number;
  stallTimeoutMs: number;
  clogThreshold: number;
  pid: number;
  initialPosition: number;
}

/** Checks every setting of `o` (with its default) before anything is made. */
export function settings(what: string, o: BroadcastProducerOptions): Settings {
  const capacity = checkInteger(
    what,
    "capacity",
    o.capacity ?? DEFAULT_CAPACITY,
    MIN_CAPACITY,
    MAX_CAPACITY,
  );
  if ((capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`Cannot ${what} as capacity must be a power of two: received ${capacity}`);
  }
  const initialPosition = checkInteger(
    what,
    "initialPosition",
    o.initialPosition ?? 0,
    0,
    2 ** 32 - 16,
  );
  if (initialPosition % 16 !== 0) {
    throw new RangeError(
      `Cannot ${what} as initialPosition must be a multiple of 16: received ${initialPosition}`,
    );
  }
  return {
    capacity,
    maxConsumers: checkInteger(
      what,
      "maxConsumers",
      o.maxConsumers ?? DEFAULT_MAX_CONSUMERS,
      1,
      MAX_CONSUMERS,
    ),
    stallTimeoutMs: checkInteger(
      what,
      "stallTimeoutMs",
      o.stallTimeoutMs ?? DEFAULT_STALL_MS,
      0,
      2 ** 31 - 1,
    ),
    clogThreshold: checkInteger(
      what,
      "clogThreshold",
      o.clogThreshold ?? DEFAULT_CLOG,
      1,
      2 ** 31 - 1,
    ),
    pid: checkInteger(what, "pid", o.pid ?? 0, 0, 2 ** 31 - 1),
    initialPosition,
  };
}
