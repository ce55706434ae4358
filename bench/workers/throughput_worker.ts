/**
 * Worker side of bench/throughput.ts: produces or consumes u32 sequence
 * numbers through one transport; the consumer reads and checks every item.
 * Ring transports first move a warm-up million items, then measure the heap,
 * time `count` more items, and measure the heap again (after a GC each time),
 * so the heap figure is the steady state's. The consumer's clock is the one
 * reported (it starts once the warm-up is through).
 *
 * @module
 */
import { RingBuffer } from "ringbuf.js";
import { Ring, type RingHandle } from "../../mod.ts";
import { pinThread } from "./_pin.ts";
import { consumeLimit, LIMIT_CAPACITY, produceLimit } from "./_limit_ring.ts";

/** One side of one run. */
export interface ThroughputJob {
  transport:
    | "ring-item"
    | "ring-batch"
    | "ring-wasm-item"
    | "ring-wasm-batch"
    | "ringbuf-item"
    | "ringbuf-batch"
    | "postMessage"
    | "limit-js-item"
    | "limit-js-batch"
    | "limit-wasm-item"
    | "limit-wasm-batch";
  role: "producer" | "consumer";
  count: number;
  batch: number;
  handle?: RingHandle;
  sab?: SharedArrayBuffer;
  port?: MessagePort;
  /** Memory of a limit ring (`limit-*` transports, bench/workers/_limit_ring.ts). */
  memory?: WebAssembly.Memory;
  /** CPU this side pins its thread to (bench/workers/_pin.ts); unpinned when absent. */
  cpu?: number;
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

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function heap(): number {
  gc();
  return Deno.memoryUsage().heapUsed;
}

function produceRing(ring: Ring<number, Uint32Array>, from: number, to: number, batch: number) {
  if (batch === 1) {
    for (let i = from; i < to; i++) while (!ring.sendOne(i));
    return;
  }
  let next = from;
  while (next < to) {
    const r = ring.reserve(Math.min(batch, to - next));
    if (r === null) continue;
    const a = r.array;
    const end = r.offset + r.length;
    for (let j = r.offset; j < end; j++) a[j] = next++;
    ring.commit(r.length);
  }
}

function consumeRing(ring: Ring<number, Uint32Array>, from: number, to: number): boolean {
  let expected = from;
  let ok = true;
  while (expected < to) {
    const region = ring.readable();
    if (region === null) continue;
    const a = region.array;
    const n = Math.min(region.length, to - expected);
    const end = region.offset + n;
    for (let j = region.offset; j < end; j++) {
      if (a[j] !== expected) ok = false;
      expected++;
    }
    ring.advance(n);
  }
  return ok;
}

function produceRingbuf(rb: RingBuffer, from: number, to: number, batch: number): void {
  const buf = new Uint32Array(batch);
  let next = from;
  while (next < to) {
    const n = Math.min(batch, to - next);
    for (let j = 0; j < n; j++) buf[j] = next + j;
    let sent = 0;
    while (sent < n) sent += rb.push(buf, n - sent, sent);
    next += n;
  }
}

const popped = new Uint32Array(4096);

function consumeRingbuf(rb: RingBuffer, from: number, to: number): boolean {
  let expected = from;
  let ok = true;
  while (expected < to) {
    const n = rb.pop(popped, Math.min(popped.length, to - expected));
    for (let j = 0; j < n; j++) {
      if (popped[j] !== expected) ok = false;
      expected++;
    }
  }
  return ok;
}

/** Items each side moves before it measures, so the timed part and the heap check see steady state. */
const WARMUP = 1_000_000;

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
  const move = job.transport.startsWith("limit-") ? limitMove(job) : ringMove(job);
  let ok = move(0, WARMUP);
  const heapBefore = heap();
  const start = performance.now();
  ok = move(WARMUP, WARMUP + job.count) && ok;
  const seconds = (performance.now() - start) / 1000;
  scope.postMessage({ seconds, items: job.count, ok, heapBefore, heapAfter: heap() });
};

/** Moves items `from … to − 1` through a limit ring (bench/workers/_limit_ring.ts). */
function limitMove(job: ThroughputJob): (from: number, to: number) => boolean {
  const wasm = job.transport.startsWith("limit-wasm");
  return (from, to) =>
    job.role === "producer"
      ? produceLimit(job.memory!, LIMIT_CAPACITY, wasm, from, to, job.batch)
      : consumeLimit(job.memory!, LIMIT_CAPACITY, wasm, from, to);
}

/** Moves items `from … to − 1` through the Ring or ringbuf.js. */
function ringMove(job: ThroughputJob): (from: number, to: number) => boolean {
  const ringbuf = job.transport.startsWith("ringbuf");
  const rb = ringbuf ? new RingBuffer(job.sab!, Uint32Array) : null;
  const ring = ringbuf ? null : Ring.fromHandle<number, Uint32Array>(job.handle!);
  return (from: number, to: number): boolean => {
    if (job.role === "producer") {
      if (rb) produceRingbuf(rb, from, to, job.batch);
      else produceRing(ring!, from, to, job.batch);
      return true;
    }
    return rb ? consumeRingbuf(rb, from, to) : consumeRing(ring!, from, to);
  };
}
