;; The tiny module behind src/wasm_atomics.ts: sequentially consistent
;; 32-bit atomics on an imported shared memory, called from JavaScript in
;; place of Atomics.load / Atomics.store, and a ring's commit and advance
;; each done in one call (one crossing from JavaScript instead of four or
;; two). Its bytes are WASM_ATOMICS_BYTES in src/wasm_atomics.ts, written by
;; scripts/build_wasm_atomics.ts; tests/wasm_atomics_test.ts assembles this
;; file again and checks that they are the same.
(module
  (import "env" "mem" (memory 1 65536 shared))

  ;; i32.atomic.load of the word at byte $addr
  (func (export "load") (param $addr i32) (result i32)
    (i32.atomic.load (local.get $addr)))

  ;; i32.atomic.store of $value into the word at byte $addr
  (func (export "store") (param $addr i32) (param $value i32)
    (i32.atomic.store (local.get $addr) (local.get $value)))

  ;; A commit through the close gate (src/close_gate.ts): P1 sending = $new;
  ;; P2 closed ≠ OPEN → sending = $old, return -1 (nothing published);
  ;; P3 tail = $new; then 1 if the consumers' waiters word is not 0, else 0
  ;; (a forged count cannot read as -1).
  (func (export "commit")
    (param $sending i32) (param $closed i32) (param $tail i32) (param $waiters i32)
    (param $old i32) (param $new i32) (result i32)
    (i32.atomic.store (local.get $sending) (local.get $new))
    (if (i32.atomic.load (local.get $closed))
      (then
        (i32.atomic.store (local.get $sending) (local.get $old))
        (return (i32.const -1))))
    (i32.atomic.store (local.get $tail) (local.get $new))
    (i32.ne (i32.atomic.load (local.get $waiters)) (i32.const 0)))

  ;; An advance: head = $new, then the producers' waiters count, returned.
  (func (export "advance") (param $head i32) (param $waiters i32) (param $new i32) (result i32)
    (i32.atomic.store (local.get $head) (local.get $new))
    (i32.atomic.load (local.get $waiters))))
