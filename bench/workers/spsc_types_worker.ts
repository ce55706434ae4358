/**
 * Worker side of bench/spsc_types.ts: produces or consumes `count` items of
 * one element type through one transport; the consumer reads and checks
 * every item and times itself from the first item to the last. (The u32 and
 * f64 `Ring` and ringbuf.js rows run in bench/workers/throughput_worker.ts.)
 *
 * Items: u32 item `k` is `k`; f64 item `k` is `k + 0.5`; a 1 KiB message
 * `k` is 128 f64 fields `k·128 + j` (j = 0 … 127), so the f64 values of the
 * message stream count 0, 1, 2, … without gaps. Transports:
 *
 * - `message-ring-copy` / `message-ring-in-place` (1 KiB): `MessageRing`,
 *   the producer either copies a prepared message in (`sendMessage`) or
 *   writes the fields straight into the ring (`reserveMessage` +
 *   `commitMessage`); the consumer checks every field in place
 *   (`readMessage` + `advanceMessage`);
 * - `ringbuf-item` / `ringbuf-batch`: ringbuf.js of the same TypedArray,
 *   `push` of one item (or one 128-value message) or of `batch` items;
 * - `message-channel`: `port.postMessage` of each item (a number, or a
 *   `Float64Array(128)` that structured clone copies) to another Worker;
 * - `post-message`: `self.postMessage` of each item to the main thread,
 *   which is the consumer (bench/spsc_types.ts).
 *
 * @module
 */
import { pinThread } from "./_pin.ts";
import { RingBuffer } from "ringbuf.js";
import { MessageRing, type RingHandle, yieldThread } from "../../mod.ts";

/** Element types of the throughput section. */
export type SpscElement = "u32" | "f64" | "msg1k";

/** Transports of the throughput section. */
export type SpscTransport =
  | "message-ring-copy"
  | "message-ring-in-place"
  | "ringbuf-item"
  | "ringbuf-batch"
  | "message-channel"
  | "post-message";

/** One side of one run. */
export interface SpscJob {
  /** How items travel. */
  transport: SpscTransport;
  /** CPU this side pins its thread to (bench/workers/_pin.ts); unpinned when absent. */
  cpu?: number;
  /** What an item is. */
  element: SpscElement;
  /** This Worker's side. */
  role: "producer" | "consumer";
  /** Items (messages, for `msg1k`) to move. */
  count: number;
  /** Items per publish (ring-batch, ringbuf-batch); 1 otherwise. */
  batch: number;
  /** Milliseconds after the job starts at which a waiting side gives up. */
  budgetMs: number;
  /** The ring (Ring and MessageRing transports). */
  handle?: RingHandle;
  /** ringbuf.js storage. */
  sab?: SharedArrayBuffer;
  /** This side's port (`message-channel`). */
  port?: MessagePort;
}

/** What a side reports. */
export interface SpscReport {
  /** The consumer found every item, in order, once (producers: everything was sent). */
  ok: boolean;
  /** Why not. */
  error?: string;
  /** Items received (consumer) or sent (producer). */
  items: number;
  /** Consumer: seconds from the first item to the last. */
  seconds: number;
}

/** f64 fields in a 1 KiB message. */
export const MESSAGE_FIELDS = 128;

/**
 * Every 2^16 empty polls a waiting side looks at the clock and yields once
 * (as the native build's `sched_yield`), so that on an oversubscribed
 * machine the side it waits for gets a turn.
 */
const POLL_MASK = 0xffff;

/** Called every 2^16 empty polls: gives up past the deadline, else yields. */
function idle(deadline: number, what: () => string): void {
  if (performance.now() > deadline) throw new Deadline(what());
  yieldThread();
}

/** Thrown out of a wait that passed its deadline. */
class Deadline extends Error {}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<SpscJob>) => void) | null;
  postMessage(message: unknown): void;
};

function biasOf(element: SpscElement): number {
  return element === "f64" ? 0.5 : 0;
}

/** When the consumer saw its first item: every transport's clock starts there. */
let firstAt = 0;

// ── MessageRing, 1 KiB messages ─────────────────────────────────────────

/** The f64 view of a MessageRing's whole data region, from a window onto it. */
function fieldsOf(bytes: Uint8Array): Float64Array {
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >> 3);
}

function produceMessagesCopy(ring: MessageRing, count: number, deadline: number): void {
  let polls = 0;
  const payload = new Uint8Array(MESSAGE_FIELDS * 8);
  const fields = new Float64Array(payload.buffer);
  for (let k = 0; k < count; k++) {
    const base = k * MESSAGE_FIELDS;
    for (let j = 0; j < MESSAGE_FIELDS; j++) fields[j] = base + j;
    while (!ring.sendMessage(payload)) {
      if ((++polls & POLL_MASK) === 0) idle(deadline, () => `the ring stayed full at message ${k}`);
    }
  }
}

function produceMessagesInPlace(ring: MessageRing, count: number, deadline: number): void {
  let polls = 0;
  let slots: Float64Array | null = null;
  for (let k = 0; k < count; k++) {
    let w = ring.reserveMessage(MESSAGE_FIELDS * 8);
    while (w === null) {
      if ((++polls & POLL_MASK) === 0) idle(deadline, () => `the ring stayed full at message ${k}`);
      w = ring.reserveMessage(MESSAGE_FIELDS * 8);
    }
    if (slots === null) slots = fieldsOf(w.array);
    const at = w.offset >> 3;
    const base = k * MESSAGE_FIELDS;
    for (let j = 0; j < MESSAGE_FIELDS; j++) slots[at + j] = base + j;
    ring.commitMessage();
  }
}

/**
 * The consumer of the MessageRing transports: checks that message `k` is
 * 1 KiB and its field `j` is `k·128 + j`, in place.
 *
 * @param ring The ring.
 * @param count Messages to receive.
 * @param deadline `performance.now()` after which it gives up.
 * @returns The index of the first wrong message, or -1 when all were right.
 * @throws {Error} If the deadline passes before `count` messages arrived.
 */
export function consumeMessages(ring: MessageRing, count: number, deadline: number): number {
  let polls = 0;
  let fields: Float64Array | null = null;
  let firstBad = -1;
  for (let k = 0; k < count; k++) {
    let m = ring.readMessage();
    while (m === null) {
      if ((++polls & POLL_MASK) === 0) {
        idle(deadline, () => `only ${k} of ${count} messages arrived`);
      }
      m = ring.readMessage();
    }
    if (fields === null) {
      firstAt = performance.now();
      fields = fieldsOf(m.array);
    }
    const at = m.offset >> 3;
    const base = k * MESSAGE_FIELDS;
    if (m.length !== MESSAGE_FIELDS * 8 && firstBad < 0) firstBad = k;
    for (let j = 0; j < MESSAGE_FIELDS; j++) {
      if (fields[at + j] !== base + j && firstBad < 0) firstBad = k;
    }
    ring.advanceMessage();
  }
  return firstBad;
}

// ── ringbuf.js ──────────────────────────────────────────────────────────

/** Values per item in a ringbuf.js stream: 128 for messages, else 1. */
function width(element: SpscElement): number {
  return element === "msg1k" ? MESSAGE_FIELDS : 1;
}

function produceRingbuf(job: SpscJob, deadline: number): void {
  const type = job.element === "u32" ? Uint32Array : Float64Array;
  const rb = new RingBuffer(job.sab!, type);
  const per = width(job.element);
  const bias = biasOf(job.element);
  const chunk = job.batch * per;
  const buf = new type(chunk);
  const total = job.count * per;
  let polls = 0;
  let next = 0;
  while (next < total) {
    const n = Math.min(chunk, total - next);
    for (let j = 0; j < n; j++) buf[j] = next + j + bias;
    let sent = 0;
    while (sent < n) {
      const pushed = rb.push(buf, n - sent, sent);
      if (pushed === 0 && (++polls & POLL_MASK) === 0) {
        idle(deadline, () => `ringbuf.js stayed full at value ${next + sent}`);
      }
      sent += pushed;
    }
    next += n;
  }
}

function consumeRingbuf(job: SpscJob, deadline: number): number {
  const type = job.element === "u32" ? Uint32Array : Float64Array;
  const rb = new RingBuffer(job.sab!, type);
  const per = width(job.element);
  const bias = biasOf(job.element);
  const buf = new type(Math.max(4096, job.batch * per));
  const total = job.count * per;
  let polls = 0;
  let expected = 0;
  let firstBad = -1;
  while (expected < total) {
    const n = rb.pop(buf, Math.min(buf.length, total - expected));
    if (n === 0) {
      if ((++polls & POLL_MASK) === 0) {
        idle(deadline, () => `only ${expected} of ${total} values arrived`);
      }
      continue;
    }
    if (expected === 0) firstAt = performance.now();
    for (let j = 0; j < n; j++) {
      if (buf[j] !== expected + bias && firstBad < 0) firstBad = Math.floor(expected / per);
      expected++;
    }
  }
  return firstBad;
}

// ── postMessage / MessageChannel ─────────────────────────────────────────

/**
 * Posts `count` items through `post`: numbers, or a `Float64Array(128)`
 * per message (structured clone copies it, so one array is reused).
 *
 * @param element The element type.
 * @param count Items to post.
 * @param post Where to post.
 */
export function postItems(
  element: SpscElement,
  count: number,
  post: (item: number | Float64Array) => void,
): void {
  if (element === "msg1k") {
    const fields = new Float64Array(MESSAGE_FIELDS);
    for (let k = 0; k < count; k++) {
      const base = k * MESSAGE_FIELDS;
      for (let j = 0; j < MESSAGE_FIELDS; j++) fields[j] = base + j;
      post(fields);
    }
    return;
  }
  const bias = biasOf(element);
  for (let k = 0; k < count; k++) post(k + bias);
}

/**
 * Checks posted item `k`: the number `k` (+ 0.5 for f64), or a 128-field
 * message `k`.
 *
 * @param element The element type.
 * @param item What arrived.
 * @param k Which item it should be.
 * @returns Whether it is item `k`.
 */
export function isItem(element: SpscElement, item: unknown, k: number): boolean {
  if (element !== "msg1k") return item === k + biasOf(element);
  if (!(item instanceof Float64Array) || item.length !== MESSAGE_FIELDS) return false;
  const base = k * MESSAGE_FIELDS;
  for (let j = 0; j < MESSAGE_FIELDS; j++) if (item[j] !== base + j) return false;
  return true;
}

function consumePort(job: SpscJob, deadline: number): Promise<number> {
  const port = job.port!;
  return new Promise((resolve, reject) => {
    let k = 0;
    let firstBad = -1;
    const timer = setInterval(() => {
      if (performance.now() > deadline) {
        clearInterval(timer);
        port.close();
        reject(new Deadline(`only ${k} of ${job.count} items arrived`));
      }
    }, 250);
    port.onmessage = (e) => {
      if (k === 0) firstAt = performance.now();
      if (!isItem(job.element, e.data, k) && firstBad < 0) firstBad = k;
      if (++k === job.count) {
        clearInterval(timer);
        port.close();
        resolve(firstBad);
      }
    };
  });
}

async function run(job: SpscJob): Promise<SpscReport> {
  await pinThread(job.cpu);
  const deadline = performance.now() + job.budgetMs;
  if (job.role === "producer") {
    switch (job.transport) {
      case "message-ring-copy":
        produceMessagesCopy(MessageRing.fromHandle(job.handle!), job.count, deadline);
        break;
      case "message-ring-in-place":
        produceMessagesInPlace(MessageRing.fromHandle(job.handle!), job.count, deadline);
        break;
      case "ringbuf-item":
      case "ringbuf-batch":
        produceRingbuf(job, deadline);
        break;
      case "message-channel":
        postItems(job.element, job.count, (item) => job.port!.postMessage(item));
        break;
      case "post-message":
        postItems(job.element, job.count, (item) => scope.postMessage(item));
        break;
    }
    return { ok: true, items: job.count, seconds: 0 };
  }
  let firstBad: number;
  switch (job.transport) {
    case "message-ring-copy":
    case "message-ring-in-place":
      firstBad = consumeMessages(MessageRing.fromHandle(job.handle!), job.count, deadline);
      break;
    case "ringbuf-item":
    case "ringbuf-batch":
      firstBad = consumeRingbuf(job, deadline);
      break;
    case "message-channel":
      firstBad = await consumePort(job, deadline);
      break;
    default:
      throw new TypeError(`Cannot consume in a Worker over ${job.transport}`);
  }
  const seconds = (performance.now() - firstAt) / 1000;
  if (firstBad >= 0) {
    return {
      ok: false,
      error: `item ${firstBad} arrived wrong (lost, duplicated or reordered)`,
      items: job.count,
      seconds,
    };
  }
  return { ok: true, items: job.count, seconds };
}

function onJob(e: MessageEvent<SpscJob>): void {
  const job = e.data;
  // Announces that this side is loaded; it starts on the next message ("go").
  scope.onmessage = () => {
    scope.onmessage = null;
    run(job).then(finish, fail);
  };
  scope.postMessage("ready");
}

function finish(report: SpscReport): void {
  // post-message: the report follows the items on the same channel, so it is tagged.
  scope.postMessage({ report });
}

function fail(err: unknown): void {
  scope.postMessage({
    report: { ok: false, error: String((err as Error)?.message ?? err), items: 0, seconds: 0 },
  });
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = onJob;
}
