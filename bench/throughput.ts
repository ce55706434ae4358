/**
 * Worker-to-Worker throughput of the SPSC Ring, per-item and batched (and of
 * a SharedRing from another process into a Worker), beside `postMessage`,
 * `ringbuf.js` and the native C build of the same ring, all measured in this
 * run. The native ring runs twice: publishing with release stores, and with
 * seq_cst stores (`--seq-cst`), the only atomic stores JS and Wasm have, so
 * the second is the limit for a ring that publishes as JS must. Every
 * consumer reads and checks every item; a run that loses or reorders one is
 * reported as failed. Also checks that the ring's steady state does not grow
 * the heap (heap before/after 10^7 items).
 *
 * Contenders interleave run by run (`bench/_schedule.ts`); `--repeat` goes on
 * until every median settles within 3 % (at most three times `--runs` rounds).
 *
 * Run: `deno task bench` (or `deno run -A --v8-flags=--expose-gc bench/throughput.ts --runs 5 [--repeat]`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RingBuffer } from "ringbuf.js";
import { f64, Ring, type RingHandle, u32 } from "../mod.ts";
import type {
  ThroughputElement,
  ThroughputJob,
  ThroughputResult,
} from "./workers/throughput_worker.ts";
import { LIMIT_CAPACITY, limitRingBytes } from "./workers/_limit_ring.ts";
import { type Plan, runInterleaved } from "./_schedule.ts";
import { cpuFor } from "./workers/_pin.ts";
import { spawnBenchProcess } from "./_workers.ts";

const WORKER = new URL("./workers/throughput_worker.ts", import.meta.url);
const PROCESS = new URL("./workers/throughput_process.ts", import.meta.url);

/**
 * Runs one side in a fresh Worker; its result, or its error. A reason that
 * `stop` resolves with ends the Worker and the run (a peer that died).
 */
function spawn(
  job: ThroughputJob,
  transfer: Transferable[] = [],
  stop?: Promise<string | null>,
): Promise<ThroughputResult> {
  const worker = new Worker(WORKER, { type: "module" });
  return new Promise<ThroughputResult>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    stop?.then((reason) => reason !== null && reject(new Error(reason)));
    worker.postMessage(job, transfer);
  }).finally(() => worker.terminate());
}

/**
 * One `shared-ring-*` run: a `SharedRing<u32>` of 2^16 slots (as the Ring
 * rows') under /dev/shm, its producer in another process
 * (bench/workers/throughput_process.ts), its consumer in a Worker of this one.
 */
async function sharedRingOnce(
  transport: ThroughputJob["transport"],
  count: number,
  batch: number,
): Promise<ThroughputResult> {
  const { SharedMemory, SharedRing } = await import("../native.ts");
  const tag = `ringmpsc-bench-throughput-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const paths: [string, string] = [`${tag}-ring`, `${tag}-barrier`];
  try {
    using _ring = SharedRing.createPath(u32, paths[0], 16);
    using _barrier = SharedMemory.createPath(paths[1], 4096);
    const child = spawnBenchProcess(
      PROCESS,
      [...paths, String(count), String(batch), String(cpuFor(0) ?? -1)],
      "piped",
      "null",
    );
    const stderr = new Response(child.stderr).text();
    const producer = child.status.then(async (status) =>
      status.success ? null : `the producer process exited ${status.code}: ${(await stderr).trim()}`
    );
    try {
      const job = { transport, role: "consumer", element: "u32", count, batch, paths } as const;
      const consumer = await spawn({ ...job, cpu: cpuFor(1) }, [], producer);
      const failure = await producer;
      if (failure !== null) throw new Error(failure);
      return consumer;
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
    }
  } finally {
    for (const path of paths) {
      try {
        SharedMemory.unlinkPath(path);
      } catch { /* never created */ }
    }
  }
}

/** A fresh shared memory for one limit ring of LIMIT_CAPACITY slots of `element`. */
function limitMemory(element: ThroughputElement): WebAssembly.Memory {
  const pages = Math.ceil(limitRingBytes(LIMIT_CAPACITY, element) / 65536);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** A fresh 2^16-slot Ring of `element` for one run. */
function ringHandle(element: ThroughputElement, wasmAtomics: boolean): RingHandle {
  const config = { ringBits: 16, wasmAtomics };
  return element === "f64" ? new Ring(f64, config).handle() : new Ring(u32, config).handle();
}

async function once(
  transport: ThroughputJob["transport"],
  element: ThroughputElement,
  count: number,
  batch: number,
): Promise<ThroughputResult> {
  if (transport.startsWith("shared-ring")) return sharedRingOnce(transport, count, batch);
  const barrier = new Int32Array(new SharedArrayBuffer(4));
  const base = { transport, element, count, batch, barrier };
  if (transport === "postMessage") {
    const { port1, port2 } = new MessageChannel();
    const [consumer] = await Promise.all([
      spawn({ ...base, role: "consumer", port: port2, cpu: cpuFor(1) }, [port2]),
      spawn({ ...base, role: "producer", port: port1, cpu: cpuFor(0) }, [port1]),
    ]);
    return consumer;
  }
  const f = element === "f64";
  const extra = transport.startsWith("ringbuf")
    ? { sab: RingBuffer.getStorageForCapacity(1 << 16, f ? Float64Array : Uint32Array) }
    : transport.startsWith("limit-")
    ? { memory: limitMemory(element) }
    : { handle: ringHandle(element, transport.includes("wasm")) };
  const [consumer, producer] = await Promise.all([
    spawn({ ...base, ...extra, role: "consumer", cpu: cpuFor(1) }),
    spawn({ ...base, ...extra, role: "producer", cpu: cpuFor(0) }),
  ]);
  consumer.heapAfter += producer.heapAfter - producer.heapBefore;
  return consumer;
}

/**
 * The contenders of this file as interleavable plans: the Ring per item and
 * per 256 (with JS or Wasm atomics), its copying send/recv of 256, ringbuf.js
 * push 1 and push 256, the limit rings — for u32 also a `SharedRing` across
 * processes and postMessage through a MessagePort between two Workers. Each run's consumer checks every item; `heapGrowth`
 * of a run is what the heap (after GC) grew across it.
 *
 * @param count Items per ring run publishing every item (postMessage uses a
 * tenth, at most 300 000; ringbuf.js push 1 at most 2 000 000); rows that
 * publish every 256 move ten times as many, so their timed part is not over
 * within a few ms.
 * @param element The items: u32 (item `k` is `k`) or f64 (`k + 0.5`).
 * @returns The plans, ids `E.ring-item`, `E.ring-batch`, `E.ring-wasm-{item,batch}`
 * (the Ring with Wasm atomics), `E.ringbuf-item`, `E.ringbuf-batch`,
 * `E.ring-copy-batch` (the Ring's copying path: send/recv of 256),
 * `E.limit-{js,wasm}-{item,batch}` (bench/workers/_limit_ring.ts) (E the
 * element), and for u32 `u32.shared-ring-{item,batch}` (a `SharedRing` from
 * another process, the consumer in a Worker here) and `u32.message-channel`.
 */
export function throughputPlans(count: number, element: ThroughputElement = "u32"): Plan[] {
  const plan = (
    transport: ThroughputJob["transport"],
    label: string,
    batch: number,
    n: number,
  ): Plan => ({
    id: `${element}.${transport === "postMessage" ? "message-channel" : transport}`,
    label: `${element}, ${label}`,
    itemBytes: element === "f64" ? 8 : 4,
    run: async () => {
      try {
        const res = await once(transport, element, n, batch);
        const ok = res.ok && res.items === n;
        return {
          value: n / res.seconds,
          ok,
          items: res.items,
          seconds: res.seconds,
          heapGrowth: res.heapAfter - res.heapBefore,
          error: ok ? undefined : "a run lost, duplicated or reordered an item",
        };
      } catch (err) {
        return { value: NaN, ok: false, error: (err as Error).message };
      }
    },
  });
  const rings = [
    plan("ring-item", "Ring, JS Atomics, publish every item", 1, count),
    plan("ring-batch", "Ring, JS Atomics, publish every 256", 256, 10 * count),
    plan("ringbuf-item", "ringbuf.js, push 1", 1, Math.min(count, 2_000_000)),
    plan("ringbuf-batch", "ringbuf.js, push 256", 256, 10 * count),
  ];
  const wasm = [
    plan("ring-wasm-item", "Ring, Wasm atomics, every item", 1, count),
    plan("ring-wasm-batch", "Ring, Wasm atomics, every 256", 256, 10 * count),
  ];
  const limits = [
    plan("limit-js-item", "JS limit ring, every item", 1, count),
    plan("limit-js-batch", "JS limit ring, every 256", 256, 10 * count),
    plan("limit-wasm-item", "limit ring, Wasm atomics, every item", 1, count),
    plan("limit-wasm-batch", "limit ring, Wasm atomics, every 256", 256, 10 * count),
  ];
  const copies = plan("ring-copy-batch", "Ring send/recv of 256 (copies)", 256, 10 * count);
  const common = [...rings, copies, ...wasm, ...limits];
  if (element === "f64") return common;
  return [
    ...common,
    plan("shared-ring-item", "SharedRing, process → Worker, every item", 1, count),
    plan("shared-ring-batch", "SharedRing, process → Worker, every 256", 256, 10 * count),
    plan("postMessage", "MessageChannel, Worker → Worker", 1, Math.min(count / 10, 300_000)),
  ];
}

/**
 * The native C ring as a plan, publishing every `batch` items with release
 * stores, or with seq_cst stores (as JS atomics) when `seqCst`.
 */
function nativePlan(batch: number, items: number, seqCst = false): Plan {
  const every = batch === 1 ? "item" : String(batch);
  return {
    id: `u32.native-${seqCst ? "sc-" : ""}${batch === 1 ? "item" : "batch"}`,
    label: seqCst
      ? `native C ring, seq_cst stores (as JS atomics), publish every ${every}`
      : `native C ring, publish every ${every}`,
    itemBytes: 4,
    run: async () => {
      try {
        const { runNativeBaseline } = await import("./native_baseline.ts");
        const res = await runNativeBaseline("spsc", { batch, items, seqCst, pin: true });
        return { value: res.itemsPerSec, ok: res.ok, items };
      } catch (err) {
        return { value: NaN, ok: false, error: (err as Error).message };
      }
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      count: { type: "string", default: "10000000" },
      repeat: { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const plans = [
    ...throughputPlans(Number(values.count)),
    ...throughputPlans(Number(values.count), "f64"),
    nativePlan(1, 1e8),
    nativePlan(256, 1e8),
    nativePlan(1, 1e8, true),
    nativePlan(256, 1e8, true),
  ];
  const repeat = values.repeat ? { settle: 0.03, maxRuns: 3 * runs } : undefined;
  const rows = await runInterleaved(plans, { runs, kind: "throughput", repeat });
  const post = rows.find((r) => r.id === "u32.message-channel")!.value;
  const rounds = Math.max(...rows.map((r) => r.runs.length));
  const width = Math.max(40, ...rows.map((r) => r.label.length));
  console.log(`median of ${rounds} interleaved runs, Worker → Worker, consumer checks every item`);
  console.log(
    "transport".padEnd(width),
    "M items/s".padStart(10),
    "min–max".padStart(14),
    "× postMessage".padStart(14),
    " ok  heap growth",
  );
  for (const r of rows) {
    const growth = Math.max(...r.runs.map((x) => x.heapGrowth ?? NaN));
    console.log(
      r.label.padEnd(width),
      (r.value / 1e6).toFixed(2).padStart(10),
      `${(r.min / 1e6).toFixed(1)}–${(r.max / 1e6).toFixed(1)}`.padStart(14),
      (r.value / post).toFixed(1).padStart(14),
      r.ok ? " yes" : " NO ",
      Number.isNaN(growth) ? "" : `${(growth / 1024).toFixed(0)} KiB`,
    );
  }
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(rows, null, 2));
  if (!rows.every((r) => r.ok)) Deno.exit(1);
}
