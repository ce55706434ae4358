/**
 * shared_memory: two processes share one SharedRing through a file under
 * /dev/shm (no fd passing needed). This process creates the ring and
 * produces; a child Deno process attaches by path and consumes.
 * Run: deno run --allow-ffi --allow-read --allow-write --allow-run --allow-env examples/shared_memory.ts
 *
 * @module
 */
import { u64 } from "../mod.ts";
import { SharedRing } from "../native.ts";

const COUNT = 100_000;
if (Deno.args[0] === "consumer") {
  using ring = SharedRing.attachPath(u64, Deno.args[1]);
  let expected = 0n;
  while (expected < BigInt(COUNT)) {
    const region = ring.readable();
    if (region === null) {
      ring.waitReadable(); // a futex wait that the other process's commit wakes
      continue;
    }
    for (let i = 0; i < region.length; i++) {
      if (region.array[region.offset + i] !== expected++) throw new Error("out of order");
    }
    ring.advance(region.length);
  }
  console.log(`consumer got ${expected}`);
} else {
  const path = `/dev/shm/ringmpsc-example-${Deno.pid}`;
  using ring = SharedRing.createPath(u64, path, 12);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        new URL(import.meta.url).pathname,
        "consumer",
        path,
      ],
    }).spawn();
    for (let i = 0n; i < BigInt(COUNT);) {
      if (ring.sendOne(i)) i++;
      else ring.ring.waitWritable(1); // sleeps until the consumer process advances
    }
    const status = await child.status;
    console.log(
      `shared_memory: ${COUNT} items across processes via /dev/shm; consumer exit ${status.code}`,
    );
  } finally {
    Deno.removeSync(path);
  }
}
