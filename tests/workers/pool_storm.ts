/**
 * Worker for the BufferPool storm tests: attaches to the pool (by handle, or
 * by memfd for the cross-process test) and runs the storm of
 * pool_storm_core.ts.
 *
 * @module
 */

import { BufferPool, type BufferPoolHandle } from "../../src/buffer_pool.ts";
import { SharedBufferPool } from "../../src/native/buffer_pool_shared.ts";
import { runStorm, type StormReport } from "./pool_storm_core.ts";

export type { StormReport };

/** What the main thread sends: a pool handle, or the fd of a shared pool. */
export interface StormJob {
  handle?: BufferPoolHandle;
  fd?: number;
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
  const { handle, fd, id, rounds, hold, seed } = e.data;
  if (handle !== undefined) {
    scope.postMessage(runStorm(BufferPool.fromHandle(handle), id, rounds, hold, seed));
    return;
  }
  using shared = SharedBufferPool.attach(fd!);
  scope.postMessage(runStorm(shared.pool, id, rounds, hold, seed));
};
