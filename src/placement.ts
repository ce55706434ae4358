/**
 * Where channel rings' memory is placed: the seed's automatic NUMA binding.
 *
 * The portable core cannot call `mbind`, so it asks a {@linkcode RingPlacement}
 * installed in this Worker — the native layer's `numaPlacement`, built on
 * `platform.numa`, once a program opts in with `setRingPlacement(numaPlacement)`.
 * With none installed, or on a single-node machine, placement is skipped —
 * ringmpsc's graceful fallback.
 *
 * @module
 */

/** Binds a range of a `SharedArrayBuffer` to a NUMA node. */
export interface RingPlacement {
  /**
   * Places `byteLength` bytes of `buffer` from `byteOffset` on `node`
   * (−1: the calling thread's node). Must not throw: a failure leaves the
   * memory where the kernel put it.
   */
  place(buffer: SharedArrayBuffer, byteOffset: number, byteLength: number, node: number): void;
}

let current: RingPlacement | null = null;

/**
 * Installs the placement that channels with `numaAware` use when a producer
 * registers (in this Worker); `null` turns placement off.
 *
 * @param placement The placement, or `null`.
 *
 * @example Observing placements
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, setRingPlacement, u32 } from "@ringmpsc/ringmpsc";
 * const placed: number[] = [];
 * setRingPlacement({ place: (_b, offset) => void placed.push(offset) });
 * new mpsc.Channel(u32, { ringBits: 4 }).register();
 * setRingPlacement(null);
 * assert.equal(placed.length, 1);
 * ```
 */
export function setRingPlacement(placement: RingPlacement | null): void {
  current = placement;
}

/**
 * The placement in force in this Worker.
 *
 * @returns The placement, or `null`.
 */
export function ringPlacement(): RingPlacement | null {
  return current;
}
