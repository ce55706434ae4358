/**
 * Worker side of tests/ring_worker_test.ts: one producer or one consumer of a
 * u32 ring, driven by a seeded generator so a failure can be replayed.
 *
 * @module
 */
import { Closed, Ring, type RingHandle, WaitStrategy } from "../../mod.ts";

/** What the test posts to start a side. */
export interface StressJob {
  role: "producer" | "consumer";
  handle: RingHandle;
  count: number;
  seed: number;
  /** "spin": try-ops with yields; "blocking": reserveBlocking / consumeBatchBlocking. */
  mode: "spin" | "blocking";
}

/** What a side posts back. */
export interface StressResult {
  received: number;
  checksum: number;
  firstError: string | null;
}

function xorshift(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function produce(ring: Ring<number, Uint32Array>, job: StressJob): StressResult {
  const rand = xorshift(job.seed);
  const batch = new Uint32Array(64);
  let next = 0;
  while (next < job.count) {
    const want = Math.min(1 + (rand() % 64), ring.capacity(), job.count - next);
    switch (rand() % 3) {
      case 0: { // reserve + possibly partial commit
        const r = job.mode === "blocking"
          ? ring.reserveBlocking(want, WaitStrategy.blocking)
          : ring.reserve(want);
        if (r === null) continue;
        const k = 1 + (rand() % r.length);
        for (let i = 0; i < k; i++) r.array[r.offset + i] = next + i;
        ring.commit(k);
        next += k;
        break;
      }
      case 1: { // send a batch
        for (let i = 0; i < want; i++) batch[i] = next + i;
        next += ring.send(batch.subarray(0, want));
        break;
      }
      default:
        if (job.mode === "blocking") ring.sendOneBlocking(next++, WaitStrategy.blocking);
        else if (ring.sendOne(next)) next++;
    }
  }
  ring.close();
  return { received: next, checksum: 0, firstError: null };
}

function consume(ring: Ring<number, Uint32Array>, job: StressJob): StressResult {
  let expected = 0;
  let checksum = 0;
  let firstError: string | null = null;
  const check = {
    process(v: number) {
      if (v !== expected && firstError === null) firstError = `expected ${expected}, got ${v}`;
      checksum = (checksum + v) >>> 0;
      expected++;
    },
  };
  const rand = xorshift(job.seed ^ 0x5bd1e995);
  for (;;) {
    try {
      if (job.mode === "blocking") ring.consumeBatchBlocking(check, WaitStrategy.blocking);
      else if (rand() % 2 === 0) ring.consumeUpTo(1 + (rand() % 100), check);
      else {
        const region = ring.readable();
        if (region === null) {
          if (ring.isClosed() && ring.isEmpty()) break;
          continue;
        }
        const k = 1 + (rand() % region.length);
        for (let i = 0; i < k; i++) check.process(region.array[region.offset + i]);
        ring.advance(k);
      }
    } catch (err) {
      if (err instanceof Closed) break;
      throw err;
    }
  }
  return { received: expected, checksum, firstError };
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<StressJob>) => void;
  postMessage(message: StressResult): void;
};

scope.onmessage = (e) => {
  const job = e.data;
  const ring = Ring.fromHandle<number, Uint32Array>(job.handle);
  const result = job.role === "producer" ? produce(ring, job) : consume(ring, job);
  scope.postMessage(result);
};
