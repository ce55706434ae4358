/**
 * The other process of bench/pingpong.ts's cross-process row: attaches the
 * two `SharedRing<u32>`s the suite created under /dev/shm, prints `ready`,
 * and sends back every value it receives, checking 0, 1, 2, … arrive in
 * order. Exits 0 when every round was echoed, 1 (with the reason on
 * stderr) otherwise.
 *
 * Usage: deno run --allow-read --allow-write --allow-ffi --allow-env
 *   bench/workers/pingpong_process.ts PING_NAME PONG_NAME WARMUP ROUNDS DEADLINE_MS [CPU]
 *
 * `DEADLINE_MS` is how long the whole echo may take, in milliseconds; `CPU`
 * the CPU to pin the echo to, as the Worker pairs are (-1 or absent: unpinned).
 *
 * @module
 */
import { u32 } from "../../mod.ts";
import { SharedRing } from "../../native.ts";
import { echoRings } from "./pingpong_worker.ts";
import { pinThread } from "./_pin.ts";

async function main(args: string[]): Promise<number> {
  const [pingName, pongName, warmupText, roundsText, deadlineText, cpuText = "-1"] = args;
  const cpu = Number(cpuText);
  const warmup = Number(warmupText);
  const rounds = Number(roundsText);
  const budgetMs = Number(deadlineText);
  if (
    pongName === undefined || !Number.isInteger(warmup) || !Number.isInteger(rounds) ||
    !(budgetMs > 0) || !Number.isInteger(cpu)
  ) {
    console.error(`pingpong_process: bad arguments: received ${JSON.stringify(args)}`);
    return 2;
  }
  await pinThread(cpu >= 0 ? cpu : undefined);
  using ping = SharedRing.attachPath(u32, pingName);
  using pong = SharedRing.attachPath(u32, pongName);
  console.log("ready");
  const report = echoRings(ping, pong, {
    transport: "shared-ring",
    role: "echo",
    warmup,
    rounds,
    budgetMs,
    deadlineMs: performance.now() + budgetMs,
  });
  if (!report.ok) {
    console.error(`pingpong_process: ${report.error}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
