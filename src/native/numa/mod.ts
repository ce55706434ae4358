/**
 * ringmpsc's `platform.numa`: NUMA topology from sysfs, allocations bound to
 * a node, and CPU affinity of the calling thread.
 *
 * @example Pinning to the node of CPU 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindToNode, getAffinity, NumaTopology, setAffinity } from "@ringmpsc/ringmpsc/native";
 * const topology = NumaTopology.init();
 * const before = getAffinity();
 * bindToNode(topology.nodeOfCpu(0), topology);
 * assert.ok(getAffinity().every((cpu) => topology.nodeOfCpu(cpu) === topology.nodeOfCpu(0)));
 * setAffinity(before);
 * ```
 *
 * @module
 */

export { DEFAULT_NUMA_ROOT, NumaTopology } from "./topology.ts";
export type { NumaNode, NumaTopologyOptions } from "./topology.ts";
export { bindMemoryToNode, NumaAllocator } from "./allocator.ts";
export type { MappedMemory } from "./allocator.ts";
export {
  bindToCpu,
  bindToNode,
  currentCpu,
  currentNode,
  getAffinity,
  setAffinity,
} from "./affinity.ts";
