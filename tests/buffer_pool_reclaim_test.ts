import assert from "node:assert/strict";
import { BufferPool } from "../src/buffer_pool.ts";
import { InvalidHandle, PoolCorrupt } from "../src/errors.ts";
import {
  BITMAP_OFFSET,
  E_HOLDER,
  E_PID,
  HOLDER_WORDS,
  HOLDERS_OFFSET,
  layout,
  M_STATE,
  META_WORDS,
} from "../src/_buffer_pool_layout.ts";
import { SharedBufferPool } from "../src/native/buffer_pool_shared.ts";
import { sendFd } from "../src/native/fd_passing.ts";
import { FdServer } from "../src/native/fd_server.ts";
import { closeFd } from "../src/native/close_fd.ts";
import type { HolderJob, HolderReport } from "./workers/pool_holder.ts";
import type { StormJob, StormReport } from "./workers/pool_storm.ts";

/** Every slab of `pool`, each exactly once: allocates until null and checks the indexes. */
function drain(pool: BufferPool): number[] {
  const handles: number[] = [];
  const seen = new Set<number>();
  for (let h = pool.alloc(); h !== null; h = pool.alloc()) {
    const index = pool.offsetOf(h) / (Math.ceil(pool.slabSize / 64) * 64);
    assert.ok(!seen.has(index), `slab ${index} handed out twice`);
    seen.add(index);
    handles.push(h);
  }
  return handles;
}

Deno.test("BufferPool reclaim: a terminated Worker's slabs come back by its holder id", async () => {
  const pool = new BufferPool(32, 16);
  const mine = pool.alloc()!;
  const worker = new Worker(new URL("./workers/pool_holder.ts", import.meta.url), {
    type: "module",
  });
  try {
    const report = await new Promise<HolderReport>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ pool: pool.handle(), take: 5 } satisfies HolderJob);
    });
    assert.equal(report.handles.length, 5);
    assert.notEqual(report.holderId, pool.holderId);
    worker.terminate();
    assert.equal(pool.availableCount(), 10);
    assert.equal(pool.reclaim(report.holderId), 5);
    assert.equal(pool.reclaim(report.holderId), 0, "a second reclaim finds nothing");
    for (const h of report.handles) assert.throws(() => pool.lengthOf(h), InvalidHandle);
    assert.equal(pool.lengthOf(mine), 0, "the reclaimer's own slab stays its own");
    assert.equal(drain(pool).length, 15);
    assert.throws(() => pool.reclaim(0), RangeError);
    assert.throws(() => pool.reclaim(2 ** 32), RangeError);
    assert.throws(() => pool.reclaim(NaN), RangeError);
  } finally {
    worker.terminate();
  }
});

Deno.test("BufferPool reclaim: a holder killed between the steps of alloc leaves an orphan that comes back after the grace period", async () => {
  const pool = new BufferPool(16, 40);
  const dead = BufferPool.attach(pool.buffer);
  dead.registerProcess(0x7ffffff0, null);
  const held = [dead.alloc()!, dead.alloc()!];
  // Forge the kill: the dead view won slab 39's bit but never stored its state.
  const bitmap = new Int32Array(pool.buffer, BITMAP_OFFSET, 2);
  bitmap[1] |= 1 << 7;
  const isAlive = (pid: number) => pid !== 0x7ffffff0;
  assert.equal(pool.reclaimDead(isAlive), 2, "the allocated slabs come back at once");
  assert.equal(pool.availableCount(), 39, "the orphan waits for its second look");
  for (const h of held) assert.throws(() => dead.free(h), InvalidHandle);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(pool.reclaimDead(isAlive), 1, "the orphan comes back");
  assert.equal(drain(pool).length, 40);
});

Deno.test("BufferPool reclaim: an orphan of a second death, left while the first death's orphan waits, comes back too", async () => {
  const pool = new BufferPool(16, 40);
  for (const pid of [0x7ffffff0, 0x7ffffff1]) {
    BufferPool.attach(pool.buffer).registerProcess(pid, null);
  }
  const bitmap = new Int32Array(pool.buffer, BITMAP_OFFSET, 2);
  const dead = new Set<number>();
  const isAlive = (pid: number) => !dead.has(pid);
  // The first holder dies having won slab 39's bit but never stored its state.
  bitmap[1] |= 1 << 7;
  dead.add(0x7ffffff0);
  assert.equal(pool.reclaimDead(isAlive), 0, "the first orphan waits for its second look");
  // The second dies the same way on slab 38 while the first orphan still waits.
  bitmap[1] |= 1 << 6;
  dead.add(0x7ffffff1);
  assert.equal(pool.reclaimDead(isAlive), 0, "the second orphan waits too");
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(pool.reclaimDead(isAlive), 2, "both orphans come back");
  assert.equal(drain(pool).length, 40);
});

Deno.test("BufferPool reclaim: a forged holder entry is PoolCorrupt, an empty pid is skipped", () => {
  const pool = new BufferPool(16, 4);
  const table = new Int32Array(pool.buffer, HOLDERS_OFFSET, 4 * HOLDER_WORDS);
  table[E_HOLDER] = 77;
  table[E_PID] = 0; // registration in flight: skipped
  assert.equal(pool.reclaimDead(() => false), 0);
  table[E_PID] = -5;
  assert.throws(() => pool.reclaimDead(() => false), (e: Error) => {
    assert.ok(e instanceof PoolCorrupt);
    assert.match(e.message, /holder 0x0000004d and pid 0xfffffffb/);
    return true;
  });
  assert.throws(() => pool.reclaimDead(null as never), TypeError);
  assert.throws(() => pool.registerProcess(0, null), RangeError);
  assert.throws(() => pool.registerProcess(1, 5 as never), TypeError);
});

Deno.test("BufferPool reclaim: 64 holder entries, then Exhausted unless dead ones are reclaimed", () => {
  const pool = new BufferPool(16, 4);
  const views = Array.from({ length: 64 }, (_, i) => {
    const v = BufferPool.attach(pool.buffer);
    v.registerProcess(1000 + i, null);
    return v;
  });
  const late = BufferPool.attach(pool.buffer);
  assert.throws(() => late.registerProcess(5000, null), { name: "Exhausted" });
  views[3].alloc();
  late.registerProcess(5000, (pid) => pid !== 1003);
  assert.equal(pool.availableCount(), 4, "registering reclaimed the dead entry's slab");
  late.unregisterProcess();
  late.unregisterProcess();
});

/** The first line a child prints, read as it comes. */
async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

Deno.test("BufferPool reclaim: slabs of processes SIGKILLed in the middle of their churn all come back", async () => {
  const slabs = 96;
  using shared = SharedBufferPool.create(64, slabs);
  const path = `/tmp/ringmpsc-pool-kill-${Deno.pid}.sock`;
  using server = FdServer.listen(path);
  const kills = 4;
  const children = Array.from({ length: kills }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./workers/pool_process.ts", import.meta.url).pathname,
        "churn",
        path,
        "30",
        String(0x51ed + i),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  for (let i = 0; i < kills; i++) {
    const conn = await server.acceptAsync();
    sendFd(conn, shared.getFd());
    closeFd(conn);
  }
  for (const child of children) assert.equal(await firstLine(child), '{"ready":true}');
  const pool = shared.pool;
  // Churn here too while the children churn, then kill each at a different moment.
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (const child of children) {
    for (let i = 0; i < 200; i++) {
      const h = pool.alloc();
      if (h !== null) pool.free(h);
    }
    Atomics.wait(nap, 0, 0, 3 + Math.random() * 20);
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
  }
  // Every slab comes back: at once for held ones, after the grace period for orphans.
  const deadline = performance.now() + 15_000;
  let got = drain(pool);
  while (got.length < slabs && performance.now() < deadline) {
    for (const h of got) pool.free(h);
    await new Promise((r) => setTimeout(r, 50));
    got = drain(pool);
  }
  assert.equal(got.length, slabs, "nothing lost");
  for (const h of got) pool.free(h);
  const meta = new Int32Array(pool.buffer, layout(64, slabs).metaOffset, slabs * META_WORDS);
  for (let i = 0; i < slabs; i++) assert.equal(meta[i * META_WORDS + M_STATE] & 1, 0);
  assert.equal(pool.availableCount(), slabs);
});

Deno.test("BufferPool reclaim: taking back a terminated Worker's slabs while three Workers storm loses and shares nothing", async () => {
  const slabs = 64;
  const pool = new BufferPool(64, slabs);
  const start = (name: string) =>
    new Worker(new URL(`./workers/${name}`, import.meta.url), { type: "module" });
  const holder = start("pool_holder.ts");
  const storms = [1, 2, 3].map(() => start("pool_storm.ts"));
  try {
    const held = await new Promise<HolderReport>((resolve) => {
      holder.onmessage = (e) => resolve(e.data);
      holder.postMessage({ pool: pool.handle(), take: 24 } satisfies HolderJob);
    });
    assert.equal(held.handles.length, 24);
    const barrier = new SharedArrayBuffer(4);
    const reports = storms.map((w, i) =>
      new Promise<StormReport>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        w.postMessage(
          {
            handle: pool.handle(),
            barrier,
            parties: 3,
            id: i + 1,
            rounds: 1500,
            hold: 12,
            seed: 0x2545f491 * (i + 1),
          } satisfies StormJob,
        );
      })
    );
    holder.terminate();
    // Reclaim while the storms run: they may be taking the freed slabs as we go.
    const gate = new Int32Array(barrier);
    while (Atomics.load(gate, 0) < 3) await new Promise((r) => setTimeout(r, 1));
    assert.equal(pool.reclaim(held.holderId), 24);
    for (const r of await Promise.all(reports)) {
      assert.deepEqual(r.violations, [], `storm ${r.id}`);
      assert.equal(r.allocs, r.frees);
    }
    assert.equal(pool.availableCount(), slabs);
    assert.equal(drain(pool).length, slabs, "every slab once, none lost");
  } finally {
    holder.terminate();
    for (const w of storms) w.terminate();
  }
});
