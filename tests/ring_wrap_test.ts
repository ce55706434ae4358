/**
 * Counter wrap and hostile shared memory for the SPSC `Ring`.
 *
 * Positions are free-running u64 words in shared memory (tail at byte 0, head
 * at byte 128, see the layout at the top of src/ring.ts) that the ring handles
 * as wrapping 32-bit integers. These tests write the words directly, rebuild
 * the ring with `Ring.fromHandle`, and check that items, order, `len()` and
 * the 64-bit words stay right when positions cross 2^32 (and 2^64), and that
 * words no honest peer could write make the ring throw `RingCorrupt` instead
 * of handing out garbage.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, Ring, RING_LAYOUT, RingCorrupt, u32 } from "../mod.ts";

type U32Ring = Ring<number, Uint32Array>;

const TWO_32 = 2n ** 32n;
const TWO_64 = 2n ** 64n;

/** A ring whose shared tail and head words both start at `start` (a u64). */
function ringAt(
  ringBits: number,
  start: bigint,
  wasmAtomics = false,
): { ring: U32Ring; wide: BigUint64Array } {
  return ringWith(ringBits, start, start, wasmAtomics);
}

/**
 * A ring rebuilt over shared words holding `tail` and `head` (any u64
 * values), its close gate's `sending` word at rest (the tail's low word).
 */
function ringWith(
  ringBits: number,
  tail: bigint,
  head: bigint,
  wasmAtomics = false,
): { ring: U32Ring; wide: BigUint64Array } {
  const handle = new Ring(u32, { ringBits, wasmAtomics }).handle();
  const wide = new BigUint64Array(handle.buffer, 0, RING_LAYOUT.data / 8);
  wide[RING_LAYOUT.tail / 8] = BigInt.asUintN(64, tail);
  wide[RING_LAYOUT.head / 8] = BigInt.asUintN(64, head);
  new Uint32Array(handle.buffer)[RING_LAYOUT.sending / 4] = Number(BigInt.asUintN(32, tail));
  return { ring: Ring.fromHandle(handle), wide };
}

function tailWord(wide: BigUint64Array): bigint {
  return wide[RING_LAYOUT.tail / 8];
}

function headWord(wide: BigUint64Array): bigint {
  return wide[RING_LAYOUT.head / 8];
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

function takeAll(ring: U32Ring): number[] {
  const out: number[] = [];
  for (let x = ring.tryRecv(); x !== null; x = ring.tryRecv()) out.push(x);
  return out;
}

for (const wasmAtomics of [false, true]) {
  Deno.test(`wrap: send and recv across 2^32${wasmAtomics ? ", wasmAtomics" : ""}`, () => {
    const start = TWO_32 - 5n;
    const { ring, wide } = ringAt(3, start, wasmAtomics);
    assert.equal(ring.len(), 0);
    assert.ok(ring.isEmpty());

    assert.equal(ring.send([1, 2, 3]), 3);
    assert.equal(tailWord(wide), TWO_32 - 2n, "no carry yet");
    assert.equal(ring.send([4, 5, 6, 7, 8]), 5);
    assert.equal(tailWord(wide), TWO_32 + 3n, "the carry reached the high word");
    assert.equal(ring.len(), 8);
    assert.ok(ring.isFull());
    assert.equal(ring.sendOne(9), false);

    const out = new Uint32Array(4);
    assert.equal(ring.recv(out), 4);
    assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
    assert.equal(headWord(wide), TWO_32 - 1n);
    assert.equal(ring.len(), 4, "len is right while only the tail has crossed");
    assert.equal(ring.recv(out), 4);
    assert.deepEqual(Array.from(out), [5, 6, 7, 8]);
    assert.equal(headWord(wide), TWO_32 + 3n);
    assert.equal(ring.len(), 0);

    // A ring rebuilt after the carry continues from the same place.
    const again = Ring.fromHandle<number, Uint32Array>(ring.handle());
    const r = again.reserve(2)!;
    assert.equal(r.pos, 3);
    assert.equal(r.offset, 3);
    again.commit(0);
    again.send([10, 11]);
    assert.deepEqual(takeAll(again), [10, 11]);
    assert.equal(tailWord(wide), TWO_32 + 5n);
    assert.equal(headWord(wide), TWO_32 + 5n);
    // the close gate saw every commit end: a close() settles at once, later sends are refused
    again.close();
    assert.ok(again.isClosed());
    assert.throws(() => again.sendOne(12), Closed);
    assert.equal(tailWord(wide), TWO_32 + 5n, "a refused commit publishes nothing");
  });
}

Deno.test("wrap: a high word that is not zero is incremented, not replaced", () => {
  const start = 7n * TWO_32 + TWO_32 - 3n;
  const { ring, wide } = ringAt(2, start);
  for (let i = 0; i < 10; i++) {
    assert.equal(ring.sendOne(i), true);
    assert.equal(ring.tryRecv(), i);
    assert.equal(tailWord(wide), start + BigInt(i + 1));
    assert.equal(headWord(wide), start + BigInt(i + 1));
  }
  assert.equal(tailWord(wide) >> 32n, 8n);
});

Deno.test("wrap: positions wrap past 2^64 to zero like u64 counters", () => {
  const start = TWO_64 - 3n;
  const { ring, wide } = ringAt(3, start);
  ring.send(range(1, 5));
  assert.equal(tailWord(wide), 2n);
  assert.equal(ring.len(), 5);
  assert.deepEqual(takeAll(ring), range(1, 5));
  assert.equal(headWord(wide), 2n);
});

Deno.test("wrap: the seed's Reservation example where the counter also wraps", () => {
  // Capacity 8, position 2^32 - 2: slot index 6, two slots before the end.
  const { ring, wide } = ringAt(3, TWO_32 - 2n);
  const r = ring.reserve(4)!;
  assert.equal(r.offset, 6);
  assert.equal(r.length, 2);
  assert.equal(r.pos, 2 ** 32 - 2);
  r.array[6] = 60;
  r.array[7] = 70;
  ring.commit(2);
  assert.equal(tailWord(wide), TWO_32);
  const rest = ring.reserve(2)!;
  assert.equal(rest.offset, 0);
  assert.equal(rest.length, 2);
  assert.equal(rest.pos, 0, "pos is the position modulo 2^32");
  rest.array[0] = 80;
  rest.array[1] = 90;
  ring.commit(1); // partial commit across the counter wrap
  assert.equal(tailWord(wide), TWO_32 + 1n);
  assert.equal(ring.len(), 3);

  const region = ring.readable()!;
  assert.equal(region.offset, 6);
  assert.equal(region.length, 2);
  assert.deepEqual(Array.from(region.slice), [60, 70]);
  ring.advance(2);
  assert.equal(headWord(wide), TWO_32);
  const second = ring.readable()!;
  assert.equal(second.offset, 0);
  assert.equal(second.length, 1);
  assert.equal(second.array[0], 80);
  ring.advance(1);
  assert.equal(headWord(wide), TWO_32 + 1n);
  assert.ok(ring.isEmpty());
});

Deno.test("wrap: every consumer operation across 2^32", async (t) => {
  const start = TWO_32 - 3n;
  const items = range(100, 6);
  type Consume = (ring: U32Ring) => number[];
  const cases: Record<string, Consume> = {
    consumeBatch: (ring) => {
      const seen: number[] = [];
      assert.equal(ring.consumeBatch({ process: (x) => void seen.push(x) }), 6);
      return seen;
    },
    consumeUpTo: (ring) => {
      const seen: number[] = [];
      const handler = { process: (x: number) => void seen.push(x) };
      assert.equal(ring.consumeUpTo(4, handler), 4);
      assert.equal(ring.consumeUpTo(4, handler), 2);
      return seen;
    },
    consumeBatchFn: (ring) => {
      const seen: number[] = [];
      assert.equal(ring.consumeBatchFn((x) => seen.push(x)), 6);
      return seen;
    },
    recv: (ring) => {
      const out = new Uint32Array(6);
      assert.equal(ring.recv(out), 6);
      return Array.from(out);
    },
    drain: (ring) => {
      const out: number[] = new Array(10).fill(0);
      assert.equal(ring.drain(out), 6);
      return out.slice(0, 6);
    },
    "readable/advance": (ring) => {
      const seen: number[] = [];
      for (let r = ring.readable(); r !== null; r = ring.readable()) {
        assert.ok(r.offset + r.length <= ring.capacity());
        seen.push(...r.slice);
        ring.advance(r.length);
      }
      return seen;
    },
    "peekMany/skip": (ring) => {
      const seen: number[] = [];
      for (let w = ring.peekMany(4); w !== null; w = ring.peekMany(4)) {
        seen.push(...w.slice);
        assert.equal(ring.skip(w.length), w.length);
      }
      return seen;
    },
    "iterator/finish": (ring) => {
      const it = ring.iterator();
      const seen = [...it];
      assert.equal(it.finish(), 6);
      return seen;
    },
    "peek/tryRecv": (ring) => {
      const seen: number[] = [];
      while (ring.peek() !== null) {
        const p = ring.peek();
        const x = ring.tryRecv()!;
        assert.equal(p, x);
        seen.push(x);
      }
      return seen;
    },
  };
  for (const [name, consume] of Object.entries(cases)) {
    await t.step(name, () => {
      const { ring, wide } = ringAt(3, start);
      assert.equal(ring.send(items), 6);
      assert.equal(ring.len(), 6);
      assert.deepEqual(consume(ring), items);
      assert.equal(ring.len(), 0);
      assert.equal(headWord(wide), start + 6n);
      assert.equal(tailWord(wide), start + 6n);
    });
  }
  await t.step("consumeBatchCount", () => {
    const { ring, wide } = ringAt(3, start);
    ring.send(items);
    assert.equal(ring.consumeBatchCount(), 6);
    assert.equal(headWord(wide), start + 6n);
  });
});

Deno.test("wrap: a long stream through a small ring crosses 2^32 with nothing lost", () => {
  const start = TWO_32 - 10_000n;
  const { ring, wide } = ringAt(4, start);
  const total = 30_000;
  let sent = 0;
  let received = 0;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  const out = new Uint32Array(16);
  while (received < total) {
    const k = Math.min(1 + (rand() % 16), total - sent);
    if (k > 0) {
      const r = ring.reserve(Math.min(k, ring.capacity()));
      if (r !== null) {
        const c = rand() % (r.length + 1);
        for (let i = 0; i < c; i++) r.array[r.offset + i] = sent + i;
        ring.commit(c);
        sent += c;
      }
    }
    const n = ring.recv(out.subarray(0, 1 + (rand() % 16)));
    for (let i = 0; i < n; i++) assert.equal(out[i], received + i);
    received += n;
    assert.equal(ring.len(), sent - received);
  }
  assert.equal(tailWord(wide), start + BigInt(total));
  assert.equal(headWord(wide), start + BigInt(total));
});

Deno.test("hostile memory: tail − head > capacity makes every access throw RingCorrupt", async (t) => {
  const starts: [string, bigint][] = [["near zero", 0n], ["across 2^32", TWO_32 - 2n]];
  for (const [where, head] of starts) {
    const ops: Record<string, (ring: U32Ring) => unknown> = {
      readable: (ring) => ring.readable(),
      tryRecv: (ring) => ring.tryRecv(),
      peek: (ring) => ring.peek(),
      peekMany: (ring) => ring.peekMany(2),
      recv: (ring) => ring.recv(new Uint32Array(4)),
      drain: (ring) => ring.drain(new Uint32Array(4)),
      skip: (ring) => ring.skip(1),
      advance: (ring) => ring.advance(1),
      consumeBatch: (ring) => ring.consumeBatch({ process: () => {} }),
      consumeBatchCount: (ring) => ring.consumeBatchCount(),
      consumeUpTo: (ring) => ring.consumeUpTo(2, { process: () => {} }),
      consumeBatchFn: (ring) => ring.consumeBatchFn(() => {}),
      iterator: (ring) => ring.iterator(),
      reserve: (ring) => ring.reserve(1),
      send: (ring) => ring.send([1]),
      sendOne: (ring) => ring.sendOne(1),
    };
    for (const [name, op] of Object.entries(ops)) {
      await t.step(`${name} (${where})`, () => {
        const tail = head + 9n; // capacity 8
        const { ring, wide } = ringWith(3, tail, head);
        assert.throws(() => op(ring), {
          name: "RingCorrupt",
          message:
            /^Cannot use ring as tail − head exceeds capacity 8: received tail \d+, head \d+$/,
        });
        assert.equal(tailWord(wide), BigInt.asUintN(64, tail), "the ring wrote nothing");
        assert.equal(headWord(wide), BigInt.asUintN(64, head));
        assert.ok(ring.len() <= ring.capacity(), "len never reports more than the capacity");
      });
    }
  }
});

Deno.test("hostile memory: a head ahead of the tail is corrupt too", () => {
  const { ring } = ringWith(3, TWO_32 + 1n, TWO_32 + 2n);
  assert.throws(() => ring.readable(), RingCorrupt);
  assert.throws(() => ring.tryRecv(), RingCorrupt);
  assert.throws(() => ring.reserve(1), RingCorrupt);
});

Deno.test("hostile memory: tail − head = capacity is a full ring, not corruption", () => {
  const { ring } = ringWith(3, TWO_32 + 4n, TWO_32 - 4n);
  assert.ok(ring.isFull());
  assert.equal(ring.readable()!.length, 4);
  assert.equal(ring.reserve(1), null);
  assert.equal(ring.consumeBatchCount(), 8);
  assert.equal(ring.sendOne(1), true);
});

Deno.test("hostile memory: words rewritten under live ring objects", async (t) => {
  await t.step("an empty consumer sees a tail far past its head", () => {
    const ring = new Ring(u32, { ringBits: 3 });
    const consumer = Ring.fromHandle<number, Uint32Array>(ring.handle());
    ring.send([1]);
    assert.equal(consumer.tryRecv(), 1);
    const wide = new BigUint64Array(ring.handle().buffer, 0, 32);
    wide[0] = 1000n;
    assert.throws(() => consumer.readable(), {
      name: "RingCorrupt",
      message: /received tail 1000, head 1$/,
    });
    assert.throws(() => consumer.tryRecv(), RingCorrupt);
    assert.equal(wide[16], 1n);
  });

  await t.step("a producer that finds the ring full sees a head ahead of its tail", () => {
    const ring = new Ring(u32, { ringBits: 2 });
    ring.send([1, 2, 3, 4]);
    const wide = new BigUint64Array(ring.handle().buffer, 0, 32);
    wide[16] = 9n; // head 9, tail 4
    assert.throws(() => ring.sendOne(5), RingCorrupt);
    assert.throws(() => ring.reserve(1), RingCorrupt);
    assert.throws(() => ring.send([5]), RingCorrupt);
    assert.equal(wide[0], 4n);
  });
});
