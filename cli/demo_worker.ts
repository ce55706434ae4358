/**
 * The Workers of the demo pipeline (cli/demo.ts): producers, the stage, the
 * distributor and the fan-out consumers. Each role posts a summary when done.
 *
 * @module
 */
import { Closed, mpsc, spmc, u32 } from "../mod.ts";
import { SharedRing } from "../native.ts";
import { sendAll, STAGES } from "./_pipeline.ts";

/** What the demo posts to start a role. */
export interface DemoJob {
  role: "producer" | "stage" | "distributor" | "consumer";
  id: number;
  count: number;
  producers: number;
  stats: SharedArrayBuffer;
  /** One i32: consumers registered so far. */
  ready: SharedArrayBuffer;
  mpsc: mpsc.ChannelHandle;
  spmc: spmc.SpmcHandle;
  /** The SharedRing fds (same process: valid in any Worker). */
  outFd: number;
  backFd: number;
}

/** What a role posts back. */
export interface DemoSummary {
  role: DemoJob["role"];
  id: number;
  items: number;
  checksum: number;
  perProducer: number[];
  error: string | null;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<DemoJob>) => void;
  postMessage(message: DemoSummary): void;
};

const BATCH = 1024;
const SEQ_BITS = 28;

function produce(job: DemoJob, stats: Float64Array): DemoSummary {
  const producer = mpsc.Channel.fromHandle<number, Uint32Array>(job.mpsc).register();
  const tag = job.id << SEQ_BITS;
  let checksum = 0;
  for (let seq = 0; seq < job.count;) {
    const r = producer.reserve(Math.min(256, job.count - seq));
    if (r === null) {
      producer.ring.waitWritable(1);
      continue;
    }
    for (let i = 0; i < r.length; i++) {
      const v = (tag | (seq + i)) >>> 0;
      r.array[r.offset + i] = v;
      checksum = (checksum + v) >>> 0;
    }
    producer.commit(r.length);
    seq += r.length;
    stats[0] += r.length;
  }
  return summary(job, job.count, checksum, []);
}

function stage(job: DemoJob, stats: Float64Array): DemoSummary {
  const channel = mpsc.Channel.fromHandle<number, Uint32Array>(job.mpsc);
  using out = SharedRing.attach(u32, job.outFd);
  const next = new Int32Array(job.producers);
  const batch = new Uint32Array(BATCH);
  let n = 0;
  let items = 0;
  let error: string | null = null;
  const handler = {
    process(v: number) {
      const p = v >>> SEQ_BITS;
      const seq = v & ((1 << SEQ_BITS) - 1);
      if (seq !== next[p] && error === null) {
        error = `producer ${p}: expected ${next[p]}, got ${seq}`;
      }
      next[p] = seq + 1;
      batch[n++] = v;
      if (n === BATCH) flush();
    },
  };
  const flush = () => {
    sendAll(out.ring, (b) => out.send(b), batch, n);
    stats[1] += n;
    items += n;
    n = 0;
  };
  for (;;) {
    if (channel.consumeAll(handler) > 0) continue;
    flush();
    try {
      channel.waitReadable();
    } catch (err) {
      if (!(err instanceof Closed)) throw err;
      channel.drainAll(handler);
      flush();
      break;
    }
  }
  out.close();
  return summary(job, items, 0, [], error);
}

function distribute(job: DemoJob, stats: Float64Array): DemoSummary {
  using back = SharedRing.attach(u32, job.backFd);
  const fan = spmc.Channel.fromHandle<number, Uint32Array>(job.spmc);
  let items = 0;
  for (;;) {
    const region = back.readable();
    if (region === null) {
      try {
        back.waitReadable();
        continue;
      } catch (err) {
        if (err instanceof Closed) break;
        throw err;
      }
    }
    const chunk = region.array.subarray(region.offset, region.offset + region.length);
    sendAll(fan.ring, (b) => fan.send(b), chunk, chunk.length);
    back.advance(region.length);
    items += region.length;
    stats[2] += region.length;
  }
  fan.close();
  return summary(job, items, 0, []);
}

function consume(job: DemoJob, stats: Float64Array): DemoSummary {
  const consumer = spmc.Channel.fromHandle<number, Uint32Array>(job.spmc).registerConsumer();
  Atomics.add(new Int32Array(job.ready), 0, 1); // tells the demo this consumer can be fed
  const perProducer = new Array(job.producers).fill(0);
  let checksum = 0;
  let items = 0;
  const handler = {
    process(v: number) {
      perProducer[v >>> SEQ_BITS]++;
      checksum = (checksum + v) >>> 0;
    },
  };
  for (;;) {
    const n = consumer.consumeBatch(handler);
    if (n > 0) {
      items += n;
      stats[3] += n;
      continue;
    }
    try {
      consumer.waitReadable();
    } catch (err) {
      if (err instanceof Closed) break;
      throw err;
    }
  }
  return summary(job, items, checksum, perProducer);
}

function summary(
  job: DemoJob,
  items: number,
  checksum: number,
  perProducer: number[],
  error: string | null = null,
): DemoSummary {
  return { role: job.role, id: job.id, items, checksum, perProducer, error };
}

scope.onmessage = (e) => {
  const job = e.data;
  const stats = new Float64Array(job.stats, job.id * 8 * STAGES.length, STAGES.length);
  const run = { producer: produce, stage, distributor: distribute, consumer: consume }[job.role];
  scope.postMessage(run(job, stats));
};
