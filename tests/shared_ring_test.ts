/**
 * SharedRing across real processes: attach by received fd and by path, a
 * producer killed with SIGKILL mid-write, futex wakes across processes,
 * forged and truncated headers (property-based), and the untrusted-peer
 * checks of every read.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Closed,
  InvalidMagic,
  RingCorrupt,
  SlotSizeMismatch,
  u32,
  u64,
  VersionMismatch,
} from "../mod.ts";
import {
  closeFd,
  FdServer,
  InvalidSharedMemory,
  sendFd,
  SharedMemory,
  SharedRing,
} from "../native.ts";
import { SHARED_RING_HEADER } from "../src/layout.ts";

const CHILD = new URL("./workers/shared_ring_child.ts", import.meta.url).pathname;

function child(mode: string, where: string, count = 0): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, mode, where, String(count)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

function socketPath(tag: string): string {
  return `/tmp/ringmpsc-test-${tag}-${Deno.pid}.sock`;
}

/** Sends `ring`'s fd to a child that connects to a fresh socket. */
function handOver(
  ring: SharedRing<number, Uint32Array>,
  path: string,
  proc: () => Deno.ChildProcess,
) {
  using server = FdServer.listen(path);
  const p = proc();
  const conn = server.accept();
  sendFd(conn, ring.getFd());
  closeFd(conn);
  return p;
}

async function firstLine(p: Deno.ChildProcess): Promise<{ line: string; rest: Promise<string> }> {
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!buffer.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
  }
  const rest = (async () => {
    let more = buffer.slice(buffer.indexOf("\n") + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return more;
      more += value;
    }
  })();
  return { line: buffer.slice(0, buffer.indexOf("\n")), rest };
}

Deno.test("shared ring: a second process attaches by received fd and consumes in order", async () => {
  using ring = SharedRing.create(u32, 8);
  const count = 100_000;
  const p = handOver(ring, socketPath("fd"), () => child("consume-fd", socketPath("fd"), count));
  for (let i = 0; i < count;) {
    const r = ring.reserve(Math.min(37, count - i)) ?? ring.ring.reserveBlocking(1);
    for (let k = 0; k < r.length; k++) r.array[r.offset + k] = i + k;
    ring.commit(r.length);
    i += r.length;
  }
  const out = await p.output();
  assert.equal(out.code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), { received: count, ok: true });
});

Deno.test("shared ring: a second process produces; the creator consumes and sees the close", async () => {
  using ring = SharedRing.create(u32, 6);
  const count = 50_000;
  const p = handOver(ring, socketPath("rev"), () => child("produce-fd", socketPath("rev"), count));
  let expected = 0;
  for (;;) {
    const region = ring.readable();
    if (region === null) {
      try {
        await ring.readableAsync(); // futex wait on a thread: the event loop stays free
      } catch (err) {
        if (err instanceof Closed) break;
        throw err;
      }
      continue;
    }
    for (let i = 0; i < region.length; i++) {
      assert.equal(region.array[region.offset + i], expected++);
    }
    ring.advance(region.length);
  }
  assert.equal(expected, count);
  assert.equal((await p.output()).code, 0);
});

Deno.test("shared ring: attach by path under /dev/shm", async () => {
  const path = `/dev/shm/ringmpsc-test-path-${Deno.pid}`;
  using ring = SharedRing.createPath(u32, path, 10);
  try {
    const count = 20_000;
    const p = child("consume-path", path, count);
    for (let i = 0; i < count;) {
      i += ring.send(
        Uint32Array.from({ length: 100 }, (_, k) => i + k).subarray(0, Math.min(100, count - i)),
      ) || (ring.ring.waitWritable(1), 0);
    }
    const out = await p.output();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      received: count,
      ok: true,
    });
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("shared ring: a producer killed with SIGKILL leaves only whole commits", async () => {
  using ring = SharedRing.create(u32, 12);
  const p = handOver(ring, socketPath("kill"), () => child("crash-producer", socketPath("kill")));
  const { line, rest } = await firstLine(p);
  assert.equal(line, "ready");
  // consume a while, then kill the producer in the middle of its loop
  let batches = 0;
  let inBatch = 0;
  let current = 0;
  // every commit is k items all equal to (batch << 8 | k): a commit seen in part breaks the run
  const check = (v: number) => {
    assert.notEqual(v, 0xdead, "an uncommitted write became visible");
    assert.equal(v >>> 8, current, `commit ${current} interleaved with ${v >>> 8}`);
    if (++inBatch === (v & 0xff)) [inBatch, current, batches] = [0, current + 1, batches + 1];
  };
  while (batches < 200) {
    const region = ring.readable();
    if (region === null) continue;
    for (let i = 0; i < region.length; i++) check(region.array[region.offset + i]);
    ring.advance(region.length);
  }
  assert.ok(ring.isProducerAlive(60_000));
  p.kill("SIGKILL");
  await p.status;
  for (let region = ring.readable(); region !== null; region = ring.readable()) {
    for (let i = 0; i < region.length; i++) check(region.array[region.offset + i]);
    ring.advance(region.length);
  }
  assert.equal(inBatch, 0, "a batch was seen in part");
  // the heartbeat stops: within 100 ms of silence the producer counts as dead
  const deadline = Date.now() + 10_000;
  while (ring.isProducerAlive(100) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(ring.isProducerAlive(100), false);
  await rest; // the pipe ends with the process
});

Deno.test("shared ring: futex wakes a consumer sleeping in another process (data, then close)", async () => {
  for (const wake of ["data", "closed"] as const) {
    using ring = SharedRing.create(u32, 4);
    const p = handOver(
      ring,
      socketPath("wake"),
      () => child("wait-then-report", socketPath("wake")),
    );
    const { line, rest } = await firstLine(p);
    assert.equal(line, "waiting");
    if (wake === "data") ring.sendOne(42);
    else ring.close();
    const report = JSON.parse(await rest);
    assert.equal(report.woke, wake);
    if (wake === "data") assert.equal(report.item, 42);
    assert.equal((await p.status).code, 0);
  }
});

Deno.test("shared ring: attach rejects wrong magic, version and slot size with typed errors", () => {
  using good = SharedRing.create(u32, 4);
  assert.throws(() => SharedRing.attach(u64, good.getFd()), SlotSizeMismatch);
  using original = SharedMemory.attach(good.getFd());
  const forged = (offset: number, write: (v: DataView) => void) => {
    const m = SharedMemory.create(original.size);
    new Uint8Array(m.buffer).set(new Uint8Array(original.buffer));
    write(new DataView(m.buffer, offset));
    return () => {
      try {
        SharedRing.attach(u32, m.fd);
      } finally {
        m.close();
      }
    };
  };
  assert.throws(forged(0, (v) => v.setUint8(0, 0x58)), InvalidMagic);
  assert.throws(forged(8, (v) => v.setUint32(0, 2, true)), VersionMismatch);
  assert.throws(forged(0x0c, (v) => v.setUint32(0, 5, true)), RingCorrupt); // ring_bits ≠ capacity
  assert.throws(forged(0x18, (v) => v.setUint32(0, 3, true)), RingCorrupt); // mask
  assert.throws(forged(0x24, (v) => v.setUint32(0, 256, true)), RingCorrupt); // header_size
  assert.throws(forged(0x28, (v) => v.setUint32(0, 8192, true)), RingCorrupt); // total_size ≠ fstat
});

Deno.test("shared ring: every read checks tail − head ≤ capacity", () => {
  using ring = SharedRing.create(u32, 4);
  using peer = SharedRing.attach(u32, ring.getFd());
  using memory = SharedMemory.attach(ring.getFd());
  const words = new DataView(memory.buffer);
  words.setUint32(0x80, 1000, true); // a lying producer: tail far past head + capacity
  assert.throws(() => peer.readable(), RingCorrupt);
  assert.throws(() => peer.tryRecv(), RingCorrupt);
  words.setUint32(0x80, 0, true);
  words.setUint32(0x100, 1000, true); // a lying consumer: head far past tail
  assert.equal(ring.send(new Uint32Array(16)), 16); // the producer's cached head still says empty
  assert.throws(() => ring.reserve(1), RingCorrupt); // the reload of head catches the lie
});

Deno.test("shared ring: random forged headers are rejected or harmless (property)", () => {
  using good = SharedRing.create(u64, 5);
  using original = SharedMemory.attach(good.getFd());
  const template = new Uint8Array(original.buffer.slice(0, 512));
  const unchecked = (offset: number) => offset >= 0x30 && offset < 0x38; // creator_pid, generation
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0x37 }),
      fc.integer({ min: 1, max: 255 }),
      fc.constantFrom(64, 511, 512, 4096, 8192),
      (offset, xor, size) => {
        using m = SharedMemory.create(size);
        const bytes = new Uint8Array(m.buffer);
        bytes.set(template.subarray(0, Math.min(512, size)));
        bytes[offset] ^= xor;
        let attached = false;
        try {
          using r = SharedRing.attach(u64, m.fd);
          attached = true;
          r.isEmpty();
        } catch (err) {
          assert.ok(
            err instanceof InvalidMagic || err instanceof VersionMismatch ||
              err instanceof SlotSizeMismatch || err instanceof RingCorrupt ||
              (err instanceof RangeError && /ring_bits must be between 1 and 30/.test(err.message)),
            `unexpected ${err}`,
          );
        }
        // a forged checked field, or a truncated mapping, must never attach
        if (!unchecked(offset) || size !== 4096) assert.equal(attached, false);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("shared ring: commits through .ring stamp the heartbeat; a 2^32 distance is RingCorrupt", () => {
  using ring = SharedRing.create(u64, 4);
  using peer = SharedRing.attach(u64, ring.getFd());
  using memory = SharedMemory.attach(ring.getFd());
  const words = new BigUint64Array(memory.buffer, 0, 64);
  words[SHARED_RING_HEADER.heartbeat / 8] = 0n;
  assert.equal(ring.isProducerAlive(60_000), false);
  ring.ring.sendOneBlocking(1n);
  assert.notEqual(
    words[SHARED_RING_HEADER.heartbeat / 8],
    0n,
    "a commit through .ring stored heartbeat_ns",
  );
  assert.ok(ring.isProducerAlive(60_000));
  assert.equal(peer.tryRecv(), 1n);
  words[0x80 / 8] += 2n ** 32n; // the low words agree (empty), the 64-bit positions do not
  assert.throws(() => peer.readable(), RingCorrupt);
});

Deno.test("shared ring: ring_bits legal for ringmpsc but over 30 is a clear RangeError", () => {
  using good = SharedRing.create(u64, 5);
  using memory = SharedMemory.attach(good.getFd());
  const view = new DataView(memory.buffer, 0, 512);
  for (const bits of [31, 40, 63]) {
    view.setUint32(0x00c, bits, true);
    view.setBigUint64(0x010, 2n ** BigInt(bits), true);
    view.setBigUint64(0x018, 2n ** BigInt(bits) - 1n, true);
    assert.throws(() => SharedRing.attach(u64, good.getFd()), {
      name: "RangeError",
      message: "Cannot attach shared ring as its ring_bits must be between 1 and 30 (ringmpsc " +
        `allows up to 63; this library maps at most 2^30 slots): received ${bits}`,
    });
  }
  view.setUint32(0x00c, 64, true); // no ringmpsc can write this: a u6 holds at most 63
  assert.throws(() => SharedRing.attach(u64, good.getFd()), RingCorrupt);
});

Deno.test("shared ring: attach of an fd that is not shared memory fails at once", () => {
  const path = `/tmp/ringmpsc-not-shm-${Deno.pid}.sock`;
  using server = FdServer.listen(path);
  assert.throws(() => SharedRing.attach(u64, server.fd), InvalidSharedMemory);
  assert.throws(() => SharedRing.attach(u64, -1), RangeError);
  assert.throws(() => SharedRing.attach(u64, "3" as never), TypeError);
  assert.throws(() => SharedRing.attach(u64, 3, null as never), TypeError);
});

Deno.test("shared ring: every call after deinit is Closed, not a detached-buffer TypeError", async () => {
  const ring = SharedRing.create(u64, 4);
  ring.send([1n]);
  ring.deinit();
  ring.deinit(); // twice is fine
  const calls: [string, () => unknown][] = [
    ["reserve", () => ring.reserve(1)],
    ["commit", () => ring.commit(0)],
    ["send", () => ring.send([2n])],
    ["sendOne", () => ring.sendOne(2n)],
    ["readable", () => ring.readable()],
    ["advance", () => ring.advance(0)],
    ["tryRecv", () => ring.tryRecv()],
    ["waitReadable", () => ring.waitReadable()],
    ["len", () => ring.len()],
    ["isEmpty", () => ring.isEmpty()],
    ["close", () => ring.close()],
    ["isClosed", () => ring.isClosed()],
    ["isProducerAlive", () => ring.isProducerAlive(1000)],
    ["getFd", () => ring.getFd()],
    ["ring", () => ring.ring],
  ];
  for (const [name, call] of calls) {
    assert.throws(call, {
      name: "Closed",
      message: /^Cannot .* as the shared ring was deinitialized/,
    }, name);
  }
  await assert.rejects(() => ring.readableAsync(), Closed);
});

Deno.test("shared ring: positions anywhere in the u64 range work, across 2^63 and 2^64", () => {
  const mod = 2n ** 64n;
  for (const start of [2n ** 63n - 5n, mod - 5n, 2n ** 32n - 3n, 0xfffffffen << 32n]) {
    using creator = SharedRing.create(u64, 3);
    using memory = SharedMemory.attach(creator.getFd());
    const words = new BigUint64Array(memory.buffer, 0, 64);
    words[0x80 / 8] = start; // tail, as a foreign peer that ran long may leave it
    words[0x100 / 8] = start; // head
    using producer = SharedRing.attach(u64, creator.getFd());
    using consumer = SharedRing.attach(u64, creator.getFd());
    const got: bigint[] = [];
    for (let v = 0n; v < 20n; v++) {
      assert.equal(producer.sendOne(v), true, `start ${start}: send ${v}`);
      if (v % 3n === 2n) {
        for (let x = consumer.tryRecv(); x !== null; x = consumer.tryRecv()) got.push(x);
      }
    }
    for (let x = consumer.tryRecv(); x !== null; x = consumer.tryRecv()) got.push(x);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => BigInt(i)), `start ${start}`);
    assert.equal(words[0x80 / 8], (start + 20n) % mod);
    assert.equal(words[0x100 / 8], (start + 20n) % mod);
  }
});

Deno.test("shared ring: RingCorrupt prints all 64 bits of a lying position", () => {
  using creator = SharedRing.create(u64, 3);
  using memory = SharedMemory.attach(creator.getFd());
  const words = new BigUint64Array(memory.buffer, 0, 64);
  words[0x80 / 8] = 5n + (7n << 32n); // tail: low word agrees with head + 5, high word lies
  words[0x100 / 8] = 0n;
  using consumer = SharedRing.attach(u64, creator.getFd());
  assert.throws(() => consumer.readable(), {
    name: "RingCorrupt",
    message: `Cannot use ring as tail − head exceeds capacity 8: received tail ${
      5n + (7n << 32n)
    }, head 0`,
  });
});
