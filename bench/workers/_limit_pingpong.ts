/**
 * The ping-pong's limit contenders: one end of the smallest ping-pongs that
 * pass values through shared memory, with nothing else around them (no
 * ring, no close gate, no sleepers' check). Measured beside `Ring` in the
 * same run they show what V8 allows for a hop; they play the `PingPongEnd`
 * part of bench/workers/pingpong_worker.ts.
 *
 * - one word each way: one atomic store per hop, the receiver polling with
 *   atomic loads until the word changes;
 * - a ring's minimum: the same, plus the receiver's store of its head (the
 *   count it consumed), which a ring cannot leave out: it is how its
 *   producer learns that slots are free. Through `Atomics`, or through the
 *   WebAssembly atomics of src/wasm_atomics.ts;
 * - `Ring`'s protocol, bare: the ring's minimum plus the close gate (announce
 *   the value, load `closed`, then publish; src/close_gate.ts) and the two
 *   sleepers' checks (a waiters load after the publish and after the head
 *   store), through `Atomics`.
 *
 * Layout (i32 words of one shared `WebAssembly.Memory`, each on its own cache line):
 *
 * ```text
 * word  0   ping value: the initiator stores round i (starts at -1)
 * word 16   ping head: the echo stores the rounds it took (ring minimum only)
 * word 32   pong value: the echo stores round i back (starts at -1)
 * word 48   pong head: the initiator stores the rounds it took (ring minimum only)
 * word 64   closed: 1 once either end gave up or finished
 * word 80   ping sending, word 96 pong sending (the gate's announce; `Ring`'s protocol only)
 * word 112  waiters: always 0 (`Ring`'s protocol only)
 * ```
 *
 * @module
 */
import { type WasmAtomics, wasmAtomics } from "../../src/wasm_atomics.ts";

/** Word of the initiator → echo value (its head word follows 16 words on). */
export const PING_WORD = 0;
/** Word of the echo → initiator value (its head word follows 16 words on). */
export const PONG_WORD = 32;
const HEAD_DISTANCE = 16;
const CLOSED_WORD = 64;
const SENDING_WORD = [80, 96];
const WAITERS_WORD = 112;

/**
 * The memory of a fresh limit ping-pong.
 *
 * @returns One shared page, both value words at -1 (nothing sent), open.
 */
export function limitPingPongMemory(): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const words = new Int32Array(memory.buffer);
  words[PING_WORD] = -1;
  words[PONG_WORD] = -1;
  return memory;
}

/** How a limit end talks: which atomics, and whether the receiver stores its head. */
export interface LimitKind {
  /** WebAssembly atomics instead of `Atomics`. */
  readonly wasm: boolean;
  /** Store the receiver's head on every take (a ring's minimum). */
  readonly head: boolean;
  /** Also the close gate and the sleepers' checks around each store (`Ring`'s protocol). */
  readonly gate?: boolean;
}

/**
 * One direction of a limit ping-pong: `sendOne` stores the value, `readable`
 * returns it once it differs from the last one taken, `advance` takes it
 * (and stores the head, for a ring's minimum). Values sent must differ from
 * the one before (the ping-pong's rounds count up).
 */
export class WordEnd {
  readonly #words: Int32Array;
  readonly #wasm: WasmAtomics | null;
  readonly #value: number;
  readonly #head: number;
  /** The gate's announce word, -1 without the gate. */
  readonly #sending: number;
  #last = -1;
  #taken = 0;
  readonly #region = { array: new Uint32Array(1), offset: 0, length: 1 };

  /**
   * @param memory The ping-pong's memory ({@linkcode limitPingPongMemory}).
   * @param word {@linkcode PING_WORD} or {@linkcode PONG_WORD}.
   * @param kind Atomics or Wasm, with or without the head store.
   */
  constructor(memory: WebAssembly.Memory, word: number, kind: LimitKind) {
    this.#words = new Int32Array(memory.buffer);
    this.#wasm = kind.wasm ? wasmAtomics(memory) : null;
    this.#value = word;
    this.#head = kind.head ? word + HEAD_DISTANCE : -1;
    this.#sending = kind.gate ? SENDING_WORD[word === PING_WORD ? 0 : 1] : -1;
  }

  #store(index: number, value: number): void {
    if (this.#wasm === null) Atomics.store(this.#words, index, value);
    else this.#wasm.store(index * 4, value);
  }

  /** The sleepers' check after a store, as a ring makes it (nobody sleeps here). */
  #wakeSleepers(): void {
    if (Atomics.load(this.#words, WAITERS_WORD) !== 0) Atomics.notify(this.#words, WAITERS_WORD);
  }

  /**
   * Publishes `item` (one atomic store; with the gate, announce and `closed`
   * load first, waiters load after); always room: the peer answers before the next.
   */
  sendOne(item: number): boolean {
    if (this.#sending < 0) {
      this.#store(this.#value, item);
      return true;
    }
    this.#store(this.#sending, item);
    if (Atomics.load(this.#words, CLOSED_WORD) !== 0) return false;
    this.#store(this.#value, item);
    this.#wakeSleepers();
    return true;
  }

  /** The value, once a new one arrived; else `null`. */
  readable(): { array: Uint32Array; offset: number; length: number } | null {
    const v = this.#wasm === null
      ? Atomics.load(this.#words, this.#value)
      : this.#wasm.load(this.#value * 4);
    if (v === this.#last) return null;
    this.#region.array[0] = v;
    return this.#region;
  }

  /** Takes the value `readable` returned, and stores the head for a ring's minimum. */
  advance(_n: number): void {
    this.#last = this.#region.array[0];
    if (this.#head >= 0) this.#store(this.#head, ++this.#taken);
    if (this.#sending >= 0) this.#wakeSleepers();
  }

  /** Spinning only: the limit has no sleep. */
  waitReadable(): void {}

  /** Tells the peer the run is over. */
  close(): void {
    Atomics.store(this.#words, CLOSED_WORD, 1);
  }

  /** Whether either end closed. */
  isClosed(): boolean {
    return Atomics.load(this.#words, CLOSED_WORD) !== 0;
  }
}
