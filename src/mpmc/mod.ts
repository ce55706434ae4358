/**
 * Multi-producer, multi-consumer channels: per-producer rings with CAS heads,
 * work-stealing consumers.
 *
 * @example
 * ```ts
 * import { mpmc, u32 } from "../../mod.ts";
 * const ch = new mpmc.MpmcChannel(u32, mpmc.defaultMpmcConfig);
 * ch.register().sendOne(4);
 * console.log(ch.registerConsumer().steal(new Uint32Array(1))); // 1
 * ```
 *
 * @module
 */

export * from "./channel.ts";
