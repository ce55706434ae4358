/**
 * `Ring` with `wasmAtomics`: the ring lives in a shared WebAssembly.Memory
 * and its positions go through WebAssembly atomics. The protocol is the same
 * (tests/ring_worker_test.ts runs the Worker stress on it too); these tests
 * cover the memory, the handle and the inputs that must be refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import { atomicsParker, mpsc, Ring, RING_LAYOUT, u32 } from "../mod.ts";

Deno.test("wasm ring: its memory is a shared WebAssembly.Memory, and the handle carries it", () => {
  const ring = new Ring(u32, { ringBits: 3, wasmAtomics: true });
  const handle = ring.handle();
  assert.ok(handle.wasmMemory instanceof WebAssembly.Memory);
  assert.equal(handle.buffer, handle.wasmMemory.buffer);
  assert.ok(handle.buffer instanceof SharedArrayBuffer);
  assert.equal(handle.buffer.byteLength % 65536, 0);
  const consumer = Ring.fromHandle<number, Uint32Array>(structuredClone(handle));
  // 1000 items through 8 slots: the wrap is crossed 125 times, in order, nothing lost.
  const out = new Uint32Array(5);
  let next = 0;
  let expected = 0;
  while (expected < 1000) {
    next += ring.send(Array.from({ length: Math.min(5, 1000 - next) }, (_, k) => next + k));
    const n = consumer.recv(out);
    for (let k = 0; k < n; k++) assert.equal(out[k], expected++);
  }
  assert.equal(consumer.isEmpty(), true);
  const words = new BigUint64Array(handle.buffer, 0, 32);
  assert.equal(words[RING_LAYOUT.tail / 8], 1000n);
  assert.equal(words[RING_LAYOUT.head / 8], 1000n);
});

Deno.test("wasm ring: bad inputs are refused before anything is built", () => {
  assert.throws(
    () => new Ring(u32, { wasmAtomics: "yes" as unknown as boolean }),
    (e: Error) => e instanceof TypeError && /wasmAtomics/.test(e.message),
  );
  const buffer = new SharedArrayBuffer(RING_LAYOUT.data + 64);
  assert.throws(
    () =>
      new Ring(u32, { ringBits: 4, wasmAtomics: true }, {
        buffer,
        byteOffset: 0,
        layout: RING_LAYOUT,
        parker: atomicsParker,
        initialize: true,
      }),
    (e: Error) => e instanceof TypeError && /WebAssembly\.Memory/.test(e.message),
  );
  const handle = new Ring(u32, { ringBits: 4, wasmAtomics: true }).handle();
  const { wasmMemory: _, ...stripped } = handle;
  assert.throws(() => Ring.fromHandle(stripped), TypeError, "a wasm handle without its memory");
  assert.throws(() => new mpsc.Channel(u32, { wasmAtomics: true }).register(), TypeError);
});

Deno.test('wasm ring: "auto" (the default) takes Wasm atomics where the ring has a page of its own', () => {
  // 2^14 u32 = 64 KiB of slots: its own memory of at least a page, so Wasm atomics
  const big = new Ring(u32, { ringBits: 14 });
  assert.equal(big.config.wasmAtomics, "auto");
  const handle = big.handle();
  assert.ok(handle.wasmMemory instanceof WebAssembly.Memory);
  assert.equal(handle.buffer, handle.wasmMemory.buffer);
  const other = Ring.fromHandle<number, Uint32Array>(structuredClone(handle));
  assert.equal(big.send([1, 2, 3]), 3);
  assert.deepEqual([other.tryRecv(), other.tryRecv(), other.tryRecv()], [1, 2, 3]);
  // a ring smaller than a page stays in a plain SharedArrayBuffer
  const small = new Ring(u32, { ringBits: 4 }).handle();
  assert.equal(small.wasmMemory, undefined);
  assert.ok(small.buffer.byteLength < 65536);
  // over given memory without a Memory, "auto" means Atomics (true would refuse it)
  const buffer = new SharedArrayBuffer(RING_LAYOUT.data + 64);
  const plain = new Ring(u32, { ringBits: 4 }, {
    buffer,
    byteOffset: 0,
    layout: RING_LAYOUT,
    parker: atomicsParker,
    initialize: true,
  });
  assert.equal(plain.send([7]), 1);
  assert.equal(plain.tryRecv(), 7);
  assert.throws(
    () => new Ring(u32, { wasmAtomics: "always" as unknown as boolean }),
    (e: Error) =>
      e instanceof TypeError && /wasmAtomics must be one of true, false, "auto"/.test(e.message),
  );
});
