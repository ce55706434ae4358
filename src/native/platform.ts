/**
 * ringmpsc's `platform` namespace: `platform.numa` (topology, allocation,
 * affinity) and `platform.fdPassing` (ringmpsc's `platform.fd_passing`). The
 * NUMA names are also re-exported directly, as the seed writes
 * `platform.NumaTopology`.
 *
 * @example Both spellings
 * ```ts
 * import * as platform from "./platform.ts";
 * console.log(platform.numa.NumaTopology === platform.NumaTopology); // true
 * ```
 *
 * @module
 */

export * as numa from "./numa/mod.ts";
export * as fdPassing from "./fd_passing.ts";
export * from "./numa/mod.ts";
