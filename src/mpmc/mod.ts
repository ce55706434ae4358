/**
 * Multi-producer, multi-consumer channels: per-producer rings with CAS heads,
 * work-stealing consumers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpmc.MpmcChannel(u32, mpmc.defaultMpmcConfig);
 * ch.register().sendOne(4);
 * assert.equal(ch.registerConsumer().steal(new Uint32Array(1)), 1);
 * ```
 *
 * @module
 */

export * from "./channel.ts";
