/**
 * Runs one module Worker for one job: posts `job`, resolves with the first
 * message it answers, rejects on its error, and terminates it either way.
 *
 * @module
 */

/**
 * Runs `url` as a module Worker with `job`.
 *
 * @param url The Worker module.
 * @param job What it is posted.
 * @returns Its first answer.
 */
export function runWorker<J, R>(url: URL, job: J): Promise<R> {
  const worker = new Worker(url, { type: "module" });
  return new Promise<R>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}
