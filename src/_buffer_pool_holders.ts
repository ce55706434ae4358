/**
 * Holders of a {@linkcode BufferPool}'s slabs, internal: holder ids, the
 * holder table of processes, and reclaiming the slabs of a holder that is
 * gone. The words are drawn in `_buffer_pool_layout.ts`, alloc and free are in
 * `_buffer_pool_slabs.ts`; every loop here runs over a fixed count (the
 * table's 64 entries, the pool's slabs).
 *
 * - **reclaim(holder)**: for each slab whose state is allocated and whose
 *   owner is `holder`, swap the state to free (the generation in the expected
 *   value makes a slab freed and re-allocated meanwhile fail the swap), then
 *   clear its bit exactly like free. Only for holders that are gone: it takes
 *   back what they allocated, including slabs they sent to a receiver that has
 *   not freed them yet; such a receiver's handle is then stale.
 *   `reclaimDead(isAlive)` does it for every holder-table entry whose process
 *   is dead, and a view registered with a liveness check does that by itself
 *   when `alloc` finds the pool exhausted (at most every 20 ms).
 * - **orphans**: a holder killed between the two steps of alloc or free
 *   leaves a set bit over a free state, with no owner recorded. After a death,
 *   the view that saw it notes every such slab; one still in the same pair of
 *   words on its next reclaim at least 1 s later has its bit cleared. (A live
 *   holder preempted that long between its two steps then gets `PoolCorrupt`
 *   from that slab; it is never handed out twice, as alloc checks the state.)
 *
 * @module
 */

import { Exhausted, PoolCorrupt } from "./errors.ts";
import {
  E_HOLDER,
  E_PID,
  H_NEXT_HOLDER,
  hex,
  HOLDER_SLOTS,
  HOLDER_WORDS,
  M_OWNER,
  M_STATE,
  META_WORDS,
} from "./_buffer_pool_layout.ts";

/** A fresh holder id, never 0, from the header's counter (wraps after 2^32 − 1 views). */
export function newHolderId(header: Int32Array): number {
  const id = (Atomics.add(header, H_NEXT_HOLDER, 1) + 1) >>> 0;
  return id !== 0 ? id : (Atomics.add(header, H_NEXT_HOLDER, 1) + 1) >>> 0;
}

/**
 * Clears slab `index`'s bitmap bit after its state went free.
 *
 * @throws {PoolCorrupt} If the bit was already clear (the slab is free all the same).
 */
export function releaseBit(bitmap: Int32Array, index: number): void {
  const bit = 1 << (index & 31);
  // Publishes the slab as free to allocators (its state already reads free).
  const word = Atomics.and(bitmap, index >>> 5, ~bit);
  if ((word & bit) === 0) {
    throw new PoolCorrupt(
      `Cannot free slab ${index} as its bitmap bit was already clear: received bitmap word ${
        hex(word)
      }`,
    );
  }
}

/**
 * Frees every slab allocated by `holder`: swaps its state from allocated to
 * free (a slab freed and allocated again meanwhile carries another generation
 * and fails the swap), then clears its bit.
 *
 * @returns How many slabs came back.
 */
export function reclaimHolder(meta: Int32Array, bitmap: Int32Array, holder: number): number {
  let count = 0;
  for (let m = 0, index = 0; m < meta.length; m += META_WORDS, index++) {
    const state = Atomics.load(meta, m + M_STATE);
    if ((state & 1) === 0 || Atomics.load(meta, m + M_OWNER) >>> 0 !== holder) continue;
    // Step: take the slab back at the generation we saw; fails if its holder freed it meanwhile.
    if (Atomics.compareExchange(meta, m + M_STATE, state, state & ~1) !== state) continue;
    releaseBit(bitmap, index);
    count++;
  }
  return count;
}

/**
 * Records `holder` as belonging to process `pid` in the first empty entry.
 *
 * @returns The entry's index.
 * @throws {Exhausted} If all 64 entries are taken.
 */
export function registerHolder(holders: Int32Array, holder: number, pid: number): number {
  for (let e = 0; e < HOLDER_SLOTS; e++) {
    const at = e * HOLDER_WORDS;
    // Step: claim an empty entry; the pid follows (an entry with pid 0 is skipped by reclaimers).
    if (Atomics.compareExchange(holders, at + E_HOLDER, 0, holder | 0) === 0) {
      // Publishes the process that holder `holder` lives in.
      Atomics.store(holders, at + E_PID, pid);
      return e;
    }
  }
  throw new Exhausted(
    `Cannot register process ${pid} with the buffer pool as all ${HOLDER_SLOTS} holder entries are taken`,
  );
}

/** Empties entry `e` if it still names `holder`. */
export function unregisterHolder(holders: Int32Array, e: number, holder: number): void {
  const at = e * HOLDER_WORDS;
  if (Atomics.load(holders, at + E_HOLDER) >>> 0 !== holder) return;
  Atomics.store(holders, at + E_PID, 0);
  // Publishes the entry as empty.
  Atomics.compareExchange(holders, at + E_HOLDER, holder | 0, 0);
}

/**
 * Reclaims the slabs of every registered holder whose process is dead and
 * empties its entry.
 *
 * @returns How many slabs came back and how many dead holders were found.
 * @throws {PoolCorrupt} If an entry holds a pid no process can have.
 */
export function reclaimDead(
  holders: Int32Array,
  meta: Int32Array,
  bitmap: Int32Array,
  isAlive: (pid: number) => boolean,
): { slabs: number; deaths: number } {
  let count = 0;
  let deaths = 0;
  for (let e = 0; e < HOLDER_SLOTS; e++) {
    const at = e * HOLDER_WORDS;
    const holder = Atomics.load(holders, at + E_HOLDER) >>> 0;
    const pid = Atomics.load(holders, at + E_PID);
    if (holder === 0 || pid === 0) continue; // empty, or its pid is not published yet
    if (pid < 0) {
      throw new PoolCorrupt(
        `Cannot reclaim dead holders as holder entry ${e} names an impossible process: received holder ${
          hex(holder)
        } and pid ${hex(pid)}`,
      );
    }
    if (isAlive(pid)) continue;
    deaths++;
    count += reclaimHolder(meta, bitmap, holder);
    unregisterHolder(holders, e, holder);
  }
  return { slabs: count, deaths };
}

/** How long a slab must sit taken in the bitmap yet free in its state to count as orphaned. */
export const ORPHAN_GRACE_MS = 1000;

/**
 * Slabs that a holder died in the middle of allocating or freeing: their bit
 * is set but their state is free, and no owner is recorded. A live holder
 * passes through that pair of words for a few instructions, so a slab counts
 * as orphaned only when the same pair is seen again `ORPHAN_GRACE_MS` later
 * and a death was seen before the first look. Clearing the bit of a holder
 * that was only preempted that long cannot hand one slab out twice (alloc
 * checks the state after winning the bit); it makes that holder's next step
 * on the slab a `PoolCorrupt`.
 */
export class OrphanWatch {
  /** Candidate slab index → the state word seen at the first look, and when. */
  readonly #seen = new Map<number, { state: number; since: number }>();

  /**
   * Repairs the candidates first seen a grace period ago that are still
   * orphaned, then, when `deathSeen`, adds the orphan-looking slabs not yet
   * watched, each with its own first look (so a death while others wait is
   * watched too). Allocates the candidates.
   *
   * @returns How many slabs came back.
   */
  sweep(meta: Int32Array, bitmap: Int32Array, now: number, deathSeen: boolean): number {
    let count = 0;
    for (const [index, seen] of this.#seen) {
      if (now - seen.since < ORPHAN_GRACE_MS) continue;
      this.#seen.delete(index);
      const bit = 1 << (index & 31);
      if ((Atomics.load(bitmap, index >>> 5) & bit) === 0) continue;
      if (Atomics.load(meta, index * META_WORDS + M_STATE) !== seen.state) continue;
      // Publishes the orphan as free (its state already reads free).
      if ((Atomics.and(bitmap, index >>> 5, ~bit) & bit) !== 0) count++;
    }
    if (!deathSeen) return count;
    for (let m = 0, index = 0; m < meta.length; m += META_WORDS, index++) {
      const state = Atomics.load(meta, m + M_STATE);
      if ((state & 1) !== 0 || this.#seen.has(index)) continue;
      if ((Atomics.load(bitmap, index >>> 5) & (1 << (index & 31))) === 0) continue;
      this.#seen.set(index, { state, since: now });
    }
    return count;
  }
}
