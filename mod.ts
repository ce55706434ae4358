/**
 * ringmpsc for Deno: lock-free ring buffers and channels in
 * `SharedArrayBuffer`s, shared between Workers.
 *
 * This is the portable core: it uses no Deno API. The cross-process layer
 * (SharedRing, eventfd, futex, fd passing, NUMA) lives in `./native.ts`.
 *
 * @example An SPSC ring
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ring, u32 } from "@ringmpsc/ringmpsc";
 * const ring = new Ring(u32, { ringBits: 8 });
 * ring.send([1, 2, 3]);
 * const out = new Uint32Array(3);
 * assert.equal(ring.recv(out), 3);
 * assert.deepEqual(out, Uint32Array.of(1, 2, 3));
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/config.ts";
export * from "./src/element.ts";
export * from "./src/metrics.ts";
export * from "./src/parker.ts";
export * from "./src/backoff.ts";
export * from "./src/wait_strategy.ts";
export * from "./src/wait_engine.ts";
export * from "./src/reservation.ts";
export { METRIC_FIELDS, METRICS_BYTES, RING_LAYOUT, type RingLayout } from "./src/layout.ts";
export * from "./src/ring.ts";
export * from "./src/ring_iterator.ts";
export * from "./src/blocking.ts";
export * as spsc from "./src/spsc/mod.ts";
export * as mpsc from "./src/mpsc/mod.ts";
export * as spmc from "./src/spmc/mod.ts";
export * from "./src/claim_head.ts";
export * as mpmc from "./src/mpmc/mod.ts";
export * from "./src/event_loop.ts";
export * from "./src/message_ring.ts";
export * from "./src/value_channel.ts";
export * from "./src/placement.ts";
export * from "./src/buffer_pool.ts";
export * from "./src/broadcast/mod.ts";
export * from "./src/web_streams/mod.ts";
