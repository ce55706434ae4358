/**
 * Worker for the BufferPool storm tests: attaches to the pool (by handle, or
 * by memfd for the cross-process test) and runs the storm of
 * pool_storm_core.ts.
 *
 * @module
 */

import { BufferPool, type BufferPoolHandle } from "../../src/buffer_pool.ts";
import { SharedBufferPool } from "../../src/native/buffer_pool_shared.ts";
import { SharedMemory } from "../../src/native/shared_memory.ts";
import { runStorm, type StormReport } from "./pool_storm_core.ts";

export type { StormReport };

/**
 * What the main thread sends: a pool handle and a barrier buffer, or the fds
 * of a shared pool and of a shared barrier region.
 */
export interface StormJob {
  handle?: BufferPoolHandle;
  barrier?: SharedArrayBuffer;
  fd?: number;
  barrierFd?: number;
  parties: number;
  id: number;
  rounds: number;
  hold: number;
  seed: number;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<StormJob>) => void;
  postMessage(message: StormReport): void;
};

scope.onmessage = (e) => {
  const { handle, barrier, fd, barrierFd, parties, id, rounds, hold, seed } = e.data;
  if (handle !== undefined) {
    const pool = BufferPool.fromHandle(handle);
    scope.postMessage(runStorm(pool, id, rounds, hold, seed, new Int32Array(barrier!), parties));
    return;
  }
  using shared = SharedBufferPool.attach(fd!);
  using gate = SharedMemory.attach(barrierFd!);
  const report = runStorm(
    shared.pool,
    id,
    rounds,
    hold,
    seed,
    new Int32Array(gate.buffer),
    parties,
  );
  scope.postMessage(report);
};
