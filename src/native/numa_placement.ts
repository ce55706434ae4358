/**
 * The NUMA `RingPlacement` of the native layer: a channel ring whose producer
 * registers on node N is bound to node N with mbind(MPOL_BIND), as ringmpsc's
 * `register()` does. Skipped entirely on single-node machines. Opt-in, per
 * Worker: `setRingPlacement(numaPlacement)` (importing `native.ts` installs
 * nothing).
 *
 * @module
 */
import type { RingPlacement } from "../placement.ts";
import { bindMemoryToNode } from "./numa/allocator.ts";
import { currentNode } from "./numa/affinity.ts";
import { NumaTopology } from "./numa/topology.ts";

const PAGE = 4096;

/**
 * Makes a placement over a topology; `bound` reports each binding made.
 *
 * @param topology The machine's topology (or a fixture's).
 * @param bound Called with (node, bytes) after each successful mbind.
 * @returns The placement.
 *
 * @example On a single-node machine nothing is bound
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNumaPlacement, NumaTopology } from "@ringmpsc/ringmpsc/native";
 * let calls = 0;
 * const p = createNumaPlacement(NumaTopology.init(), () => calls++);
 * p.place(new SharedArrayBuffer(1 << 16), 0, 1 << 16, -1);
 * assert.ok(NumaTopology.init().isNuma() || calls === 0);
 * ```
 */
export function createNumaPlacement(
  topology: NumaTopology,
  bound: (node: number, bytes: number) => void = () => {},
): RingPlacement {
  return {
    place(buffer, byteOffset, byteLength, node) {
      if (!topology.isNuma()) return;
      try {
        const target = node >= 0 ? node : currentNode(topology);
        const view = new Uint8Array(buffer, byteOffset, byteLength);
        const start = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view)));
        const first = Math.ceil(start / PAGE) * PAGE; // mbind needs whole pages inside the ring
        const end = Math.floor((start + byteLength) / PAGE) * PAGE;
        if (end <= first) return;
        const pointer = Deno.UnsafePointer.create(BigInt(first));
        if (bindMemoryToNode({ pointer, size: end - first }, target)) bound(target, end - first);
      } catch {
        // graceful: the ring stays where the kernel put it
      }
    },
  };
}

let machine: RingPlacement | null = null;

/**
 * The placement over this machine's topology, discovered on first use; install
 * it with `setRingPlacement(numaPlacement)`. Never throws: without NUMA (or
 * sysfs) it places nothing.
 */
export const numaPlacement: RingPlacement = {
  place(buffer, byteOffset, byteLength, node) {
    try {
      machine ??= createNumaPlacement(NumaTopology.init());
    } catch {
      machine = { place() {} };
    }
    machine.place(buffer, byteOffset, byteLength, node);
  },
};
