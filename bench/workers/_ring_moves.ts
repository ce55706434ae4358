/**
 * The Ring rows' two sides of bench/throughput.ts, shared by its Workers
 * (bench/workers/throughput_worker.ts) and its producer process
 * (bench/workers/throughput_process.ts): what an item is, the producing and
 * the checking loops over a `Ring`'s windows, and one timed run — a warm-up
 * of a million items, a heap reading, a barrier both sides meet at, then the
 * timed part, so that neither side's warm-up, GC or heap check falls inside
 * the other's timed part.
 *
 * @module
 */
import type { Ring } from "../../mod.ts";

/** Element types the throughput Workers move. */
export type ThroughputElement = "u32" | "f64";

/** What is added to item `k`'s number: 0.5 makes every f64 item a non-integer. */
export function biasOf(element: ThroughputElement): number {
  return element === "f64" ? 0.5 : 0;
}

/** The heap in use after a full GC (with `--expose-gc`; else without one), in bytes. */
export function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().heapUsed;
}

/** A ring of either element type (each Worker sees one: the calls stay monomorphic). */
export type NumberRing = Ring<number, Uint32Array | Float64Array>;

/**
 * Produces items `from … to − 1` into `ring` (item `k` is `k + bias`):
 * `sendOne` per item when `batch` is 1, else `reserve`/fill/`commit` of
 * `batch` items, one publishing store per batch.
 *
 * @param ring The ring.
 * @param from First item.
 * @param to One past the last item.
 * @param batch Items per commit.
 * @param bias 0 for u32, 0.5 for f64 ({@linkcode biasOf}).
 */
export function produceRing(
  ring: NumberRing,
  from: number,
  to: number,
  batch: number,
  bias: number,
): void {
  if (batch === 1) {
    for (let i = from; i < to; i++) while (!ring.sendOne(i + bias));
    return;
  }
  let next = from;
  while (next < to) {
    const r = ring.reserve(Math.min(batch, to - next));
    if (r === null) continue;
    const a = r.array;
    const end = r.offset + r.length;
    for (let j = r.offset; j < end; j++) a[j] = next++ + bias;
    ring.commit(r.length);
  }
}

/**
 * Consumes items `from … to − 1` from `ring`, whole readable runs at a time
 * (one `advance` per run), checking that item `k` is `k + bias`.
 *
 * @param ring The ring.
 * @param from First item expected.
 * @param to One past the last item.
 * @param bias 0 for u32, 0.5 for f64 ({@linkcode biasOf}).
 * @returns The first item that arrived wrong (lost, duplicated or reordered), or -1.
 */
export function consumeRing(ring: NumberRing, from: number, to: number, bias: number): number {
  let expected = from;
  let firstBad = -1;
  while (expected < to) {
    const region = ring.readable();
    if (region === null) continue;
    const a = region.array;
    const n = Math.min(region.length, to - expected);
    const end = region.offset + n;
    for (let j = region.offset; j < end; j++) {
      if (a[j] !== expected + bias && firstBad < 0) firstBad = expected;
      expected++;
    }
    ring.advance(n);
  }
  return firstBad;
}

/** Items each side moves before it measures, so the timed part and the heap check see steady state. */
export const WARMUP = 1_000_000;

/**
 * Waits until both sides reached the barrier (at most a minute: a side that
 * died ends the run). A barrier in memory shared between processes (an
 * `ArrayBuffer` mapped by the native layer, where `Atomics.wait` is refused)
 * is polled instead of waited on.
 */
function meet(barrier: Int32Array): void {
  Atomics.add(barrier, 0, 1);
  const sleeps = barrier.buffer instanceof SharedArrayBuffer;
  if (sleeps) Atomics.notify(barrier, 0);
  const deadline = performance.now() + 60_000;
  for (let seen = Atomics.load(barrier, 0); seen < 2; seen = Atomics.load(barrier, 0)) {
    if (performance.now() > deadline) throw new Error("the other side never reached the barrier");
    if (sleeps) Atomics.wait(barrier, 0, seen, 100);
  }
}

/** One side's timed run ({@linkcode timedRun}). */
export interface TimedRun {
  /** Whether every item this side moved was right (a producer's is always `true`). */
  ok: boolean;
  /** This side's time for `count` items after the barrier. */
  seconds: number;
  /** The heap after the warm-up and after the timed part (after a GC each), in bytes. */
  heapBefore: number;
  heapAfter: number;
}

/**
 * Moves {@linkcode WARMUP} items, reads the heap, meets the other side at
 * `barrier`, then times `count` more.
 *
 * @param move Moves items `from … to − 1`; `false` when one arrived wrong.
 * @param count Items in the timed part.
 * @param barrier One i32, from 0, that both sides of the run share.
 */
export function timedRun(
  move: (from: number, to: number) => boolean,
  count: number,
  barrier: Int32Array,
): TimedRun {
  let ok = move(0, WARMUP);
  const heapBefore = heap();
  meet(barrier);
  const start = performance.now();
  ok = move(WARMUP, WARMUP + count) && ok;
  const seconds = (performance.now() - start) / 1000;
  return { ok, seconds, heapBefore, heapAfter: heap() };
}
