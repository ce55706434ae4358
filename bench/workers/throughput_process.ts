/**
 * The producer process of bench/throughput.ts's `SharedRing` rows: attaches
 * the `SharedRing<u32>` and the barrier memory the bench created under
 * /dev/shm and produces items `0 … WARMUP + COUNT − 1` through the same loop
 * as the in-process Ring rows (bench/workers/_ring_moves.ts), publishing
 * every `BATCH` items; the consumer is a Worker of the bench's process.
 * Exits 0 when it produced every item, 1 (with the reason on stderr) on an
 * error, 2 on bad arguments.
 *
 * Usage: deno run --allow-read --allow-write --allow-ffi --allow-env
 *   bench/workers/throughput_process.ts RING_NAME BARRIER_NAME COUNT BATCH [CPU]
 *
 * `CPU` is the CPU to pin the producer to, as the Worker pairs are (-1 or
 * absent: unpinned).
 *
 * @module
 */
import { u32 } from "../../mod.ts";
import { SharedMemory, SharedRing } from "../../native.ts";
import { produceRing, timedRun } from "./_ring_moves.ts";
import { pinThread } from "./_pin.ts";

function main(args: string[]): Promise<number> | number {
  const [ringName, barrierName, countText, batchText, cpuText = "-1"] = args;
  const count = Number(countText);
  const batch = Number(batchText);
  const cpu = Number(cpuText);
  if (
    barrierName === undefined || !Number.isSafeInteger(count) || count < 1 ||
    !Number.isInteger(batch) || batch < 1 || !Number.isInteger(cpu)
  ) {
    console.error(`throughput_process: bad arguments: received ${JSON.stringify(args)}`);
    return 2;
  }
  return run(ringName, barrierName, count, batch, cpu);
}

async function run(
  ringName: string,
  barrierName: string,
  count: number,
  batch: number,
  cpu: number,
): Promise<number> {
  try {
    await pinThread(cpu >= 0 ? cpu : undefined);
    using shared = SharedRing.attachPath(u32, ringName);
    using barrier = SharedMemory.attachPath(barrierName);
    const ring = shared.ring;
    timedRun(
      (from, to) => {
        produceRing(ring, from, to, batch, 0);
        return true;
      },
      count,
      new Int32Array(barrier.buffer, 0, 1),
    );
    return 0;
  } catch (err) {
    console.error(`throughput_process: ${(err as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
