/**
 * The WebAssembly atomics module (src/wasm_atomics.ts): its bytes are what
 * src/wasm_atomics.wat assembles to, it imports one shared memory and
 * exports exactly its four functions, and each does what its comment says on
 * memory that JavaScript's `Atomics` sees — including a commit refused by
 * the close gate, which publishes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { WASM_ATOMICS_BYTES, wasmAtomics } from "../src/wasm_atomics.ts";
import { assemble } from "../scripts/build_wasm_atomics.ts";

Deno.test("wasm atomics: the bytes are the .wat source assembled", async () => {
  const source = await Deno.readTextFile(new URL("../src/wasm_atomics.wat", import.meta.url));
  assert.deepEqual(
    await assemble(source),
    WASM_ATOMICS_BYTES,
    "stale bytes: run deno run -A scripts/build_wasm_atomics.ts",
  );
  const module = new WebAssembly.Module(WASM_ATOMICS_BYTES);
  assert.deepEqual(WebAssembly.Module.imports(module), [
    { module: "env", name: "mem", kind: "memory" },
  ]);
  assert.deepEqual(
    WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`),
    ["load:function", "store:function", "commit:function", "advance:function"],
  );
});

Deno.test("wasm atomics: load, store, commit and advance on memory Atomics sees", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const a = wasmAtomics(memory);
  const words = new Int32Array(memory.buffer);
  a.store(12, -5);
  assert.equal(Atomics.load(words, 3), -5);
  Atomics.store(words, 4, 77);
  assert.equal(a.load(16), 77);

  // commit(sending, closed, tail, waiters, old, next) on words 10…13
  const [SENDING, CLOSED, TAIL, WAITERS] = [10, 11, 12, 13];
  const at = (w: number) => w * 4;
  Atomics.store(words, TAIL, 5);
  Atomics.store(words, SENDING, 5);
  Atomics.store(words, WAITERS, 2);
  assert.equal(a.commit(at(SENDING), at(CLOSED), at(TAIL), at(WAITERS), 5, 8), 1, "sleepers: 1");
  assert.deepEqual([Atomics.load(words, SENDING), Atomics.load(words, TAIL)], [8, 8]);
  Atomics.store(words, WAITERS, -0x8000_0000); // forged: must not read as -1 (closed)
  assert.equal(a.commit(at(SENDING), at(CLOSED), at(TAIL), at(WAITERS), 8, 9), 1);
  Atomics.store(words, WAITERS, 0);
  assert.equal(a.commit(at(SENDING), at(CLOSED), at(TAIL), at(WAITERS), 9, 10), 0, "no sleepers");
  assert.deepEqual([Atomics.load(words, SENDING), Atomics.load(words, TAIL)], [10, 10]);
  Atomics.store(words, CLOSED, 1); // CLOSING: the commit is refused
  assert.equal(a.commit(at(SENDING), at(CLOSED), at(TAIL), at(WAITERS), 10, 11), -1);
  assert.deepEqual(
    [Atomics.load(words, SENDING), Atomics.load(words, TAIL)],
    [10, 10],
    "a refused commit publishes nothing and leaves sending = tail",
  );

  // advance(head, waiters, next) on words 20, 21
  Atomics.store(words, 21, 0);
  assert.equal(a.advance(at(20), at(21), 3), 0);
  assert.equal(Atomics.load(words, 20), 3);
  Atomics.store(words, 21, 1);
  assert.equal(a.advance(at(20), at(21), -1), 1, "the full u32 range");
  assert.equal(Atomics.load(words, 20), -1);
});
