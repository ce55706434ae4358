/**
 * Single-producer, multi-consumer channels: one ring, consumers claim with
 * compare-and-swap on the shared head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spmc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new spmc.Channel(u32, spmc.defaultConfig);
 * ch.sendOne(1);
 * assert.equal(ch.registerConsumer().stealOne(), 1);
 * ```
 *
 * @module
 */

export * from "./channel.ts";
export { defaultSpmcConfig as defaultConfig } from "./channel.ts";
