/**
 * Worker for the BufferPool reclaim test: attaches to the pool by handle,
 * allocates the number of slabs it is told, stamps each with its index, and
 * reports its holder id and handles; then it idles until terminated.
 *
 * @module
 */

import { BufferPool, type BufferPoolHandle } from "../../src/buffer_pool.ts";

/** What the main thread sends. */
export interface HolderJob {
  pool: BufferPoolHandle;
  take: number;
}

/** What the Worker reports. */
export interface HolderReport {
  holderId: number;
  handles: number[];
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<HolderJob>) => void;
  postMessage(message: HolderReport): void;
};

scope.onmessage = (e) => {
  const pool = BufferPool.fromHandle(e.data.pool);
  const handles: number[] = [];
  for (let i = 0; i < e.data.take; i++) {
    const h = pool.alloc();
    if (h === null) break;
    pool.setLen(h, 1);
    handles.push(h);
  }
  scope.postMessage({ holderId: pool.holderId, handles });
};
