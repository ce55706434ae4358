/**
 * Multi-producer, single-consumer channels: one SPSC ring per producer.
 *
 * @example
 * ```ts
 * import { mpsc, u32 } from "../../mod.ts";
 * const ch = new mpsc.Channel(u32, mpsc.defaultConfig);
 * ch.register().sendOne(7);
 * console.log(ch.recvOne()); // 7
 * ```
 *
 * @module
 */

export * from "./channel.ts";
export * from "./producer.ts";
export { defaultConfig } from "../config.ts";
