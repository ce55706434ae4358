import assert from "node:assert/strict";
import {
  bindMemoryToNode,
  bindToCpu,
  bindToNode,
  Closed,
  currentCpu,
  currentNode,
  getAffinity,
  NumaAllocator,
  NumaTopology,
  platform,
  setAffinity,
  SharedMemory,
  SystemError,
} from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { readTextFile } from "../src/native/_read_file.ts";

const FIXTURES = new URL("./fixtures/numa/", import.meta.url).pathname;

function fixture(name: string): NumaTopology {
  return NumaTopology.init({ root: `${FIXTURES}${name}` });
}

/** The numa_maps line of the mapping that starts at `memory.pointer`. */
function numaMapsLine(memory: SharedMemory): string | undefined {
  const start = Deno.UnsafePointer.value(memory.pointer).toString(16);
  // Deno's file API refuses /proc without --allow-all; the helper reads it.
  return (readTextFile("/proc/self/numa_maps") ?? "").split("\n")
    .find((line) => line.startsWith(`${start} `));
}

Deno.test("NumaTopology reads a single-node sysfs tree", () => {
  const topology = fixture("single_node");
  assert.deepEqual(topology.nodes, [
    { id: 0, cpus: [0, 1], memoryBytes: 5203744 * 1024, distances: [10] },
  ]);
  assert.equal(topology.isNuma(), false);
  assert.equal(topology.nodeOfCpu(0), 0);
  assert.equal(topology.nodeOfCpu(1), 0);
  assert.equal(topology.nearestNode(0), 0);
});

Deno.test("NumaTopology reads a two-node tree with its distance matrix", () => {
  const topology = fixture("two_nodes");
  assert.equal(topology.isNuma(), true);
  assert.deepEqual(topology.nodes.map((node) => node.id), [0, 1]);
  assert.deepEqual(topology.node(0)?.cpus, [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(topology.node(1)?.cpus, [4, 5, 6, 7, 12, 13, 14, 15]);
  assert.equal(topology.node(1)?.memoryBytes, 33554432 * 1024);
  assert.deepEqual(topology.node(0)?.distances, [10, 21]);
  assert.deepEqual(topology.node(1)?.distances, [21, 10]);
  for (const cpu of [0, 3, 8, 11]) assert.equal(topology.nodeOfCpu(cpu), 0);
  for (const cpu of [4, 7, 12, 15]) assert.equal(topology.nodeOfCpu(cpu), 1);
  // CPUs sysfs does not list map to the first node.
  assert.equal(topology.nodeOfCpu(99), 0);
  assert.equal(topology.nearestNode(0), 1);
  assert.equal(topology.nearestNode(1), 0);
  assert.equal(topology.node(2), undefined);
});

Deno.test("NumaTopology picks the nearest node by distance, memory-only nodes included", () => {
  const topology = fixture("four_nodes");
  assert.equal(topology.nodes.length, 4);
  assert.equal(topology.nearestNode(0), 1);
  assert.equal(topology.nearestNode(1), 0);
  assert.equal(topology.nearestNode(2), 3);
  assert.equal(topology.nearestNode(3), 2);
  assert.deepEqual(topology.node(3)?.cpus, []);
  assert.equal(topology.node(3)?.memoryBytes, 64 * 2 ** 30);
  assert.equal(topology.nodeOfCpu(5), 2);
  assert.throws(() => bindToNode(3, topology), /has no CPUs/);
  assert.throws(() => bindToNode(4, topology), RangeError);
});

Deno.test("NumaTopology copes with odd trees and refuses malformed cpu lists", async (t) => {
  await t.step("no node folders, or no root at all: one uniform node", () => {
    for (const root of [`${FIXTURES}no_nodes`, `${FIXTURES}does_not_exist`]) {
      const topology = NumaTopology.init({ root });
      assert.equal(topology.isNuma(), false);
      assert.equal(topology.nodes.length, 1);
      assert.equal(topology.nodes[0].cpus.length, navigator.hardwareConcurrency);
      assert.deepEqual(topology.nodes[0].distances, [10]);
    }
  });
  await t.step("distance rows of the wrong length fall back to 10 and 20", () => {
    const topology = fixture("bad_distance");
    assert.deepEqual(topology.node(0)?.distances, [10, 20]);
    assert.deepEqual(topology.node(1)?.distances, [20, 10]);
    assert.equal(topology.node(1)?.memoryBytes, 0);
    assert.equal(topology.nearestNode(1), 0);
  });
  await t.step("malformed or reversed cpu lists", () => {
    assert.throws(() => fixture("malformed"), TypeError);
    assert.throws(() => fixture("reversed"), TypeError);
  });
  await t.step("bad arguments", () => {
    const topology = fixture("two_nodes");
    assert.throws(() => topology.nodeOfCpu(-1), RangeError);
    assert.throws(() => topology.nodeOfCpu(0.5), RangeError);
    assert.throws(() => topology.nearestNode(7), RangeError);
  });
  await t.step("deinit releases the topology", () => {
    const topology = fixture("two_nodes");
    topology.deinit();
    topology.deinit();
    assert.throws(() => topology.isNuma(), Closed);
    assert.throws(() => topology.nodeOfCpu(0), Closed);
    assert.throws(() => topology.nearestNode(0), Closed);
  });
});

Deno.test("the machine's own topology covers every CPU this thread may use", () => {
  const topology = NumaTopology.init();
  assert.ok(topology.nodes.length >= 1);
  const known = new Set(topology.nodes.flatMap((node) => node.cpus));
  for (const cpu of getAffinity()) assert.ok(known.has(cpu), `CPU ${cpu} has no node`);
  assert.equal(platform.numa.NumaTopology, NumaTopology);
  assert.equal(platform.NumaTopology, NumaTopology);
});

Deno.test("bindToCpu really changes this thread's CPU set", () => {
  const before = getAffinity();
  assert.ok(before.length >= 1);
  try {
    for (const cpu of before) {
      bindToCpu(cpu);
      assert.deepEqual(getAffinity(), [cpu]);
      assert.equal(currentCpu(), cpu);
    }
    const topology = NumaTopology.init();
    bindToNode(topology.nodeOfCpu(before[0]), topology);
    const node = topology.node(topology.nodeOfCpu(before[0]))!;
    assert.deepEqual(getAffinity(), [node.cpus[0]]);
    assert.equal(currentNode(topology), node.id);
  } finally {
    setAffinity(before);
  }
  assert.deepEqual(getAffinity(), before);
});

Deno.test("bindToCpu in a Worker pins that Worker's thread only", async () => {
  const before = getAffinity();
  const cpu = before[before.length - 1];
  const worker = new Worker(new URL("./fixtures/affinity_worker.ts", import.meta.url), {
    type: "module",
  });
  const reply = new Promise<{ before: number[]; after: number[]; current: number }>((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
  });
  worker.postMessage({ cpu });
  const report = await reply;
  worker.terminate();
  assert.deepEqual(report.before, before);
  assert.deepEqual(report.after, [cpu]);
  assert.equal(report.current, cpu);
  assert.deepEqual(getAffinity(), before);
});

Deno.test("affinity calls give typed errors for bad CPUs", () => {
  const before = getAffinity();
  for (const cpu of [-1, 0.5, 8192, NaN]) assert.throws(() => bindToCpu(cpu), RangeError);
  assert.throws(() => setAffinity([]), RangeError);
  assert.throws(() => setAffinity([0, 9000]), RangeError);
  // A CPU id this machine does not have.
  assert.throws(
    () => bindToCpu(8191),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.EINVAL,
  );
  assert.deepEqual(getAffinity(), before);
});

Deno.test("NumaAllocator places regions on a node with mbind(MPOL_BIND)", () => {
  const topology = NumaTopology.init();
  const node = topology.nodes[0].id;
  const allocator = NumaAllocator.init(topology);
  const memory = allocator.allocOnNode(1 << 16, node);
  new Uint8Array(memory.buffer).fill(1);
  assert.match(numaMapsLine(memory) ?? "", new RegExp(`\\bbind:${node}\\b`));
  const forCpu = allocator.allocForCpu(4096, getAffinity()[0]);
  assert.match(numaMapsLine(forCpu) ?? "", /\bbind:/);
  assert.throws(() => allocator.allocOnNode(4096, 1000), RangeError);
  assert.throws(() => allocator.allocOnNode(0, node), RangeError);
  allocator.deinit();
  assert.equal(memory.closed, true);
  assert.equal(forCpu.closed, true);
  allocator.deinit();
});

Deno.test("bindMemoryToNode is a graceful no-op where binding is impossible", () => {
  using memory = SharedMemory.create(1 << 16);
  const node = NumaTopology.init().nodes[0].id;
  assert.equal(bindMemoryToNode(memory, node), true);
  assert.equal(bindMemoryToNode(memory, 1000), false);
  assert.equal(bindMemoryToNode(memory, -1), false);
  assert.equal(bindMemoryToNode({ pointer: null, size: 4096 }, node), false);
  // A fixture's node 1 does not exist here: the allocation still works.
  const allocator = NumaAllocator.init(fixture("two_nodes"));
  const region = allocator.allocOnNode(4096, 1);
  new Uint8Array(region.buffer)[0] = 1;
  assert.doesNotMatch(numaMapsLine(region) ?? "", /\bbind:1\b/);
  allocator.deinit();
});
