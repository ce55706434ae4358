/**
 * Worker side of `bench/channels.ts`: one MPSC or MPMC producer or consumer
 * per Worker. A producer registers, waits for the start word, then sends its
 * `count` items `(tag << 24) | seq`; a consumer waits for the start word and
 * reads and checks every item: MPSC consumers check each producer's exact
 * order, MPMC consumers check that each producer's items rise and report
 * per-producer counts and sums so the main thread can check the union.
 * Every side reports its start and end on the shared wall clock
 * (`performance.timeOrigin + performance.now()`).
 *
 * A Worker runs any number of jobs, one at a time, so the benchmark keeps a pool.
 *
 * @module
 */
import { Backoff, mpmc, mpsc, yieldThread } from "../../mod.ts";

/** Most producers the item encoding tells apart. */
export const MAX_TAGS = 256;
/** Sequence numbers live in the low 24 bits of an item. */
export const SEQ_LIMIT = 1 << 24;

/** One job. `start` is a shared word the main thread sets to 1 to start every side at once. */
export type BenchJob =
  | {
    role: "mpscProducer" | "mpmcProducer";
    handle: mpsc.ChannelHandle | mpmc.MpmcHandle;
    tag: number;
    count: number;
    batch: number;
    start: Int32Array;
  }
  | { role: "mpscConsumer"; handle: mpsc.ChannelHandle; total: number; start: Int32Array }
  | {
    role: "mpmcConsumer";
    handle: mpmc.MpmcHandle;
    total: number;
    /** Shared count of items received by all consumers, in word 0. */
    received: Int32Array;
    start: Int32Array;
  };

/** What a side reports. */
export interface BenchReport {
  /** Wall-clock ms when this side started. */
  startMs: number;
  /** Wall-clock ms when this side finished. */
  endMs: number;
  /** Items sent or received. */
  items: number;
  /** Items that broke their producer's order (consumers). */
  errors: number;
  /** The first broken item, described. */
  firstError: string | null;
  /** Items received per producer tag (consumers). */
  counts: number[];
  /** Sum of the sequence numbers received per producer tag (consumers). */
  sums: number[];
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<BenchJob>) => void;
  postMessage(message: BenchReport | { error: string } | { ready: true }): void;
};

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Tells the main thread this side is set up, then sleeps until the start word is 1. */
function awaitStart(start: Int32Array): number {
  scope.postMessage({ ready: true });
  while (Atomics.load(start, 0) === 0) Atomics.wait(start, 0, 0, 100);
  return now();
}

/** The MPSC consumer's check: each producer's items arrive exactly in order. */
class OrderCheck {
  readonly next = new Int32Array(MAX_TAGS);
  readonly counts = new Float64Array(MAX_TAGS);
  errors = 0;
  firstError: string | null = null;

  process(item: number): void {
    const tag = item >>> 24;
    const seq = item & 0xffffff;
    if (seq !== this.next[tag]) {
      this.errors++;
      this.firstError ??= `producer ${tag}: expected ${this.next[tag]}, received ${seq}`;
    }
    this.next[tag] = seq + 1;
    this.counts[tag]++;
  }
}

/** The MPMC consumer's check: each producer's items rise; counts and sums for the union check. */
class RiseCheck {
  readonly last = new Int32Array(MAX_TAGS).fill(-1);
  readonly counts = new Float64Array(MAX_TAGS);
  readonly sums = new Float64Array(MAX_TAGS);
  errors = 0;
  firstError: string | null = null;

  process(item: number): void {
    const tag = item >>> 24;
    const seq = item & 0xffffff;
    if (seq <= this.last[tag]) {
      this.errors++;
      this.firstError ??= `producer ${tag}: ${seq} after ${this.last[tag]}`;
    }
    this.last[tag] = seq;
    this.counts[tag]++;
    this.sums[tag] += seq;
  }
}

interface Sender {
  sendOne(item: number): boolean;
  reserve(n: number): { array: Uint32Array; offset: number; length: number } | null;
  commit(n: number): void;
}

function produce(p: Sender, tag: number, count: number, batch: number): void {
  const high = tag << 24;
  const backoff = new Backoff();
  let seq = 0;
  while (seq < count) {
    let n = 0;
    if (batch === 1) {
      if (p.sendOne((high | seq) >>> 0)) n = 1;
    } else {
      const r = p.reserve(Math.min(batch, count - seq));
      if (r !== null) {
        const a = r.array;
        const end = r.offset + r.length;
        for (let i = r.offset, s = seq; i < end; i++, s++) a[i] = (high | s) >>> 0;
        n = r.length;
        p.commit(n); // one publishing store for the whole batch
      }
    }
    if (n > 0) {
      seq += n;
      backoff.reset();
    } else if (backoff.isCompleted()) yieldThread();
    else backoff.snooze();
  }
}

function report(
  startMs: number,
  items: number,
  check?: OrderCheck | RiseCheck,
): BenchReport {
  return {
    startMs,
    endMs: now(),
    items,
    errors: check?.errors ?? 0,
    firstError: check?.firstError ?? null,
    counts: check === undefined ? [] : Array.from(check.counts),
    sums: check instanceof RiseCheck ? Array.from(check.sums) : [],
  };
}

function run(job: BenchJob): BenchReport {
  switch (job.role) {
    case "mpscProducer": {
      const p = mpsc.Channel.fromHandle<number, Uint32Array>(job.handle as mpsc.ChannelHandle)
        .register();
      const startMs = awaitStart(job.start);
      produce(p, job.tag, job.count, job.batch);
      return report(startMs, job.count);
    }
    case "mpmcProducer": {
      const p = mpmc.MpmcChannel.fromHandle<number, Uint32Array>(job.handle as mpmc.MpmcHandle)
        .register();
      const startMs = awaitStart(job.start);
      produce(p, job.tag, job.count, job.batch);
      return report(startMs, job.count);
    }
    case "mpscConsumer": {
      const ch = mpsc.Channel.fromHandle<number, Uint32Array>(job.handle);
      const check = new OrderCheck();
      const backoff = new Backoff();
      const startMs = awaitStart(job.start);
      let received = 0;
      while (received < job.total) {
        const n = ch.consumeAll(check);
        received += n;
        if (n > 0) backoff.reset();
        else if (backoff.isCompleted()) yieldThread();
        else backoff.snooze();
      }
      return report(startMs, received, check);
    }
    case "mpmcConsumer": {
      const ch = mpmc.MpmcChannel.fromHandle<number, Uint32Array>(job.handle);
      const c = ch.registerConsumer();
      const check = new RiseCheck();
      const backoff = new Backoff();
      const startMs = awaitStart(job.start);
      let received = 0;
      while (Atomics.load(job.received, 0) < job.total) {
        const n = c.stealBatch(check);
        if (n > 0) {
          received += n;
          Atomics.add(job.received, 0, n); // publishes this claim to the other consumers' stop test
          backoff.reset();
        } else if (backoff.isCompleted()) yieldThread();
        else backoff.snooze();
      }
      return report(startMs, received, check);
    }
  }
}

scope.onmessage = (e) => {
  try {
    scope.postMessage(run(e.data));
  } catch (err) {
    scope.postMessage({
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
  }
};
