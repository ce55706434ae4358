/**
 * Moving batches between the demo pipeline's stages: send a whole batch into
 * a ring, sleeping on the ring's futex word while it is full.
 *
 * @module
 */
import type { Ring } from "../mod.ts";

/** The stats words every stage bumps: items past each stage (the relay process counts its own). */
export const STAGES = ["produced", "staged", "back from the hop", "consumed"] as const;

/**
 * Sends `batch[0…n)` into `ring`, waiting for room as needed.
 *
 * @param ring The ring to fill.
 * @param send The ring's send (a SharedRing's stamps its heartbeat too).
 * @param batch The items.
 * @param n How many.
 */
export function sendAll(
  ring: Ring<number, Uint32Array>,
  send: (items: Uint32Array) => number,
  batch: Uint32Array,
  n: number,
): void {
  let sent = 0;
  while (sent < n) {
    const k = send(batch.subarray(sent, n));
    if (k === 0) ring.waitWritable(1);
    sent += k;
  }
}
