/**
 * The benchmark's limit contenders: the smallest ring that keeps `Ring`'s
 * per-commit protocol — one atomic store of the tail and one atomic load of
 * a waiters word per commit, one atomic store of the head per consumed run,
 * cached indices, the consumer checking every item — and nothing else (no
 * metrics, no close flag, no 64-bit high words, no validation). Measured
 * beside `Ring` in the same run it shows what V8 allows for this protocol,
 * with JavaScript `Atomics` or with WebAssembly atomics on the same memory.
 *
 * Layout in a shared `WebAssembly.Memory` (byte offsets):
 *
 * ```text
 *    0  tail u32      written by the producer (published on every commit)
 *  128  head u32      written by the consumer (published per consumed run)
 *  256  waiters u32   loaded by the producer after each commit (always 0 here)
 * 1024  data          capacity × u32 (or f64: item k is k + 0.5)
 * ```
 *
 * @module
 */
import { wasmAtomics } from "../../src/wasm_atomics.ts";
import { biasOf, type ThroughputElement } from "./_ring_moves.ts";

const TAIL = 0;
const HEAD = 128;
const WAITERS = 256;
const DATA = 1024;

/** Slots of a limit ring in the benchmarks: the same 2^16 as the Ring and ringbuf.js contenders. */
export const LIMIT_CAPACITY = 1 << 16;

/** Bytes of memory a limit ring of `capacity` slots of `element` needs. */
export function limitRingBytes(capacity: number, element: ThroughputElement = "u32"): number {
  return DATA + capacity * (element === "f64" ? 8 : 4);
}

/** The ring's slots as the element's typed array. */
function slots(memory: WebAssembly.Memory, capacity: number, element: ThroughputElement) {
  return element === "f64"
    ? new Float64Array(memory.buffer, DATA, capacity)
    : new Uint32Array(memory.buffer, DATA, capacity);
}

/** A ring's atomic words through one of the two paths: Atomics on an Int32Array, or the Wasm module. */
class Words {
  readonly #w: Int32Array;
  readonly #a: ReturnType<typeof wasmAtomics> | null;

  constructor(memory: WebAssembly.Memory, wasm: boolean) {
    this.#w = new Int32Array(memory.buffer);
    this.#a = wasm ? wasmAtomics(memory) : null;
  }

  load(addr: number): number {
    return this.#a === null ? Atomics.load(this.#w, addr >> 2) : this.#a.load(addr);
  }

  store(addr: number, value: number): void {
    if (this.#a === null) Atomics.store(this.#w, addr >> 2, value);
    else this.#a.store(addr, value);
  }
}

/**
 * Produces `from … to − 1` (item `k` is `k + bias`), publishing every
 * `batch` items (fewer where a commit would wrap: the rest follows in the
 * next, as `Ring.reserve` does).
 *
 * @param memory The ring's memory.
 * @param capacity Slots, a power of two.
 * @param wasm WebAssembly atomics instead of `Atomics`.
 * @param from First item.
 * @param to One past the last item.
 * @param batch Items per commit.
 * @param element What an item is (u32 by default).
 * @returns Whether the waiters word stayed 0 (it always does here).
 */
export function produceLimit(
  memory: WebAssembly.Memory,
  capacity: number,
  wasm: boolean,
  from: number,
  to: number,
  batch: number,
  element: ThroughputElement = "u32",
): boolean {
  const words = new Words(memory, wasm);
  const data = slots(memory, capacity, element);
  const bias = biasOf(element);
  const mask = capacity - 1;
  let tail = words.load(TAIL);
  let cachedHead = words.load(HEAD);
  let quiet = true;
  for (let next = from; next < to;) {
    const want = Math.min(batch, to - next);
    while (capacity - ((tail - cachedHead) | 0) < want) cachedHead = words.load(HEAD);
    const index = tail & mask;
    const n = Math.min(want, capacity - index);
    for (let j = index, end = index + n; j < end; j++) data[j] = next++ + bias;
    tail = (tail + n) | 0;
    words.store(TAIL, tail); // publishes n items
    if (words.load(WAITERS) !== 0) quiet = false;
  }
  return quiet;
}

/**
 * Consumes `from … to − 1`, checking each item, publishing the head once per
 * readable run (up to the end of the store, as `Ring.readable` gives it).
 *
 * @param memory The ring's memory.
 * @param capacity Slots, a power of two.
 * @param wasm WebAssembly atomics instead of `Atomics`.
 * @param from First item expected.
 * @param to One past the last item.
 * @param element What an item is (u32 by default).
 * @returns Whether every item arrived once, in order.
 */
export function consumeLimit(
  memory: WebAssembly.Memory,
  capacity: number,
  wasm: boolean,
  from: number,
  to: number,
  element: ThroughputElement = "u32",
): boolean {
  const words = new Words(memory, wasm);
  const data = slots(memory, capacity, element);
  const bias = biasOf(element);
  const mask = capacity - 1;
  let head = words.load(HEAD);
  let ok = true;
  for (let expected = from; expected < to;) {
    const tail = words.load(TAIL);
    const index = head & mask;
    const n = Math.min((tail - head) | 0, to - expected, capacity - index);
    if (n === 0) continue;
    for (let j = index, end = index + n; j < end; j++) {
      if (data[j] !== expected + bias) ok = false;
      expected++;
    }
    head = (head + n) | 0;
    words.store(HEAD, head); // frees n slots
  }
  return ok;
}
