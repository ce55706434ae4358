/**
 * Worker for the racing double-free test: in every round the "owner" Worker
 * allocates every slab and publishes the handles, then both Workers free
 * every handle at once. Each counts the frees that succeeded and checks that
 * every other one was refused with `InvalidHandle`.
 *
 * Sync words (Int32Array over `sync`): 0 round published by the owner,
 * 1 count of Workers done with the round; the handles follow from word 2.
 *
 * @module
 */

import { BufferPool, type BufferPoolHandle } from "../../src/buffer_pool.ts";
import { InvalidHandle } from "../../src/errors.ts";

/** What the test sends. */
export interface DoubleFreeJob {
  pool: BufferPoolHandle;
  sync: SharedArrayBuffer;
  owner: boolean;
  rounds: number;
}

/** What a Worker reports. */
export interface DoubleFreeReport {
  freed: number;
  refused: number;
  errors: string[];
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<DoubleFreeJob>) => void;
  postMessage(message: DoubleFreeReport): void;
};

scope.onmessage = (e) => {
  const { owner, rounds } = e.data;
  const pool = BufferPool.fromHandle(e.data.pool);
  const sync = new Int32Array(e.data.sync);
  const n = pool.capacity();
  const report: DoubleFreeReport = { freed: 0, refused: 0, errors: [] };
  for (let round = 1; round <= rounds; round++) {
    if (owner) {
      // Wait for both Workers to finish the previous round, then deal a new one.
      while (Atomics.load(sync, 1) < 2 * (round - 1)) {
        Atomics.wait(sync, 1, Atomics.load(sync, 1), 50);
      }
      for (let i = 0; i < n; i++) {
        const h = pool.alloc();
        if (h === null) {
          report.errors.push(`round ${round}: pool exhausted at ${i}`);
          break;
        }
        sync[2 + i] = h;
      }
      Atomics.store(sync, 0, round);
      Atomics.notify(sync, 0);
    } else {
      while (Atomics.load(sync, 0) < round) Atomics.wait(sync, 0, Atomics.load(sync, 0), 50);
    }
    // Both free every handle, in opposite orders so that they meet in the middle.
    for (let k = 0; k < n; k++) {
      const h = sync[2 + (owner ? k : n - 1 - k)] >>> 0;
      try {
        pool.free(h);
        report.freed++;
      } catch (error) {
        if (error instanceof InvalidHandle) report.refused++;
        else report.errors.push(String(error));
      }
    }
    Atomics.add(sync, 1, 1);
    Atomics.notify(sync, 1);
  }
  scope.postMessage(report);
};
