/**
 * shared_memory: two processes share one SharedRing through a file under
 * /dev/shm (no fd passing needed). This process creates the ring and
 * produces; a child Deno process attaches by path and consumes.
 *
 * Run: deno run --allow-ffi --allow-read --allow-write --allow-run examples/shared_memory.ts
 *
 * (`--allow-ffi` loads the native helper, which `--allow-read --allow-write`
 * let it unpack to a temporary folder — add `--allow-env` to keep it in its
 * cache folder; they also open the /dev/shm file; `--allow-run` starts the
 * consumer.) A ring made with `createPath` outlives its processes: the file
 * stays in /dev/shm until someone removes it, which this example does.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, u64 } from "@ringmpsc/ringmpsc";
import { isProcessAlive, SharedRing } from "@ringmpsc/ringmpsc/native";

const COUNT = 100_000;
if (Deno.args[0] === "consumer") {
  const producerGone = new AbortController();
  const producer = Number(Deno.args[2]);
  const watch = setInterval(() => {
    if (!isProcessAlive(producer)) producerGone.abort(new Error("the producer process exited"));
  }, 100);
  using ring = SharedRing.attachPath(u64, Deno.args[1]);
  let expected = 0n;
  for (;;) {
    const region = ring.readable();
    if (region === null) {
      try {
        // a futex wait that the other process's commit wakes
        await ring.readableAsync({ signal: producerGone.signal });
      } catch (err) {
        if (err instanceof Closed) break; // closed by the producer and drained
        throw err;
      }
      continue;
    }
    for (let i = 0; i < region.length; i++) {
      assert.equal(region.array[region.offset + i], expected++, "items arrive in order");
    }
    ring.advance(region.length);
  }
  clearInterval(watch);
  assert.equal(expected, BigInt(COUNT));
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
        new URL(import.meta.url).pathname,
        "consumer",
        path,
        String(Deno.pid),
      ],
    }).spawn();
    const consumerGone = new AbortController();
    child.status.finally(() => consumerGone.abort(new Error("the consumer process exited")));
    for (let i = 0n; i < BigInt(COUNT);) {
      if (ring.sendOne(i)) i++;
      else await ring.ring.writableAsync(1, { signal: consumerGone.signal }); // until it advances
    }
    ring.close(); // the consumer drains the rest, then sees Closed
    const status = await child.status;
    assert.equal(status.code, 0);
    console.log(
      `shared_memory: ${COUNT} items across processes via /dev/shm; consumer exit ${status.code}`,
    );
  } finally {
    Deno.removeSync(path); // the ring's file outlives both processes otherwise
  }
}
