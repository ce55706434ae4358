/**
 * Internal: an abortable timer pause, for waits that have no word to sleep
 * on (a broadcast producer's clog, a NATS server that is restarting).
 *
 * @module
 */

/**
 * Resolves after `ms`, or rejects with the signal's reason once it aborts.
 *
 * @param ms How long.
 * @param signal Ends the pause early.
 * @returns The pause.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
