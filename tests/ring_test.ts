/**
 * Single-thread functional tests of the SPSC `Ring` (src/ring.ts): every
 * function of the seed's Ring tables by name, the Reservation contract, the
 * async waits, and peers that die between reserve and commit or between
 * readable and advance.
 *
 * Counter wrap and hostile shared memory are in tests/ring_wrap_test.ts,
 * random operation sequences in tests/ring_property_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Closed,
  type CommitSignal,
  Region,
  Reservation,
  Ring,
  RING_LAYOUT,
  TimedOut,
  u32,
  WaitStrategy,
} from "../mod.ts";
import type { PeerJob, PeerReport } from "./workers/ring_peer.ts";

type U32Ring = Ring<number, Uint32Array>;

const PEER = new URL("./workers/ring_peer.ts", import.meta.url);
const CONSUMER_WAITERS = RING_LAYOUT.consumerWaiters / 4;
const PRODUCER_WAITERS = RING_LAYOUT.producerWaiters / 4;
/** A deadline long enough never to pass in a passing run; it only stops a hung one. */
const SAFETY_MS = 20_000;

function makeRing(ringBits = 3, config: Record<string, unknown> = {}): U32Ring {
  return new Ring(u32, { ringBits, ...config });
}

/** The ring's header as 32-bit words. */
function words(ring: U32Ring): Int32Array {
  return new Int32Array(ring.handle().buffer, 0, RING_LAYOUT.data / 4);
}

/** Moves an empty ring's tail and head forward by `n` through sends and receives. */
function moveBy(ring: U32Ring, n: number): void {
  const out = new Uint32Array(ring.capacity());
  while (n > 0) {
    const k = Math.min(n, ring.capacity());
    assert.equal(ring.send(new Uint32Array(k)), k);
    assert.equal(ring.recv(out.subarray(0, k)), k);
    n -= k;
  }
  assert.ok(ring.isEmpty());
}

/** Receives everything, one item at a time. */
function takeAll(ring: U32Ring): number[] {
  const out: number[] = [];
  for (let x = ring.tryRecv(); x !== null; x = ring.tryRecv()) out.push(x);
  return out;
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

function collector(): { items: number[]; process(x: number): void } {
  const items: number[] = [];
  return { items, process: (x: number) => void items.push(x) };
}

/** Starts a peer Worker on a job; `report` settles with what it posts back. */
function startPeer(job: PeerJob): { worker: Worker; report: Promise<PeerReport> } {
  const worker = new Worker(PEER, { type: "module" });
  const report = new Promise<PeerReport>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  worker.postMessage(job);
  return { worker, report };
}

/** Resolves once the shared word at `index` is non-zero (a peer sleeps on the ring). */
async function sleeperOn(ring: U32Ring, index: number): Promise<void> {
  const w = words(ring);
  for (let i = 0; i < 20_000; i++) {
    if (Atomics.load(w, index) !== 0) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.fail("the peer never went to sleep on the ring");
}

Deno.test("Ring: construction, capacity and memory", async (t) => {
  await t.step("capacity, totalMemory and bufferMemory follow ringBits and the element", () => {
    const ring = makeRing(4);
    assert.equal(ring.capacity(), 16);
    assert.equal(ring.bufferMemory(), 16 * 4);
    assert.equal(ring.totalMemory(), RING_LAYOUT.data + 16 * 4);
    assert.equal(ring.handle().buffer.byteLength, ring.totalMemory());
    assert.equal(ring.element, u32);
    assert.equal(ring.config.ringBits, 4);
    assert.ok(Object.isFrozen(ring.config));
  });

  await t.step("a new ring is empty, open and not full", () => {
    const ring = makeRing(1);
    assert.equal(ring.len(), 0);
    assert.ok(ring.isEmpty());
    assert.ok(!ring.isFull());
    assert.ok(!ring.isClosed());
    assert.equal(ring.readable(), null);
    assert.equal(ring.tryRecv(), null);
  });

  await t.step("a non-descriptor element is a TypeError", () => {
    assert.throws(() => new Ring({} as never, { ringBits: 3 }), {
      name: "TypeError",
      message: /element type is not a descriptor/,
    });
    assert.throws(() => new Ring(null as never), TypeError);
  });

  await t.step("a ring over 4 GiB is refused before allocating", () => {
    assert.throws(() => new Ring(u32, { ringBits: 30 }), {
      name: "RangeError",
      message: /exceed 4 GiB: received ringBits 30/,
    });
  });

  await t.step("ringBits outside 1..30 is a RangeError stating the value", () => {
    assert.throws(() => makeRing(31), {
      name: "RangeError",
      message: "Cannot create ring as ringBits must be an integer between 1 and 30: received 31",
    });
    assert.throws(() => makeRing(0), { name: "RangeError", message: /received 0$/ });
  });
});

Deno.test("Ring: reserve and commit (the Reservation contract)", async (t) => {
  await t.step("reserve on an empty ring gives the whole request at slot 0", () => {
    const ring = makeRing(3);
    const r = ring.reserve(4)!;
    assert.ok(r instanceof Reservation);
    assert.equal(r.offset, 0);
    assert.equal(r.length, 4);
    assert.equal(r.pos, 0);
    assert.equal(r.array.length, 8);
    for (let i = 0; i < r.length; i++) r.array[r.offset + i] = 10 + i;
    assert.equal(ring.len(), 0, "nothing is visible before commit");
    ring.commit(4);
    assert.equal(ring.len(), 4);
    assert.deepEqual(takeAll(ring), [10, 11, 12, 13]);
  });

  await t.step("the seed's example: capacity 8, tail 6, reserve(4) gives 2 slots", () => {
    const ring = makeRing(3);
    moveBy(ring, 6);
    const r = ring.reserve(4)!;
    assert.equal(r.offset, 6);
    assert.equal(r.length, 2);
    assert.equal(r.pos, 6);
    r.array[6] = 60;
    r.array[7] = 70;
    ring.commit(2);
    const rest = ring.reserve(2)!;
    assert.equal(rest.offset, 0);
    assert.equal(rest.length, 2);
    assert.equal(rest.pos, 8);
    rest.array[0] = 80;
    rest.array[1] = 90;
    ring.commit(2);
    assert.equal(ring.len(), 4);
    assert.deepEqual(takeAll(ring), [60, 70, 80, 90]);
    // tail = 10 now (index 2); with the ring empty, reserve(4) at index 2 fits whole.
    assert.equal(ring.reserve(4)!.length, 4);
  });

  await t.step("the window never crosses the end even when the whole ring is free", () => {
    const ring = makeRing(3);
    moveBy(ring, 7);
    const r = ring.reserve(8)!;
    assert.equal(r.offset, 7);
    assert.equal(r.length, 1);
  });

  await t.step("a partial commit publishes only the first k slots", () => {
    const ring = makeRing(3);
    const r = ring.reserve(4)!;
    for (let i = 0; i < 4; i++) r.array[r.offset + i] = 100 + i;
    ring.commit(2);
    assert.equal(ring.len(), 2);
    const next = ring.reserve(1)!;
    assert.equal(next.offset, 2, "the uncommitted slots are reserved again");
    assert.equal(next.pos, 2);
    next.array[next.offset] = 7;
    ring.commit(1);
    assert.deepEqual(takeAll(ring), [100, 101, 7]);
  });

  await t.step("committing more than reserved throws RangeError and changes nothing", () => {
    const ring = makeRing(3);
    ring.send([1, 2]);
    const r = ring.reserve(3)!;
    r.array[r.offset] = 3;
    r.array[r.offset + 1] = 4;
    r.array[r.offset + 2] = 5;
    assert.throws(() => ring.commit(4), {
      name: "RangeError",
      message: "Cannot commit as n must be an integer between 0 and 3: received 4",
    });
    assert.equal(ring.len(), 2);
    // The reservation is still active: committing within it still works.
    ring.commit(3);
    assert.equal(ring.len(), 5);
    assert.deepEqual(takeAll(ring), [1, 2, 3, 4, 5]);
    ring.send([6]);
    assert.deepEqual(takeAll(ring), [6]);
  });

  await t.step("commit without a reservation, twice, or with a bad count throws", () => {
    const ring = makeRing(3);
    assert.throws(() => ring.commit(1), RangeError);
    ring.commit(0); // committing nothing is always fine
    ring.reserve(2);
    ring.commit(1);
    assert.throws(() => ring.commit(1), RangeError, "a reservation commits once");
    ring.reserve(2);
    for (const bad of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => ring.commit(bad), RangeError, `commit(${String(bad)})`);
    }
    assert.throws(() => ring.commit("1" as unknown as number), TypeError);
    assert.equal(ring.len(), 1);
    // send and sendOne end a pending reservation.
    ring.send([9]);
    assert.throws(() => ring.commit(1), RangeError);
    assert.deepEqual(takeAll(ring), [0, 9]);
  });

  await t.step("reserve refuses counts outside 1..capacity and non-integers", () => {
    const ring = makeRing(3);
    for (const bad of [0, -1, 9, 1.5, NaN, Infinity]) {
      assert.throws(() => ring.reserve(bad), {
        name: "RangeError",
        message: new RegExp(
          `^Cannot reserve as n must be an integer between 1 and 8: received ${String(bad)}$`,
        ),
      });
    }
    assert.equal(ring.reserve(8)!.length, 8);
  });

  await t.step("reserve returns null when fewer than n slots are free", () => {
    const ring = makeRing(3);
    ring.send(range(0, 6));
    assert.equal(ring.reserve(3), null);
    assert.equal(ring.reserve(2)!.length, 2);
    ring.commit(2);
    assert.ok(ring.isFull());
    assert.equal(ring.reserve(1), null);
    ring.skip(3);
    assert.equal(ring.reserve(3)!.length, 3);
  });

  await t.step("the same Reservation object is reused", () => {
    const ring = makeRing(3);
    const a = ring.reserve(1)!;
    ring.commit(1);
    const b = ring.reserve(1)!;
    assert.equal(a, b);
    assert.equal(b.offset, 1);
  });
});

Deno.test("Ring: send, sendOne, reserveWithBackoff, reserveBlocking, sendOneBlocking", async (t) => {
  await t.step("send copies what fits and reports the count", () => {
    const ring = makeRing(3);
    assert.equal(ring.send([]), 0);
    assert.equal(ring.send(range(1, 5)), 5);
    assert.equal(ring.send(range(6, 5)), 3, "only 3 slots are left");
    assert.equal(ring.send([99]), 0, "full");
    assert.ok(ring.isFull());
    assert.deepEqual(takeAll(ring), range(1, 8));
  });

  await t.step("send across the wrap, from plain arrays and from TypedArrays (bulk copy)", () => {
    const ring = new Ring(u32, { ringBits: 7 });
    moveBy(ring, 100);
    const big = Uint32Array.from(range(1000, 128));
    assert.equal(ring.send(big), 128);
    const out = new Uint32Array(128);
    assert.equal(ring.recv(out), 128);
    assert.deepEqual(Array.from(out), range(1000, 128));
    moveBy(ring, 60);
    assert.equal(ring.send(range(5, 40)), 40);
    assert.deepEqual(takeAll(ring), range(5, 40));
  });

  await t.step("sendOne is true until the ring is full", () => {
    const ring = makeRing(2);
    for (let i = 0; i < 4; i++) assert.equal(ring.sendOne(i), true);
    assert.equal(ring.sendOne(4), false);
    assert.equal(ring.len(), 4);
    assert.deepEqual(takeAll(ring), [0, 1, 2, 3]);
  });

  await t.step("reserveWithBackoff gets room at once, and gives up on a full ring", () => {
    const ring = makeRing(2);
    const r = ring.reserveWithBackoff(3)!;
    assert.equal(r.length, 3);
    r.array[0] = 5;
    r.array[1] = 6;
    r.array[2] = 7;
    ring.commit(3);
    assert.equal(ring.reserveWithBackoff(2), null);
    assert.equal(ring.len(), 3);
    assert.throws(() => ring.reserveWithBackoff(5), RangeError);
    assert.deepEqual(takeAll(ring), [5, 6, 7]);
  });

  await t.step("reserveBlocking returns at once when there is room", () => {
    const ring = makeRing(2);
    const r = ring.reserveBlocking(2, WaitStrategy.timedBlocking(1));
    assert.equal(r.length, 2);
    ring.commit(2);
    assert.equal(ring.len(), 2);
  });

  await t.step("reserveBlocking on a full ring times out, and refuses a closed ring", () => {
    const ring = makeRing(2);
    ring.send([1, 2, 3, 4]);
    assert.throws(() => ring.reserveBlocking(1, WaitStrategy.timedBlocking(2)), TimedOut);
    assert.throws(() => ring.reserveBlocking(1, WaitStrategy.timedBlocking(0)), TimedOut);
    assert.equal(words(ring)[PRODUCER_WAITERS], 0, "no sleeper is left registered");
    assert.throws(() => ring.reserveBlocking(0), RangeError);
    ring.skip(4);
    ring.close();
    assert.throws(() => ring.reserveBlocking(1), {
      name: "Closed",
      message: "Cannot reserve as the ring is closed",
    });
  });

  await t.step("sendOneBlocking sends, times out on a full ring, and refuses a closed one", () => {
    const ring = makeRing(1);
    ring.sendOneBlocking(10);
    ring.sendOneBlocking(11, WaitStrategy.busySpin);
    assert.throws(() => ring.sendOneBlocking(12, WaitStrategy.timedBlocking(1)), TimedOut);
    assert.deepEqual(takeAll(ring), [10, 11]);
    ring.close();
    assert.throws(() => ring.sendOneBlocking(13), Closed);
    assert.equal(ring.len(), 0);
  });
});

Deno.test("Ring: readable, advance and the consume family", async (t) => {
  await t.step("readable is the contiguous run up to the end of the store", () => {
    const ring = makeRing(3);
    assert.equal(ring.readable(), null);
    moveBy(ring, 5);
    ring.send(range(1, 6));
    const region = ring.readable()!;
    assert.ok(region instanceof Region);
    assert.equal(region.offset, 5);
    assert.equal(region.length, 3);
    assert.deepEqual(Array.from(region.slice), [1, 2, 3]);
    ring.advance(region.length);
    const rest = ring.readable()!;
    assert.equal(rest.offset, 0);
    assert.equal(rest.length, 3);
    assert.deepEqual(Array.from(rest.slice), [4, 5, 6]);
    ring.advance(1);
    assert.equal(ring.len(), 2);
    assert.deepEqual(takeAll(ring), [5, 6]);
  });

  await t.step("advancing past what is readable throws RangeError and changes nothing", () => {
    const ring = makeRing(3);
    ring.send([1, 2, 3]);
    assert.throws(() => ring.advance(4), {
      name: "RangeError",
      message: "Cannot advance as n must be an integer between 0 and 3: received 4",
    });
    for (const bad of [-1, 1.5, NaN]) assert.throws(() => ring.advance(bad), RangeError);
    assert.equal(ring.len(), 3);
    ring.advance(0);
    assert.equal(ring.len(), 3);
    assert.deepEqual(takeAll(ring), [1, 2, 3]);
    assert.throws(() => ring.advance(1), RangeError);
    ring.send([4]);
    ring.advance(1);
    assert.ok(ring.isEmpty());
  });

  await t.step("advance without readable sees the producer's latest tail", () => {
    const producer = makeRing(3);
    const consumer = Ring.fromHandle<number, Uint32Array>(producer.handle());
    producer.send([1]);
    assert.equal(consumer.tryRecv(), 1);
    producer.send([2, 3]);
    consumer.advance(2); // the consumer's cached tail is stale; advance must reload it
    assert.ok(consumer.isEmpty());
  });

  await t.step("consumeBatch hands every item across the wrap to the handler, in order", () => {
    const ring = makeRing(3);
    moveBy(ring, 6);
    ring.send(range(20, 7));
    const c = collector();
    assert.equal(ring.consumeBatch(c), 7);
    assert.deepEqual(c.items, range(20, 7));
    assert.ok(ring.isEmpty());
    assert.equal(ring.consumeBatch(c), 0);
  });

  await t.step("consumeBatchCount consumes without looking", () => {
    const ring = makeRing(3);
    assert.equal(ring.consumeBatchCount(), 0);
    ring.send(range(0, 5));
    assert.equal(ring.consumeBatchCount(), 5);
    assert.ok(ring.isEmpty());
    ring.send([42]);
    assert.equal(ring.tryRecv(), 42);
  });

  await t.step("consumeBatchFn calls the callback on every item", () => {
    const ring = makeRing(3);
    moveBy(ring, 7);
    ring.send([1, 2, 3]);
    const seen: number[] = [];
    assert.equal(ring.consumeBatchFn((x) => seen.push(x)), 3);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(ring.consumeBatchFn((x) => seen.push(x)), 0);
  });

  await t.step("consumeUpTo consumes at most max items", () => {
    const ring = makeRing(3);
    moveBy(ring, 6);
    ring.send(range(1, 6));
    const c = collector();
    assert.equal(ring.consumeUpTo(4, c), 4);
    assert.deepEqual(c.items, [1, 2, 3, 4]);
    assert.equal(ring.consumeUpTo(0, c), 0);
    assert.throws(() => ring.consumeUpTo(-3, c), RangeError);
    assert.equal(ring.consumeUpTo(100, c), 2);
    assert.deepEqual(c.items, range(1, 6));
  });

  await t.step("consumeUpTo with a non-integer max is refused and consumes nothing", () => {
    for (const max of [NaN, 1.5, 2.9, -Infinity]) {
      const ring = makeRing(3);
      moveBy(ring, 3);
      ring.send([1, 2, 3]);
      const c = collector();
      assert.throws(() => ring.consumeUpTo(max, c), RangeError, `consumeUpTo(${max})`);
      assert.deepEqual(c.items, []);
      assert.deepEqual(takeAll(ring), [1, 2, 3]);
    }
  });

  await t.step("consumeBatchBlocking consumes what is there, then times out or sees close", () => {
    const ring = makeRing(3);
    ring.send([1, 2]);
    const c = collector();
    assert.equal(ring.consumeBatchBlocking(c, WaitStrategy.timedBlocking(1)), 2);
    assert.throws(() => ring.consumeBatchBlocking(c, WaitStrategy.timedBlocking(1)), TimedOut);
    assert.equal(words(ring)[CONSUMER_WAITERS], 0);
    ring.send([3]);
    ring.close();
    assert.equal(ring.consumeBatchBlocking(c), 1, "a closed ring still drains");
    assert.throws(() => ring.consumeBatchBlocking(c), {
      name: "Closed",
      message: /^Cannot receive as .* closed and drained$/,
    });
    assert.deepEqual(c.items, [1, 2, 3]);
  });
});

Deno.test("Ring: recv, tryRecv, peek, peekMany, drain, skip", async (t) => {
  await t.step("recv copies min(readable, out.length) across the wrap", () => {
    const ring = makeRing(3);
    moveBy(ring, 5);
    ring.send(range(1, 6));
    const out = new Uint32Array(4);
    assert.equal(ring.recv(out), 4);
    assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
    const plain: number[] = [0, 0, 0, 0];
    assert.equal(ring.recv(plain), 2);
    assert.deepEqual(plain, [5, 6, 0, 0]);
    assert.equal(ring.recv(out), 0);
    assert.equal(ring.recv(new Uint32Array(0)), 0);
  });

  await t.step("recv of 64+ items across the wrap (bulk copy path)", () => {
    const ring = makeRing(8);
    moveBy(ring, 200);
    ring.send(Uint32Array.from(range(7, 150)));
    const out = new Uint32Array(200);
    assert.equal(ring.recv(out), 150);
    assert.deepEqual(Array.from(out.subarray(0, 150)), range(7, 150));
  });

  await t.step("tryRecv returns items in order, then null", () => {
    const ring = makeRing(1);
    assert.equal(ring.tryRecv(), null);
    ring.send([0, 4294967295]);
    assert.equal(ring.tryRecv(), 0);
    assert.equal(ring.tryRecv(), 4294967295);
    assert.equal(ring.tryRecv(), null);
  });

  await t.step("peek shows the next item without consuming it", () => {
    const ring = makeRing(3);
    assert.equal(ring.peek(), null);
    ring.send([8, 9]);
    assert.equal(ring.peek(), 8);
    assert.equal(ring.peek(), 8);
    assert.equal(ring.len(), 2);
    ring.tryRecv();
    assert.equal(ring.peek(), 9);
  });

  await t.step("peekMany gives up to n items, stopping at the wrap, without consuming", () => {
    const ring = makeRing(3);
    assert.equal(ring.peekMany(3), null);
    moveBy(ring, 6);
    ring.send(range(1, 5));
    const w = ring.peekMany(10)!;
    assert.equal(w.offset, 6);
    assert.equal(w.length, 2);
    assert.deepEqual(Array.from(w.slice), [1, 2]);
    assert.equal(ring.peekMany(1)!.length, 1);
    assert.equal(ring.peekMany(0), null);
    assert.throws(() => ring.peekMany(-1), RangeError);
    assert.equal(ring.len(), 5);
    ring.skip(2);
    const v = ring.peekMany(2)!;
    assert.equal(v.offset, 0);
    assert.deepEqual(Array.from(v.slice), [3, 4]);
    assert.equal(ring.len(), 3);
  });

  await t.step("drain empties the ring across the wrap into out, or fills out", () => {
    const ring = makeRing(3);
    moveBy(ring, 4);
    ring.send(range(1, 8));
    const out = new Uint32Array(10);
    assert.equal(ring.drain(out), 8);
    assert.deepEqual(Array.from(out.subarray(0, 8)), range(1, 8));
    assert.ok(ring.isEmpty());
    ring.send(range(11, 6));
    const small: number[] = [0, 0, 0];
    assert.equal(ring.drain(small), 3);
    assert.deepEqual(small, [11, 12, 13]);
    assert.equal(ring.len(), 3);
    assert.equal(ring.drain([]), 0);
  });

  await t.step("skip discards up to n items", () => {
    const ring = makeRing(3);
    moveBy(ring, 6);
    ring.send(range(1, 5));
    assert.equal(ring.skip(3), 3);
    assert.equal(ring.len(), 2);
    assert.equal(ring.skip(0), 0);
    assert.throws(() => ring.skip(-2), RangeError);
    assert.equal(ring.skip(10), 2);
    assert.equal(ring.skip(1), 0);
    ring.send([6]);
    assert.deepEqual(takeAll(ring), [6]);
  });

  await t.step("skip with NaN or a fraction is refused and never moves the head", () => {
    const ring = makeRing(3);
    moveBy(ring, 5);
    ring.send([1, 2, 3]);
    assert.throws(() => ring.skip(NaN), RangeError);
    assert.throws(() => ring.skip(1.5), RangeError);
    assert.throws(() => ring.skip("1" as unknown as number), TypeError);
    assert.deepEqual(takeAll(ring), [1, 2, 3]);
    ring.send([4]);
    assert.deepEqual(takeAll(ring), [4]);
  });
});

Deno.test("Ring: iterator and finish", async (t) => {
  await t.step("iterates without consuming; finish consumes what was yielded", () => {
    const ring = makeRing(3);
    moveBy(ring, 6);
    ring.send(range(1, 5));
    const it = ring.iterator();
    const seen: number[] = [];
    for (const x of it) {
      seen.push(x);
      if (x === 3) break;
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(ring.len(), 5, "nothing is consumed before finish");
    assert.equal(it.finish(), 3);
    assert.equal(it.finish(), 0, "finish twice consumes nothing more");
    assert.deepEqual(it.next(), { done: true, value: undefined });
    assert.equal(ring.len(), 2);
    assert.deepEqual(takeAll(ring), [4, 5]);
  });

  await t.step("yields only what was readable when it was made", () => {
    const ring = makeRing(3);
    ring.send([1, 2]);
    const it = ring.iterator();
    ring.send([3]);
    assert.deepEqual([...it], [1, 2]);
    assert.equal(it.finish(), 2);
    assert.deepEqual(takeAll(ring), [3]);
  });

  await t.step("an iterator over an empty ring yields nothing and finishes with 0", () => {
    const ring = makeRing(3);
    const it = ring.iterator();
    assert.deepEqual([...it], []);
    assert.equal(it.finish(), 0);
    assert.ok(ring.isEmpty());
  });

  await t.step("finish without iterating consumes nothing", () => {
    const ring = makeRing(3);
    ring.send([1]);
    assert.equal(ring.iterator().finish(), 0);
    assert.equal(ring.len(), 1);
  });
});

Deno.test("Ring: close, isClosed, reset, len, isEmpty, isFull", async (t) => {
  await t.step("close is idempotent and visible through every object", () => {
    const ring = makeRing(3);
    const other = Ring.fromHandle<number, Uint32Array>(ring.handle());
    assert.equal(other.isClosed(), false);
    ring.close();
    ring.close();
    assert.ok(ring.isClosed());
    assert.ok(other.isClosed());
  });

  await t.step("items sent before close are still received after it", () => {
    const ring = makeRing(3);
    ring.send([1, 2]);
    ring.close();
    assert.deepEqual(takeAll(ring), [1, 2]);
  });

  await t.step("reset brings positions, the closed flag and the words back to zero", () => {
    const ring = makeRing(3, { enableMetrics: true });
    moveBy(ring, 13);
    ring.send([1, 2, 3]);
    ring.close();
    ring.reset();
    assert.ok(!ring.isClosed());
    assert.equal(ring.len(), 0);
    const wide = new BigUint64Array(ring.handle().buffer, 0, 32);
    assert.equal(wide[0], 0n);
    assert.equal(wide[16], 0n);
    assert.equal(ring.getMetrics()!.messagesSent, 0);
    const r = ring.reserve(8)!;
    assert.equal(r.offset, 0);
    assert.equal(r.pos, 0);
    ring.commit(0);
    ring.send([7]);
    assert.deepEqual(takeAll(ring), [7]);
  });

  await t.step("len, isEmpty and isFull track the contents", () => {
    const ring = makeRing(2);
    for (let i = 0; i < 4; i++) {
      assert.equal(ring.len(), i);
      assert.equal(ring.isEmpty(), i === 0);
      assert.ok(!ring.isFull());
      ring.sendOne(i);
    }
    assert.equal(ring.len(), 4);
    assert.ok(ring.isFull());
    ring.tryRecv();
    assert.ok(!ring.isFull());
    assert.equal(ring.len(), 3);
  });

  await t.step("getMetrics is null when metrics are off", () => {
    const ring = makeRing(2);
    ring.send([1]);
    assert.equal(ring.getMetrics(), null);
  });
});

Deno.test("Ring: handle and fromHandle", async (t) => {
  await t.step("a rebuilt ring shares the memory and the state", () => {
    const ring = makeRing(4);
    moveBy(ring, 3);
    ring.send([1, 2, 3]);
    const handle = structuredClone(ring.handle());
    assert.ok(handle.buffer instanceof SharedArrayBuffer);
    assert.equal(handle.byteOffset, 0);
    assert.deepEqual(handle.element, { kind: "u32" });
    assert.equal(handle.config.ringBits, 4);
    const consumer = Ring.fromHandle<number, Uint32Array>(handle);
    assert.equal(consumer.capacity(), 16);
    assert.equal(consumer.element, u32);
    assert.equal(consumer.len(), 3);
    assert.equal(consumer.tryRecv(), 1);
    assert.equal(ring.len(), 2);
    ring.send([4]);
    assert.deepEqual(takeAll(consumer), [2, 3, 4]);
    const producer = Ring.fromHandle<number, Uint32Array>(ring.handle());
    const r = producer.reserve(1)!;
    assert.equal(r.pos, 7, "the rebuilt producer starts at the shared tail");
  });

  await t.step("a malformed handle is a TypeError or RangeError", () => {
    const ring = makeRing(3);
    const handle = ring.handle();
    assert.throws(() => Ring.fromHandle({ ...handle, buffer: new ArrayBuffer(1024) } as never), {
      name: "TypeError",
      message: /handle.buffer must be a SharedArrayBuffer: received \[object ArrayBuffer\]/,
    });
    assert.throws(() => Ring.fromHandle(null as never), TypeError);
    assert.throws(() => Ring.fromHandle({ ...handle, element: { kind: "u128" } } as never), {
      name: "TypeError",
    });
    assert.throws(() => Ring.fromHandle({ ...handle, byteOffset: 8 }), {
      name: "RangeError",
      message: /multiple of 64: received 8/,
    });
    assert.throws(() => Ring.fromHandle({ ...handle, byteOffset: "0" as never }), TypeError);
    assert.throws(
      () => Ring.fromHandle({ ...handle, config: { ...handle.config, ringBits: 10 } }),
      { name: "TypeError", message: /ringBits must match the memory's \(3\): received 10/ },
    );
  });
});

Deno.test("Ring: setEventNotifier signals on every publishing commit", () => {
  const ring = makeRing(3);
  let signals = 0;
  const notifier: CommitSignal = { signal: () => void signals++ };
  ring.send([0]);
  assert.equal(signals, 0);
  ring.setEventNotifier(notifier);
  ring.send([1, 2]);
  assert.equal(signals, 1, "one send, one signal");
  ring.sendOne(3);
  assert.equal(signals, 2);
  ring.reserve(2);
  ring.commit(2);
  assert.equal(signals, 3);
  ring.reserve(1);
  ring.commit(0);
  assert.equal(signals, 3, "a commit of nothing publishes nothing");
  ring.sendOneBlocking(4);
  assert.equal(signals, 4);
  assert.equal(ring.send([5, 6]), 1);
  assert.equal(signals, 5);
  assert.ok(ring.isFull());
  assert.equal(ring.send([5, 6]), 0, "full");
  assert.equal(ring.sendOne(5), false);
  assert.equal(signals, 5, "nothing sent, nothing signalled");
  ring.consumeBatchCount();
  assert.equal(signals, 5, "consuming does not signal");
  ring.setEventNotifier(null);
  ring.send([7]);
  assert.equal(signals, 5);
});

Deno.test("Ring: waitReadable and waitWritable", async (t) => {
  await t.step("return at once when the condition holds", () => {
    const ring = makeRing(2);
    ring.waitWritable(4, WaitStrategy.timedBlocking(1));
    assert.throws(() => ring.commit(1), RangeError, "waitWritable leaves no reservation");
    ring.send([1]);
    ring.waitReadable(WaitStrategy.timedBlocking(1));
    assert.equal(ring.len(), 1);
  });

  await t.step("time out with timedBlocking", () => {
    const ring = makeRing(2);
    assert.throws(() => ring.waitReadable(WaitStrategy.timedBlocking(1)), TimedOut);
    ring.send([1, 2, 3]);
    assert.throws(() => ring.waitWritable(2, WaitStrategy.timedBlocking(1)), TimedOut);
    ring.waitWritable(1, WaitStrategy.timedBlocking(1));
    const w = words(ring);
    assert.equal(w[CONSUMER_WAITERS], 0);
    assert.equal(w[PRODUCER_WAITERS], 0);
  });

  await t.step("see a closed ring: readable until drained, never writable", () => {
    const ring = makeRing(2);
    ring.send([1]);
    ring.close();
    ring.waitReadable();
    ring.tryRecv();
    assert.throws(() => ring.waitReadable(), Closed);
    assert.throws(() => ring.waitWritable(1), Closed);
    assert.throws(() => ring.waitWritable(5), RangeError);
  });
});

Deno.test("Ring: Promise-returning waits", async (t) => {
  await t.step("readableAsync resolves on a later commit", async () => {
    const ring = makeRing(3);
    const waiting = ring.readableAsync();
    setTimeout(() => ring.send([5]), 5);
    await waiting;
    assert.equal(ring.tryRecv(), 5);
    assert.equal(words(ring)[CONSUMER_WAITERS], 0);
  });

  await t.step("writableAsync resolves on a later advance", async () => {
    const ring = makeRing(1);
    ring.send([1, 2]);
    const waiting = ring.writableAsync(1);
    setTimeout(() => ring.tryRecv(), 5);
    await waiting;
    assert.equal(ring.len(), 1);
    assert.equal(words(ring)[PRODUCER_WAITERS], 0);
    await assert.rejects(ring.writableAsync(3), RangeError);
  });

  await t.step("sendOneAsync waits for room, recvAsync waits for an item", async () => {
    const ring = makeRing(1);
    await ring.sendOneAsync(1);
    await ring.sendOneAsync(2);
    const sending = ring.sendOneAsync(3);
    setTimeout(() => ring.tryRecv(), 5);
    await sending;
    assert.equal(await ring.recvAsync(), 2);
    assert.equal(await ring.recvAsync(), 3);
    const receiving = ring.recvAsync();
    setTimeout(() => ring.sendOne(4), 5);
    assert.equal(await receiving, 4);
  });

  await t.step("timeoutMs rejects with TimedOut", async () => {
    const ring = makeRing(1);
    await assert.rejects(ring.readableAsync({ timeoutMs: 2 }), TimedOut);
    await assert.rejects(ring.recvAsync({ timeoutMs: 1 }), TimedOut);
    ring.send([1, 2]);
    await assert.rejects(ring.writableAsync(1, { timeoutMs: 1 }), TimedOut);
    await assert.rejects(ring.sendOneAsync(3, { timeoutMs: 0 }), TimedOut);
    assert.deepEqual(takeAll(ring), [1, 2]);
    await assert.rejects(ring.readableAsync({ timeoutMs: -1 }), RangeError);
  });

  await t.step("a closed ring rejects with Closed once drained; sends are refused", async () => {
    const ring = makeRing(2);
    ring.send([1]);
    const waiting = ring.readableAsync();
    ring.close();
    await waiting;
    assert.equal(await ring.recvAsync(), 1);
    await assert.rejects(ring.recvAsync(), Closed);
    await assert.rejects(ring.readableAsync(), Closed);
    await assert.rejects(ring.writableAsync(1), Closed);
    await assert.rejects(ring.sendOneAsync(2), Closed);
    assert.equal(ring.len(), 0, "a closed ring takes no new items through sendOneAsync");
  });

  await t.step("close wakes a pending readableAsync, which rejects with Closed", async () => {
    const ring = makeRing(2);
    const waiting = ring.recvAsync();
    setTimeout(() => ring.close(), 5);
    await assert.rejects(waiting, Closed);
  });

  await t.step("an AbortSignal aborts a pending wait with its reason", async () => {
    const ring = makeRing(2);
    const ac = new AbortController();
    const waiting = ring.readableAsync({ signal: ac.signal });
    const reason = new Error("stop waiting");
    setTimeout(() => ac.abort(reason), 5);
    await assert.rejects(waiting, (err) => err === reason);
    assert.equal(words(ring)[CONSUMER_WAITERS], 0, "the aborted waiter unregistered");

    ring.send([1, 2, 3, 4]);
    const ac2 = new AbortController();
    const sending = ring.sendOneAsync(5, { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 5);
    await assert.rejects(sending, { name: "AbortError" });
    assert.equal(words(ring)[PRODUCER_WAITERS], 0);
    assert.deepEqual(takeAll(ring), [1, 2, 3, 4]);
  });

  await t.step("an already aborted signal rejects at once on an empty ring", async () => {
    const ring = makeRing(2);
    await assert.rejects(ring.recvAsync({ signal: AbortSignal.abort() }), {
      name: "AbortError",
    });
    ring.send([9]);
    assert.equal(await ring.recvAsync({ signal: AbortSignal.abort() }), 9, "data wins");
  });

  await t.step("for await yields every item, then ends when closed and drained", async () => {
    const ring = makeRing(2);
    ring.send([1, 2]);
    let next = 3;
    const feed = setInterval(() => {
      while (next <= 20 && ring.sendOne(next)) next++;
      if (next > 20) {
        ring.close();
        clearInterval(feed);
      }
    }, 1);
    const seen: number[] = [];
    for await (const x of ring) seen.push(x);
    assert.deepEqual(seen, range(1, 20));
    assert.ok(ring.isClosed() && ring.isEmpty());
  });

  await t.step("for await over a ring closed while empty ends at once", async () => {
    const ring = makeRing(2);
    ring.close();
    const seen: number[] = [];
    for await (const x of ring) seen.push(x);
    assert.deepEqual(seen, []);
  });
});

Deno.test("Ring: a peer dies between reserve and commit", async () => {
  const ring = makeRing(3);
  ring.send([1, 2]);
  const { worker, report } = startPeer({
    job: "reserveAndStop",
    handle: ring.handle(),
    values: [66, 77, 88],
  });
  try {
    assert.equal((await report).count, 3);
  } finally {
    worker.terminate();
  }
  // The dead producer's writes were never published.
  assert.equal(ring.len(), 2);
  assert.deepEqual(takeAll(ring), [1, 2]);
  assert.equal(ring.readable(), null);
  // A new producer starts at the committed tail and overwrites the dead slots.
  const producer = Ring.fromHandle<number, Uint32Array>(ring.handle());
  assert.equal(producer.reserve(3)!.pos, 2);
  producer.commit(0);
  producer.send([3, 4, 5]);
  assert.deepEqual(takeAll(ring), [3, 4, 5]);
});

Deno.test("Ring: a peer dies between readable and advance", async () => {
  const ring = makeRing(2);
  ring.send([1, 2, 3, 4]);
  const { worker, report } = startPeer({ job: "readAndStop", handle: ring.handle() });
  try {
    assert.deepEqual((await report).items, [1, 2, 3, 4]);
  } finally {
    worker.terminate();
  }
  // Nothing was consumed: the ring is still full and a new consumer sees it all.
  assert.ok(ring.isFull());
  assert.equal(ring.sendOne(5), false);
  const consumer = Ring.fromHandle<number, Uint32Array>(ring.handle());
  assert.deepEqual(takeAll(consumer), [1, 2, 3, 4]);
  assert.equal(ring.sendOne(5), true);
});

Deno.test("Ring: a producer blocked in reserveBlocking in a Worker is released by advance", async () => {
  const ring = makeRing(2);
  ring.send([1, 2, 3, 4]);
  const { worker, report } = startPeer({
    job: "reserveBlocking",
    handle: ring.handle(),
    n: 2,
    values: [5, 6],
    timeoutMs: SAFETY_MS,
  });
  try {
    await sleeperOn(ring, PRODUCER_WAITERS);
    assert.equal(ring.len(), 4, "the blocked producer wrote nothing");
    const c = collector();
    assert.equal(ring.consumeUpTo(2, c), 2);
    const done = await report;
    assert.equal(done.error, null);
    assert.equal(done.count, 2);
  } finally {
    worker.terminate();
  }
  assert.deepEqual(takeAll(ring), [3, 4, 5, 6]);
});

Deno.test("Ring: a Worker blocked in consumeBatchBlocking is released by commit", async () => {
  const ring = makeRing(3);
  moveBy(ring, 6);
  const { worker, report } = startPeer({
    job: "consumeBlocking",
    handle: ring.handle(),
    want: 5,
    timeoutMs: SAFETY_MS,
  });
  try {
    await sleeperOn(ring, CONSUMER_WAITERS);
    const r = ring.reserve(5)!;
    assert.equal(r.length, 2);
    r.array[6] = 10;
    r.array[7] = 11;
    ring.commit(2);
    await sleeperOn(ring, CONSUMER_WAITERS);
    ring.send([12, 13, 14]);
    const done = await report;
    assert.equal(done.error, null);
    assert.deepEqual(done.items, [10, 11, 12, 13, 14]);
  } finally {
    worker.terminate();
  }
  assert.ok(ring.isEmpty());
});

Deno.test("Ring: a Worker blocked in consumeBatchBlocking is released by close", async () => {
  const ring = makeRing(3);
  const { worker, report } = startPeer({
    job: "consumeBlocking",
    handle: ring.handle(),
    want: 3,
    timeoutMs: SAFETY_MS,
  });
  try {
    ring.send([1]);
    await sleeperOn(ring, CONSUMER_WAITERS);
    ring.close();
    const done = await report;
    assert.equal(done.error, "Closed");
    assert.deepEqual(done.items, [1]);
  } finally {
    worker.terminate();
  }
});

Deno.test("Ring: this thread blocks in reserveBlocking until a Worker advances", async () => {
  const ring = makeRing(2);
  ring.send([1, 2, 3, 4]);
  const { worker, report } = startPeer({
    job: "advanceWhenProducerWaits",
    handle: ring.handle(),
    advance: 3,
  });
  try {
    // Blocks this thread (Atomics.wait) until the Worker sees the sleeper and advances.
    const r = ring.reserveBlocking(3, WaitStrategy.timedBlocking(SAFETY_MS));
    assert.equal(r.length, 3);
    for (let i = 0; i < 3; i++) r.array[r.offset + i] = 5 + i;
    ring.commit(r.length);
    const done = await report;
    assert.equal(done.error, null);
    assert.deepEqual(done.items, [1, 2, 3]);
  } finally {
    worker.terminate();
  }
  // The Worker was the consumer, so a fresh consumer object reads the rest.
  assert.deepEqual(takeAll(Ring.fromHandle(ring.handle())), [4, 5, 6, 7]);
});

Deno.test("Ring: this thread blocks in consumeBatchBlocking until a Worker commits", async () => {
  const ring = makeRing(3);
  const { worker, report } = startPeer({
    job: "sendWhenConsumerWaits",
    handle: ring.handle(),
    values: [7, 8, 9],
  });
  try {
    const c = collector();
    const n = ring.consumeBatchBlocking(c, WaitStrategy.timedBlocking(SAFETY_MS));
    const done = await report;
    assert.equal(done.error, null);
    assert.equal(done.count, 3);
    c.items.push(...takeAll(ring));
    assert.ok(n >= 1);
    assert.deepEqual(c.items, [7, 8, 9]);
  } finally {
    worker.terminate();
  }
});
