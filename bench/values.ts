/**
 * Values Worker → Worker: the same small objects through a `ValueChannel`
 * (JSON encoded into the ring's frame, decoded from it) and through
 * `postMessage` on a `MessageChannel` (structured clone), interleaved run
 * by run; medians and the spread (min–max) of items/s.
 *
 * Run: deno run -A bench/values.ts [--runs N] [--count N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ValueChannel } from "../mod.ts";
import { type Plan, runInterleaved } from "./_schedule.ts";
import { spread } from "./_stats.ts";
import { startGoWorker } from "./_workers.ts";
import type { ValuesJob, ValuesReport } from "./workers/values_worker.ts";

const WORKER = new URL("./workers/values_worker.ts", import.meta.url);

async function once(mode: ValuesJob["mode"], count: number) {
  const jobs: [ValuesJob, ValuesJob, Transferable[], Transferable[]] = mode === "ring"
    ? (() => {
      const handle = new ValueChannel({ ringBits: 16 }).handle();
      return [{ mode, role: "send", count, handle }, { mode, role: "recv", count, handle }, [], []];
    })()
    : (() => {
      const { port1, port2 } = new MessageChannel();
      return [
        { mode, role: "send", count, port: port1 },
        { mode, role: "recv", count, port: port2 },
        [port1],
        [port2],
      ];
    })();
  const failed = (error: string) => ({ received: 0, seconds: NaN, ok: false, error });
  const sender = startGoWorker(
    WORKER,
    jobs[0],
    jobs[2],
    (d) => (d as { sent?: number }).sent,
    () => 0,
  );
  const receiver = startGoWorker<ValuesReport & { error?: string }>(
    WORKER,
    jobs[1],
    jobs[3],
    (d) => (d as { report?: ValuesReport }).report,
    failed,
  );
  await Promise.all([sender.ready, receiver.ready]);
  receiver.worker.postMessage("go");
  sender.worker.postMessage("go");
  const report = await receiver.report;
  await sender.report;
  sender.worker.terminate();
  receiver.worker.terminate();
  const ok = report.ok && report.received === count;
  return { value: ok ? count / report.seconds : NaN, ok, items: count, seconds: report.seconds };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "7" },
      count: { type: "string", default: "200000" },
    },
  });
  const count = Number(values.count);
  const plans: Plan[] = [
    {
      id: "values.ring",
      label: "ValueChannel (JSON in the frame)",
      run: () => once("ring", count),
    },
    { id: "values.post", label: "postMessage (structured clone)", run: () => once("post", count) },
  ];
  const [ring, post] = await runInterleaved(plans, {
    runs: Number(values.runs),
    kind: "throughput",
  });
  for (const m of [ring, post]) {
    const { min, max } = spread(m.runs.map((r) => r.value));
    console.log(
      `${m.label.padEnd(36)} median ${(m.value / 1e6).toFixed(3)} M obj/s  ` +
        `spread ${(min / 1e6).toFixed(3)}–${
          (max / 1e6).toFixed(3)
        }  runs ${m.runs.length}  ok ${m.ok}`,
    );
  }
  console.log(`ValueChannel ÷ postMessage: ${(ring.value / post.value).toFixed(2)}×`);
}
