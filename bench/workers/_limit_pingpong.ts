/**
 * The ping-pong's limit contender: one end of the smallest ping-pong that
 * passes values through shared memory — one word per direction, one
 * `Atomics.store` per hop, the receiver polling with `Atomics.load` until the
 * word changes — and nothing else (no ring, no close gate, no sleepers'
 * check). Measured beside `Ring` in the same run it shows what V8 allows for
 * a hop; it plays the `PingPongEnd` part of bench/workers/pingpong_worker.ts.
 *
 * Layout (i32 words of one `SharedArrayBuffer`, each on its own cache line):
 *
 * ```text
 * word  0   ping value: the initiator stores round i (starts at -1)
 * word 16   pong value: the echo stores round i back (starts at -1)
 * word 32   closed: 1 once either end gave up or finished
 * ```
 *
 * @module
 */

/** Word of the initiator → echo value. */
export const PING_WORD = 0;
/** Word of the echo → initiator value. */
export const PONG_WORD = 16;
const CLOSED_WORD = 32;

/**
 * The words of a fresh limit ping-pong.
 *
 * @returns Both value words at -1 (nothing sent), open.
 */
export function limitPingPongWords(): Int32Array {
  const words = new Int32Array(new SharedArrayBuffer(64 * 3));
  words[PING_WORD] = -1;
  words[PONG_WORD] = -1;
  return words;
}

/**
 * One direction of a limit ping-pong: `sendOne` stores the value, `readable`
 * returns it once it differs from the last one taken. Values sent must
 * differ from the one before (the ping-pong's rounds count up).
 */
export class WordEnd {
  readonly #words: Int32Array;
  readonly #index: number;
  #last = -1;
  readonly #region = { array: new Uint32Array(1), offset: 0, length: 1 };

  /**
   * @param words The ping-pong's words ({@linkcode limitPingPongWords}).
   * @param index {@linkcode PING_WORD} or {@linkcode PONG_WORD}.
   */
  constructor(words: Int32Array, index: number) {
    this.#words = words;
    this.#index = index;
  }

  /** Publishes `item` (one atomic store); always room: the peer answers before the next. */
  sendOne(item: number): boolean {
    Atomics.store(this.#words, this.#index, item);
    return true;
  }

  /** The value, once a new one arrived; else `null`. */
  readable(): { array: Uint32Array; offset: number; length: number } | null {
    const v = Atomics.load(this.#words, this.#index);
    if (v === this.#last) return null;
    this.#region.array[0] = v;
    return this.#region;
  }

  /** Takes the value `readable` returned. */
  advance(_n: number): void {
    this.#last = this.#region.array[0];
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
