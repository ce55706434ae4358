import assert from "node:assert/strict";
import { futexParker, futexWait, futexWaitAsync, futexWake, SharedMemory } from "../native.ts";
import { Child, uniqueName } from "./fixtures/_child.ts";

Deno.test("futexWait returns not-equal and timed-out without a waker", () => {
  using memory = SharedMemory.create(4096);
  const words = new Int32Array(memory.buffer);
  Atomics.store(words, 2, -7);
  assert.equal(futexWait(words, 2, 0, 1), "not-equal");
  assert.equal(futexWait(words, 2, -7, 1), "timed-out");
  assert.equal(futexWait(words, 2, -7, 0), "timed-out");
  assert.equal(futexWake(words, 2), 0);
  // The parker speaks milliseconds, as Atomics.wait does.
  assert.equal(futexParker.wait(words, 2, -7, 1), "timed-out");
  assert.equal(futexParker.wait(words, 2, 3, Infinity), "not-equal");
});

Deno.test("futexWake(count = 1) wakes exactly one of two waiters", async () => {
  using memory = SharedMemory.create(4096);
  const words = new Int32Array(memory.buffer);
  const first = futexWaitAsync(words, 5, 0, 10_000);
  const second = futexWaitAsync(words, 5, 0, 10_000);
  let woken = 0;
  // The waits start on worker threads; wake until both have been met.
  for (let attempt = 0; attempt < 2000 && woken < 2; attempt++) {
    const n = futexWake(words, 5, 1);
    assert.ok(n <= 1, `woke ${n} with count 1`);
    woken += n;
    if (woken < 2) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(woken, 2);
  assert.deepEqual(await Promise.all([first, second]), ["ok", "ok"]);
});

Deno.test("futex functions work on SharedArrayBuffer views too", async () => {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const waiting = futexParker.waitAsync(words, 1, 0, 10_000);
  let woken = 0;
  for (let attempt = 0; attempt < 2000 && woken === 0; attempt++) {
    Atomics.store(words, 1, 0);
    woken = futexWake(words, 1);
    if (woken === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(woken, 1);
  assert.equal(await waiting, "ok");
});

Deno.test("bad arguments give typed errors", () => {
  using memory = SharedMemory.create(4096);
  const words = new Int32Array(memory.buffer);
  assert.throws(() => futexWait(words, words.length, 0, 0), RangeError);
  assert.throws(() => futexWait(words, -1, 0, 0), RangeError);
  assert.throws(() => futexWait(words, 0.5, 0, 0), RangeError);
  assert.throws(() => futexWait(words, 0, 0, -5), RangeError);
  assert.throws(() => futexWait(words, 0, 0, NaN), RangeError);
  assert.throws(() => futexWake(words, 0, -1), RangeError);
  assert.throws(() => futexWake(new Uint32Array(4) as unknown as Int32Array, 0), TypeError);
  assert.throws(() => futexParker.notify(words, 4096), RangeError);
  memory.close();
  // A closed region's views are empty: no access to unmapped memory.
  assert.throws(() => futexWake(words, 0), RangeError);
  assert.throws(() => futexWait(words, 0, 0, 0), RangeError);
});

Deno.test("a waiter in another process is woken by this one", async () => {
  const name = uniqueName("futex-child-waits");
  using memory = SharedMemory.createPath(name, 4096);
  try {
    const words = new Int32Array(memory.buffer);
    const child = Child.spawn("futex-wait", name, "3");
    assert.deepEqual(await child.next(), { ready: true });
    let woken = 0;
    // Only a waiter sleeping in the kernel on this very word counts.
    for (let attempt = 0; attempt < 2000 && woken === 0; attempt++) {
      woken = futexWake(words, 3, 1);
      if (woken === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(woken, 1);
    assert.deepEqual(await child.next(), { result: "ok", value: 0 });
    assert.equal((await child.finish()).status.code, 0);
  } finally {
    SharedMemory.unlinkPath(name);
  }
});

Deno.test("this process's waiter is woken by another process", async () => {
  const name = uniqueName("futex-parent-waits");
  using memory = SharedMemory.createPath(name, 4096);
  try {
    const words = new Int32Array(memory.buffer);
    const waiting = futexWaitAsync(words, 7, 0, 20_000);
    const child = Child.spawn("futex-wake-until", name, "7");
    assert.deepEqual(await child.next(), { woken: 1 });
    assert.equal(await waiting, "ok");
    assert.equal((await child.finish()).status.code, 0);
  } finally {
    SharedMemory.unlinkPath(name);
  }
});

Deno.test("futexParker ping-pong across processes loses, doubles and reorders nothing", async () => {
  const name = uniqueName("futex-pingpong");
  const rounds = 300;
  using memory = SharedMemory.createPath(name, 4096);
  try {
    const words = new Int32Array(memory.buffer);
    const child = Child.spawn("parker-pingpong", name, String(rounds));
    for (let i = 0; i < rounds; i++) {
      Atomics.store(words, 1, i);
      // Publishes round i's payload to the child.
      Atomics.store(words, 0, 2 * i + 1);
      futexParker.notify(words, 0);
      for (let waits = 0; Atomics.load(words, 0) !== 2 * i + 2; waits++) {
        if (waits === 20) assert.fail(`the child never answered round ${i}`);
        await futexParker.waitAsync(words, 0, 2 * i + 1, 1000);
      }
      assert.equal(Atomics.load(words, 2), i * 3, `answer of round ${i}`);
    }
    assert.deepEqual(await child.next(), { rounds, errors: 0 });
    assert.equal((await child.finish()).status.code, 0);
  } finally {
    SharedMemory.unlinkPath(name);
  }
});
