/**
 * CPU affinity of the calling thread: {@linkcode bindToCpu},
 * {@linkcode bindToNode}, {@linkcode currentCpu}, {@linkcode currentNode},
 * and {@linkcode getAffinity} / {@linkcode setAffinity} to read and restore
 * the CPU set. "Calling thread" is the thread running this JavaScript: the
 * main thread, or the Worker that calls.
 *
 * @module
 */

import { check, native } from "../../../ffi/lib.ts";
import { MAX_CPUS } from "./_sysfs.ts";
import { checkIndex } from "../../_validate.ts";
import type { NumaTopology } from "./topology.ts";

/** Bytes of the affinity mask: one bit per CPU id below 8192. */
const MASK_BYTES = MAX_CPUS / 8;

/**
 * Reads the calling thread's CPU set (sched_getaffinity).
 *
 * @returns The CPU ids the thread may run on, ascending.
 * @throws {SystemError} When sched_getaffinity fails.
 *
 * @example Every CPU is allowed by default
 * ```ts
 * import assert from "node:assert/strict";
 * import { getAffinity } from "@ringmpsc/ringmpsc/native";
 * assert.ok(getAffinity().length >= 1);
 * ```
 */
export function getAffinity(): number[] {
  const mask = new Uint8Array(MASK_BYTES);
  const written = check(
    native().rmpsc_sched_getaffinity(mask, MASK_BYTES),
    "Cannot read the CPU affinity as sched_getaffinity failed",
  );
  const cpus: number[] = [];
  for (let byte = 0; byte < written; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      if (mask[byte] & (1 << bit)) cpus.push(byte * 8 + bit);
    }
  }
  return cpus;
}

/**
 * Sets the calling thread's CPU set (sched_setaffinity), for example to
 * restore what {@linkcode getAffinity} returned before a
 * {@linkcode bindToCpu}.
 *
 * @param cpus The CPU ids the thread may run on; at least one.
 * @throws {RangeError} When `cpus` is empty or holds an id outside 0..8191.
 * @throws {SystemError} When sched_setaffinity fails (EINVAL when none of the
 * CPUs is online and allowed).
 *
 * @example Restoring the CPU set
 * ```ts
 * import assert from "node:assert/strict";
 * import { getAffinity, setAffinity } from "@ringmpsc/ringmpsc/native";
 * const cpus = getAffinity();
 * setAffinity(cpus);
 * assert.deepEqual(getAffinity(), cpus);
 * ```
 */
export function setAffinity(cpus: readonly number[]): void {
  if (!Array.isArray(cpus) || cpus.length === 0) {
    throw new RangeError(
      `Cannot set the CPU affinity as cpus must list at least one CPU: received ${cpus}`,
    );
  }
  const mask = new Uint8Array(MASK_BYTES);
  for (const cpu of cpus) {
    checkIndex("set the CPU affinity", "cpu", cpu, MAX_CPUS);
    mask[cpu >> 3] |= 1 << (cpu & 7);
  }
  check(
    native().rmpsc_sched_setaffinity(mask, MASK_BYTES),
    `Cannot set the CPU affinity to ${cpus.join(",")} as sched_setaffinity failed`,
  );
}

/**
 * Pins the calling thread to one CPU (sched_setaffinity). The kernel moves
 * the thread there before this returns.
 *
 * @param cpu The CPU id.
 * @throws {RangeError} When `cpu` is outside 0..8191.
 * @throws {SystemError} When sched_setaffinity fails (EINVAL for a CPU that
 * is offline, absent or not allowed to this process).
 *
 * @example Pinning and restoring
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindToCpu, currentCpu, getAffinity, setAffinity } from "@ringmpsc/ringmpsc/native";
 * const before = getAffinity();
 * bindToCpu(before[0]);
 * assert.ok(currentCpu() === before[0]);
 * setAffinity(before);
 * ```
 */
export function bindToCpu(cpu: number): void {
  checkIndex("bind to a CPU", "cpu", cpu, MAX_CPUS);
  const mask = new Uint8Array(MASK_BYTES);
  mask[cpu >> 3] = 1 << (cpu & 7);
  check(
    native().rmpsc_sched_setaffinity(mask, MASK_BYTES),
    `Cannot bind to CPU ${cpu} as sched_setaffinity failed`,
  );
}

/**
 * Pins the calling thread to the first CPU of a NUMA node, as ringmpsc does.
 *
 * @param nodeId The node id.
 * @param topology The machine's topology.
 * @throws {RangeError} When the topology has no such node or the node has
 * no CPUs.
 * @throws {SystemError} When sched_setaffinity fails.
 *
 * @example Pinning to node 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindToNode, getAffinity, setAffinity, NumaTopology } from "@ringmpsc/ringmpsc/native";
 * const before = getAffinity();
 * const topology = NumaTopology.init();
 * bindToNode(0, topology);
 * assert.ok(getAffinity().every((cpu) => topology.nodeOfCpu(cpu) === 0));
 * setAffinity(before);
 * ```
 */
export function bindToNode(nodeId: number, topology: NumaTopology): void {
  const node = topology.node(nodeId);
  if (node === undefined) {
    throw new RangeError(
      `Cannot bind to the node as nodeId must be one of ${
        topology.nodes.map((n) => n.id).join(", ")
      }: ` +
        `received ${nodeId}`,
    );
  }
  if (node.cpus.length === 0) {
    throw new RangeError(`Cannot bind to node ${nodeId} as it has no CPUs`);
  }
  bindToCpu(node.cpus[0]);
}

/**
 * Tells which CPU the calling thread runs on (getcpu). The answer may be
 * stale as soon as it returns unless the thread is pinned.
 *
 * @returns The CPU id, or `null` when the kernel cannot tell.
 *
 * @example Reading the CPU
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentCpu } from "@ringmpsc/ringmpsc/native";
 * assert.equal(typeof currentCpu(), "number");
 * ```
 */
export function currentCpu(): number | null {
  const cpu = native().rmpsc_getcpu();
  return cpu < 0 ? null : cpu;
}

/**
 * Tells which NUMA node the calling thread runs on.
 *
 * @param topology The machine's topology.
 * @returns The node id of the current CPU (the first node when the CPU is
 * unknown).
 *
 * @example Reading the node
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentNode, NumaTopology } from "@ringmpsc/ringmpsc/native";
 * assert.ok(currentNode(NumaTopology.init()) >= 0);
 * ```
 */
export function currentNode(topology: NumaTopology): number {
  return topology.nodeOfCpu(currentCpu() ?? 0);
}
