/**
 * Worker side of the blocking and peer-crash tests (tests/ring_test.ts,
 * tests/waiting_test.ts): one peer of a u32 ring that performs one scripted
 * job and posts what it saw.
 *
 * Jobs that wait on the other side poll the ring's shared waiters words, so a
 * test knows its peer really sleeps before it acts.
 *
 * @module
 */
import { Closed, Ring, type RingHandle, TimedOut, WaitStrategy } from "../../mod.ts";

/** Byte offsets of the waiters words (see the layout comment in src/ring.ts). */
const CONSUMER_WAITERS = 264;
const PRODUCER_WAITERS = 268;

/** What the test posts to start a job. */
export type PeerJob =
  /** Blocks in reserveBlocking(n), writes `values`, commits what fits. */
  | { job: "reserveBlocking"; handle: RingHandle; n: number; values: number[]; timeoutMs: number }
  /** Blocks in consumeBatchBlocking until `want` items arrived or the ring closed. */
  | { job: "consumeBlocking"; handle: RingHandle; want: number; timeoutMs: number }
  /** Waits until the producer sleeps, then reads and advances `advance` items. */
  | { job: "advanceWhenProducerWaits"; handle: RingHandle; advance: number }
  /** Waits until the consumer sleeps, then sends `values`. */
  | { job: "sendWhenConsumerWaits"; handle: RingHandle; values: number[] }
  /** Waits until the consumer sleeps, then closes the ring. */
  | { job: "closeWhenConsumerWaits"; handle: RingHandle }
  /** Reserves, writes `values`, and stops without committing (the test then kills it). */
  | { job: "reserveAndStop"; handle: RingHandle; values: number[] }
  /** Reads the readable window and stops without advancing (the test then kills it). */
  | { job: "readAndStop"; handle: RingHandle };

/** What a job posts back. */
export interface PeerReport {
  /** Items the job read, in order. */
  items: number[];
  /** Items the job committed or advanced. */
  count: number;
  /** Name of the error the job ended with, or null. */
  error: string | null;
}

const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Waits (bounded) until the shared word at `byteOffset` is non-zero. Returns
 * an error name if it never was; the job then acts anyway, so a peer blocked
 * without a deadline is still released and the test fails instead of hanging.
 */
function awaitSleeper(handle: RingHandle, byteOffset: number): string | null {
  const words = new Int32Array(handle.buffer, handle.byteOffset, 96);
  for (let i = 0; i < 20_000; i++) {
    if (Atomics.load(words, byteOffset / 4) !== 0) return null;
    Atomics.wait(nap, 0, 0, 1);
  }
  return "NoSleeper";
}

function errorName(err: unknown): string {
  if (err instanceof Closed || err instanceof TimedOut) return err.name;
  throw err;
}

function run(job: PeerJob): PeerReport {
  const ring = Ring.fromHandle<number, Uint32Array>(job.handle);
  const report: PeerReport = { items: [], count: 0, error: null };
  switch (job.job) {
    case "reserveBlocking":
      try {
        const r = ring.reserveBlocking(job.n, WaitStrategy.timedBlocking(job.timeoutMs));
        const k = Math.min(r.length, job.values.length);
        for (let i = 0; i < k; i++) r.array[r.offset + i] = job.values[i];
        ring.commit(k);
        report.count = k;
      } catch (err) {
        report.error = errorName(err);
      }
      return report;
    case "consumeBlocking": {
      const handler = { process: (x: number) => void report.items.push(x) };
      try {
        while (report.items.length < job.want) {
          report.count += ring.consumeBatchBlocking(
            handler,
            WaitStrategy.timedBlocking(job.timeoutMs),
          );
        }
      } catch (err) {
        report.error = errorName(err);
      }
      return report;
    }
    case "advanceWhenProducerWaits": {
      report.error = awaitSleeper(job.handle, PRODUCER_WAITERS);
      const region = ring.readable()!;
      for (let i = 0; i < job.advance; i++) report.items.push(region.array[region.offset + i]);
      ring.advance(job.advance);
      report.count = job.advance;
      return report;
    }
    case "sendWhenConsumerWaits":
      report.error = awaitSleeper(job.handle, CONSUMER_WAITERS);
      report.count = ring.send(job.values);
      return report;
    case "closeWhenConsumerWaits":
      report.error = awaitSleeper(job.handle, CONSUMER_WAITERS);
      ring.close();
      return report;
    case "reserveAndStop": {
      const r = ring.reserve(job.values.length)!;
      for (let i = 0; i < r.length; i++) r.array[r.offset + i] = job.values[i];
      report.count = r.length;
      return report;
    }
    case "readAndStop": {
      const region = ring.readable();
      if (region !== null) {
        for (let i = 0; i < region.length; i++) report.items.push(region.array[region.offset + i]);
      }
      return report;
    }
  }
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<PeerJob>) => void;
  postMessage(message: PeerReport): void;
};

scope.onmessage = (e) => scope.postMessage(run(e.data));
