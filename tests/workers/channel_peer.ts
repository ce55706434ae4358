/**
 * Worker side of the channel tests: one Worker runs the jobs the main thread
 * posts (see `channel_client.ts`), one at a time — produce into, consume from,
 * register with, block on or close an spsc/mpsc/spmc/mpmc channel, host an
 * `EventLoop`, or scribble on shared memory like a hostile peer. Channel
 * objects and registered producers and consumers stay in the Worker between
 * jobs, so a test can drive one remotely step by step.
 *
 * @module
 */
import {
  Collector,
  type ConsumeMethod,
  consumeMpsc,
  encode,
  HangGuard,
  type ProduceMode,
  produceMpsc,
  SeqChecker,
} from "./channel_check.ts";
import {
  Backoff,
  Closed,
  EventLoop,
  mpmc,
  mpsc,
  type RecordArray,
  type RecordValue,
  type RingHandle,
  sendBlocking,
  spmc,
  spsc,
  stealBlocking,
  TimedOut,
  Timeout,
  WaitStrategy,
  yieldThread,
} from "../../mod.ts";

type U32 = Uint32Array;
type MpscCh = mpsc.Channel<number, U32>;
type SpmcCh = spmc.Channel<number, U32>;
/** The record the record tests send. */
type Pair = { readonly producer: "u32"; readonly seq: "u32" };

/** A job for the Worker. */
export type PeerJob =
  | { op: "ping" }
  | { op: "spscProduce"; handle: RingHandle; count: number; mode: "send" | "sendOne" | "reserve" }
  | {
    op: "mpscProduce";
    handle: mpsc.ChannelHandle;
    tag: number;
    count: number;
    mode: ProduceMode;
    batch: number;
    ext?: boolean;
    deregister?: boolean;
    progress?: Int32Array;
  }
  | { op: "mpscProduceRecords"; handle: mpsc.ChannelHandle; tag: number; count: number }
  | {
    op: "mpscConsume";
    handle: mpsc.ChannelHandle;
    method: ConsumeMethod;
    total?: number;
    bufferSize?: number;
    progress?: Int32Array;
  }
  | { op: "mpscRegister"; handle: mpsc.ChannelHandle; ext: boolean }
  | { op: "mpscProducer"; id: number; call: ProducerCall; items?: number[]; n?: number }
  | {
    op: "mpscWait";
    handle: mpsc.ChannelHandle;
    how: "blocking" | "async";
    timeoutMs?: number;
  }
  | { op: "mpscClose"; handle: mpsc.ChannelHandle; how: "close" | "shutdown" | "deinit" }
  | {
    op: "loopRun";
    handle: mpsc.ChannelHandle;
    strategy: WaitStrategy;
    gate?: Int32Array;
  }
  | { op: "loopStop"; handle: mpsc.ChannelHandle }
  | {
    op: "spmcProduce";
    handle: spmc.SpmcHandle;
    count: number;
    mode: "send" | "sendOne" | "reserve";
    batch: number;
    close: boolean;
  }
  | {
    op: "spmcConsume";
    handle: spmc.SpmcHandle;
    method: "steal" | "stealOne" | "consumeBatch" | "stealBlocking";
    bufferSize: number;
    seen?: Int32Array;
  }
  | { op: "spmcRegister"; handle: spmc.SpmcHandle }
  | { op: "spmcStealBlocking"; handle: spmc.SpmcHandle; timeoutMs?: number; reuse?: boolean }
  | { op: "spmcProbe"; handle: spmc.SpmcHandle }
  | {
    op: "mpmcProduce";
    handle: mpmc.MpmcHandle;
    tag: number;
    count: number;
    mode: "send" | "sendOne" | "reserve";
    batch: number;
  }
  | {
    op: "mpmcConsume";
    handle: mpmc.MpmcHandle;
    method: "stealBatch" | "steal" | "stealBlocking";
    bufferSize: number;
  }
  | { op: "mpmcRegister"; handle: mpmc.MpmcHandle; side: "producer" | "consumer" }
  | { op: "mpmcCommit"; id: number; items: number[] }
  | { op: "mpmcSteal"; id: number; max: number; how: "stealBatch" | "steal" }
  | { op: "mpmcStealBlocking"; handle: mpmc.MpmcHandle; timeoutMs?: number; id?: number }
  | { op: "scribble"; buffer: SharedArrayBuffer; byteOffset: number; writes: [number, number][] };

/** Calls `mpscProducer` makes on a registered producer. */
export type ProducerCall =
  | "send"
  | "sendOne"
  | "reserveCommit"
  | "reserveWithBackoff"
  | "sendBlocking"
  | "extSendOne"
  | "availableCapacity"
  | "blockingSend"
  | "isClosed"
  | "deregister";

/** The Worker's answer to a job. */
export type PeerReply =
  | { seq: number; ok: true; value: unknown }
  | { seq: number; ok: false; name: string; message: string };

const scope = self as unknown as {
  onmessage: (e: MessageEvent<{ seq: number; job: PeerJob }>) => void;
  postMessage(message: PeerReply, transfer?: Transferable[]): void;
};

/**
 * Producers this Worker registered, by id, with their channel. (A posted
 * `SharedArrayBuffer` arrives as a new object each time, so it cannot key a map.)
 */
const mpscProducers = new Map<number, { p: mpsc.Producer<number, U32>; ch: MpscCh }>();
/** The last SPMC consumer this Worker registered. */
let spmcConsumer: spmc.Consumer<number, U32> | null = null;
const mpmcProducers = new Map<number, mpmc.Producer<number, U32>>();
const mpmcConsumers = new Map<number, mpmc.Consumer<number, U32>>();

function mpscOf(handle: mpsc.ChannelHandle): MpscCh {
  return mpsc.Channel.fromHandle<number, U32>(handle);
}

function waitNonEmpty(wait: () => void, isDone: () => boolean): boolean {
  try {
    wait();
    return true;
  } catch (err) {
    if (err instanceof TimedOut) return !isDone();
    if (err instanceof Closed) return false;
    throw err;
  }
}

function spmcConsume(job: Extract<PeerJob, { op: "spmcConsume" }>): Uint32Array {
  const ch = spmc.Channel.fromHandle<number, U32>(job.handle);
  const c = ch.registerConsumer();
  const items = new Collector();
  const out = new Uint32Array(job.bufferSize);
  const seen = job.seen;
  const guard = new HangGuard("consuming as an spmc consumer");
  const note = (from: number) => {
    if (seen === undefined) return;
    const fresh = items.since(from);
    for (let i = 0; i < fresh.length; i++) Atomics.add(seen, fresh[i], 1);
  };
  for (;;) {
    const before = items.length;
    let n = 0;
    switch (job.method) {
      case "steal":
        n = c.steal(out);
        items.processArray(out, n);
        break;
      case "stealOne": {
        const x = c.stealOne();
        if (x !== null) {
          items.process(x);
          n = 1;
        }
        break;
      }
      case "consumeBatch":
        n = c.consumeBatch(items, job.bufferSize);
        break;
      case "stealBlocking":
        try {
          n = stealBlocking(c, out, Timeout.unlimited);
          items.processArray(out, n);
        } catch (err) {
          if (err instanceof Closed) return items.items();
          throw err;
        }
        break;
    }
    if (n > 0) {
      note(before);
      guard.progress();
      continue;
    }
    if (c.isClosed() && ch.isEmpty()) {
      // one more claim: items committed before close are visible once closed is
      const last = c.steal(out);
      items.processArray(out, last);
      note(before);
      if (last === 0) return items.items();
      continue;
    }
    guard.check();
    if (!waitNonEmpty(() => c.waitReadable(WaitStrategy.timedBlocking(20)), () => false)) {
      continue;
    }
  }
}

function mpmcConsume(job: Extract<PeerJob, { op: "mpmcConsume" }>): Uint32Array {
  const ch = mpmc.MpmcChannel.fromHandle<number, U32>(job.handle);
  const c = ch.registerConsumer();
  const items = new Collector();
  const out = new Uint32Array(job.bufferSize);
  const guard = new HangGuard("consuming as an mpmc consumer");
  for (;;) {
    let n = 0;
    switch (job.method) {
      case "stealBatch":
        n = c.stealBatch(items, job.bufferSize);
        break;
      case "steal":
        n = c.steal(out);
        items.processArray(out, n);
        break;
      case "stealBlocking":
        try {
          n = stealBlocking(c, out, Timeout.unlimited);
          items.processArray(out, n);
        } catch (err) {
          if (err instanceof Closed) return items.items();
          throw err;
        }
        break;
    }
    if (n > 0) {
      guard.progress();
      continue;
    }
    if (c.isClosed() && ch.isEmpty()) {
      const last = c.steal(out);
      items.processArray(out, last);
      if (last === 0) return items.items();
      continue;
    }
    guard.check();
    waitNonEmpty(() => c.waitReadable(WaitStrategy.timedBlocking(20)), () => false);
  }
}

function produceSingle(
  p: {
    send(items: ArrayLike<number>): number;
    sendOne(item: number): boolean;
    reserve(n: number): { array: U32; offset: number; length: number } | null;
    commit(n: number): void;
    isClosed(): boolean;
  },
  tag: number,
  count: number,
  mode: "send" | "sendOne" | "reserve",
  batch: number,
): number {
  const buf = new Uint32Array(batch);
  const backoff = new Backoff();
  const guard = new HangGuard(`sending as producer ${tag}`);
  let seq = 0;
  while (seq < count && !p.isClosed()) {
    const want = Math.min(batch, count - seq);
    let n = 0;
    try {
      if (mode === "send") {
        for (let i = 0; i < want; i++) buf[i] = encode(tag, seq + i);
        n = p.send(buf.subarray(0, want));
      } else if (mode === "sendOne") {
        n = p.sendOne(encode(tag, seq)) ? 1 : 0;
      } else {
        const r = p.reserve(want);
        if (r !== null) {
          for (let i = 0; i < r.length; i++) r.array[r.offset + i] = encode(tag, seq + i);
          p.commit(r.length);
          n = r.length;
        }
      }
    } catch (err) {
      if (err instanceof Closed) return seq; // closed: every send until now was accepted
      throw err;
    }
    seq += n;
    if (n > 0) {
      backoff.reset();
      guard.progress();
    } else if (backoff.isCompleted()) {
      guard.check();
      yieldThread();
    } else backoff.snooze();
  }
  return seq;
}

function producerCall(job: Extract<PeerJob, { op: "mpscProducer" }>): unknown {
  const entry = mpscProducers.get(job.id);
  if (entry === undefined) throw new Error(`No producer ${job.id} in this Worker`);
  const p = entry.p;
  const ext = p as mpsc.ProducerExt<number, U32>;
  const items = Uint32Array.from(job.items ?? []);
  switch (job.call) {
    case "send":
      return p.send(items);
    case "sendOne":
      return p.sendOne(items[0]);
    case "extSendOne":
      return ext.sendOne(items[0]);
    case "reserveCommit": {
      const r = p.reserve(job.n ?? items.length);
      if (r === null) return null;
      const k = Math.min(r.length, items.length);
      for (let i = 0; i < k; i++) r.array[r.offset + i] = items[i];
      p.commit(k);
      return k;
    }
    case "reserveWithBackoff": {
      const r = p.reserveWithBackoff(job.n ?? items.length);
      if (r === null) return null;
      const k = Math.min(r.length, items.length);
      for (let i = 0; i < k; i++) r.array[r.offset + i] = items[i];
      p.commit(k);
      return k;
    }
    case "sendBlocking":
      return ext.sendBlocking(items);
    case "availableCapacity":
      return ext.availableCapacity();
    case "blockingSend":
      sendBlocking(p, items[0], job.n === undefined ? Timeout.unlimited : Timeout.ms(job.n));
      return true;
    case "isClosed":
      return p.isClosed();
    case "deregister":
      entry.ch.deregister(p);
      return true;
  }
}

async function run(job: PeerJob): Promise<{ value: unknown; transfer?: Transferable[] }> {
  switch (job.op) {
    case "ping":
      return { value: "pong" };
    case "spscProduce": {
      const ch = spsc.Channel.fromHandle<number, U32>(job.handle);
      const sent = produceSingle(ch, 0, job.count, job.mode, 32);
      ch.close();
      return { value: sent };
    }
    case "mpscProduce": {
      const ch = mpscOf(job.handle);
      const p = job.ext ? ch.registerExt() : ch.register();
      const sent = produceMpsc(p, job.tag, job.count, job.mode, job.batch, job.progress);
      if (job.deregister) ch.deregister(p);
      return { value: { id: p.id, sent } };
    }
    case "mpscProduceRecords": {
      const ch = mpsc.Channel.fromHandle<RecordValue<Pair>, RecordArray<Pair>>(job.handle);
      const p = ch.register();
      const guard = new HangGuard("sending records");
      for (let seq = 0; seq < job.count;) {
        const r = p.reserve(Math.min(32, job.count - seq));
        if (r === null) {
          guard.check();
          yieldThread();
          continue;
        }
        const store = r.array;
        for (let i = 0; i < r.length; i++) {
          const cursor = store.at(r.offset + i);
          cursor.producer = job.tag;
          cursor.seq = seq + i;
        }
        p.commit(r.length);
        seq += r.length;
        guard.progress();
      }
      return { value: { id: p.id, sent: job.count } };
    }
    case "mpscConsume":
      return {
        value: consumeMpsc(
          mpscOf(job.handle),
          job.method,
          job.total,
          job.bufferSize,
          job.progress,
        ),
      };
    case "mpscRegister": {
      const ch = mpscOf(job.handle);
      const p = job.ext ? ch.registerExt() : ch.register();
      mpscProducers.set(p.id, { p, ch });
      return { value: p.id };
    }
    case "mpscProducer":
      return { value: producerCall(job) };
    case "mpscWait": {
      const ch = mpscOf(job.handle);
      const strategy = job.timeoutMs === undefined
        ? WaitStrategy.blocking
        : WaitStrategy.timedBlocking(job.timeoutMs);
      if (job.how === "async") await ch.readableAsync({ timeoutMs: job.timeoutMs });
      else ch.waitReadable(strategy);
      return { value: ch.totalPending() };
    }
    case "mpscClose": {
      const ch = mpsc.Channel.fromHandle<number, U32>(job.handle);
      if (job.how === "close") ch.close();
      else if (job.how === "shutdown") ch.shutdown();
      else ch.deinit();
      return { value: ch.isClosed() };
    }
    case "loopRun": {
      const ch = mpscOf(job.handle);
      const checker = new SeqChecker();
      const gate = job.gate;
      let first = true;
      const loop = new EventLoop<number>(ch, (x) => {
        if (first && gate !== undefined) {
          first = false;
          Atomics.store(gate, 1, 1); // tells the test the loop holds its first item
          Atomics.notify(gate, 1);
          while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0, 1000);
        }
        checker.process(x);
      }, job.strategy);
      const returned = loop.run();
      return { value: { returned, processed: loop.processed(), ...checker.summary() } };
    }
    case "loopStop": {
      const loop = new EventLoop<number>(mpsc.Channel.fromHandle(job.handle), () => {});
      loop.stop();
      return { value: true };
    }
    case "spmcProduce": {
      const ch = spmc.Channel.fromHandle<number, U32>(job.handle);
      const sent = produceSingle(ch, 0, job.count, job.mode, job.batch);
      if (job.close) ch.close();
      return { value: sent };
    }
    case "spmcConsume": {
      const items = spmcConsume(job);
      return { value: items, transfer: [items.buffer as ArrayBuffer] };
    }
    case "spmcRegister": {
      spmcConsumer = spmc.Channel.fromHandle<number, U32>(job.handle).registerConsumer();
      return { value: spmcConsumer.id };
    }
    case "spmcStealBlocking": {
      const c = job.reuse && spmcConsumer !== null
        ? spmcConsumer
        : spmc.Channel.fromHandle<number, U32>(job.handle).registerConsumer();
      const out = new Uint32Array(64);
      const timeout = job.timeoutMs === undefined ? Timeout.unlimited : Timeout.ms(job.timeoutMs);
      const n = stealBlocking(c, out, timeout);
      return { value: Array.from(out.subarray(0, n)) };
    }
    case "spmcProbe": {
      // an honest reader that only looks: available() over and over until the channel closes
      const ch = spmc.Channel.fromHandle<number, U32>(job.handle);
      const c = ch.registerConsumer();
      let probes = 0;
      while (!c.isClosed()) {
        c.available();
        probes++;
      }
      return { value: probes };
    }
    case "mpmcProduce": {
      const p = mpmc.MpmcChannel.fromHandle<number, U32>(job.handle).register();
      return {
        value: { id: p.id, sent: produceSingle(p, job.tag, job.count, job.mode, job.batch) },
      };
    }
    case "mpmcConsume": {
      const items = mpmcConsume(job);
      return { value: items, transfer: [items.buffer as ArrayBuffer] };
    }
    case "mpmcRegister": {
      const ch = mpmc.MpmcChannel.fromHandle<number, U32>(job.handle);
      if (job.side === "producer") {
        const p = ch.register();
        mpmcProducers.set(p.id, p);
        return { value: p.id };
      }
      const c = ch.registerConsumer();
      mpmcConsumers.set(c.id, c);
      return { value: c.id };
    }
    case "mpmcCommit": {
      const p = mpmcProducers.get(job.id)!;
      const r = p.reserve(job.items.length);
      if (r === null) return { value: 0 };
      for (let i = 0; i < r.length; i++) r.array[r.offset + i] = job.items[i];
      p.commit(r.length);
      return { value: r.length };
    }
    case "mpmcSteal": {
      const c = mpmcConsumers.get(job.id)!;
      const items = new Collector();
      if (job.how === "stealBatch") c.stealBatch(items, job.max);
      else {
        const out = new Uint32Array(job.max);
        items.processArray(out, c.steal(out));
      }
      return { value: Array.from(items.items()) };
    }
    case "mpmcStealBlocking": {
      const c = job.id !== undefined
        ? mpmcConsumers.get(job.id)!
        : mpmc.MpmcChannel.fromHandle<number, U32>(job.handle).registerConsumer();
      const out = new Uint32Array(64);
      const timeout = job.timeoutMs === undefined ? Timeout.unlimited : Timeout.ms(job.timeoutMs);
      const n = stealBlocking(c, out, timeout);
      return { value: Array.from(out.subarray(0, n)) };
    }
    case "scribble": {
      const words = new Int32Array(job.buffer, job.byteOffset);
      for (const [index, value] of job.writes) Atomics.store(words, index, value);
      return { value: true };
    }
  }
}

scope.onmessage = async (e) => {
  const { seq, job } = e.data;
  try {
    const { value, transfer } = await run(job);
    scope.postMessage({ seq, ok: true, value }, transfer ?? []);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ seq, ok: false, name: error.name, message: error.message });
  }
};
