/**
 * `ringmpsc numa`: the NUMA topology and where the calling thread runs.
 *
 * @module
 */
import { currentCpu, currentNode, getAffinity, NumaTopology } from "../native.ts";

/**
 * Prints every node (CPUs, memory, distances), whether the machine is NUMA,
 * and the current thread's CPU, node and affinity.
 *
 * @param root A sysfs node directory to read instead of /sys/devices/system/node.
 */
export function printNuma(root?: string): void {
  const topology = NumaTopology.init(root === undefined ? {} : { root });
  console.log(`NUMA: ${topology.isNuma() ? "yes" : "no"} (${topology.nodes.length} node(s))`);
  for (const node of topology.nodes) {
    console.log(
      `  node ${node.id}: cpus ${node.cpus.join(",")}; memory ${
        (node.memoryBytes / 2 ** 30).toFixed(1)
      } GiB; distances ${node.distances.join(" ")}`,
    );
  }
  console.log(`this thread: cpu ${currentCpu() ?? "unknown"}, node ${currentNode(topology)}`);
  console.log(`affinity: cpus ${getAffinity().join(",")}`);
}
