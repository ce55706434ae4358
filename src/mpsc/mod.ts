/**
 * Multi-producer, single-consumer channels: one SPSC ring per producer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mpsc, u32 } from "@ringmpsc/ringmpsc";
 * const ch = new mpsc.Channel(u32, mpsc.defaultConfig);
 * ch.register().sendOne(7);
 * assert.equal(ch.recvOne(), 7);
 * ```
 *
 * @module
 */

export * from "./channel.ts";
export * from "./producer.ts";
export { defaultConfig } from "../config.ts";
