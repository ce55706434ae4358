import assert from "node:assert/strict";
import fc from "fast-check";
import { BroadcastConsumer, BroadcastProducer, COMMIT_FORCE_SCAN } from "../src/broadcast/mod.ts";
import type { DetachReason } from "../src/broadcast/mod.ts";
import {
  Closed,
  Evicted,
  InvalidMagic,
  RingCorrupt,
  TooManyConsumers,
  VersionMismatch,
} from "../src/errors.ts";
import { checkMessage, messageLength, writeMessage } from "./fixtures/broadcast_payload.ts";
import type { ConsumerJob, ConsumerReport } from "./workers/broadcast_peer.ts";

/** Offsets from the layout comment of src/broadcast/_layout.ts. */
const HEAD_WORD = 0x40 >> 2;
const PAGE = 4096;
const CONTROL = 256;
const TAIL = 0;

function dataOffset(maxConsumers: number): number {
  return CONTROL + maxConsumers * PAGE;
}

/** Sends message `n` in place; false when the ring is clogged. */
function sendNumbered(p: BroadcastProducer, n: number, max: number): boolean {
  const length = messageLength(n, max);
  const r = p.reserve(length);
  if (r === null) return false;
  writeMessage(r.array, r.offset, length, n);
  p.commit();
  return true;
}

/** Reads everything available, checking numbers from `next` on; returns the new next. */
function drain(c: BroadcastConsumer, next: number, max: number): number {
  for (let m = c.peek(); m !== null; m = c.peek()) {
    const problem = checkMessage(m.array, m.offset, m.length, next, max);
    assert.equal(problem, null);
    c.advance();
    next++;
  }
  c.publish();
  return next;
}

Deno.test("broadcast: every consumer gets every message in order, across padding and the u32 wrap", () => {
  const max = 200;
  const start = 2 ** 32 - 4096;
  const p = BroadcastProducer.create({ capacity: 512, maxConsumers: 3, initialPosition: start });
  const consumers = [0, 1, 2].map(() => BroadcastConsumer.fromHandle(p.join()));
  const next = [0, 0, 0];
  const count = 3000;
  let rounds = 0;
  for (let n = 0; n < count;) {
    if (sendNumbered(p, n, max)) {
      n++;
      // Consumers drain at different paces.
      if (n % 2 === 0) next[0] = drain(consumers[0], next[0], max);
      if (n % 5 === 0) next[1] = drain(consumers[1], next[1], max);
      continue;
    }
    rounds++;
    for (let i = 0; i < 3; i++) next[i] = drain(consumers[i], next[i], max);
  }
  for (let i = 0; i < 3; i++) next[i] = drain(consumers[i], next[i], max);
  assert.deepEqual(next, [count, count, count]);
  assert.ok(rounds > 0, "the ring filled up and the producer waited");
  assert.ok(p.head < start, "the byte position wrapped past 2^32");
  assert.equal(p.evictions, 0);
});

Deno.test("broadcast: several reserves, one commit; raw query, header and commit", () => {
  const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 1 });
  const c = BroadcastConsumer.fromHandle(p.join());
  const a = p.reserve(5)!;
  a.array.set([1, 2, 3, 4, 5], a.offset);
  const b = p.reserve(0)!;
  assert.equal(b.length, 0);
  assert.equal(c.peek(), null, "nothing is visible before the commit");
  p.commit();
  assert.deepEqual([...c.recv()!], [1, 2, 3, 4, 5]);
  assert.equal(c.recv()!.length, 0);
  // By hand: two messages in one run.
  const run = p.query(64);
  assert.ok(run.maxBytes >= 64);
  p.writeHeader(run.offset, 3, 0, p.nextSeqId());
  run.array.set([7, 7, 7], run.offset + 16);
  p.writeHeader(run.offset + 32, 20, 0, p.nextSeqId());
  assert.throws(() => p.writeHeader(run.offset + 8, 1, 0, 1), RangeError);
  assert.throws(() => p.commit(40), RangeError, "not a multiple of 16");
  assert.throws(() => p.commit(run.maxBytes + 16), RangeError);
  p.commit(80);
  const m = c.peek()!;
  assert.equal(m.length, 3);
  assert.equal(m.seqId, 3);
  c.advance();
  assert.equal(c.peek()!.length, 20);
  c.advance();
  c.publish();
  assert.equal(c.peek(), null);
  assert.throws(() => p.reserve(241), RangeError, "bigger than the ring");
  assert.throws(() => p.query(24), RangeError);
  assert.throws(() => p.reserve(1, 254), RangeError);
});

Deno.test("broadcast: a late joiner starts at the head; a leaver stops holding the ring", () => {
  const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 2 });
  const early = BroadcastConsumer.fromHandle(p.join());
  p.send(Uint8Array.of(1));
  const late = BroadcastConsumer.fromHandle(p.join());
  p.send(Uint8Array.of(2));
  assert.equal(early.recv()![0], 1);
  assert.equal(early.recv()![0], 2);
  assert.equal(late.recv()![0], 2);
  assert.equal(late.recv(), null);
  assert.throws(() => p.join(), TooManyConsumers);
  // `early` stops reading; once it leaves, the ring no longer waits for it.
  let sent = 0;
  while (p.send(new Uint8Array(40))) sent++, late.recv();
  early.close();
  early.close();
  assert.equal(early.peek(), null);
  assert.ok(p.send(new Uint8Array(40)), "room again after the leave");
  assert.equal(p.consumerCount, 1);
  assert.ok(sent > 0);
  // The freed slot is joinable again.
  assert.equal(p.join().slot, early.slot);
});

Deno.test("broadcast: close lets consumers drain, then says Closed", async () => {
  const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 2 });
  const c = BroadcastConsumer.fromHandle(p.join());
  const d = BroadcastConsumer.fromHandle(p.join({ mode: "pull" }));
  for (let i = 0; i < 3; i++) p.send(Uint8Array.of(i));
  p.close();
  p.close();
  assert.ok(c.isClosed());
  assert.throws(() => p.send(Uint8Array.of(9)), Closed);
  assert.throws(() => p.join(), Closed);
  for (let i = 0; i < 3; i++) {
    assert.equal(c.wait(0), true);
    assert.equal(c.recv()![0], i);
    assert.equal(await d.waitAsync(0), true);
    assert.equal(d.recv()![0], i);
  }
  assert.throws(() => c.wait(10), Closed);
  await assert.rejects(() => d.waitAsync(10), Closed);
  c.close();
  assert.throws(() => c.wait(0), Closed);
});

Deno.test("broadcast: a consumer that stops reading is evicted, the others keep receiving", () => {
  const detached: [number, DetachReason][] = [];
  const p = BroadcastProducer.create({
    capacity: 1024,
    maxConsumers: 2,
    stallTimeoutMs: 30,
    clogThreshold: 1,
    onDetach: (slot, reason) => detached.push([slot, reason]),
  });
  const reader = BroadcastConsumer.fromHandle(p.join());
  const staller = BroadcastConsumer.fromHandle(p.join());
  const max = 100;
  let next = 0;
  let stalled = 0;
  for (let n = 0; n < 2000;) {
    if (sendNumbered(p, n, max)) {
      n++;
      next = drain(reader, next, max);
      if (n === 3) stalled = drain(staller, 0, max);
      continue;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
  }
  next = drain(reader, next, max);
  assert.equal(next, 2000, "the live consumer got everything, in order");
  assert.equal(stalled, 3);
  assert.equal(p.evictions, 1);
  assert.deepEqual(detached, [[staller.slot, "hung"]]);
  assert.throws(() => staller.peek(), Evicted);
  assert.throws(() => staller.publish(), Evicted);
  assert.throws(() => staller.wait(0), Evicted);
});

Deno.test("broadcast: a caught-up idle consumer is not taken for hung", () => {
  const p = BroadcastProducer.create({
    capacity: 256,
    maxConsumers: 1,
    stallTimeoutMs: 200,
    clogThreshold: 1,
  });
  const c = BroadcastConsumer.fromHandle(p.join());
  p.send(new Uint8Array(8));
  c.recv();
  // Idle (and caught up) for longer than the stall timeout.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  while (p.send(new Uint8Array(8)));
  assert.equal(p.scan(), 0, "behind only since now: not hung yet");
  assert.equal(p.evictions, 0);
  let got = 0;
  while (c.recv() !== null) got++;
  assert.ok(got > 0);
  assert.ok(p.send(new Uint8Array(8)));
});

Deno.test("broadcast: dead consumers are evicted by a scan, and their slot reused", () => {
  const dead = new Set<number>();
  const p = BroadcastProducer.create({
    capacity: 256,
    maxConsumers: 2,
    isConsumerAlive: (pid) => !dead.has(pid),
  });
  const a = BroadcastConsumer.fromHandle(p.join({ pid: 111 }));
  const b = BroadcastConsumer.fromHandle(p.join({ pid: 222 }));
  p.send(Uint8Array.of(1));
  dead.add(111);
  p.commit(0, COMMIT_FORCE_SCAN);
  assert.equal(p.evictions, 1);
  assert.equal(p.consumerCount, 1);
  assert.throws(() => a.recv(), Evicted);
  assert.equal(b.recv()![0], 1);
  // The slot goes to a newcomer; the evicted occupant cannot publish into it.
  const h = p.join();
  assert.equal(h.slot, a.slot);
  const fresh = BroadcastConsumer.fromHandle(h);
  p.send(Uint8Array.of(2));
  assert.throws(() => a.publish(), Evicted);
  assert.equal(fresh.recv()![0], 2);
  assert.equal(b.recv()![0], 2);
  // A handle of the old epoch cannot attach any more.
  assert.throws(() => BroadcastConsumer.attach(p.buffer, a.slot, h.epoch - 1), Evicted);
});

Deno.test("broadcast: a consumer writing an impossible tail is evicted as corrupt", () => {
  const detached: DetachReason[] = [];
  const p = BroadcastProducer.create({
    capacity: 256,
    maxConsumers: 2,
    onDetach: (_, reason) => detached.push(reason),
  });
  const honest = BroadcastConsumer.fromHandle(p.join());
  const liar = BroadcastConsumer.fromHandle(p.join());
  const page = new Int32Array(p.buffer, CONTROL + liar.slot * PAGE, 4);
  page[TAIL] = 5000; // past the head
  let n = 0;
  while (n < 50 && p.send(Uint8Array.of(n))) {
    assert.equal(honest.recv()![0], n);
    n++;
  }
  assert.equal(n, 50);
  assert.deepEqual(detached, ["corrupt"]);
  // A tail moved back (so as to look busy while holding the ring) is just as impossible.
  const mover = BroadcastConsumer.fromHandle(p.join());
  for (let i = 0; i < 5; i++) p.send(Uint8Array.of(i));
  for (let i = 0; i < 5; i++) mover.recv();
  honest.publish();
  while (honest.recv() !== null);
  const moverPage = new Int32Array(p.buffer, CONTROL + mover.slot * PAGE, 4);
  p.scan(); // the producer has seen the mover's tail
  moverPage[TAIL] -= 32;
  p.scan();
  assert.deepEqual(detached, ["corrupt", "corrupt"]);
  assert.throws(() => mover.recv(), Evicted);
});

Deno.test("broadcast: forged headers and heads from a hostile producer are refused", async (t) => {
  function setup() {
    const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 1 });
    const c = BroadcastConsumer.fromHandle(p.join());
    const control = new Uint32Array(p.buffer, 0, CONTROL >> 2);
    const data = new Uint32Array(p.buffer, dataOffset(1), 64);
    return { p, c, control, data };
  }
  const cases: [string, (s: ReturnType<typeof setup>) => void][] = [
    ["a length past the committed bytes", (s) => {
      s.data.set([100, 0, 1, 0]);
      s.control[HEAD_WORD] = 32;
    }],
    ["a length past the physical end", (s) => {
      s.data.set([300, 0, 1, 0]);
      s.control[HEAD_WORD] = 256;
    }],
    ["a huge length", (s) => {
      s.data.set([0xffffffff, 0, 1, 0]);
      s.control[HEAD_WORD] = 256;
    }],
    ["unknown flags", (s) => {
      s.data.set([0, 2 << 8, 1, 0]);
      s.control[HEAD_WORD] = 16;
    }],
    ["reserved bits", (s) => {
      s.data.set([0, 1 << 16, 1, 0]);
      s.control[HEAD_WORD] = 16;
    }],
    ["too many fds", (s) => {
      s.data.set([0, 254, 1, 0]);
      s.control[HEAD_WORD] = 16;
    }],
    ["padding short of the end", (s) => {
      s.data.set([16, 1 << 8, 0, 0]);
      s.control[HEAD_WORD] = 256;
    }],
    ["padding past the committed bytes", (s) => {
      s.data.set([240, 1 << 8, 0, 0]);
      s.control[HEAD_WORD] = 64;
    }],
    ["a head more than a capacity ahead", (s) => {
      s.control[HEAD_WORD] = 272;
    }],
    ["a head behind the tail", (s) => {
      s.control[HEAD_WORD] = 0xfffffff0;
    }],
    ["an unaligned head", (s) => {
      s.control[HEAD_WORD] = 8;
    }],
  ];
  for (const [name, forge] of cases) {
    await t.step(name, () => {
      const s = setup();
      forge(s);
      assert.throws(() => s.c.peek(), RingCorrupt);
      assert.throws(() => s.c.recv(), RingCorrupt);
    });
  }
  await t.step("random data and heads: typed error or an in-bounds view", () => {
    fc.assert(
      fc.property(
        fc.uint32Array({ minLength: 64, maxLength: 64 }),
        fc.nat({ max: 40 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (garbage, headWords, rawHead) => {
          const s = setup();
          s.data.set(garbage);
          s.control[HEAD_WORD] = headWords < 20 ? headWords * 16 : rawHead;
          try {
            for (let i = 0; i < 20; i++) {
              const m = s.c.peek();
              if (m === null) break;
              assert.ok(m.offset >= 16 && m.offset + m.length <= 256);
              s.c.advance();
            }
          } catch (e) {
            assert.ok(e instanceof RingCorrupt, String(e));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
  await t.step("forged control regions", () => {
    const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 1 });
    const h = p.join();
    const control = new Uint32Array(p.buffer, 0, 16);
    const good = control.slice();
    const attach = () => BroadcastConsumer.attach(p.buffer, h.slot, h.epoch);
    const forged: [number, number, new (...a: never[]) => Error][] = [
      [0, 1, InvalidMagic],
      [1, 9, VersionMismatch],
      [2, 100, RingCorrupt], // capacity not a power of two
      [2, 2 ** 31, RingCorrupt], // capacity past the buffer
      [3, 0, RingCorrupt], // no consumers
      [3, 2, RingCorrupt], // data offset disagrees
      [7, 12345, RingCorrupt], // data offset forged
    ];
    for (const [word, value, type] of forged) {
      control.set(good);
      control[word] = value;
      assert.throws(attach, type);
    }
    control.set(good);
    assert.equal(attach().slot, h.slot);
    assert.throws(() => BroadcastConsumer.attach(p.buffer, 1, h.epoch), RangeError);
    assert.throws(() => BroadcastConsumer.attach(new SharedArrayBuffer(64), 0, 1), RingCorrupt);
  });
});

Deno.test("broadcast: option errors name the value", () => {
  assert.throws(() => BroadcastProducer.create({ capacity: 100 }), {
    name: "RangeError",
    message: "Cannot create broadcast ring as capacity must be a power of two: received 100",
  });
  assert.throws(() => BroadcastProducer.create({ capacity: 32 }), RangeError);
  assert.throws(() => BroadcastProducer.create({ maxConsumers: 0 }), RangeError);
  assert.throws(() => BroadcastProducer.create({ stallTimeoutMs: 1.5 }), RangeError);
  assert.throws(() => BroadcastProducer.create({ stallTimeoutMs: "9" as never }), TypeError);
  assert.throws(() => BroadcastProducer.create({ initialPosition: 8 }), RangeError);
  assert.throws(
    () => BroadcastProducer.init(new SharedArrayBuffer(100), { capacity: 64 }),
    RangeError,
  );
  assert.throws(() => BroadcastProducer.create().join({ mode: "poll" as never }), TypeError);
  assert.throws(
    () => BroadcastConsumer.fromHandle({ buffer: new ArrayBuffer(8) } as never),
    TypeError,
  );
});

interface Peer {
  worker: Worker;
  attached: Promise<void>;
  report: Promise<ConsumerReport>;
}

function startConsumer(job: ConsumerJob): Peer {
  const worker = new Worker(new URL("./workers/broadcast_peer.ts", import.meta.url), {
    type: "module",
  });
  let attached!: () => void;
  const peer: Peer = {
    worker,
    attached: new Promise<void>((resolve) => attached = resolve),
    report: new Promise<ConsumerReport>((resolve, reject) => {
      worker.onmessage = (e) => {
        if (e.data === "attached") attached();
        else if (e.data === "crashed") reject(new Error("crashed on purpose"));
        else resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    }),
  };
  // Marked handled now; tests that expect a crash still see the rejection when they await it.
  peer.report.catch(() => {});
  worker.postMessage(job);
  return peer;
}

/** Produces `count` numbered messages without starving the event loop. */
async function produce(
  p: BroadcastProducer,
  count: number,
  max: number,
  onSent?: (n: number) => void,
) {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let n = 0, misses = 0; n < count;) {
    if (sendNumbered(p, n, max)) {
      n++;
      onSent?.(n);
      if ((n & 127) === 0) await new Promise((r) => setTimeout(r, 0));
    } else if (++misses % 64 === 0) {
      await new Promise((r) => setTimeout(r, 1));
    } else {
      Atomics.wait(nap, 0, 0, 0.05);
    }
  }
}

Deno.test("broadcast: consumers in Workers (push and pull) each get every message in order", async () => {
  const max = 300;
  const count = 10_000;
  const p = BroadcastProducer.create({ capacity: 4096, maxConsumers: 4 });
  const peers = ["push", "push", "pull"].map((mode) =>
    startConsumer({ handle: p.join({ mode: mode as "push" | "pull" }), max })
  );
  try {
    await Promise.all(peers.map((x) => x.attached));
    await produce(p, count, max);
    p.close();
    const reports = await Promise.all(peers.map((x) => x.report));
    for (const r of reports) {
      assert.deepEqual(r.errors, []);
      assert.equal(r.received, count);
      assert.equal(r.end, "closed");
    }
    assert.equal(p.evictions, 0);
  } finally {
    for (const x of peers) x.worker.terminate();
  }
});

Deno.test("broadcast: a stalled Worker and a crashed Worker are evicted; the rest get everything", async () => {
  const max = 200;
  const count = 4000;
  const p = BroadcastProducer.create({
    capacity: 2048,
    maxConsumers: 4,
    stallTimeoutMs: 300,
    clogThreshold: 8,
  });
  const control = new SharedArrayBuffer(8);
  const words = new Int32Array(control);
  const good = startConsumer({ handle: p.join(), max });
  const staller = startConsumer({ handle: p.join(), max, stallAfter: 100, control });
  const doomed = startConsumer({ handle: p.join(), max, crashAfter: 150 });
  try {
    await Promise.all([good, staller, doomed].map((x) => x.attached));
    await produce(p, count, max);
    await assert.rejects(doomed.report, /crashed on purpose/);
    p.close();
    const r = await good.report;
    assert.deepEqual(r.errors, []);
    assert.equal(r.received, count);
    assert.equal(r.end, "closed");
    assert.equal(p.evictions, 2);
    // Release the stalled consumer: it finds itself evicted.
    assert.equal(Atomics.load(words, 1), 1);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    const s = await staller.report;
    assert.equal(s.end, "evicted");
    assert.equal(s.received >= 100, true);
    assert.deepEqual(s.errors, []);
  } finally {
    for (const x of [good, staller, doomed]) x.worker.terminate();
  }
});

Deno.test("broadcast: an event-loop consumer awaits messages with waitAsync", async () => {
  const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 1 });
  const c = BroadcastConsumer.fromHandle(p.join());
  const got: number[] = [];
  const reading = (async () => {
    while (got.length < 50) {
      if (!(await c.waitAsync(5000))) throw new Error("timed out");
      for (let m = c.peek(); m !== null; m = c.peek()) {
        got.push(m.array[m.offset]);
        c.advance();
      }
      c.publish();
    }
  })();
  for (let i = 0; i < 50;) {
    if (p.send(Uint8Array.of(i))) i++;
    await new Promise((r) => setTimeout(r, 0));
  }
  await reading;
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
});
