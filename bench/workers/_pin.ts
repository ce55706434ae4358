/**
 * Pins the calling benchmark thread to one CPU, so that a producer and its
 * consumer run on distinct CPUs instead of wherever the scheduler puts them.
 * Needs the native layer (`--allow-ffi`); without it, or on a machine with a
 * single CPU, the thread stays unpinned and the run says so.
 *
 * @module
 */

/**
 * The CPU a benchmark side should run on: producer-like sides on CPU 0,
 * consumer-like sides on CPU 1; `undefined` (no pinning) with fewer than two CPUs.
 *
 * @param side 0 for the producer (initiator), 1 for the consumer (echo).
 * @returns The CPU, or `undefined`.
 */
export function cpuFor(side: 0 | 1): number | undefined {
  return navigator.hardwareConcurrency >= 2 ? side : undefined;
}

/**
 * Binds this thread to `cpu` through the native helper.
 *
 * @param cpu The CPU, or `undefined` to leave the thread where it is.
 * @returns Whether the thread is now pinned.
 */
export async function pinThread(cpu: number | undefined): Promise<boolean> {
  if (cpu === undefined) return false;
  try {
    const { bindToCpu } = await import("../../src/native/numa/affinity.ts");
    bindToCpu(cpu);
    return true;
  } catch {
    return false; // no --allow-ffi, no helper for this platform, or the CPU is not ours
  }
}
