/**
 * The Workers of examples/nats/pipeline.ts: a producer sends
 * `id << 24 | seq` for seq 0 … count−1 into its mpsc ring; a consumer steals
 * from the spmc fan-out until it closes, checking that each producer's items
 * arrive in order, and reports its per-producer counts and sums.
 *
 * @module
 */
import { mpsc, spmc } from "@ringmpsc/ringmpsc";

/** What a pipeline Worker does. */
export type PipelineJob =
  | { role: "produce"; handle: mpsc.ChannelHandle; id: number; count: number }
  | { role: "consume"; handle: spmc.SpmcHandle; producers: number };

/** A consumer's report. */
export interface ConsumerReport {
  /** Items seen per producer. */
  counts: number[];
  /** Sum of the sequence numbers seen per producer. */
  sums: number[];
  /** Whether each producer's items came in increasing order. */
  ordered: boolean;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<PipelineJob>) => void;
  postMessage(message: ConsumerReport | null): void;
};

scope.onmessage = async (e) => {
  const job = e.data;
  if (job.role === "produce") {
    const producer = mpsc.Channel.fromHandle<number, Uint32Array>(job.handle).register();
    for (let seq = 0; seq < job.count;) {
      const want = Math.min(256, job.count - seq);
      const r = producer.reserve(want);
      if (r === null) {
        await producer.writableAsync(want); // reserve(n) wants n free slots
        continue;
      }
      for (let k = 0; k < r.length; k++) r.array[r.offset + k] = (job.id << 24 | (seq + k)) >>> 0;
      producer.commit(r.length);
      seq += r.length;
    }
    scope.postMessage(null);
    return;
  }
  const consumer = spmc.Channel.fromHandle<number, Uint32Array>(job.handle).registerConsumer();
  const counts = new Array(job.producers).fill(0);
  const sums = new Array(job.producers).fill(0);
  const last = new Array(job.producers).fill(-1);
  let ordered = true;
  const out = new Uint32Array(1024);
  for (;;) {
    const n = consumer.steal(out);
    if (n === 0) {
      try {
        await consumer.readableAsync();
      } catch {
        break; // closed and drained
      }
      continue;
    }
    for (let i = 0; i < n; i++) {
      const id = out[i] >>> 24;
      const seq = out[i] & 0xffffff;
      if (seq <= last[id]) ordered = false;
      last[id] = seq;
      counts[id]++;
      sums[id] += seq;
    }
  }
  scope.postMessage({ counts, sums, ordered });
};
