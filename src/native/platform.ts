/**
 * ringmpsc's `platform` namespace: `platform.numa` (topology, allocation,
 * affinity) and `platform.fdPassing` (ringmpsc's `platform.fd_passing`). The
 * NUMA names are also re-exported directly, as the seed writes
 * `platform.NumaTopology`.
 *
 * @example Both spellings
 * ```ts
 * import assert from "node:assert/strict";
 * import * as platform from "./platform.ts";
 * assert.ok(platform.numa.NumaTopology === platform.NumaTopology);
 * ```
 *
 * @module
 */

export * as numa from "./numa/mod.ts";
export * as fdPassing from "./fd_passing.ts";
export * from "./numa/mod.ts";
