;; The tiny module behind src/wasm_atomics.ts: sequentially consistent
;; 32-bit atomic load and store on an imported shared memory, called from
;; JavaScript in place of Atomics.load / Atomics.store. Its bytes are written
;; out by hand in src/wasm_atomics.ts (WASM_ATOMICS_BYTES), one commented
;; line per section; tests/bench_suite_test.ts checks that they validate, import
;; and export exactly this, and that a store is seen by Atomics and vice versa.
(module
  (import "env" "mem" (memory 1 65536 shared))
  (func (export "load") (param $addr i32) (result i32)
    (i32.atomic.load (local.get $addr)))
  (func (export "store") (param $addr i32) (param $value i32)
    (i32.atomic.store (local.get $addr) (local.get $value))))
