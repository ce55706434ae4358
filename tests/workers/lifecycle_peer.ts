/**
 * Worker side of the lifecycle tests (`tests/close_gate_test.ts`,
 * `tests/mpsc_registration_test.ts`, `tests/consumer_deregister_test.ts`):
 * producers that send until the channel closes under them, producers and
 * consumers that register and leave over and over, and a closer. Started
 * through `channel_client.ts`'s `Peer` with this module's URL.
 *
 * @module
 */
import { encode } from "./channel_check.ts";
import {
  Closed,
  MessageRing,
  mpmc,
  mpsc,
  Ring,
  RING_LAYOUT,
  type RingHandle,
  spmc,
  yieldThread,
} from "../../mod.ts";

type U32 = Uint32Array;

/** The channel kinds the close tests drive. */
export type Kind = "ring" | "message" | "mpsc" | "spmc" | "mpmc";

/** A channel of any kind, as its handle. */
export type AnyHandle = RingHandle | mpsc.ChannelHandle | spmc.SpmcHandle | mpmc.MpmcHandle;

/** A job for the Worker. */
export type LifecycleJob =
  | { op: "produceUntilClosed"; kind: Kind; handle: AnyHandle; tag: number; progress: Int32Array }
  | { op: "close"; kind: Kind; handle: AnyHandle }
  | { op: "finishCommitOnClose"; handle: RingHandle; value: number; ready: Int32Array }
  | { op: "mpscCycles"; handle: mpsc.ChannelHandle; worker: number; cycles: number; batch: number }
  | { op: "mpscRegisterLoop"; handle: mpsc.ChannelHandle; progress: Int32Array }
  | {
    op: "consumerCycles";
    kind: "spmc" | "mpmc";
    handle: spmc.SpmcHandle | mpmc.MpmcHandle;
    perCycle: number;
    seen: Int32Array;
    total: number;
  };

/**
 * The item `mpscCycles` sends: bits 30–31 the Worker, 16–29 the cycle, 0–15
 * the sequence number within the cycle.
 *
 * @param worker The Worker, 0–3.
 * @param cycle The cycle, 0–16383.
 * @param seq The sequence number, 0–65535.
 * @returns The item.
 */
export function cycleItem(worker: number, cycle: number, seq: number): number {
  return ((worker << 30) | (cycle << 16) | seq) >>> 0;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<{ seq: number; job: LifecycleJob | { op: "ping" } }>) => void;
  postMessage(message: unknown): void;
};

/** Something that sends one u32 at a time and throws `Closed` once closed. */
interface Sender {
  sendOne(item: number): boolean;
}

function senderOf(kind: Kind, handle: AnyHandle): Sender {
  switch (kind) {
    case "ring":
      return Ring.fromHandle<number, U32>(handle as RingHandle);
    case "message": {
      const ring = MessageRing.fromHandle(handle as RingHandle);
      const payload = new Uint32Array(1);
      const bytes = new Uint8Array(payload.buffer);
      return {
        sendOne(item) {
          payload[0] = item;
          return ring.sendMessage(bytes);
        },
      };
    }
    case "mpsc":
      return mpsc.Channel.fromHandle<number, U32>(handle as mpsc.ChannelHandle).register();
    case "spmc":
      return spmc.Channel.fromHandle<number, U32>(handle as spmc.SpmcHandle);
    case "mpmc":
      return mpmc.MpmcChannel.fromHandle<number, U32>(handle as mpmc.MpmcHandle).register();
  }
}

/** Sends 0, 1, 2 … tagged `tag` until a send throws `Closed`; returns how many were accepted. */
function produceUntilClosed(job: Extract<LifecycleJob, { op: "produceUntilClosed" }>): number {
  const sender = senderOf(job.kind, job.handle);
  const deadline = performance.now() + 30_000;
  for (let seq = 0;;) {
    try {
      if (sender.sendOne(encode(job.tag, seq))) {
        Atomics.store(job.progress, job.tag, ++seq);
        continue;
      }
    } catch (err) {
      if (err instanceof Closed) return seq; // every send before this one was accepted
      throw err;
    }
    if (performance.now() > deadline) throw new Error(`producer ${job.tag}: hang guard`);
    yieldThread(); // full: the consumer makes room, or the close ends us
  }
}

function close(kind: Kind, handle: AnyHandle): void {
  switch (kind) {
    case "ring":
      return Ring.fromHandle(handle as RingHandle).close();
    case "message":
      return MessageRing.fromHandle(handle as RingHandle).close();
    case "mpsc":
      return mpsc.Channel.fromHandle(handle as mpsc.ChannelHandle).close();
    case "spmc":
      return spmc.Channel.fromHandle(handle as spmc.SpmcHandle).close();
    case "mpmc":
      return mpmc.MpmcChannel.fromHandle(handle as mpmc.MpmcHandle).close();
  }
}

/**
 * Registers, sends `batch` items, deregisters and waits for the consumer to
 * drain them, `cycles` times; returns the highest ring id used.
 */
function mpscCycles(job: Extract<LifecycleJob, { op: "mpscCycles" }>): number {
  const ch = mpsc.Channel.fromHandle<number, U32>(job.handle);
  const deadline = performance.now() + 60_000;
  let highest = -1;
  for (let cycle = 0; cycle < job.cycles; cycle++) {
    const p = ch.register();
    highest = Math.max(highest, p.id);
    for (let seq = 0; seq < job.batch;) {
      if (p.sendOne(cycleItem(job.worker, cycle, seq))) seq++;
      else if (performance.now() > deadline) throw new Error("mpsc cycles: hang guard");
      else yieldThread();
    }
    p.deregister();
    // let the consumer drain it, so the next registration (ours or another Worker's) can reuse it
    while (!ch.getRing(p.id)!.isEmpty()) {
      if (performance.now() > deadline) throw new Error("mpsc cycles: hang guard");
      yieldThread();
    }
  }
  return highest;
}

/** Registers and deregisters until the channel closes (or it is terminated), counting cycles. */
function mpscRegisterLoop(job: Extract<LifecycleJob, { op: "mpscRegisterLoop" }>): number {
  const ch = mpsc.Channel.fromHandle<number, U32>(job.handle);
  const deadline = performance.now() + 30_000;
  let cycles = 0;
  try {
    while (performance.now() < deadline) {
      ch.register().deregister();
      Atomics.store(job.progress, 0, ++cycles);
    }
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
  }
  return cycles;
}

/**
 * Registers a consumer, claims up to `perCycle` items, deregisters, again and
 * again until `total` items were claimed by all such Workers together
 * (`seen[0]`); each item claimed bumps `seen[1 + seq]`.
 */
function consumerCycles(job: Extract<LifecycleJob, { op: "consumerCycles" }>): number {
  const out = new Uint32Array(job.perCycle);
  const ch = job.kind === "spmc"
    ? spmc.Channel.fromHandle<number, U32>(job.handle as spmc.SpmcHandle)
    : mpmc.MpmcChannel.fromHandle<number, U32>(job.handle as mpmc.MpmcHandle);
  const deadline = performance.now() + 60_000;
  let cycles = 0;
  while (Atomics.load(job.seen, 0) < job.total) {
    if (performance.now() > deadline) throw new Error("consumer cycles: hang guard");
    const c = ch.registerConsumer();
    const n = c.steal(out);
    c.deregister();
    cycles++;
    for (let i = 0; i < n; i++) Atomics.add(job.seen, 1 + (out[i] & 0xffffff), 1);
    Atomics.add(job.seen, 0, n);
    if (n === 0) yieldThread();
  }
  return cycles;
}

/**
 * Plays a u32 ring's producer paused inside a commit (its `sending` word is
 * already 1): says it is ready, waits until a closer marks the ring CLOSING,
 * dawdles 20 ms, then finishes the commit by hand — item `value` in slot 0,
 * tail 1, sending 0.
 */
function finishCommitOnClose(job: Extract<LifecycleJob, { op: "finishCommitOnClose" }>): number {
  const h = job.handle;
  const words = new Int32Array(h.buffer, h.byteOffset, RING_LAYOUT.data / 4);
  const slots = new Uint32Array(h.buffer, h.byteOffset + RING_LAYOUT.data, 1);
  Atomics.store(job.ready, 0, 1);
  const deadline = performance.now() + 30_000;
  while (Atomics.load(words, RING_LAYOUT.closed / 4) === 0) {
    if (performance.now() > deadline) throw new Error("no close came (hang guard)");
  }
  // a slow producer: a close() that did not wait for it would return before this publish
  for (const resume = performance.now() + 20; performance.now() < resume;);
  slots[0] = job.value;
  Atomics.store(words, RING_LAYOUT.tail / 4, 1); // P3 by hand: publishes the item, ends the commit
  return 1;
}

function run(job: LifecycleJob | { op: "ping" }): unknown {
  switch (job.op) {
    case "ping":
      return "pong";
    case "produceUntilClosed":
      return produceUntilClosed(job);
    case "close":
      close(job.kind, job.handle);
      return true;
    case "finishCommitOnClose":
      return finishCommitOnClose(job);
    case "mpscCycles":
      return mpscCycles(job);
    case "mpscRegisterLoop":
      return mpscRegisterLoop(job);
    case "consumerCycles":
      return consumerCycles(job);
  }
}

scope.onmessage = (e) => {
  const { seq, job } = e.data;
  try {
    scope.postMessage({ seq, ok: true, value: run(job) });
  } catch (err) {
    const e2 = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ seq, ok: false, name: e2.name, message: e2.message });
  }
};
