/**
 * {@linkcode NumaTopology}: the machine's NUMA layout, read from sysfs
 * (`/sys/devices/system/node`, or another root for tests and containers):
 * nodes with their CPUs, memory and distance row. Falls back to one uniform
 * node when sysfs lists no nodes.
 *
 * @module
 */

import { Closed } from "../../errors.ts";
import { readTextFile } from "../_read_file.ts";
import { parseCpuList, parseDistances, parseMemTotal } from "./_sysfs.ts";

/** Where Linux describes NUMA nodes. */
export const DEFAULT_NUMA_ROOT = "/sys/devices/system/node";

/** The distance sysfs reports from a node to itself. */
const LOCAL_DISTANCE = 10;
/** The distance assumed to other nodes when sysfs gives no usable row. */
const REMOTE_DISTANCE = 20;

/** One NUMA node. */
export interface NumaNode {
  /** The node id (N of `nodeN`). */
  readonly id: number;
  /** The CPUs of the node, ascending (may be empty for memory-only nodes). */
  readonly cpus: readonly number[];
  /** The node's total memory in bytes (0 when unknown). */
  readonly memoryBytes: number;
  /** Distances to every node, in the order of {@linkcode NumaTopology.nodes}. */
  readonly distances: readonly number[];
}

/** Options of {@linkcode NumaTopology.init}. */
export interface NumaTopologyOptions {
  /** The folder holding `node0`, `node1`, … (default `/sys/devices/system/node`). */
  root?: string;
}

/** The node ids sysfs lists as online (`online` holds a list like "0-1"). */
function nodeIds(root: string): number[] {
  const online = readTextFile(`${root}/online`);
  return online === undefined ? [] : parseCpuList(online, `${root}/online`);
}

function systemMemoryBytes(): number {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 0;
  }
}

function uniformNode(): NumaNode {
  const count = Math.max(1, navigator.hardwareConcurrency || 1);
  return {
    id: 0,
    cpus: Array.from({ length: count }, (_, i) => i),
    memoryBytes: systemMemoryBytes(),
    distances: [LOCAL_DISTANCE],
  };
}

/**
 * The NUMA layout of the machine.
 *
 * @example Reading the machine's layout
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
 * const topology = NumaTopology.init();
 * assert.ok(topology.nodes.length >= 1);
 * assert.ok(topology.node(topology.nodeOfCpu(0)) !== undefined); // usually node 0
 * ```
 */
export class NumaTopology {
  #nodes: readonly NumaNode[];
  #indexOfNode: Map<number, number>;
  #nodeOfCpu: Map<number, number>;
  #released = false;

  private constructor(nodes: NumaNode[]) {
    this.#nodes = Object.freeze(nodes.map((node) => Object.freeze(node)));
    this.#indexOfNode = new Map(nodes.map((node, i) => [node.id, i]));
    this.#nodeOfCpu = new Map();
    for (const node of nodes) {
      for (const cpu of node.cpus) {
        if (!this.#nodeOfCpu.has(cpu)) this.#nodeOfCpu.set(cpu, node.id);
      }
    }
  }

  /**
   * Discovers the topology from `root` (default `/sys/devices/system/node`):
   * the node ids in `online`, then each `nodeN` folder's `cpulist`,
   * `meminfo` (MemTotal) and `distance`. A distance row with the wrong number
   * of entries is replaced by 10 to itself and 20 to others. Without an
   * `online` file (no root, or a kernel without NUMA), the machine is one
   * uniform node 0 holding every CPU. The files are read through the native
   * helper, because Deno refuses /sys paths without `--allow-all`.
   *
   * @param options The sysfs root to read.
   * @returns The topology.
   * @throws {TypeError} When `online` or a `cpulist` file is malformed.
   * @throws {SystemError} When a file exists but cannot be read.
   *
   * @example A fixture tree
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const topology = NumaTopology.init({ root: "/nonexistent" });
   * assert.equal(topology.isNuma(), false);
   * assert.equal(topology.nodes[0].id, 0);
   * ```
   */
  static init(options: NumaTopologyOptions = {}): NumaTopology {
    const root = options.root ?? DEFAULT_NUMA_ROOT;
    const ids = nodeIds(root);
    if (ids.length === 0) return new NumaTopology([uniformNode()]);
    const nodes = ids.map((id): NumaNode => {
      const dir = `${root}/node${id}`;
      const cpus = parseCpuList(readTextFile(`${dir}/cpulist`) ?? "", `${dir}/cpulist`);
      const memoryBytes = parseMemTotal(readTextFile(`${dir}/meminfo`) ?? "");
      const distances = parseDistances(readTextFile(`${dir}/distance`) ?? "", ids.length) ??
        ids.map((other) => other === id ? LOCAL_DISTANCE : REMOTE_DISTANCE);
      return { id, cpus, memoryBytes, distances };
    });
    return new NumaTopology(nodes);
  }

  /**
   * The nodes, by ascending id.
   *
   * @returns The frozen node list.
   * @throws {Closed} After {@linkcode NumaTopology.deinit}.
   */
  get nodes(): readonly NumaNode[] {
    this.#assertLive("read the nodes");
    return this.#nodes;
  }

  /**
   * Returns the node with id `id`.
   *
   * @param id A node id.
   * @returns The node, or `undefined` when there is none with that id.
   * @throws {Closed} After {@linkcode NumaTopology.deinit}.
   *
   * @example Looking up node 0
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * assert.equal(NumaTopology.init().node(0)?.id, 0);
   * ```
   */
  node(id: number): NumaNode | undefined {
    this.#assertLive("look up a node");
    const index = this.#indexOfNode.get(id);
    return index === undefined ? undefined : this.#nodes[index];
  }

  /**
   * Maps a CPU id to its NUMA node. CPUs that sysfs does not list (offline
   * or absent ones) map to the first node, as on a uniform machine.
   *
   * @param cpu A CPU id.
   * @returns The id of the node that owns the CPU.
   * @throws {RangeError} When `cpu` is not a non-negative integer.
   * @throws {Closed} After {@linkcode NumaTopology.deinit}.
   *
   * @example CPU 0
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * assert.equal(NumaTopology.init({ root: "/nonexistent" }).nodeOfCpu(0), 0);
   * ```
   */
  nodeOfCpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0) {
      throw new RangeError(
        `Cannot map the CPU to a node as cpu must be a non-negative integer: received ${cpu}`,
      );
    }
    this.#assertLive("map the CPU to a node");
    return this.#nodeOfCpu.get(cpu) ?? this.#nodes[0].id;
  }

  /**
   * Finds the closest other node by the distance matrix (ties go to the lower
   * id). On a single-node machine that is the node itself.
   *
   * @param from A node id.
   * @returns The id of the nearest other node, or `from` when it is alone.
   * @throws {RangeError} When no node has id `from`.
   * @throws {Closed} After {@linkcode NumaTopology.deinit}.
   *
   * @example A single node is its own nearest
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * assert.equal(NumaTopology.init({ root: "/nonexistent" }).nearestNode(0), 0);
   * ```
   */
  nearestNode(from: number): number {
    this.#assertLive("find the nearest node");
    const index = this.#indexOfNode.get(from);
    if (index === undefined) {
      throw new RangeError(
        `Cannot find the nearest node as from must be a node id (${
          this.#nodes.map((n) => n.id).join(", ")
        }): ` +
          `received ${from}`,
      );
    }
    const row = this.#nodes[index].distances;
    let best = from;
    let bestDistance = Infinity;
    for (let i = 0; i < this.#nodes.length; i++) {
      if (i === index) continue;
      if (row[i] < bestDistance) {
        best = this.#nodes[i].id;
        bestDistance = row[i];
      }
    }
    return best;
  }

  /**
   * Tells whether the machine has more than one NUMA node.
   *
   * @returns `true` with two or more nodes.
   * @throws {Closed} After {@linkcode NumaTopology.deinit}.
   *
   * @example A uniform machine
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * assert.equal(NumaTopology.init({ root: "/nonexistent" }).isNuma(), false);
   * ```
   */
  isNuma(): boolean {
    this.#assertLive("tell whether the machine is NUMA");
    return this.#nodes.length > 1;
  }

  /**
   * Releases the node data, as ringmpsc's `deinit` frees it. Every later use
   * throws {@linkcode Closed}. Safe to call twice.
   *
   * @example Releasing
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const topology = NumaTopology.init();
   * topology.deinit();
   * topology.deinit();
   * assert.throws(() => topology.nodeOfCpu(0)); // released
   * ```
   */
  deinit(): void {
    this.#released = true;
    this.#nodes = [];
    this.#indexOfNode.clear();
    this.#nodeOfCpu.clear();
  }

  /** Same as {@linkcode NumaTopology.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }

  #assertLive(action: string): void {
    if (this.#released) throw new Closed(`Cannot ${action} as the topology was deinitialized`);
  }
}
