/**
 * NUMA placement of MPSC rings: with `numaAware`, registering a producer binds
 * its ring's pages (mbind) on a multi-node topology, and does nothing on a
 * single node or with `numaAware: false`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mpsc, setRingPlacement, u32 } from "../mod.ts";
import { NumaTopology } from "../native.ts";
import { createNumaPlacement } from "../src/native/numa_placement.ts";

const fixture = (name: string) => new URL(`./fixtures/numa/${name}`, import.meta.url).pathname;

Deno.test("numa placement: register binds the producer's ring on a two-node topology", () => {
  const bindings: [number, number][] = [];
  const topology = NumaTopology.init({ root: fixture("two_nodes") });
  assert.ok(topology.isNuma());
  setRingPlacement(createNumaPlacement(topology, (node, bytes) => bindings.push([node, bytes])));
  try {
    const channel = new mpsc.Channel(u32, { ringBits: 14, numaNode: 0 });
    const producer = channel.register();
    assert.equal(bindings.length, 1);
    assert.equal(bindings[0][0], 0);
    assert.ok(bindings[0][1] >= 4096 * 15, `bound ${bindings[0][1]} bytes`);
    producer.send([1, 2, 3]); // the bound ring still works
    assert.equal(channel.recvOne(), 1);
    new mpsc.Channel(u32, { ringBits: 14, numaAware: false }).register();
    assert.equal(bindings.length, 1, "numaAware: false places nothing");
  } finally {
    setRingPlacement(null);
  }
});

Deno.test("numa placement: skipped on a single node, and a failing mbind is harmless", () => {
  const bindings: number[] = [];
  const single = NumaTopology.init({ root: fixture("single_node") });
  const placement = createNumaPlacement(single, (node) => bindings.push(node));
  placement.place(new SharedArrayBuffer(1 << 16), 0, 1 << 16, -1);
  assert.equal(bindings.length, 0);
  const twoNodes = createNumaPlacement(
    NumaTopology.init({ root: fixture("two_nodes") }),
    (node) => bindings.push(node),
  );
  twoNodes.place(new SharedArrayBuffer(1 << 16), 0, 1 << 16, 999); // no such node: mbind fails
  assert.equal(bindings.length, 0);
});
