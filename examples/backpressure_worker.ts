/**
 * The producer Worker of `backpressure.ts`: sends `count` numbers, sleeping
 * on the ring's futex word whenever it is full, then closes the ring.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { Ring, type RingHandle, WaitStrategy } from "@ringmpsc/ringmpsc";

/** What `backpressure.ts` posts. */
export interface BackpressureJob {
  handle: RingHandle<number, Uint32Array>;
  count: number;
}

self.onmessage = (e: MessageEvent<BackpressureJob>) => {
  const ring = Ring.fromHandle(e.data.handle);
  for (let i = 0; i < e.data.count; i++) ring.sendOneBlocking(i, WaitStrategy.blocking);
  ring.close(); // wakes the consumer, which drains the rest and ends
};
