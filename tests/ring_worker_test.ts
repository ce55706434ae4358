/**
 * Worker-to-Worker stress of the SPSC Ring: one producer Worker, one consumer
 * Worker, random batch sizes and partial commits; the consumer checks every
 * item's sequence number, so a lost, duplicated or reordered item fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ring, u32 } from "../mod.ts";
import type { StressJob, StressResult } from "./workers/ring_stress_worker.ts";
import { runWorker } from "./_run_worker.ts";

const WORKER = new URL("./workers/ring_stress_worker.ts", import.meta.url);

const run = (job: StressJob) => runWorker<StressJob, StressResult>(WORKER, job);

function expectedChecksum(count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum = (sum + i) >>> 0;
  return sum;
}

async function stress(
  ringBits: number,
  count: number,
  seed: number,
  mode: StressJob["mode"],
  wasmAtomics = false,
) {
  const ring = new Ring(u32, { ringBits, wasmAtomics });
  const handle = ring.handle();
  const [consumed, produced] = await Promise.all([
    run({ role: "consumer", handle, count, seed, mode }),
    run({ role: "producer", handle, count, seed, mode }),
  ]);
  assert.equal(produced.received, count);
  assert.equal(consumed.firstError, null);
  assert.equal(consumed.received, count);
  assert.equal(consumed.checksum, expectedChecksum(count));
  assert.ok(ring.isClosed() && ring.isEmpty());
}

Deno.test("ring: two Workers, try-ops, tiny ring (many wraps)", async () => {
  await stress(3, 100_000, 0x1234, "spin");
});

Deno.test("ring: two Workers, try-ops, larger ring", async () => {
  await stress(12, 400_000, 0xbeef, "spin");
});

Deno.test("ring: two Workers, blocking waits on both sides", async () => {
  await stress(4, 100_000, 0x77, "blocking");
});

Deno.test("ring, Wasm atomics: two Workers, try-ops, tiny ring (many wraps)", async () => {
  await stress(3, 100_000, 0x4321, "spin", true);
});

Deno.test("ring, Wasm atomics: two Workers, blocking waits on both sides", async () => {
  await stress(4, 100_000, 0x78, "blocking", true);
});

for (const wasmAtomics of [false, true]) {
  Deno.test(`ring${wasmAtomics ? ", Wasm atomics" : ""}: positions crossing 2^32 between Workers`, async () => {
    const ring = new Ring(u32, { ringBits: 5, wasmAtomics });
    const handle = ring.handle();
    const words = new BigUint64Array(handle.buffer, 0, 32);
    const start = 2n ** 32n - 1000n;
    words[0] = start; // tail
    words[16] = start; // head (byte 128)
    const count = 50_000;
    const [consumed] = await Promise.all([
      run({ role: "consumer", handle, count, seed: 9, mode: "spin" }),
      run({ role: "producer", handle, count, seed: 9, mode: "spin" }),
    ]);
    assert.equal(consumed.firstError, null);
    assert.equal(consumed.received, count);
    assert.equal(words[0], start + BigInt(count));
    assert.equal(words[16], start + BigInt(count));
  });
}
