/**
 * The BufferPool storm shared by the Worker (pool_storm.ts) and the child
 * process (pool_process.ts): allocate and free slabs as fast as possible,
 * claiming each slab with a compare-and-swap of an owner word so that a slab
 * handed to two owners at once is caught, and stamping its bytes.
 *
 * @module
 */

import type { BufferPool } from "../../src/buffer_pool.ts";

/** What one storm saw. */
export interface StormReport {
  id: number;
  allocs: number;
  frees: number;
  exhausted: number;
  violations: string[];
}

/**
 * Runs `rounds` rounds of alloc and free on `pool` as owner `id`.
 *
 * @param pool The shared pool.
 * @param id This owner's id, never 0.
 * @param rounds Rounds to run.
 * @param hold Most slabs taken per round.
 * @param seed Seed of the round sizes and free order.
 * @param barrier A word every party increments, then waits until it reaches `parties`, so that
 * all storms overlap.
 * @param parties How many storms start together.
 * @returns What happened.
 */
export function runStorm(
  pool: BufferPool,
  id: number,
  rounds: number,
  hold: number,
  seed: number,
  barrier: Int32Array,
  parties: number,
): StormReport {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  Atomics.add(barrier, 0, 1);
  // a hang guard as generous as a Worker's startup: the others may still be type-checking
  const deadline = performance.now() + 300_000;
  while (Atomics.load(barrier, 0) < parties) {
    if (performance.now() > deadline) throw new Error(`storm ${id}: the others never arrived`);
    Atomics.wait(nap, 0, 0, 0.05);
  }
  const words = new Int32Array(pool.buffer, pool.bytes.byteOffset, pool.bytes.length >> 2);
  let s = seed | 1;
  const random = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const held: number[] = [];
  const report: StormReport = { id, allocs: 0, frees: 0, exhausted: 0, violations: [] };
  const release = (h: number) => {
    const w = pool.offsetOf(h) >> 2;
    if (words[w + 2] !== (h | 0) || pool.lengthOf(h) !== 12) {
      report.violations.push(`slab ${h} stamp overwritten`);
    }
    if (Atomics.compareExchange(words, w, id, 0) !== id) {
      report.violations.push(`slab ${h} owner word changed under its owner ${id}`);
    }
    pool.free(h);
    report.frees++;
  };
  for (let round = 0; round < rounds; round++) {
    const want = 1 + random(hold);
    for (let i = 0; i < want; i++) {
      const h = pool.alloc();
      if (h === null) {
        report.exhausted++;
        break;
      }
      report.allocs++;
      const w = pool.offsetOf(h) >> 2;
      // Claim the slab: its owner word must be 0 unless someone else owns it too.
      const prev = Atomics.compareExchange(words, w, 0, id);
      if (prev !== 0) report.violations.push(`slab ${h} already owned by ${prev}`);
      words[w + 1] = round;
      words[w + 2] = h | 0;
      pool.setLen(h, 12);
      held.push(h);
    }
    // Free a random subset, in random order, after checking the stamps.
    const toFree = random(held.length + 1);
    for (let i = 0; i < toFree; i++) {
      const j = random(held.length);
      const h = held[j];
      held[j] = held[held.length - 1];
      held.pop();
      release(h);
    }
  }
  for (const h of held) release(h);
  return report;
}
