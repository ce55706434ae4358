import assert from "node:assert/strict";
import { BufferPool } from "../src/buffer_pool.ts";
import { InvalidHandle } from "../src/errors.ts";
import { GENERATION_MASK, layout, M_STATE, META_WORDS } from "../src/_buffer_pool_layout.ts";
import { Ring } from "../src/ring.ts";
import { u32 } from "../src/element.ts";
import type { StormJob, StormReport } from "./workers/pool_storm.ts";
import type { PointerRingJob, PointerRingReport } from "./workers/pool_pointer_ring.ts";
import type { DoubleFreeJob, DoubleFreeReport } from "./workers/pool_double_free.ts";
import { payloadLength } from "./workers/pool_process.ts";
import { SharedBufferPool } from "../src/native/buffer_pool_shared.ts";
import { SharedRing } from "../src/native/shared_ring.ts";
import { SharedMemory } from "../src/native/shared_memory.ts";
import { sendFd } from "../src/native/fd_passing.ts";
import { FdServer } from "../src/native/fd_server.ts";
import { closeFd } from "../src/native/close_fd.ts";

function indexOf(pool: BufferPool, h: number): number {
  return pool.offsetOf(h) / Math.ceil(pool.slabSize / 64) / 64;
}

Deno.test("BufferPool: alloc hands out every slab once, then null", () => {
  const pool = new BufferPool(100, 37);
  assert.equal(pool.capacity(), 37);
  assert.equal(pool.availableCount(), 37);
  const seen = new Set<number>();
  const handles: number[] = [];
  for (let i = 0; i < 37; i++) {
    const h = pool.alloc();
    assert.notEqual(h, null);
    const index = indexOf(pool, h!);
    assert.ok(!seen.has(index), `slab ${index} handed out twice`);
    seen.add(index);
    handles.push(h!);
  }
  assert.equal(pool.alloc(), null);
  assert.equal(pool.availableCount(), 0);
  for (const h of handles) pool.free(h);
  assert.equal(pool.availableCount(), 37);
  // The free list still holds every slab exactly once.
  const again = new Set<number>();
  for (let i = 0; i < 37; i++) again.add(indexOf(pool, pool.alloc()!));
  assert.equal(again.size, 37);
  assert.equal(pool.alloc(), null);
});

Deno.test("BufferPool: payloads round-trip in place", () => {
  const pool = new BufferPool(64, 4);
  const h = pool.alloc()!;
  const w = pool.getWritable(h);
  assert.equal(w.length, 64);
  w.set([9, 8, 7, 6, 5]);
  pool.setLen(h, 5);
  assert.deepEqual([...pool.get(h)], [9, 8, 7, 6, 5]);
  assert.equal(pool.lengthOf(h), 5);
  assert.equal(pool.bytes[pool.offsetOf(h) + 2], 7);
  assert.throws(() => pool.setLen(h, 65), RangeError);
  assert.throws(() => pool.setLen(h, -1), RangeError);
  pool.setLen(h, 64);
  assert.equal(pool.get(h).length, 64);
  // A fresh allocation of the slab starts with length 0.
  const index = indexOf(pool, h);
  pool.free(h);
  let again = pool.alloc()!;
  while (indexOf(pool, again) !== index) again = pool.alloc()!;
  assert.equal(pool.lengthOf(again), 0);
});

Deno.test("BufferPool: double free, stale and foreign handles are refused", () => {
  const pool = new BufferPool(32, 4);
  const h = pool.alloc()!;
  const index = indexOf(pool, h);
  pool.free(h);
  assert.throws(() => pool.free(h), InvalidHandle);
  assert.throws(() => pool.get(h), InvalidHandle);
  assert.throws(() => pool.getWritable(h), InvalidHandle);
  assert.throws(() => pool.setLen(h, 1), InvalidHandle);
  assert.throws(() => pool.offsetOf(h), InvalidHandle);
  // The slab comes back under a new generation: the old handle stays stale.
  let again = pool.alloc()!;
  while (indexOf(pool, again) !== index) {
    pool.free(again);
    again = pool.alloc()!;
  }
  assert.notEqual(again, h);
  assert.throws(() => pool.free(h), InvalidHandle);
  pool.free(again);
  assert.equal(pool.availableCount(), 4);
  // Foreign handles: an index outside the pool, a non-u32 value.
  assert.throws(() => pool.free(7), InvalidHandle);
  assert.throws(() => pool.free(-1), InvalidHandle);
  assert.throws(() => pool.free(1.5), InvalidHandle);
  assert.throws(() => pool.free(2 ** 32), InvalidHandle);
  // A handle of a free slab that was never handed out.
  assert.throws(() => pool.free(0), InvalidHandle);
  assert.equal(pool.availableCount(), 4);
});

Deno.test("BufferPool: the clock hand hands slabs out round-robin", () => {
  const pool = new BufferPool(16, 70); // three bitmap words, the last one partial
  const first = pool.alloc()!;
  const start = indexOf(pool, first);
  pool.free(first);
  // Alloc + free in a loop walks every slab once per pass instead of reusing one.
  for (let i = 1; i <= 140; i++) {
    const h = pool.alloc()!;
    assert.equal(indexOf(pool, h), (start + i) % 70);
    pool.free(h);
  }
  assert.equal(pool.availableCount(), 70);
});

Deno.test("BufferPool: generations wrap around in state and handle", () => {
  const pool = new BufferPool(16, 3); // indexBits 2: 30-bit generations in handles
  const meta = new Int32Array(pool.buffer, layout(16, 3).metaOffset, 3 * META_WORDS);
  // Every slab at the last 31-bit generation.
  for (let i = 0; i < 3; i++) meta[i * META_WORDS + M_STATE] = GENERATION_MASK << 1;
  const handles = [pool.alloc()!, pool.alloc()!, pool.alloc()!];
  assert.equal(pool.alloc(), null);
  for (const h of handles) {
    assert.equal(h >>> 2, 0, "generation wrapped to 0");
    pool.setLen(h, 3);
    assert.equal(pool.get(h).length, 3);
  }
  for (const h of handles) pool.free(h);
  for (const h of handles) assert.throws(() => pool.free(h), InvalidHandle);
  for (let i = 0; i < 1000; i++) pool.free(pool.alloc()!);
  assert.equal(pool.availableCount(), 3);
});

Deno.test("BufferPool: a stale handle is accepted only 2^(32 - indexBits) generations later", () => {
  for (const [slabs, genBits] of [[2, 31], [256, 24], [257, 23], [2 ** 16, 16]]) {
    const pool = new BufferPool(8, slabs);
    const h = pool.alloc()!;
    const index = indexOf(pool, h);
    const meta = new Int32Array(pool.buffer, layout(8, slabs).metaOffset, slabs * META_WORDS);
    const state = meta[index * META_WORDS + M_STATE];
    pool.free(h);
    const at = (generation: number) => {
      meta[index * META_WORDS + M_STATE] = ((generation & GENERATION_MASK) << 1) | 1;
    };
    for (const later of [1, 2 ** genBits - 1, 2 ** genBits + 1]) {
      at((state >>> 1) + later);
      assert.throws(() => pool.lengthOf(h), InvalidHandle, `${slabs} slabs, +${later}`);
    }
    at((state >>> 1) + 2 ** genBits);
    assert.equal(pool.lengthOf(h), 0, `${slabs} slabs: the bound is exactly 2^${genBits}`);
  }
});

Deno.test("BufferPool: argument errors name the value", () => {
  assert.throws(() => new BufferPool(0, 1), {
    name: "RangeError",
    message:
      "Cannot create buffer pool as slabSize must be an integer between 1 and 2^30: received 0",
  });
  assert.throws(() => new BufferPool(8, 2 ** 20), RangeError);
  assert.throws(() => new BufferPool(8.5, 2), RangeError);
  assert.throws(() => new BufferPool("8" as never, 2), TypeError);
  assert.throws(() => new BufferPool(8, 2 ** 16 + 1), RangeError);
  assert.throws(() => BufferPool.init(new SharedArrayBuffer(64), 8, 2), RangeError);
  assert.throws(
    () => BufferPool.init(new SharedArrayBuffer(4096), 8, 2, { byteOffset: 4 }),
    RangeError,
  );
  assert.throws(() => BufferPool.init(new Uint8Array(64) as never, 8, 2), TypeError);
  assert.throws(() => BufferPool.fromHandle({ buffer: new ArrayBuffer(8) } as never), TypeError);
});

Deno.test("BufferPool: init and attach over part of a plain ArrayBuffer", () => {
  const need = BufferPool.requiredBytes(128, 5);
  const mem = new ArrayBuffer(256 + need);
  const pool = BufferPool.init(mem, 128, 5, { byteOffset: 256 });
  const other = BufferPool.attach(mem, 256);
  const h = pool.alloc()!;
  pool.getWritable(h).set([1, 2, 3]);
  pool.setLen(h, 3);
  assert.deepEqual([...other.get(h)], [1, 2, 3]);
  other.free(h);
  assert.throws(() => pool.free(h), InvalidHandle);
  assert.equal(pool.totalMemory(), need);
  assert.throws(() => pool.handle(), TypeError);
});

function startWorker(name: string): Worker {
  return new Worker(new URL(`./workers/${name}`, import.meta.url), { type: "module" });
}

function reply<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data as T);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
}

Deno.test("BufferPool: a storm of alloc/free from several Workers loses and shares nothing", async () => {
  const pool = new BufferPool(64, 48);
  const barrier = new SharedArrayBuffer(4);
  const workers = [1, 2, 3].map(() => startWorker("pool_storm.ts"));
  try {
    const reports = await Promise.all(workers.map((w, i) => {
      const done = reply<StormReport>(w);
      w.postMessage(
        {
          handle: pool.handle(),
          barrier,
          parties: 3,
          id: i + 1,
          rounds: 2000,
          hold: 24,
          seed: 0x9e3779b9 * (i + 1),
        } satisfies StormJob,
      );
      return done;
    }));
    for (const r of reports) {
      assert.deepEqual(r.violations, [], `worker ${r.id}`);
      assert.equal(r.allocs, r.frees, `worker ${r.id} freed what it took`);
      // every round tries at least one alloc: it succeeds or finds the pool exhausted
      assert.ok(r.allocs + r.exhausted >= 2000, `worker ${r.id} ran every round`);
    }
    assert.ok(reports.reduce((n, r) => n + r.allocs, 0) > 0, "the storm allocated");
    // Nothing lost: every slab is free and the free list yields each exactly once.
    assert.equal(pool.availableCount(), 48);
    const seen = new Set<number>();
    for (let h = pool.alloc(); h !== null; h = pool.alloc()) seen.add(indexOf(pool, h));
    assert.equal(seen.size, 48);
  } finally {
    for (const w of workers) w.terminate();
  }
});

Deno.test("BufferPool: handles travel through a Ring between Workers (pointer ring)", async () => {
  const pool = new BufferPool(1024, 16);
  const ring = new Ring(u32, { ringBits: 3 });
  const count = 3000;
  const producer = startWorker("pool_pointer_ring.ts");
  const consumer = startWorker("pool_pointer_ring.ts");
  try {
    const done = [reply<PointerRingReport>(producer), reply<PointerRingReport>(consumer)];
    for (const [w, role] of [[consumer, "consumer"], [producer, "producer"]] as const) {
      w.postMessage(
        { role, pool: pool.handle(), ring: ring.handle(), count } satisfies PointerRingJob,
      );
    }
    const [p, c] = await Promise.all(done);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(c.errors, []);
    assert.equal(c.received, count, "every payload arrived, in order");
    assert.equal(pool.availableCount(), 16, "every slab came back");
  } finally {
    producer.terminate();
    consumer.terminate();
  }
});

/** A temporary socket path for this test process. */
function socketPath(tag: string): string {
  return `/tmp/ringmpsc-pool-${tag}-${Deno.pid}.sock`;
}

function spawnChild(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./workers/pool_process.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function lastJson<T>(child: Deno.ChildProcess): Promise<T> {
  const out = await child.output();
  assert.equal(out.code, 0, "child exited cleanly");
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

Deno.test("BufferPool: a storm across processes and a Worker over one memfd loses and shares nothing", async () => {
  using shared = SharedBufferPool.create(64, 40);
  using gate = SharedMemory.create(4096);
  const path = socketPath("storm");
  using server = FdServer.listen(path);
  const children = [11, 12].map((id) => spawnChild(["storm", path, String(id), "3000", "20", "3"]));
  for (let i = 0; i < children.length; i++) {
    const conn = await server.acceptAsync();
    sendFd(conn, shared.getFd());
    sendFd(conn, gate.fd);
    closeFd(conn);
  }
  const worker = startWorker("pool_storm.ts");
  try {
    const local = reply<StormReport>(worker);
    worker.postMessage(
      {
        fd: shared.getFd(),
        barrierFd: gate.fd,
        parties: 3,
        id: 1,
        rounds: 3000,
        hold: 20,
        seed: 77,
      } satisfies StormJob,
    );
    const reports = [await local, ...await Promise.all(children.map(lastJson<StormReport>))];
    for (const r of reports) {
      assert.deepEqual(r.violations, [], `owner ${r.id}`);
      assert.equal(r.allocs, r.frees);
      // every round tries at least one alloc: it succeeds or finds the pool exhausted
      assert.ok(r.allocs + r.exhausted >= 3000, `owner ${r.id} ran every round`);
    }
    assert.ok(reports.reduce((n, r) => n + r.allocs, 0) > 0, "the storm allocated");
    const pool = shared.pool;
    assert.equal(pool.availableCount(), 40);
    const seen = new Set<number>();
    for (let h = pool.alloc(); h !== null; h = pool.alloc()) seen.add(indexOf(pool, h));
    assert.equal(seen.size, 40);
  } finally {
    worker.terminate();
  }
});

Deno.test("BufferPool: handles travel through a SharedRing to another process", async () => {
  using shared = SharedBufferPool.create(2048, 8);
  using ring = SharedRing.create(u32, 4);
  const path = socketPath("ring");
  using server = FdServer.listen(path);
  const count = 3000;
  const child = spawnChild(["consumer", path, String(count)]);
  const conn = await server.acceptAsync();
  sendFd(conn, shared.getFd());
  sendFd(conn, ring.getFd());
  closeFd(conn);
  const pool = shared.pool;
  const bytes = pool.bytes;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let n = 0; n < count; n++) {
    let h = pool.alloc();
    while (h === null) {
      Atomics.wait(nap, 0, 0, 0.05);
      h = pool.alloc();
    }
    const len = payloadLength(n, pool.slabSize);
    const o = pool.offsetOf(h);
    new DataView(bytes.buffer, bytes.byteOffset + o, 8).setUint32(0, n, true);
    for (let i = 8; i < len; i++) bytes[o + i] = (n + i) & 0xff;
    pool.setLen(h, len);
    ring.ring.sendOneBlocking(h);
  }
  const r = await lastJson<{ received: number; errors: string[] }>(child);
  assert.deepEqual(r.errors, []);
  assert.equal(r.received, count);
  assert.equal(pool.availableCount(), 8, "the other process freed every slab");
});

Deno.test("BufferPool: two Workers freeing the same handles at once: each free wins exactly once", async () => {
  const slabs = 64;
  const rounds = 100;
  const pool = new BufferPool(16, slabs);
  const sync = new SharedArrayBuffer(4 * (2 + slabs));
  const workers = [true, false].map(() => startWorker("pool_double_free.ts"));
  try {
    const reports = await Promise.all(workers.map((w, i) => {
      const done = reply<DoubleFreeReport>(w);
      w.postMessage({ pool: pool.handle(), sync, owner: i === 0, rounds } satisfies DoubleFreeJob);
      return done;
    }));
    for (const r of reports) assert.deepEqual(r.errors, []);
    assert.equal(reports[0].freed + reports[1].freed, slabs * rounds, "every slab freed once");
    assert.equal(
      reports[0].refused + reports[1].refused,
      slabs * rounds,
      "every second free refused",
    );
    assert.equal(pool.availableCount(), slabs);
    const seen = new Set<number>();
    for (let h = pool.alloc(); h !== null; h = pool.alloc()) seen.add(indexOf(pool, h));
    assert.equal(seen.size, slabs, "no slab sits twice in the free list");
  } finally {
    for (const w of workers) w.terminate();
  }
});
