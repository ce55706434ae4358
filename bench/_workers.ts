/**
 * Starting benchmark Workers and processes, and bounding how long a
 * measurement may take.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * Starts `deno run` on one of the bench's scripts in another process, with
 * the native layer's permissions (read, write, ffi, env) and no stdin.
 *
 * @param script The script's URL.
 * @param args Its arguments.
 * @param stderr `"piped"` to read it (the default), or `"inherit"`.
 * @param stdout `"piped"` to read it (the default), or `"null"`.
 * @returns The child process.
 */
export function spawnBenchProcess(
  script: URL,
  args: string[],
  stderr: "piped" | "inherit" = "piped",
  stdout: "piped" | "null" = "piped",
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-env",
      fileURLToPath(script),
      ...args,
    ],
    stdin: "null",
    stdout,
    stderr,
  }).spawn();
}

/**
 * Resolves with `work`, or with `onTimeout` once `ms` have passed (calling
 * `stop` first, so whatever runs the work can be torn down).
 *
 * @param work The work.
 * @param ms Milliseconds to wait for it.
 * @param stop Called when the time is up.
 * @param onTimeout What to resolve with then.
 * @returns Whichever came first.
 *
 * @example A race the work wins
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTimeout } from "./_workers.ts";
 * assert.equal(await withTimeout(Promise.resolve(1), 1000, () => {}, 0), 1);
 * ```
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  stop: () => void,
  onTimeout: T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      stop();
      resolve(onTimeout);
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Worker started by {@linkcode startGoWorker}. */
export interface StartedWorker<R> {
  /** The Worker. */
  worker: Worker;
  /** Resolves true once it is loaded and waits for "go" (false if it reported or failed first). */
  ready: Promise<boolean>;
  /** Its report. */
  report: Promise<R>;
}

/**
 * Posts `job` to a new Worker that answers "ready", runs once told "go", and
 * then posts a report, which `pick` recognises among its other messages.
 *
 * @param url The Worker's module.
 * @param job The job to post.
 * @param transfer What to transfer with the job.
 * @param pick The report inside a message, or `undefined` for any other message.
 * @param failed The report to give when the Worker throws.
 * @returns The Worker and its two promises.
 */
export function startGoWorker<R>(
  url: URL,
  job: unknown,
  transfer: Transferable[],
  pick: (data: unknown) => R | undefined,
  failed: (message: string) => R,
): StartedWorker<R> {
  const worker = new Worker(url, { type: "module" });
  let onReady: (ok: boolean) => void = () => {};
  let onReport: (r: R) => void = () => {};
  const ready = new Promise<boolean>((resolve) => onReady = resolve);
  const report = new Promise<R>((resolve) => onReport = resolve);
  worker.onmessage = (e) => {
    if (e.data === "ready") return onReady(true);
    const r = pick(e.data);
    if (r === undefined) return;
    onReady(false);
    onReport(r);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    onReady(false);
    onReport(failed(`worker error: ${e.message}`));
  };
  worker.postMessage(job, transfer);
  return { worker, ready, report };
}
