/**
 * Worker side of bench/throughput.ts: produces or consumes `count` u32
 * sequence numbers through one transport; the consumer reads and checks every
 * item and reports its own elapsed time and heap use.
 *
 * @module
 */
import { RingBuffer } from "ringbuf.js";
import { Ring, type RingHandle } from "../../mod.ts";

/** One side of one run. */
export interface ThroughputJob {
  transport: "ring-item" | "ring-batch" | "ringbuf-item" | "ringbuf-batch" | "postMessage";
  role: "producer" | "consumer";
  count: number;
  batch: number;
  handle?: RingHandle;
  sab?: SharedArrayBuffer;
  port?: MessagePort;
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

function produceRing(ring: Ring<number, Uint32Array>, count: number, batch: number): void {
  if (batch === 1) {
    for (let i = 0; i < count; i++) while (!ring.sendOne(i));
    return;
  }
  let next = 0;
  while (next < count) {
    const r = ring.reserve(Math.min(batch, count - next));
    if (r === null) continue;
    const a = r.array;
    const end = r.offset + r.length;
    for (let j = r.offset; j < end; j++) a[j] = next++;
    ring.commit(r.length);
  }
}

/** When the consumer saw its first item: the clock starts there for every transport. */
let firstAt = 0;

function consumeRing(ring: Ring<number, Uint32Array>, count: number): boolean {
  while (ring.readable() === null);
  firstAt = performance.now();
  let expected = 0;
  let ok = true;
  while (expected < count) {
    const region = ring.readable();
    if (region === null) continue;
    const a = region.array;
    const end = region.offset + region.length;
    for (let j = region.offset; j < end; j++) {
      if (a[j] !== expected) ok = false;
      expected++;
    }
    ring.advance(region.length);
  }
  return ok;
}

function produceRingbuf(rb: RingBuffer, count: number, batch: number): void {
  const buf = new Uint32Array(batch);
  let next = 0;
  while (next < count) {
    const n = Math.min(batch, count - next);
    for (let j = 0; j < n; j++) buf[j] = next + j;
    let sent = 0;
    while (sent < n) sent += rb.push(buf.subarray(sent, n));
    next += n;
  }
}

function consumeRingbuf(rb: RingBuffer, count: number): boolean {
  const buf = new Uint32Array(4096);
  while (rb.availableRead() === 0);
  firstAt = performance.now();
  let expected = 0;
  let ok = true;
  while (expected < count) {
    const n = rb.pop(buf);
    for (let j = 0; j < n; j++) {
      if (buf[j] !== expected) ok = false;
      expected++;
    }
  }
  return ok;
}

function consumePorts(port: MessagePort, count: number): Promise<boolean> {
  return new Promise((resolve) => {
    let expected = 0;
    let ok = true;
    port.onmessage = (e) => {
      if (expected === 0) firstAt = performance.now();
      if (e.data !== expected) ok = false;
      if (++expected === count) resolve(ok);
    };
  });
}

scope.onmessage = async (e) => {
  const job = e.data;
  const heapBefore = heap();
  if (job.role === "producer") {
    if (job.transport === "postMessage") {
      for (let i = 0; i < job.count; i++) job.port!.postMessage(i);
    } else if (job.transport.startsWith("ring")) {
      if (job.transport.startsWith("ringbuf")) {
        produceRingbuf(new RingBuffer(job.sab!, Uint32Array), job.count, job.batch);
      } else produceRing(Ring.fromHandle(job.handle!), job.count, job.batch);
    }
    scope.postMessage({ seconds: 0, items: job.count, ok: true, heapBefore, heapAfter: heap() });
    return;
  }
  let ok: boolean;
  if (job.transport === "postMessage") ok = await consumePorts(job.port!, job.count);
  else if (job.transport.startsWith("ringbuf")) {
    ok = consumeRingbuf(new RingBuffer(job.sab!, Uint32Array), job.count);
  } else ok = consumeRing(Ring.fromHandle(job.handle!), job.count);
  const seconds = (performance.now() - firstAt) / 1000;
  scope.postMessage({ seconds, items: job.count, ok, heapBefore, heapAfter: heap() });
};
