/**
 * Worker side of bench/pingpong.ts: one end of a ping-pong. The initiator
 * sends round `i` (a u32), waits for it to come back, checks it is `i`, and
 * stamps every round with `performance.now()`; the echo sends back what it
 * receives, checking it receives 0, 1, 2, … in order. Transports:
 *
 * - `ring-spin` / `ring-blocking` / `ring-sleep`: two SPSC `Ring<u32>`s in
 *   SharedArrayBuffers; the wait is a bounded spin on `readable()`,
 *   `waitReadable()` (spin, yield, then sleep) or
 *   `waitReadable(phasedBackoff(0, 0))` (sleeps at once, every round);
 * - `ring-wasm-spin`: the same spin over two `Ring`s with `wasmAtomics`;
 * - `limit-spin`, `limit-ring-spin`, `limit-ring-wasm-spin`,
 *   `limit-protocol-spin`: the spin over one shared word per direction,
 *   alone, with a ring's head store (through `Atomics` or Wasm atomics), or
 *   with `Ring`'s whole protocol, bare (bench/workers/_limit_pingpong.ts):
 *   what V8 allows for a hop;
 * - `shared-ring`: the initiator over two `SharedRing<u32>`s under /dev/shm,
 *   whose echo is another process (bench/workers/pingpong_process.ts);
 * - `message-channel`: a `MessagePort` pair between two Workers;
 * - `post-message`: the echo for the main thread's `worker.postMessage`.
 *
 * @module
 */
import { pinThread } from "./_pin.ts";
import { Ring, type RingHandle, u32, WaitStrategy, yieldThread } from "../../mod.ts";
import { clockCostNs, type LatencyStats, latencyStats } from "../_stats.ts";
import { PING_WORD, PONG_WORD, WordEnd } from "./_limit_pingpong.ts";

/** The transports a ping-pong Worker can play. */
export type PingPongTransport =
  | "ring-spin"
  | "ring-blocking"
  | "ring-sleep"
  | "ring-wasm-spin"
  | "limit-spin"
  | "limit-ring-spin"
  | "limit-ring-wasm-spin"
  | "limit-protocol-spin"
  | "shared-ring"
  | "message-channel"
  | "post-message";

/** One end of one ping-pong run. */
export interface PingPongJob {
  /** How the two ends talk. */
  transport: PingPongTransport;
  /** CPU this end pins its thread to (bench/workers/_pin.ts); unpinned when absent. */
  cpu?: number;
  /** The end that times rounds, or the end that sends back. */
  role: "initiator" | "echo";
  /** Rounds run before timing starts. */
  warmup: number;
  /** Rounds timed. */
  rounds: number;
  /** Milliseconds after the job starts at which a waiting end gives up. */
  budgetMs: number;
  /** Ring carrying initiator → echo (ring transports). */
  ping?: RingHandle;
  /** Ring carrying echo → initiator (ring transports). */
  pong?: RingHandle;
  /** The memory of a limit ping-pong (`limit-*`, bench/workers/_limit_pingpong.ts). */
  memory?: WebAssembly.Memory;
  /** /dev/shm names of the ping and pong SharedRings (`shared-ring`). */
  paths?: [string, string];
  /** This end's port (`message-channel`). */
  port?: MessagePort;
}

/** What an end reports when its run is over. */
export interface PingPongReport {
  /** Every round came back (or arrived) as the value sent, in order. */
  ok: boolean;
  /** Why not. */
  error?: string;
  /** Rounds this end completed. */
  rounds: number;
  /** The initiator's per-round latencies. */
  latency?: LatencyStats;
  /** What one `performance.now()` read cost in this Worker (ns). */
  clockNs?: number;
  /**
   * Ring transports: nanoseconds per round over `rounds` more rounds timed as
   * one span, so the clock's own cost (one read per round above) drops out.
   */
  aggregateNs?: number;
}

/** The part of `Ring` and `SharedRing` a ping-pong uses. */
export interface PingPongEnd {
  /** Sends one item if there is room. */
  sendOne(item: number): boolean;
  /** The readable run, or null when empty. */
  readable(): { array: Uint32Array; offset: number; length: number } | null;
  /** Consumes `n` items. */
  advance(n: number): void;
  /** Waits until an item is readable. */
  waitReadable(strategy?: WaitStrategy): void;
  /** Closes the ring for both ends. */
  close(): void;
  /** Whether either end closed the ring. */
  isClosed(): boolean;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

/**
 * Every 2^16 empty polls a spinning end looks at the clock and the peer's
 * close, and yields once (as the native build's `sched_yield`), so that on
 * an oversubscribed machine the peer it waits for gets a turn.
 */
const POLL_MASK = 0xffff;

function strategyOf(transport: PingPongTransport): WaitStrategy | null {
  if (transport === "ring-blocking") return WaitStrategy.blocking;
  if (transport === "ring-sleep") return WaitStrategy.phasedBackoff(0, 0);
  return null;
}

/** Waits for one item, spinning or as `strategy` says; returns it, or -1 on deadline or close. */
function receive(end: PingPongEnd, strategy: WaitStrategy | null, deadlineMs: number): number {
  let r = end.readable();
  if (strategy === null) {
    let polls = 0;
    while (r === null) {
      if ((++polls & POLL_MASK) === 0) {
        if (performance.now() > deadlineMs || end.isClosed()) return -1;
        yieldThread();
      }
      r = end.readable();
    }
  } else {
    while (r === null) {
      end.waitReadable(strategy);
      r = end.readable();
    }
  }
  const v = r.array[r.offset];
  end.advance(1);
  return v;
}

function send(end: PingPongEnd, v: number, deadlineMs: number): boolean {
  let polls = 0;
  while (!end.sendOne(v)) {
    if ((++polls & POLL_MASK) === 0) {
      if (performance.now() > deadlineMs) return false;
      yieldThread();
    }
  }
  return true;
}

/** A job whose budget has become a deadline on this thread's clock. */
export interface TimedJob extends PingPongJob {
  /** `performance.now()` after which a waiting end gives up. */
  deadlineMs: number;
}

/**
 * The initiator's loop over two rings: times every round with
 * `performance.now()` and checks every value that comes back; closes the
 * ping ring at the end so the echo stops.
 *
 * @param ping The ring to the echo.
 * @param pong The ring from the echo.
 * @param job Rounds, warm-up, transport (the wait) and deadline.
 * @returns The report, with the timed rounds' percentiles when ok.
 */
export function initiateRings(
  ping: PingPongEnd,
  pong: PingPongEnd,
  job: TimedJob,
): PingPongReport {
  const clockNs = clockCostNs();
  const strategy = strategyOf(job.transport);
  const timed = job.warmup + job.rounds;
  const lat = new Float64Array(job.rounds);
  for (let i = 0; i < timed; i++) {
    const t0 = performance.now();
    if (!send(ping, i, job.deadlineMs)) {
      return { ok: false, error: `round ${i}: the ping ring stayed full`, rounds: i };
    }
    const v = receive(pong, strategy, job.deadlineMs);
    const t1 = performance.now();
    if (v !== i) {
      ping.close();
      const why = v === -1 ? "no answer before the deadline" : `came back as ${v}`;
      return { ok: false, error: `round ${i}: ${why}`, rounds: i };
    }
    if (i >= job.warmup) lat[i - job.warmup] = (t1 - t0) * 1e6;
  }
  const spanStart = performance.now();
  for (let i = timed; i < timed + job.rounds; i++) {
    if (!send(ping, i, job.deadlineMs)) {
      return { ok: false, error: `round ${i}: the ping ring stayed full`, rounds: i };
    }
    const v = receive(pong, strategy, job.deadlineMs);
    if (v !== i) {
      ping.close();
      const why = v === -1 ? "no answer before the deadline" : `came back as ${v}`;
      return { ok: false, error: `round ${i}: ${why}`, rounds: i };
    }
  }
  const aggregateNs = (performance.now() - spanStart) * 1e6 / job.rounds;
  ping.close(); // tells the echo the run is over
  return { ok: true, rounds: job.rounds, latency: latencyStats(lat), clockNs, aggregateNs };
}

/**
 * The echo's loop over two rings: sends back each value, checking that 0,
 * 1, 2, … arrive in order; closes the pong ring if it gives up, so the
 * initiator stops too.
 *
 * @param ping The ring from the initiator.
 * @param pong The ring to the initiator.
 * @param job Rounds, warm-up, transport (the wait) and deadline.
 * @returns The report.
 */
export function echoRings(ping: PingPongEnd, pong: PingPongEnd, job: TimedJob): PingPongReport {
  const strategy = strategyOf(job.transport);
  const total = job.warmup + 2 * job.rounds; // per-round timed rounds, then the aggregate span
  for (let i = 0; i < total; i++) {
    let v: number;
    try {
      v = receive(ping, strategy, job.deadlineMs);
    } catch (err) {
      pong.close();
      return { ok: false, error: `echo round ${i}: ${(err as Error).message}`, rounds: i };
    }
    if (v !== i) {
      pong.close();
      const why = v === -1 ? "nothing arrived before the deadline" : `received ${v}`;
      return { ok: false, error: `echo round ${i}: ${why}`, rounds: i };
    }
    if (!send(pong, v, job.deadlineMs)) {
      pong.close();
      return { ok: false, error: `echo round ${i}: the pong ring stayed full`, rounds: i };
    }
  }
  return { ok: true, rounds: total };
}

function portLoop(job: PingPongJob): Promise<PingPongReport> {
  const port = job.port!;
  const total = job.warmup + job.rounds;
  return new Promise((resolve) => {
    let i = 0;
    if (job.role === "echo") {
      port.onmessage = (e) => {
        if (e.data !== i) {
          resolve({ ok: false, error: `echo round ${i}: received ${e.data}`, rounds: i });
          port.close();
          return;
        }
        port.postMessage(e.data);
        if (++i === total) {
          port.close();
          resolve({ ok: true, rounds: total });
        }
      };
      return;
    }
    const clockNs = clockCostNs();
    const lat = new Float64Array(job.rounds);
    let t0 = 0;
    port.onmessage = (e) => {
      const t1 = performance.now();
      if (e.data !== i) {
        resolve({ ok: false, error: `round ${i}: came back as ${e.data}`, rounds: i });
        port.close();
        return;
      }
      if (i >= job.warmup) lat[i - job.warmup] = (t1 - t0) * 1e6;
      if (++i === total) {
        port.close();
        resolve({ ok: true, rounds: job.rounds, latency: latencyStats(lat), clockNs });
        return;
      }
      t0 = performance.now();
      port.postMessage(i);
    };
    t0 = performance.now();
    port.postMessage(0);
  });
}

/**
 * Loads and attaches what the job needs, so that start-up is over before
 * the main thread says "go"; returns the run itself.
 */
async function prepare(untimed: PingPongJob): Promise<() => Promise<PingPongReport>> {
  await pinThread(untimed.cpu);
  const timed = (): TimedJob => ({ ...untimed, deadlineMs: performance.now() + untimed.budgetMs });
  if (untimed.transport === "message-channel") return () => portLoop(timed());
  if (untimed.transport === "shared-ring") {
    const { SharedRing } = await import("../../native.ts");
    const ping = SharedRing.attachPath(u32, untimed.paths![0]);
    const pong = SharedRing.attachPath(u32, untimed.paths![1]);
    return () => {
      try {
        return Promise.resolve(initiateRings(ping, pong, timed()));
      } finally {
        ping.deinit();
        pong.deinit();
      }
    };
  }
  const limit = untimed.transport.startsWith("limit-");
  const kind = {
    wasm: untimed.transport === "limit-ring-wasm-spin",
    head: untimed.transport !== "limit-spin",
    gate: untimed.transport === "limit-protocol-spin",
  };
  const ping = limit
    ? new WordEnd(untimed.memory!, PING_WORD, kind)
    : Ring.fromHandle<number, Uint32Array>(untimed.ping!);
  const pong = limit
    ? new WordEnd(untimed.memory!, PONG_WORD, kind)
    : Ring.fromHandle<number, Uint32Array>(untimed.pong!);
  return untimed.role === "initiator"
    ? () => Promise.resolve(initiateRings(ping, pong, timed()))
    : () => Promise.resolve(echoRings(ping, pong, timed()));
}

function report(err: unknown): void {
  scope.postMessage({ ok: false, error: String((err as Error)?.message ?? err), rounds: 0 });
}

let echoing = false;
let echoed = 0;

function onJob(e: MessageEvent): void {
  if (echoing) {
    // post-message echo: the main thread times the round trip and checks the value
    if (e.data !== echoed++) scope.postMessage({ unexpected: e.data });
    else scope.postMessage(e.data);
    return;
  }
  const job = e.data as PingPongJob;
  if (job.transport === "post-message") {
    echoing = true;
    scope.postMessage("ready");
    return;
  }
  // Announces that this end is loaded; it starts on the next message ("go").
  prepare(job).then((start) => {
    scope.onmessage = () => {
      scope.onmessage = null;
      start().then((r) => scope.postMessage(r), report);
    };
    scope.postMessage("ready");
  }, report);
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = onJob;
}
