/**
 * Worker side of bench/throughput.ts: produces or consumes sequence numbers
 * through one transport — u32 item `k` is `k`, f64 item `k` is `k + 0.5` —
 * and the consumer reads and checks every item.
 * Ring transports first move a warm-up million items, then measure the heap,
 * time `count` more items, and measure the heap again (after a GC each time),
 * so the heap figure is the steady state's. Both sides then meet at a
 * barrier, so neither side's GC or heap check falls inside the other's timed
 * part; the consumer's clock, the one reported, starts there.
 *
 * @module
 */
import { RingBuffer } from "ringbuf.js";
import { Ring, type RingHandle, u32 } from "../../mod.ts";
import { pinThread } from "./_pin.ts";
import { consumeLimit, LIMIT_CAPACITY, produceLimit } from "./_limit_ring.ts";
import {
  biasOf,
  consumeRing,
  heap,
  type NumberRing,
  produceRing,
  type ThroughputElement,
  timedRun,
} from "./_ring_moves.ts";

export type { ThroughputElement } from "./_ring_moves.ts";

/** One side of one run. */
export interface ThroughputJob {
  transport:
    | "ring-item"
    | "ring-batch"
    | "ring-copy-batch"
    | "ring-wasm-item"
    | "ring-wasm-batch"
    | "ringbuf-item"
    | "ringbuf-batch"
    | "postMessage"
    | "limit-js-item"
    | "limit-js-batch"
    | "limit-wasm-item"
    | "limit-wasm-batch"
    | "shared-ring-item"
    | "shared-ring-batch";
  role: "producer" | "consumer";
  /** What an item is (ring and ringbuf.js transports; the others carry u32). */
  element: ThroughputElement;
  count: number;
  batch: number;
  handle?: RingHandle;
  sab?: SharedArrayBuffer;
  port?: MessagePort;
  /** Memory of a limit ring (`limit-*` transports, bench/workers/_limit_ring.ts). */
  memory?: WebAssembly.Memory;
  /** CPU this side pins its thread to (bench/workers/_pin.ts); unpinned when absent. */
  cpu?: number;
  /** Where both sides meet after the warm-up (ring and limit transports): one i32, from 0. */
  barrier?: Int32Array;
  /**
   * `shared-ring-*` (the consumer here, the producer in
   * bench/workers/throughput_process.ts): the /dev/shm names of the
   * `SharedRing<u32>` and of the barrier's memory (its first i32).
   */
  paths?: [ring: string, barrier: string];
}

/** What the consumer reports (the producer reports zeros). */
export interface ThroughputResult {
  seconds: number;
  items: number;
  ok: boolean;
  heapBefore: number;
  heapAfter: number;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<ThroughputJob>) => void;
  postMessage(message: ThroughputResult): void;
};

type NumberArray = Uint32Array | Float64Array;

/**
 * Producers that copy (ringbuf.js push, the Ring's `send`): fills `buf` with
 * the next items, `batch` at a time, and hands each batch to `push`, which
 * returns once all `n` are in.
 */
function produceCopies(
  buf: NumberArray,
  from: number,
  to: number,
  bias: number,
  push: (n: number) => void,
): void {
  const batch = buf.length;
  for (let next = from; next < to;) {
    const n = Math.min(batch, to - next);
    for (let j = 0; j < n; j++) buf[j] = next + j + bias;
    push(n);
    next += n;
  }
}

/**
 * Consumers that copy (ringbuf.js pop, the Ring's `recv`): `take(room)`
 * copies up to `room` items into `out` and says how many; each is checked
 * there. Returns the first item that arrived wrong, or -1.
 */
function consumeCopies(
  out: NumberArray,
  from: number,
  to: number,
  bias: number,
  take: (room: number) => number,
): number {
  let expected = from;
  let firstBad = -1;
  while (expected < to) {
    const n = take(Math.min(out.length, to - expected));
    for (let j = 0; j < n; j++) {
      if (out[j] !== expected + bias && firstBad < 0) firstBad = expected;
      expected++;
    }
  }
  return firstBad;
}

scope.onmessage = async (e) => {
  const job = e.data;
  await pinThread(job.cpu);
  if (job.transport === "postMessage") {
    const heapBefore = heap();
    let seconds = 0;
    let ok = true;
    if (job.role === "producer") { for (let i = 0; i < job.count; i++) job.port!.postMessage(i); }
    else {
      let firstAt = 0;
      ok = await new Promise<boolean>((resolve) => {
        let expected = 0;
        let good = true;
        job.port!.onmessage = (m) => {
          if (expected === 0) firstAt = performance.now();
          if (m.data !== expected) good = false;
          if (++expected === job.count) resolve(good);
        };
      });
      seconds = (performance.now() - firstAt) / 1000;
    }
    scope.postMessage({ seconds, items: job.count, ok, heapBefore, heapAfter: heap() });
    return;
  }
  if (job.transport.startsWith("shared-ring")) {
    scope.postMessage({ ...await sharedRingRun(job), items: job.count });
    return;
  }
  const move = job.transport.startsWith("limit-") ? limitMove(job) : ringMove(job);
  scope.postMessage({ ...timedRun(move, job.count, job.barrier!), items: job.count });
};

/** Moves items `from … to − 1` through a limit ring (bench/workers/_limit_ring.ts). */
function limitMove(job: ThroughputJob): (from: number, to: number) => boolean {
  const wasm = job.transport.startsWith("limit-wasm");
  return (from, to) =>
    job.role === "producer"
      ? produceLimit(job.memory!, LIMIT_CAPACITY, wasm, from, to, job.batch, job.element)
      : consumeLimit(job.memory!, LIMIT_CAPACITY, wasm, from, to, job.element);
}

/**
 * The consumer of a `shared-ring-*` run: attaches the ring and the barrier
 * by name and checks every item through the same loop as the Ring rows.
 */
async function sharedRingRun(job: ThroughputJob) {
  const { SharedMemory, SharedRing } = await import("../../native.ts");
  const [ringPath, barrierPath] = job.paths!;
  using shared = SharedRing.attachPath(u32, ringPath);
  using barrier = SharedMemory.attachPath(barrierPath);
  const ring: NumberRing = shared.ring;
  return timedRun(
    (from, to) => consumeRing(ring, from, to, 0) < 0,
    job.count,
    new Int32Array(barrier.buffer, 0, 1),
  );
}

/** One side of a copying transport, moving items `from … to − 1` through `buf`. */
function copying(
  job: ThroughputJob,
  buf: NumberArray,
  bias: number,
  push: (n: number) => void,
  take: (room: number) => number,
): (from: number, to: number) => boolean {
  return (from, to) => {
    if (job.role === "consumer") return consumeCopies(buf, from, to, bias, take) < 0;
    produceCopies(buf, from, to, bias, push);
    return true;
  };
}

/** Moves items `from … to − 1` through the Ring or ringbuf.js. */
function ringMove(job: ThroughputJob): (from: number, to: number) => boolean {
  const type = job.element === "f64" ? Float64Array : Uint32Array;
  const bias = biasOf(job.element);
  const buf = new type(job.role === "producer" ? job.batch : 4096);
  if (job.transport.startsWith("ringbuf")) {
    const rb = new RingBuffer(job.sab!, type);
    return copying(job, buf, bias, (n) => {
      for (let sent = 0; sent < n;) sent += rb.push(buf, n - sent, sent);
    }, (room) => rb.pop(buf, room));
  }
  const ring = Ring.fromHandle<number, NumberArray>(job.handle!);
  if (job.transport === "ring-copy-batch") {
    return copying(job, buf, bias, (n) => {
      let sent = ring.send(n === buf.length ? buf : buf.subarray(0, n));
      while (sent < n) sent += ring.send(buf.subarray(sent, n)); // only when the ring was full
    }, (room) => ring.recv(room === buf.length ? buf : buf.subarray(0, room)));
  }
  return (from, to) => {
    if (job.role === "consumer") return consumeRing(ring, from, to, bias) < 0;
    produceRing(ring, from, to, job.batch, bias);
    return true;
  };
}
