/**
 * WebAssembly atomics for a ring's publish and acquire words: the module of
 * `src/wasm_atomics.wat` (a sequentially consistent i32 load and store on
 * an imported shared memory), encoded by hand below, section by section.
 * V8 compiles a Wasm atomic inline, while `Atomics.load`/`Atomics.store` on a
 * SharedArrayBuffer stay builtin calls in V8 15 (≈ 10 ns each). Both are
 * sequentially consistent, so either may serve any word of the protocol.
 *
 * @module
 */

/** The module's bytes (MVP binary format with the threads proposal's atomics). */
export const WASM_ATOMICS_BYTES: Uint8Array<ArrayBuffer> = new Uint8Array([
  // magic "\0asm", version 1
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  // type section: 2 types — (i32) → i32, (i32, i32) → ()
  0x01,
  0x0b,
  0x02,
  0x60,
  0x01,
  0x7f,
  0x01,
  0x7f,
  0x60,
  0x02,
  0x7f,
  0x7f,
  0x00,
  // import section: "env" "mem", memory, shared with max: min 1, max 65536 pages
  0x02,
  0x0f,
  0x01,
  0x03,
  0x65,
  0x6e,
  0x76,
  0x03,
  0x6d,
  0x65,
  0x6d,
  0x02,
  0x03,
  0x01,
  0x80,
  0x80,
  0x04,
  // function section: func 0 has type 0, func 1 has type 1
  0x03,
  0x03,
  0x02,
  0x00,
  0x01,
  // export section: "load" → func 0, "store" → func 1
  0x07,
  0x10,
  0x02,
  0x04,
  0x6c,
  0x6f,
  0x61,
  0x64,
  0x00,
  0x00,
  0x05,
  0x73,
  0x74,
  0x6f,
  0x72,
  0x65,
  0x00,
  0x01,
  // code section: 2 bodies
  0x0a,
  0x15,
  0x02,
  // load: no locals; local.get 0; i32.atomic.load align=2 offset=0; end
  0x08,
  0x00,
  0x20,
  0x00,
  0xfe,
  0x10,
  0x02,
  0x00,
  0x0b,
  // store: no locals; local.get 0; local.get 1; i32.atomic.store align=2 offset=0; end
  0x0a,
  0x00,
  0x20,
  0x00,
  0x20,
  0x01,
  0xfe,
  0x17,
  0x02,
  0x00,
  0x0b,
]);

/** The two exports, on one shared memory. */
export interface WasmAtomics {
  /** `i32.atomic.load` of the word at byte `addr` (a multiple of 4). */
  load(addr: number): number;
  /** `i32.atomic.store` of `value` into the word at byte `addr` (a multiple of 4). */
  store(addr: number, value: number): void;
}

let compiled: WebAssembly.Module | null = null;

/**
 * Instantiates the module on `memory`.
 *
 * @param memory A shared `WebAssembly.Memory` (its `buffer` is a SharedArrayBuffer).
 * @returns The atomic load and store on that memory.
 *
 * @example A store seen by a load
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmAtomics } from "./wasm_atomics.ts";
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
 * const a = wasmAtomics(memory);
 * a.store(8, 42);
 * assert.equal(a.load(8), 42);
 * assert.equal(Atomics.load(new Int32Array(memory.buffer), 2), 42);
 * ```
 */
export function wasmAtomics(memory: WebAssembly.Memory): WasmAtomics {
  compiled ??= new WebAssembly.Module(WASM_ATOMICS_BYTES);
  const instance = new WebAssembly.Instance(compiled, { env: { mem: memory } });
  return instance.exports as unknown as WasmAtomics;
}
