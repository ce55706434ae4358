/**
 * Moving batches between the demo pipeline's stages: send a whole batch into
 * a ring, sleeping on the ring's futex word while it is full.
 *
 * @module
 */
import { type Ring, TimedOut, WaitStrategy } from "../mod.ts";

/** How long a full ring is slept on before `stillThere` is asked again. */
const WATCH_MS = 100;

/** The stats words every stage bumps: items past each stage (the relay process counts its own). */
export const STAGES = ["produced", "staged", "back from the hop", "consumed"] as const;

/**
 * Sends `batch[0…n)` into `ring`, waiting for room as needed. While the ring
 * stays full it calls `stillThere` every {@linkcode WATCH_MS} ms, which throws
 * to end the wait (the consumer's process is gone).
 *
 * @param ring The ring to fill.
 * @param send The ring's send (a SharedRing's stamps its heartbeat too).
 * @param batch The items.
 * @param n How many.
 * @param stillThere Throws when the consumer can no longer make room.
 */
export function sendAll(
  ring: Ring<number, Uint32Array>,
  send: (items: Uint32Array) => number,
  batch: Uint32Array,
  n: number,
  stillThere: () => void = () => {},
): void {
  let sent = 0;
  while (sent < n) {
    const k = send(batch.subarray(sent, n));
    sent += k;
    if (k > 0) continue;
    try {
      ring.waitWritable(1, WaitStrategy.timedBlocking(WATCH_MS));
    } catch (err) {
      if (!(err instanceof TimedOut)) throw err;
      stillThere();
    }
  }
}
