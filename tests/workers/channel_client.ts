/**
 * Main-thread side of the channel tests' Workers: {@linkcode Peer} starts a
 * `channel_peer.ts` Worker and calls its operations; every call has a hang
 * guard so a stuck Worker fails the test instead of hanging it.
 *
 * @module
 */
import type { PeerJob, PeerReply } from "./channel_peer.ts";

const PEER = new URL("./channel_peer.ts", import.meta.url);

/**
 * How long one call may take before the test gives up on it (a hang guard, not
 * an assertion). The Workers' own loops give up after 30 s without progress
 * (`HangGuard`); this one only catches a Worker stuck elsewhere, so it is
 * generous: a long run on a loaded 2-core machine can take minutes.
 */
const HANG_GUARD_MS = 300_000;
/**
 * How long a new Worker may take to answer its first ping: under `deno test`
 * it type-checks its module graph first, which on a busy 2-core machine with
 * several test files starting Workers at once can take a minute.
 */
const STARTUP_GUARD_MS = 300_000;

/** An error a Worker threw, rebuilt on this side with the same `name` and message. */
export class PeerError extends Error {
  /**
   * @param name The original error's class name, e.g. "Closed".
   * @param message The original message.
   */
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One Worker running `channel_peer.ts` (or another peer module answering the
 * same way, such as `lifecycle_peer.ts`); each call posts a job and awaits its reply.
 */
export class Peer<J extends { op: string } = PeerJob> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #dead: Error | null = null;

  /**
   * Starts the Worker.
   *
   * @param name A name for error messages.
   * @param module The peer module; default `channel_peer.ts`.
   */
  constructor(readonly name: string, module: URL = PEER) {
    this.#worker = new Worker(module, { type: "module", name });
    this.#worker.onmessage = (e: MessageEvent<PeerReply>) => {
      const p = this.#pending.get(e.data.seq);
      if (p === undefined) return;
      this.#pending.delete(e.data.seq);
      clearTimeout(p.timer);
      if (e.data.ok) p.resolve(e.data.value);
      else p.reject(new PeerError(e.data.name, e.data.message));
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failAll(new Error(`Worker ${name} crashed: ${e.message}`));
    };
  }

  #failAll(err: Error): void {
    this.#dead = err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  /**
   * Runs one job in the Worker.
   *
   * @param job The job.
   * @param transfer Objects to transfer.
   * @param guardMs The hang guard for this call.
   * @returns The job's result.
   */
  call<T>(
    job: J | { op: "ping" },
    transfer: Transferable[] = [],
    guardMs = HANG_GUARD_MS,
  ): Promise<T> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const seq = this.#next++;
    const promise = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`Worker ${this.name} did not answer ${job.op} in time (hang guard)`));
      }, guardMs);
      this.#pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#worker.postMessage({ seq, job }, transfer);
    });
    // a test may await this after other awaits: a failure then must not count as unhandled
    promise.catch(() => {});
    return promise;
  }

  /** Kills the Worker at once, wherever it is (a crashed peer); pending calls fail. */
  terminate(): void {
    this.#worker.terminate();
    this.#failAll(new Error(`Worker ${this.name} was terminated`));
  }
}

/**
 * Starts `n` peers.
 *
 * @param n How many.
 * @param prefix Name prefix.
 * @param module The peer module; default `channel_peer.ts`.
 * @returns The peers, each answered a ping.
 */
export async function startPeers<J extends { op: string } = PeerJob>(
  n: number,
  prefix: string,
  module: URL = PEER,
): Promise<Peer<J>[]> {
  const peers = Array.from({ length: n }, (_, i) => new Peer<J>(`${prefix}${i}`, module));
  await Promise.all(peers.map((p) => p.call({ op: "ping" }, [], STARTUP_GUARD_MS)));
  return peers;
}

/**
 * Terminates every peer (safe on peers already terminated).
 *
 * @param peers The peers.
 */
export function stopPeers<J extends { op: string }>(peers: Peer<J>[]): void {
  for (const p of peers) p.terminate();
}

/**
 * Waits, giving the event loop a turn between looks, until `ready()` holds.
 *
 * @param ready The condition.
 * @param what What is awaited, for the hang guard's message.
 */
export async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + HANG_GUARD_MS;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`Gave up waiting for ${what} (hang guard)`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Asserts that a promise rejects with an error of the given class name
 * (errors from Workers keep their class name, not their class).
 *
 * @param promise The promise.
 * @param name The expected `name`, e.g. "Closed".
 * @returns The error.
 */
export async function rejectsNamed(promise: Promise<unknown>, name: string): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof Error) || err.name !== name) {
      throw new Error(`Expected a ${name} error, received ${String(err)}`, { cause: err });
    }
    return err;
  }
  throw new Error(`Expected a ${name} error, but the call succeeded`);
}
