/**
 * The producer Worker of `backpressure.ts`: sends `count` numbers, sleeping
 * on the ring's futex word whenever it is full, then closes the ring.
 *
 * @module
 */
import { Ring, type RingHandle, WaitStrategy } from "@ringmpsc/ringmpsc";

/** What `backpressure.ts` posts. */
export interface BackpressureJob {
  handle: RingHandle;
  count: number;
}

const scope = self as unknown as { onmessage: (e: MessageEvent<BackpressureJob>) => void };
scope.onmessage = (e) => {
  const ring = Ring.fromHandle<number, Uint32Array>(e.data.handle);
  for (let i = 0; i < e.data.count; i++) ring.sendOneBlocking(i, WaitStrategy.blocking);
  ring.close(); // wakes the consumer, which drains the rest and ends
};
