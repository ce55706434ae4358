/**
 * Single-producer, single-consumer channels: `spsc.Channel` is the `Ring`
 * itself, with no wrapper (the seed's zero-overhead alias).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spsc, u64 } from "@ringmpsc/ringmpsc";
 * const ch = new spsc.Channel(u64, spsc.defaultConfig);
 * ch.send([1n, 2n, 3n]);
 * assert.equal(ch.len(), 3);
 * ```
 *
 * @module
 */

export { Ring as Channel } from "../ring.ts";
export { defaultConfig } from "../config.ts";
