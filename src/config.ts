/**
 * Ring and channel configuration, with the seed's four presets.
 *
 * @module
 */

import { checkBoolean, checkInteger, checkObject, checkOneOf } from "./_validate.ts";

/** Configuration shared by the SPSC ring and the MPSC channel (the seed's `Config`). */
export interface Config {
  /** Ring capacity is `2 ** ringBits`; between 1 and 30. */
  readonly ringBits: number;
  /** Producers an MPSC channel starts with room for; it grows past this on demand. */
  readonly maxProducers: number;
  /** Count sends, receives, batches and consume latency (off by default, then free). */
  readonly enableMetrics: boolean;
  /** Also count reserve spins and failures (needs `enableMetrics`). */
  readonly trackContention: boolean;
  /** NUMA node for the channel's rings: -1 detects the producer's node. */
  readonly numaNode: number;
  /** Bind rings to the producer's NUMA node where the native layer is loaded. */
  readonly numaAware: boolean;
  /** Smallest batch worth a bulk copy instead of a per-item loop (0 disables bulk copies). */
  readonly prefetchThreshold: number;
  /**
   * `Ring` only: put the ring in a shared `WebAssembly.Memory` (64 KiB pages)
   * and make each commit and advance one call into a tiny Wasm module whose
   * atomics V8 compiles inline (`Atomics.*` on shared memory are builtin
   * calls, ≈ 10 ns each). It was faster in every row `bench/throughput.ts`
   * and `bench/pingpong.ts` measure. `"auto"` (the default) does so where
   * the page rounding costs little: for a ring that makes its own memory of
   * at least one page, and for a ring rebuilt from a handle that carries its
   * `WebAssembly.Memory`. `true` always (and requires the Memory when the
   * ring is built over given memory), `false` never. Channels lay their rings
   * out in one `SharedArrayBuffer`: there `"auto"` means `false`.
   */
  readonly wasmAtomics: boolean | "auto";
}

/** The largest `ringBits`: positions are wrap-safe 32-bit integers, so capacity stays ≤ 2^30. */
export const MAX_RING_BITS = 30;

/**
 * General purpose: 64 Ki slots.
 *
 * @example Using a preset
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "@ringmpsc/ringmpsc";
 * assert.equal(2 ** defaultConfig.ringBits, 65536);
 * ```
 */
export const defaultConfig: Config = Object.freeze({
  ringBits: 16,
  maxProducers: 16,
  enableMetrics: false,
  trackContention: false,
  numaNode: -1,
  numaAware: true,
  prefetchThreshold: 16,
  wasmAtomics: "auto",
});

/** L1-resident, minimal latency: 4 Ki slots. */
export const lowLatencyConfig: Config = Object.freeze({ ...defaultConfig, ringBits: 12 });

/** Maximum buffering: 256 Ki slots. */
export const highThroughputConfig: Config = Object.freeze({ ...defaultConfig, ringBits: 18 });

/** Extreme latency sensitivity: 1 Ki slots. */
export const ultraLowLatencyConfig: Config = Object.freeze({ ...defaultConfig, ringBits: 10 });

/**
 * Fills the gaps of a partial config from {@linkcode defaultConfig} and checks
 * every field.
 *
 * @param config The fields to override.
 * @param what What is being made, for error messages ("create ring").
 * @returns A complete, frozen config.
 * @throws {RangeError} If a number is out of range, e.g. ringBits 31.
 * @throws {TypeError} If a field has the wrong type.
 *
 * @example Overriding one field
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeConfig } from "@ringmpsc/ringmpsc";
 * assert.equal(makeConfig({ ringBits: 8 }).maxProducers, 16);
 * ```
 */
export function makeConfig(config: Partial<Config> = {}, what = "create ring"): Config {
  checkObject(what, "config", config);
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const full = { ...defaultConfig, ...given };
  checkInteger(what, "ringBits", full.ringBits, 1, MAX_RING_BITS);
  checkInteger(what, "maxProducers", full.maxProducers, 1, 1 << 16);
  checkInteger(what, "numaNode", full.numaNode, -1, 1023);
  checkInteger(what, "prefetchThreshold", full.prefetchThreshold, 0, 2 ** 31 - 1);
  checkBoolean(what, "enableMetrics", full.enableMetrics);
  checkBoolean(what, "trackContention", full.trackContention);
  checkBoolean(what, "numaAware", full.numaAware);
  checkOneOf(what, "wasmAtomics", full.wasmAtomics, [true, false, "auto"]);
  return Object.freeze(full);
}
