/**
 * SPSC throughput by element type, Worker → Worker, measured side by side
 * in one run with `postMessage`, `MessageChannel`, ringbuf.js and the native
 * C build of the same ring:
 *
 * - **u32**, per item and per 256: `throughputPlans` (bench/throughput.ts:
 *   Ring, ringbuf.js, the limit rings, a `SharedRing` from another process
 *   and a MessagePort between Workers), plus a `self.postMessage` Worker →
 *   main peer and the native C ring from here, publishing with release
 *   stores and, as a second peer, with seq_cst stores (`seqCst`): the only
 *   atomic stores JS and Wasm have;
 * - **f64**, per item and per 256: `Ring<f64>` beside the same four peers;
 * - **1 KiB messages**: `MessageRing` (src/message_ring.ts) carrying 128 f64
 *   fields per message, the producer copying each message in
 *   (`sendMessage`) or writing the fields in place (`reserveMessage` +
 *   `commitMessage`), beside ringbuf.js (`Float64Array`, one 128-value push
 *   per message, and 256 messages per push), `MessageChannel` and
 *   `postMessage` of a `Float64Array(128)` (structured clone copies it).
 *   MessageRing publishes once per message: with 1 KiB of payload per
 *   publish there is no batched variant to add.
 *
 * Every consumer reads and checks every item (every field of every
 * message) and times itself from its first item to its last. Runs are
 * interleaved: run 1 of every transport, then run 2, and so on.
 *
 * Run alone: `deno run -A --v8-flags=--expose-gc bench/spsc_types.ts [--runs 3]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RingBuffer } from "ringbuf.js";
import { MessageRing } from "../mod.ts";
import { runNativeBaseline } from "./native_baseline.ts";
import { throughputPlans } from "./throughput.ts";
import { cpuFor } from "./workers/_pin.ts";
import { type Plan, type RepeatOptions, runInterleaved } from "./_schedule.ts";
import { type ProgressSink, silentProgress } from "./_progress.ts";
import type { Measurement, RunResult } from "./_stats.ts";
import { formatSection, type Section } from "./_table.ts";
import { type StartedWorker, startGoWorker, withTimeout } from "./_workers.ts";
import {
  isItem,
  MESSAGE_FIELDS,
  type SpscElement,
  type SpscJob,
  type SpscReport,
  type SpscTransport,
} from "./workers/spsc_types_worker.ts";

const WORKER = new URL("./workers/spsc_types_worker.ts", import.meta.url);

/** Options of {@linkcode measureSpscTypes}. */
export interface SpscTypesOptions {
  /** Runs per transport. */
  runs: number;
  /** u32 and f64 items per run over rings (ringbuf.js per item: at most 2,000,000). */
  count: number;
  /** u32 and f64 items per run over postMessage and MessageChannel. */
  postCount: number;
  /** 1 KiB messages per run over rings. */
  messages: number;
  /** 1 KiB messages per run over postMessage and MessageChannel. */
  postMessages: number;
  /** Items per native C run. */
  nativeItems: number;
  /** Longest one run may take before it is stopped and counted as failed (ms); default 60,000. */
  timeoutMs?: number;
  /** Where to report progress; default none. */
  progress?: ProgressSink;
  /** Go on after `runs` interleaved rounds until every median settles; off when absent. */
  repeat?: RepeatOptions;
}

type Spawned = StartedWorker<SpscReport>;

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31) {
    throw new RangeError(
      `Cannot measure SPSC throughput as ${name} must be an integer between 1 and 2^31: received ${value}`,
    );
  }
}

function failed(error: string): RunResult {
  return { value: NaN, ok: false, error };
}

function spawn(job: SpscJob, transfer: Transferable[] = []): Spawned {
  return startGoWorker<SpscReport>(
    WORKER,
    job,
    transfer,
    (data) => (data as { report?: SpscReport } | null)?.report,
    (error) => ({ ok: false, error, items: 0, seconds: 0 }),
  );
}

function rate(count: number, seconds: number): number {
  // A consumer that found everything in one poll measured almost nothing: clamp to 1 µs.
  return count / Math.max(seconds, 1e-6);
}

async function pairRun(
  transport: SpscTransport,
  element: SpscElement,
  count: number,
  batch: number,
  timeoutMs: number,
): Promise<RunResult> {
  const base = { transport, element, count, batch, budgetMs: timeoutMs };
  let shared: Partial<SpscJob> = {};
  let consumerTransfer: Transferable[] = [];
  let producerTransfer: Transferable[] = [];
  let consumerExtra: Partial<SpscJob> = {};
  let producerExtra: Partial<SpscJob> = {};
  if (transport === "message-ring-copy" || transport === "message-ring-in-place") {
    shared = { handle: new MessageRing({ ringBits: 20 }).handle() };
  } else if (transport === "ringbuf-item" || transport === "ringbuf-batch") {
    const values = element === "msg1k" ? 1 << 17 : 1 << 16;
    shared = {
      sab: RingBuffer.getStorageForCapacity(values, element === "u32" ? Uint32Array : Float64Array),
    };
  } else {
    const { port1, port2 } = new MessageChannel();
    consumerExtra = { port: port2 };
    producerExtra = { port: port1 };
    consumerTransfer = [port2];
    producerTransfer = [port1];
  }
  const consumer = spawn(
    { ...base, ...shared, ...consumerExtra, role: "consumer", cpu: cpuFor(1) },
    consumerTransfer,
  );
  const producer = spawn(
    { ...base, ...shared, ...producerExtra, role: "producer", cpu: cpuFor(0) },
    producerTransfer,
  );
  const stop = () => {
    consumer.worker.terminate();
    producer.worker.terminate();
  };
  try {
    const started = await withTimeout(
      Promise.all([consumer.ready, producer.ready]),
      timeoutMs,
      stop,
      [false, false],
    );
    if (!started.every(Boolean)) {
      const [c, p] = await Promise.race([
        Promise.all([consumer.report, producer.report]),
        new Promise<SpscReport[]>((resolve) => setTimeout(() => resolve([]), 100)),
      ]);
      return failed(c?.error ?? p?.error ?? "a Worker did not start");
    }
    consumer.worker.postMessage("go");
    producer.worker.postMessage("go");
    const stopped: SpscReport = {
      ok: false,
      error: `stopped after ${timeoutMs} ms`,
      items: 0,
      seconds: 0,
    };
    const [c, p] = await withTimeout(
      Promise.all([consumer.report, producer.report]),
      timeoutMs,
      stop,
      [stopped, stopped],
    );
    if (!c.ok || !p.ok) return failed(c.error ?? p.error ?? "failed");
    return { value: rate(count, c.seconds), ok: true, items: c.items, seconds: c.seconds };
  } finally {
    stop();
  }
}

/** A Worker posts to the main thread, which consumes and checks here. */
async function postMessageRun(
  element: SpscElement,
  count: number,
  timeoutMs: number,
): Promise<RunResult> {
  const worker = new Worker(WORKER, { type: "module" });
  const work = new Promise<RunResult>((resolve) => {
    let k = 0;
    let first = 0;
    let seconds = 0;
    let firstBad = -1;
    worker.onerror = (e) => {
      e.preventDefault();
      resolve(failed(`worker error: ${e.message}`));
    };
    worker.onmessage = (e) => {
      const d = e.data;
      if (d === "ready") {
        worker.postMessage("go");
        return;
      }
      if (typeof d === "object" && d !== null && "report" in d) {
        const report = d.report as SpscReport;
        if (!report.ok) resolve(failed(report.error ?? "producer failed"));
        else if (k !== count) resolve(failed(`only ${k} of ${count} items arrived`));
        else if (firstBad >= 0) {
          resolve(failed(`item ${firstBad} arrived wrong (lost, duplicated or reordered)`));
        } else resolve({ value: rate(count, seconds), ok: true, items: k, seconds });
        return;
      }
      if (k === 0) first = performance.now();
      if (!isItem(element, d, k) && firstBad < 0) firstBad = k;
      if (++k === count) seconds = (performance.now() - first) / 1000;
    };
  });
  worker.postMessage(
    {
      transport: "post-message",
      element,
      role: "producer",
      count,
      batch: 1,
      budgetMs: timeoutMs,
    } satisfies SpscJob,
  );
  try {
    return await withTimeout(
      work,
      timeoutMs,
      () => {},
      failed(`stopped after ${timeoutMs} ms`),
    );
  } finally {
    worker.terminate();
  }
}

async function nativeRun(
  element: "u32" | "f64",
  batch: number,
  items: number,
  timeoutMs: number,
  seqCst = false,
): Promise<RunResult> {
  try {
    const r = await runNativeBaseline("spsc", {
      elem: element,
      batch,
      items,
      timeoutMs,
      seqCst,
      pin: true,
    });
    return { value: r.itemsPerSec, ok: true, items: r.items, seconds: r.seconds };
  } catch (err) {
    return failed((err as Error).message);
  }
}

/**
 * How many steps (runs of one transport) {@linkcode measureSpscTypes}
 * takes, for a progress bar.
 *
 * @param runs Runs per transport.
 * @returns The step count.
 *
 * @example Steps of three runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { spscTypesSteps } from "./spsc_types.ts";
 * assert.equal(spscTypesSteps(3), 90);
 * ```
 */
export function spscTypesSteps(runs: number): number {
  return 30 * runs;
}

/**
 * Measures the SPSC throughput section: u32, f64 and 1 KiB messages, each
 * per item and batched where the transport has a batch, beside
 * postMessage, MessageChannel, ringbuf.js and the native C ring (release
 * and seq_cst stores), every consumer checking every item.
 *
 * @param options Runs, counts, timeout and progress.
 * @returns The section.
 * @throws {RangeError} If a count is out of range.
 *
 * @example A short measurement
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { measureSpscTypes } from "./spsc_types.ts";
 * const section = await measureSpscTypes({
 *   runs: 1, count: 100_000, postCount: 5_000, messages: 5_000, postMessages: 1_000,
 *   nativeItems: 1_000_000,
 * });
 * assert.ok(section.measurements.every((m) => m.ok));
 * ```
 */
export async function measureSpscTypes(options: SpscTypesOptions): Promise<Section> {
  const { runs, count, postCount, messages, postMessages, nativeItems, repeat } = options;
  checkCount("runs", runs);
  checkCount("count", count);
  checkCount("postCount", postCount);
  checkCount("messages", messages);
  checkCount("postMessages", postMessages);
  checkCount("nativeItems", nativeItems);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const progress = options.progress ?? silentProgress;

  const itemCap = Math.min(count, 2_000_000);
  const msg = MESSAGE_FIELDS * 8;
  const plans: Plan[] = [
    ...throughputPlans(count),
    ...throughputPlans(count, "f64"),
    {
      id: "u32.post-message",
      label: "u32, postMessage, Worker → main",
      itemBytes: 4,
      run: () => postMessageRun("u32", postCount, timeoutMs),
    },
    {
      id: "u32.native-item",
      label: "u32, native C ring, publish every item",
      itemBytes: 4,
      run: () => nativeRun("u32", 1, nativeItems, timeoutMs),
    },
    {
      id: "u32.native-batch",
      label: "u32, native C ring, publish every 256",
      itemBytes: 4,
      run: () => nativeRun("u32", 256, nativeItems, timeoutMs),
    },
    {
      id: "u32.native-sc-item",
      label: "u32, native C ring, seq_cst stores (as JS atomics), publish every item",
      itemBytes: 4,
      run: () => nativeRun("u32", 1, nativeItems, timeoutMs, true),
    },
    {
      id: "u32.native-sc-batch",
      label: "u32, native C ring, seq_cst stores (as JS atomics), publish every 256",
      itemBytes: 4,
      run: () => nativeRun("u32", 256, nativeItems, timeoutMs, true),
    },
    {
      id: "f64.message-channel",
      label: "f64, MessageChannel, Worker → Worker",
      itemBytes: 8,
      run: () => pairRun("message-channel", "f64", postCount, 1, timeoutMs),
    },
    {
      id: "f64.post-message",
      label: "f64, postMessage, Worker → main",
      itemBytes: 8,
      run: () => postMessageRun("f64", postCount, timeoutMs),
    },
    {
      id: "f64.native-item",
      label: "f64, native C ring, publish every item",
      itemBytes: 8,
      run: () => nativeRun("f64", 1, nativeItems, timeoutMs),
    },
    {
      id: "f64.native-batch",
      label: "f64, native C ring, publish every 256",
      itemBytes: 8,
      run: () => nativeRun("f64", 256, nativeItems, timeoutMs),
    },
    {
      id: "msg1k.message-ring-copy",
      label: "1 KiB msg, MessageRing, sendMessage (copy in)",
      itemBytes: msg,
      run: () => pairRun("message-ring-copy", "msg1k", messages, 1, timeoutMs),
    },
    {
      id: "msg1k.message-ring-in-place",
      label: "1 KiB msg, MessageRing, reserveMessage (in place)",
      itemBytes: msg,
      run: () => pairRun("message-ring-in-place", "msg1k", messages, 1, timeoutMs),
    },
    {
      id: "msg1k.ringbuf-item",
      label: "1 KiB msg, ringbuf.js, push 1 msg",
      itemBytes: msg,
      run: () => pairRun("ringbuf-item", "msg1k", messages, 1, timeoutMs),
    },
    {
      id: "msg1k.ringbuf-batch",
      label: "1 KiB msg, ringbuf.js, push 256 msgs",
      itemBytes: msg,
      run: () => pairRun("ringbuf-batch", "msg1k", messages, 256, timeoutMs),
    },
    {
      id: "msg1k.message-channel",
      label: "1 KiB msg, MessageChannel, Worker → Worker",
      itemBytes: msg,
      run: () => pairRun("message-channel", "msg1k", postMessages, 1, timeoutMs),
    },
    {
      id: "msg1k.post-message",
      label: "1 KiB msg, postMessage, Worker → main",
      itemBytes: msg,
      run: () => postMessageRun("msg1k", postMessages, timeoutMs),
    },
  ];
  const measured = new Map<string, Measurement>(
    (await runInterleaved(plans, { runs, kind: "throughput", repeat, prefix: "SPSC", progress }))
      .map((m) => [m.id, m]),
  );
  const order = [
    "u32.ring-item",
    "u32.ring-batch",
    "u32.ring-copy-batch",
    "u32.ring-wasm-item",
    "u32.ring-wasm-batch",
    "f64.ring-item",
    "f64.ring-batch",
    "f64.ring-copy-batch",
    "f64.ring-wasm-item",
    "f64.ring-wasm-batch",
    "u32.shared-ring-item",
    "u32.shared-ring-batch",
    "msg1k.message-ring-copy",
    "msg1k.message-ring-in-place",
    "u32.post-message",
    "u32.message-channel",
    "u32.ringbuf-item",
    "u32.ringbuf-batch",
    "u32.native-item",
    "u32.native-batch",
    "u32.native-sc-item",
    "u32.native-sc-batch",
    "u32.limit-js-item",
    "u32.limit-js-batch",
    "u32.limit-wasm-item",
    "u32.limit-wasm-batch",
    "f64.post-message",
    "f64.message-channel",
    "f64.ringbuf-item",
    "f64.ringbuf-batch",
    "f64.native-item",
    "f64.native-batch",
    "f64.limit-js-item",
    "f64.limit-js-batch",
    "f64.limit-wasm-item",
    "f64.limit-wasm-batch",
    "msg1k.post-message",
    "msg1k.message-channel",
    "msg1k.ringbuf-item",
    "msg1k.ringbuf-batch",
  ];
  const numericRow = (type: "u32" | "f64", variant: "item" | "batch", ring = "ring") => ({
    js: `${type}.${ring}-${variant}`,
    peers: {
      postMessage: `${type}.post-message`,
      MessageChannel: `${type}.message-channel`,
      "ringbuf.js": `${type}.ringbuf-${variant}`,
      "native C": `${type}.native-${variant}`,
      ...(type === "u32" ? { "native C seq_cst": `u32.native-sc-${variant}` } : {}),
      "JS limit": `${type}.limit-js-${variant}`,
      ...(variant === "batch" && ring === "ring"
        ? { "Ring copies": `${type}.ring-copy-batch` }
        : {}),
    },
  });
  const wasmRow = (type: "u32" | "f64", variant: "item" | "batch") => ({
    js: `${type}.limit-wasm-${variant}`,
    peers: {
      "ringbuf.js": `${type}.ringbuf-${variant}`,
      "native C": `${type}.native-${variant}`,
      ...(type === "u32" ? { "native C seq_cst": `u32.native-sc-${variant}` } : {}),
      "JS limit": `${type}.limit-js-${variant}`,
    },
  });
  const sharedRow = (variant: "item" | "batch") => ({
    js: `u32.shared-ring-${variant}`,
    peers: {
      "ringbuf.js": `u32.ringbuf-${variant}`,
      "native C": `u32.native-${variant}`,
      "Ring in process": `u32.ring-${variant}`,
    },
  });
  const messagePeers = {
    postMessage: "msg1k.post-message",
    MessageChannel: "msg1k.message-channel",
    "ringbuf.js": "msg1k.ringbuf-item",
  };
  return {
    id: "spsc",
    title: "2. SPSC throughput by element type, Worker → Worker (consumer checks every item)",
    kind: "throughput",
    peerKinds: [
      "postMessage",
      "MessageChannel",
      "ringbuf.js",
      "native C",
      "native C seq_cst",
      "JS limit",
      "Ring copies",
      "Ring in process",
    ],
    measurements: order.map((id) => measured.get(id)!),
    rows: [
      numericRow("u32", "item"),
      numericRow("u32", "batch"),
      numericRow("u32", "batch", "ring-copy"),
      numericRow("u32", "item", "ring-wasm"),
      numericRow("u32", "batch", "ring-wasm"),
      wasmRow("u32", "item"),
      wasmRow("u32", "batch"),
      numericRow("f64", "item"),
      numericRow("f64", "batch"),
      numericRow("f64", "batch", "ring-copy"),
      numericRow("f64", "item", "ring-wasm"),
      numericRow("f64", "batch", "ring-wasm"),
      wasmRow("f64", "item"),
      wasmRow("f64", "batch"),
      sharedRow("item"),
      sharedRow("batch"),
      { js: "msg1k.message-ring-copy", peers: messagePeers },
      { js: "msg1k.message-ring-in-place", peers: messagePeers },
    ],
    notes: [
      "u32 and f64 Ring and ringbuf.js rows, the limit rows and u32 MessageChannel come from " +
      "bench/throughput.ts (throughputPlans), interleaved run by run with every other " +
      "contender: each side first moves 10^6 items, then both meet at a barrier and the " +
      "consumer's clock starts, so no warm-up, GC or heap check falls inside a timed part. " +
      "Per-item rows are compared with ringbuf.js push 1, batched rows with push 256, and " +
      "with the native ring publishing as often.",
      "'Ring copies' is the Ring's copying path for the same items (the producer fills an " +
      "array that send() copies in, the consumer checks the array recv() copied out to), " +
      "against which the zero-copy window path (reserve/commit, readable/advance) is measured.",
      "'JS limit' is the smallest ring with Ring's per-commit protocol (one Atomics.store of " +
      "the tail and one Atomics.load of a waiters word per commit, head stored per run) and " +
      "nothing else (bench/workers/_limit_ring.ts): what V8 allows for this protocol. The " +
      "'Wasm atomics' rows are the same ring publishing through WebAssembly atomics " +
      "(src/wasm_atomics.ts) on the same shared memory.",
      "JS and Wasm atomics are sequentially consistent (Atomics.store, i32.atomic.store; " +
      "x86: xchg, which drains the store buffer), where the 'native C' ring publishes with " +
      "release stores (a plain mov). 'native C seq_cst' is the same native ring publishing " +
      "with seq_cst stores (ring_bench --seq-cst): the limit for a ring that publishes with " +
      "the stores JavaScript has.",
      "'SharedRing' rows: a SharedRing<u32> of 2^16 slots under /dev/shm, its producer in " +
      "another Deno process (bench/workers/throughput_process.ts), its consumer in a Worker " +
      "here, both running the Ring rows' loops on the ring's `.ring`. 'Ring in process' is " +
      "the Ring with the same atomics (JS Atomics) Worker → Worker: ringmpsc's cross-process " +
      "comparison (SharedRing within 4.6 % of the in-process ring, batched).",
      "1 KiB rows use MessageRing (one frame per message, 128 f64 fields, every field " +
      "checked); MessageRing publishes once per message, so they are compared with " +
      "ringbuf.js pushing one message at a time. No native build carries 1 KiB records.",
      `Items per run: ${count} over rings publishing every item, ${10 * count} batched ` +
      `(ringbuf.js push 1: ${itemCap}), ${postCount} ` +
      `over postMessage/MessageChannel, ${messages} and ${postMessages} 1 KiB messages, ` +
      `${nativeItems} native.`,
    ],
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      count: { type: "string", default: "2000000" },
    },
  });
  const runs = Number(values.runs);
  const count = Number(values.count);
  const section = await measureSpscTypes({
    runs,
    count,
    postCount: Math.max(1, Math.min(300_000, Math.floor(count / 20))),
    messages: Math.max(1, Math.floor(count / 20)),
    postMessages: Math.max(1, Math.floor(count / 100)),
    nativeItems: count * 10,
  });
  console.log(formatSection(section));
  if (!section.measurements.every((m) => m.ok)) Deno.exit(1);
}
