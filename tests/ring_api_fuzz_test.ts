/**
 * API fuzz of `Ring` and `MessageRing`: random sequences of valid and invalid
 * calls against a model. Every valid call must return what the model says and
 * leave the same items in the same order; every invalid call (a hostile
 * count, limit, offset, array or handler) must throw a RangeError or TypeError
 * and leave every byte of the shared memory as it was.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { MessageRing, Ring, u32 } from "../mod.ts";
import {
  accepted,
  badArrayLike,
  badCount,
  badHandler,
  badLimit,
  collector,
  refused,
  sharedBuffers,
} from "./_api_fuzz.ts";

/** The model: the items in the ring, oldest first, and the free-running positions. */
interface Model {
  items: number[];
  next: number;
  head: number;
  capacity: number;
}

interface Real {
  ring: Ring<number, Uint32Array>;
  buffers: SharedArrayBuffer[];
}

type Cmd = fc.Command<Model, Real>;

/** A command that always applies; `run` asserts against the model. */
function cmd(name: string, run: (m: Model, r: Real) => void): Cmd {
  return { check: () => true, run: (m, r) => run(m, r), toString: () => name };
}

function fresh(m: Model, k: number): number[] {
  const values = Array.from({ length: k }, (_, i) => m.next + i);
  m.next += k;
  return values;
}

/** The model takes `n` items off the front and returns them. */
function take(m: Model, n: number): number[] {
  m.head += n;
  return m.items.splice(0, n);
}

/**
 * A consumer call took `n` items where the model says up to `bound` are
 * readable: the consumer reloads the producer's tail only when its cached copy
 * says empty, so it may see fewer, but never none while items exist.
 */
function within(n: number, bound: number): void {
  assert.ok(n <= bound, `took ${n}, more than the ${bound} readable`);
  if (bound > 0) assert.ok(n >= 1, "took nothing while items were readable");
}

function contiguous(m: Model, pos: number): number {
  return m.capacity - (pos % m.capacity);
}

function sameState(m: Model, r: Real): void {
  assert.equal(r.ring.len(), m.items.length);
  assert.equal(r.ring.isEmpty(), m.items.length === 0);
  assert.equal(r.ring.isFull(), m.items.length === m.capacity);
  accepted();
}

const validCommands = (capacity: number): fc.Arbitrary<Cmd>[] => [
  fc.integer({ min: 0, max: capacity + 2 }).map((k) =>
    cmd(`send(${k})`, (m, r) => {
      const values = fresh(m, k);
      const n = r.ring.send(values);
      assert.equal(n, Math.min(k, capacity - m.items.length));
      m.next -= k - n;
      m.items.push(...values.slice(0, n));
      sameState(m, r);
    })
  ),
  fc.constant(cmd("sendOne", (m, r) => {
    const ok = r.ring.sendOne(m.next);
    assert.equal(ok, m.items.length < capacity);
    if (ok) m.items.push(m.next++);
    sameState(m, r);
  })),
  fc.tuple(fc.integer({ min: 1, max: capacity }), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([n, f]) =>
      cmd(`reserve(${n}) commit(${f.toFixed(2)})`, (m, r) => {
        const res = r.ring.reserve(n);
        const tail = m.head + m.items.length;
        if (capacity - m.items.length < n) {
          assert.equal(res, null);
        } else {
          assert.ok(res !== null);
          assert.equal(res.length, Math.min(n, contiguous(m, tail)));
          const k = Math.floor(f * res.length);
          const values = fresh(m, k);
          for (let i = 0; i < k; i++) res.array[res.offset + i] = values[i];
          r.ring.commit(k);
          m.items.push(...values);
        }
        sameState(m, r);
      })
    ),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) =>
    cmd(`readable advance(${f.toFixed(2)})`, (m, r) => {
      const region = r.ring.readable();
      if (m.items.length === 0) assert.equal(region, null);
      else {
        assert.ok(region !== null);
        within(region.length, Math.min(m.items.length, contiguous(m, m.head)));
        assert.equal(region.array[region.offset], m.items[0]);
      }
      const k = Math.floor(f * (region?.length ?? 0));
      r.ring.advance(k);
      take(m, k);
      sameState(m, r);
    })
  ),
  fc.constant(cmd("tryRecv", (m, r) => {
    assert.equal(r.ring.tryRecv(), m.items.length === 0 ? null : take(m, 1)[0]);
    sameState(m, r);
  })),
  fc.integer({ min: 0, max: capacity + 2 }).chain((size) =>
    fc.integer({ min: 0, max: size }).map((start) =>
      cmd(`recv(${size}, ${start})`, (m, r) => {
        const out = new Array<number>(size).fill(-1);
        const n = r.ring.recv(out, start);
        within(n, Math.min(m.items.length, size - start));
        assert.deepEqual(out.slice(start, start + n), take(m, n));
        assert.ok(out.slice(0, start).every((v) => v === -1), "recv wrote before start");
        sameState(m, r);
      })
    )
  ),
  fc.oneof(fc.integer({ min: 0, max: capacity + 2 }), fc.constant(Infinity)).map((max) =>
    cmd(`consumeUpTo(${max})`, (m, r) => {
      const h = collector();
      const n = r.ring.consumeUpTo(max, h);
      within(n, Math.min(max, m.items.length));
      assert.deepEqual(h.items, take(m, n));
      sameState(m, r);
    })
  ),
  fc.constant(cmd("consumeBatch", (m, r) => {
    const h = collector();
    const n = r.ring.consumeBatch(h);
    within(n, m.items.length);
    assert.deepEqual(h.items, take(m, n));
    sameState(m, r);
  })),
  fc.integer({ min: 0, max: capacity + 2 }).map((n) =>
    cmd(`peekMany(${n})`, (m, r) => {
      const region = r.ring.peekMany(n);
      if (m.items.length === 0 || n === 0) assert.equal(region, null);
      else {
        assert.ok(region !== null);
        within(region.length, Math.min(n, m.items.length, contiguous(m, m.head)));
        assert.deepEqual(Array.from(region.slice), m.items.slice(0, region.length));
      }
      assert.equal(r.ring.peek(), m.items.length === 0 ? null : m.items[0]);
      sameState(m, r);
    })
  ),
  fc.oneof(fc.integer({ min: 0, max: capacity + 2 }), fc.constant(Infinity)).map((n) =>
    cmd(`skip(${n})`, (m, r) => {
      const k = r.ring.skip(n);
      within(k, Math.min(n, m.items.length));
      take(m, k);
      sameState(m, r);
    })
  ),
  fc.integer({ min: 0, max: capacity + 2 }).map((size) =>
    cmd(`drain(${size})`, (m, r) => {
      const out = new Uint32Array(size);
      const n = r.ring.drain(out);
      within(n, Math.min(size, m.items.length));
      assert.deepEqual(Array.from(out.subarray(0, n)), take(m, n));
      sameState(m, r);
    })
  ),
];

const invalidCommands = (capacity: number): fc.Arbitrary<Cmd>[] => [
  fc.oneof(badCount, fc.constantFrom(0, capacity + 1)).map((n) =>
    cmd(`reserve(${String(n)}) refused`, (_m, r) => {
      refused("reserve", r.buffers, () => r.ring.reserve(n as number));
      refused("waitWritable", r.buffers, () => r.ring.waitWritable(n as number));
    })
  ),
  badCount.map((k) =>
    cmd(`commit(${String(k)}) refused`, (m, r) => {
      const res = r.ring.reserve(1);
      refused("commit", r.buffers, () => r.ring.commit(k as number));
      if (res !== null) {
        refused("commit past the reservation", r.buffers, () => r.ring.commit(res.length + 1));
        r.ring.commit(0);
      }
      sameState(m, r);
    })
  ),
  badCount.map((k) =>
    cmd(`advance(${String(k)}) refused`, (m, r) => {
      refused("advance", r.buffers, () => r.ring.advance(k as number));
      refused("advance past the readable", r.buffers, () => r.ring.advance(m.items.length + 1));
    })
  ),
  fc.oneof(
    badArrayLike.map((out) => [out, 0] as const),
    badCount.filter((s) => s !== undefined).map((s) => [[0, 0, 0], s] as const),
    fc.constant([[0, 0], 3] as const),
  ).map(([out, start]) =>
    cmd(`recv(${String(out)}, ${String(start)}) refused`, (_m, r) => {
      refused("recv", r.buffers, () => r.ring.recv(out as number[], start as number));
    })
  ),
  fc.oneof(badLimit.map((max) => [max, collector()] as const), badHandler.map((h) => [1, h])).map((
    [max, h],
  ) =>
    cmd(`consumeUpTo(${String(max)}, ${String(h)}) refused`, (_m, r) => {
      refused("consumeUpTo", r.buffers, () => r.ring.consumeUpTo(max as number, h as never));
    })
  ),
  badHandler.map((h) =>
    cmd(`consumeBatch(${String(h)}) refused`, (_m, r) => {
      refused("consumeBatch", r.buffers, () => r.ring.consumeBatch(h as never));
    })
  ),
  badLimit.map((n) =>
    cmd(`peekMany/skip(${String(n)}) refused`, (_m, r) => {
      refused("peekMany", r.buffers, () => r.ring.peekMany(n as number));
      refused("skip", r.buffers, () => r.ring.skip(n as number));
    })
  ),
  badArrayLike.map((items) =>
    cmd(`send/drain(${String(items)}) refused`, (_m, r) => {
      refused("send", r.buffers, () => r.ring.send(items as number[]));
      refused("drain", r.buffers, () => r.ring.drain(items as number[]));
    })
  ),
];

Deno.test("Ring API fuzz: invalid calls are refused and change nothing; valid ones match the model", () => {
  for (const ringBits of [1, 3, 5]) {
    const capacity = 2 ** ringBits;
    fc.assert(
      fc.property(
        fc.commands([...validCommands(capacity), ...invalidCommands(capacity)], {
          maxCommands: 60,
        }),
        (commands) => {
          const ring = new Ring(u32, { ringBits });
          const setup = () => ({
            model: { items: [], next: 1, head: 0, capacity },
            real: { ring, buffers: sharedBuffers(ring.handle()) },
          });
          fc.modelRun(setup, commands);
          // what is left comes out in order, once
          const rest: number[] = [];
          while (ring.consumeBatch({ process: (v: number) => void rest.push(v) }) > 0);
          assert.equal(ring.len(), 0);
          for (let i = 1; i < rest.length; i++) assert.equal(rest[i], rest[i - 1] + 1);
        },
      ),
      { numRuns: 300 },
    );
  }
});

Deno.test("MessageRing API fuzz: bad lengths and payloads are refused and change nothing", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant("send" as const), size: fc.integer({ min: 0, max: 40 }) }),
          fc.record({ kind: fc.constant("recv" as const) }),
          fc.record({ kind: fc.constant("badLength" as const), value: badCount }),
          fc.record({ kind: fc.constant("badPayload" as const), value: badArrayLike }),
        ),
        { maxLength: 60 },
      ),
      (steps) => {
        const ring = new MessageRing({ ringBits: 7 });
        const buffers = sharedBuffers(ring.handle());
        const queue: number[] = [];
        let next = 0;
        for (const step of steps) {
          if (step.kind === "send") {
            const payload = new Uint8Array(step.size).fill(next & 0xff);
            if (ring.sendMessage(payload)) queue.push(next);
            next++;
            accepted();
          } else if (step.kind === "recv") {
            const got = ring.tryRecvMessage();
            const want = queue.shift();
            if (want === undefined) assert.equal(got, null);
            else assert.ok(got !== null && got.every((b) => b === (want & 0xff)));
            accepted();
          } else if (step.kind === "badLength") {
            refused("reserveMessage", buffers, () => ring.reserveMessage(step.value as number));
          } else {
            refused("sendMessage", buffers, () => ring.sendMessage(step.value as Uint8Array));
          }
        }
        refused("a message past maxMessage", buffers, () => {
          ring.reserveMessage(ring.maxMessage() + 1);
        });
      },
    ),
    { numRuns: 200 },
  );
});
