/**
 * {@linkcode NumaAllocator}: allocations placed on a chosen NUMA node —
 * sealed shared-memory regions whose pages are bound to the node with
 * mbind(MPOL_BIND) before first touch — and {@linkcode bindMemoryToNode}, the
 * graceful mbind on an existing region.
 *
 * @module
 */

import { SharedMemory } from "../shared_memory.ts";
import { native } from "../../../ffi/lib.ts";
import type { NumaTopology } from "./topology.ts";

/** Memory that {@linkcode bindMemoryToNode} can bind: a start and a length. */
export interface MappedMemory {
  /** The first byte (page-aligned), e.g. {@linkcode SharedMemory.pointer}. */
  readonly pointer: Deno.PointerValue;
  /** The length in bytes. */
  readonly size: number;
}

/**
 * Binds the pages of `memory` to NUMA node `node` with mbind(MPOL_BIND),
 * moving pages already placed elsewhere. A graceful no-op on failure (a
 * kernel without NUMA support, a node that does not exist, a policy the
 * container forbids): the memory then stays where the kernel puts it.
 *
 * @param memory A page-aligned region, such as a {@linkcode SharedMemory}.
 * @param node The NUMA node id.
 * @returns `true` when the binding took effect, `false` when it was skipped.
 *
 * @example Binding a region to node 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { bindMemoryToNode, SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(1 << 16);
 * assert.equal(typeof bindMemoryToNode(memory, 0), "boolean"); // true on Linux with NUMA support
 * ```
 */
export function bindMemoryToNode(memory: MappedMemory, node: number): boolean {
  if (!Number.isInteger(node) || node < 0 || node >= 1024) return false;
  if (memory.pointer === null || !(memory.size > 0)) return false;
  return native().rmpsc_mbind(memory.pointer, BigInt(memory.size), node) === 0;
}

/**
 * Allocates shared-memory regions on chosen NUMA nodes. Each allocation is a
 * zero-filled, sealed {@linkcode SharedMemory} (so it can also be passed to
 * another process) whose pages are bound to the node before first touch.
 * {@linkcode NumaAllocator.deinit} closes every region it handed out.
 *
 * @example Allocating for a CPU
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumaAllocator, NumaTopology } from "@ringmpsc/ringmpsc/native";
 * const allocator = NumaAllocator.init(NumaTopology.init());
 * const memory = allocator.allocForCpu(4096, 0);
 * assert.equal(memory.size, 4096);
 * allocator.deinit();
 * ```
 */
export class NumaAllocator {
  #topology: NumaTopology;
  #regions = new Set<SharedMemory>();

  private constructor(topology: NumaTopology) {
    this.#topology = topology;
  }

  /**
   * Creates an allocator over a topology.
   *
   * @param topology The machine's topology.
   * @returns The allocator.
   *
   * @example Creating one
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaAllocator, NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const allocator = NumaAllocator.init(NumaTopology.init());
   * const memory = allocator.allocOnNode(4096, 0);
   * allocator.deinit(); // frees every region it made
   * assert.ok(memory.closed);
   * ```
   */
  static init(topology: NumaTopology): NumaAllocator {
    return new NumaAllocator(topology);
  }

  /**
   * Allocates `size` zero-filled bytes on node `nodeId`.
   *
   * @param size The size in bytes, 1 to 2^40.
   * @param nodeId A node of the topology.
   * @returns A sealed shared-memory region bound to the node (or left where
   * the kernel puts it, when binding is not possible).
   * @throws {RangeError} When `size` is out of range or the topology has no
   * node `nodeId`.
   * @throws {SystemError} When the memory cannot be created or mapped.
   *
   * @example Allocating on node 0
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaAllocator, NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const allocator = NumaAllocator.init(NumaTopology.init());
   * assert.equal(allocator.allocOnNode(4096, 0).size, 4096);
   * allocator.deinit();
   * ```
   */
  allocOnNode(size: number, nodeId: number): SharedMemory {
    if (this.#topology.node(nodeId) === undefined) {
      throw new RangeError(
        `Cannot allocate on the node as nodeId must be one of ` +
          `${this.#topology.nodes.map((n) => n.id).join(", ")}: received ${nodeId}`,
      );
    }
    const memory = SharedMemory.create(size, { name: `ringmpsc-numa${nodeId}` });
    bindMemoryToNode(memory, nodeId);
    this.#regions.add(memory);
    return memory;
  }

  /**
   * Allocates `size` zero-filled bytes on the node that owns CPU `cpu`.
   *
   * @param size The size in bytes, 1 to 2^40.
   * @param cpu A CPU id.
   * @returns A sealed shared-memory region bound to the CPU's node.
   * @throws {RangeError} When `size` or `cpu` is out of range.
   * @throws {SystemError} When the memory cannot be created or mapped.
   *
   * @example Allocating for CPU 0
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaAllocator, NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const allocator = NumaAllocator.init(NumaTopology.init());
   * assert.equal(allocator.allocForCpu(4096, 0).size, 4096);
   * allocator.deinit();
   * ```
   */
  allocForCpu(size: number, cpu: number): SharedMemory {
    return this.allocOnNode(size, this.#topology.nodeOfCpu(cpu));
  }

  /**
   * Closes every region this allocator handed out. Safe to call twice.
   *
   * @example Freeing everything
   * ```ts
   * import assert from "node:assert/strict";
   * import { NumaAllocator, NumaTopology } from "@ringmpsc/ringmpsc/native";
   * const allocator = NumaAllocator.init(NumaTopology.init());
   * const memory = allocator.allocOnNode(4096, 0);
   * allocator.deinit();
   * assert.ok(memory.closed);
   * ```
   */
  deinit(): void {
    for (const memory of this.#regions) memory.close();
    this.#regions.clear();
  }

  /** Same as {@linkcode NumaAllocator.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }
}
