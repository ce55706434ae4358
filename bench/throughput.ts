/**
 * Worker-to-Worker throughput of the SPSC Ring, per-item and batched, beside
 * `postMessage`, `ringbuf.js` and the native C build of the same ring, all
 * measured in this run. Every consumer reads and checks every item; a run
 * that loses or reorders one is reported as failed. Also checks that the
 * ring's steady state does not grow the heap (heap before/after 10^7 items).
 *
 * Run: `deno task bench` (or `deno run -A --v8-flags=--expose-gc bench/throughput.ts --runs 5`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RingBuffer } from "ringbuf.js";
import { Ring, u32 } from "../mod.ts";
import type { ThroughputJob, ThroughputResult } from "./workers/throughput_worker.ts";
import { median } from "./_stats.ts";

const WORKER = new URL("./workers/throughput_worker.ts", import.meta.url);

/** One row of the table. */
export interface ThroughputRow {
  name: string;
  itemsPerSec: number;
  runs: number[];
  ok: boolean;
  heapGrowth?: number;
}

function spawn(job: ThroughputJob, transfer: Transferable[] = []): Promise<ThroughputResult> {
  const worker = new Worker(WORKER, { type: "module" });
  return new Promise<ThroughputResult>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(job, transfer);
  }).finally(() => worker.terminate());
}

async function once(
  transport: ThroughputJob["transport"],
  count: number,
  batch: number,
): Promise<ThroughputResult> {
  const base = { transport, count, batch };
  if (transport === "postMessage") {
    const { port1, port2 } = new MessageChannel();
    const [consumer] = await Promise.all([
      spawn({ ...base, role: "consumer", port: port2 }, [port2]),
      spawn({ ...base, role: "producer", port: port1 }, [port1]),
    ]);
    return consumer;
  }
  const extra = transport.startsWith("ringbuf")
    ? { sab: RingBuffer.getStorageForCapacity(1 << 16, Uint32Array) }
    : { handle: new Ring(u32, { ringBits: 16 }).handle() };
  const [consumer, producer] = await Promise.all([
    spawn({ ...base, ...extra, role: "consumer" }),
    spawn({ ...base, ...extra, role: "producer" }),
  ]);
  consumer.heapAfter += producer.heapAfter - producer.heapBefore;
  return consumer;
}

/**
 * Runs every transport `runs` times and returns the median rows.
 *
 * @param runs Runs per transport.
 * @param count Items per ring run (postMessage runs use a tenth of it, at most 300 000).
 * @returns The rows, peers included.
 */
export async function measureThroughput(runs: number, count: number): Promise<ThroughputRow[]> {
  const plan: [string, ThroughputJob["transport"], number, number][] = [
    ["Ring, publish every item", "ring-item", 1, count],
    ["Ring, publish every 256", "ring-batch", 256, count],
    ["ringbuf.js, push 1", "ringbuf-item", 1, Math.min(count, 2_000_000)],
    ["ringbuf.js, push 256", "ringbuf-batch", 256, count],
    ["postMessage(number)", "postMessage", 1, Math.min(count / 10, 300_000)],
  ];
  const rows: ThroughputRow[] = [];
  for (const [name, transport, batch, n] of plan) {
    const rates: number[] = [];
    let ok = true;
    let heapGrowth = 0;
    for (let r = 0; r < runs; r++) {
      const res = await once(transport, n, batch);
      ok &&= res.ok && res.items === n;
      rates.push(n / res.seconds);
      heapGrowth = Math.max(heapGrowth, res.heapAfter - res.heapBefore);
    }
    rows.push({ name, itemsPerSec: median(rates), runs: rates, ok, heapGrowth });
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      count: { type: "string", default: "10000000" },
      json: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const rows = await measureThroughput(runs, Number(values.count));
  try {
    const { runNativeBaseline } = await import("./native_baseline.ts");
    for (const batch of [1, 256]) {
      const rates: number[] = [];
      let ok = true;
      for (let r = 0; r < runs; r++) {
        const res = await runNativeBaseline("spsc", { batch, items: 100_000_000 });
        rates.push(res.itemsPerSec);
        ok &&= res.ok;
      }
      rows.push({
        name: `native C ring, publish every ${batch === 1 ? "item" : batch}`,
        itemsPerSec: median(rates),
        runs: rates,
        ok,
      });
    }
  } catch (err) {
    console.error(`native baseline unavailable: ${(err as Error).message}`);
  }
  const post = rows.find((r) => r.name.startsWith("postMessage"))!.itemsPerSec;
  console.log(`median of ${runs} runs, Worker → Worker, consumer checks every item`);
  console.log(
    "transport".padEnd(34),
    "M items/s".padStart(10),
    "× postMessage".padStart(14),
    " ok  heap growth",
  );
  for (const r of rows) {
    console.log(
      r.name.padEnd(34),
      (r.itemsPerSec / 1e6).toFixed(2).padStart(10),
      (r.itemsPerSec / post).toFixed(1).padStart(14),
      r.ok ? " yes" : " NO ",
      r.heapGrowth === undefined ? "" : `${(r.heapGrowth / 1024).toFixed(0)} KiB`,
    );
  }
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(rows, null, 2));
  if (!rows.every((r) => r.ok)) Deno.exit(1);
}
