/**
 * Property-based tests of the SPSC `Ring` (npm:fast-check): random sequences
 * of producer and consumer operations run against a plain array model. After
 * every step `len()`, `isEmpty()` and `isFull()` agree with the model, every
 * received item equals the model's next item (nothing lost, duplicated or
 * reordered), and the shared 64-bit tail and head words equal the model's
 * positions. Starting positions near 2^32 and 2^64 are generated parameters,
 * so the wrapping 32-bit position arithmetic is exercised at the carry.
 *
 * The consumer reloads the producer's tail only when its cached copy says
 * empty, so a batch operation may consume fewer items than `len()`; the model
 * accepts any count from 1 up to what was asked and readable, and checks the
 * items themselves exactly.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Ring, RING_LAYOUT, u32 } from "../mod.ts";

type U32Ring = Ring<number, Uint32Array>;

type Op =
  | { t: "send"; k: number; typed: boolean }
  | { t: "sendOne" }
  | { t: "reserve"; n: number; commit: number }
  | { t: "tryRecv" }
  | { t: "recv"; k: number; typed: boolean }
  | { t: "skip"; k: number }
  | { t: "peek" }
  | { t: "peekMany"; k: number }
  | { t: "consumeBatchCount" }
  | { t: "consumeUpTo"; k: number }
  | { t: "consumeBatch" }
  | { t: "readable"; advance: number }
  | { t: "drain"; k: number }
  | { t: "iterator"; take: number }
  | { t: "rebuild"; side: "producer" | "consumer" };

const count = fc.integer({ min: 0, max: 150 });
const fraction = fc.double({ min: 0, max: 1, noNaN: true });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("send"), k: count, typed: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("sendOne") }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("reserve"),
      n: fc.integer({ min: 1, max: 150 }),
      commit: fraction,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("tryRecv") }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("recv"), k: count, typed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("skip"), k: count }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("peek") }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("peekMany"), k: count }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("consumeBatchCount") }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("consumeUpTo"), k: count }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("consumeBatch") }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("readable"), advance: fraction }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("drain"), k: count }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("iterator"), take: count }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("rebuild"),
      side: fc.constantFrom("producer" as const, "consumer" as const),
    }),
  },
) as fc.Arbitrary<Op>;

const TWO_32 = 2n ** 32n;
const TWO_64 = 2n ** 64n;

/** Starting u64 positions, weighted towards the 2^32 carry. */
const startArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.constant(0n),
  fc.integer({ min: 1, max: 300 }).map((k) => TWO_32 - BigInt(k)),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 2 }), fc.integer({ min: 1, max: 300 }))
    .map(([high, k]) => (BigInt(high) << 32n) + TWO_32 - BigInt(k)),
  fc.integer({ min: 1, max: 300 }).map((k) => TWO_64 - BigInt(k)),
  fc.bigInt({ min: 0n, max: TWO_64 - 1n }),
);

/** The model: the items in the ring and the u64 positions. */
class Model {
  readonly items: number[] = [];
  tail: bigint;
  head: bigint;
  next = 0;
  constructor(readonly capacity: number, start: bigint) {
    this.tail = start;
    this.head = start;
  }
  get len(): number {
    return this.items.length;
  }
  get free(): number {
    return this.capacity - this.items.length;
  }
  /** Slot index of the tail and head. */
  get tailIndex(): number {
    return Number(this.tail % BigInt(this.capacity));
  }
  get headIndex(): number {
    return Number(this.head % BigInt(this.capacity));
  }
  fresh(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => (this.next + i) >>> 0);
    return out;
  }
  pushed(values: ArrayLike<number>, n: number): void {
    for (let i = 0; i < n; i++) this.items.push(values[i]);
    this.next = (this.next + n) >>> 0;
    this.tail = (this.tail + BigInt(n)) % TWO_64;
  }
  /** Checks `got` against the model's next items and removes them. */
  consumed(got: ArrayLike<number>, what: string): void {
    const expected = this.items.slice(0, got.length);
    assert.deepEqual(Array.from(got), expected, `${what}: items`);
    this.items.splice(0, got.length);
    this.head = (this.head + BigInt(got.length)) % TWO_64;
  }
}

/** A consumer count must be between 1 and `max` when anything is readable and asked for. */
function assertCount(n: number, max: number, what: string): void {
  assert.ok(Number.isInteger(n), `${what}: ${n} is an integer`);
  if (max <= 0) assert.equal(n, 0, `${what}: nothing to consume`);
  else assert.ok(n >= 1 && n <= max, `${what}: ${n} within 1..${max}`);
}

function step(op: Op, model: Model, rings: { producer: U32Ring; consumer: U32Ring }): void {
  const { producer, consumer } = rings;
  const cap = model.capacity;
  switch (op.t) {
    case "send": {
      const values = model.fresh(op.k);
      const n = producer.send(op.typed ? Uint32Array.from(values) : values);
      assert.equal(n, Math.min(op.k, model.free), "send: count");
      model.pushed(values, n);
      return;
    }
    case "sendOne": {
      const [v] = model.fresh(1);
      assert.equal(producer.sendOne(v), model.free > 0, "sendOne");
      if (model.free > 0) model.pushed([v], 1);
      return;
    }
    case "reserve": {
      const n = Math.min(op.n, cap);
      const r = producer.reserve(n);
      if (model.free < n) {
        assert.equal(r, null, "reserve: null when fewer than n are free");
        return;
      }
      assert.ok(r !== null, "reserve: a window when n are free");
      assert.equal(r.offset, model.tailIndex, "reserve: offset");
      assert.equal(r.length, Math.min(n, cap - model.tailIndex), "reserve: length");
      assert.equal(r.pos, Number(model.tail % TWO_32), "reserve: pos");
      const values = model.fresh(r.length);
      for (let i = 0; i < r.length; i++) r.array[r.offset + i] = values[i];
      const k = Math.min(r.length, Math.floor(op.commit * (r.length + 1)));
      producer.commit(k);
      model.pushed(values, k);
      return;
    }
    case "tryRecv": {
      const x = consumer.tryRecv();
      if (model.len === 0) assert.equal(x, null, "tryRecv: null when empty");
      else model.consumed([x!], "tryRecv");
      return;
    }
    case "recv": {
      const out = op.typed ? new Uint32Array(op.k) : new Array<number>(op.k).fill(-1);
      const n = consumer.recv(out);
      assertCount(n, Math.min(op.k, model.len), "recv");
      model.consumed(Array.from(out).slice(0, n), "recv");
      return;
    }
    case "skip": {
      const expected = model.items.slice(0, op.k);
      const n = consumer.skip(op.k);
      assertCount(n, Math.min(op.k, model.len), "skip");
      model.consumed(expected.slice(0, n), "skip");
      return;
    }
    case "peek": {
      const x = consumer.peek();
      assert.equal(x, model.len === 0 ? null : model.items[0], "peek");
      return;
    }
    case "peekMany": {
      const w = consumer.peekMany(op.k);
      const max = Math.min(op.k, model.len, cap - model.headIndex);
      if (w === null) {
        assert.ok(op.k === 0 || model.len === 0, "peekMany: null only when empty or k = 0");
        return;
      }
      assert.equal(w.offset, model.headIndex, "peekMany: offset");
      assertCount(w.length, max, "peekMany");
      assert.deepEqual(Array.from(w.slice), model.items.slice(0, w.length), "peekMany: items");
      return;
    }
    case "consumeBatchCount": {
      const expected = model.items.slice();
      const n = consumer.consumeBatchCount();
      assertCount(n, model.len, "consumeBatchCount");
      model.consumed(expected.slice(0, n), "consumeBatchCount");
      return;
    }
    case "consumeUpTo": {
      const seen: number[] = [];
      const n = consumer.consumeUpTo(op.k, { process: (x) => void seen.push(x) });
      assertCount(n, Math.min(op.k, model.len), "consumeUpTo");
      assert.equal(seen.length, n, "consumeUpTo: one call per item");
      model.consumed(seen, "consumeUpTo");
      return;
    }
    case "consumeBatch": {
      const seen: number[] = [];
      const n = consumer.consumeBatch({ process: (x) => void seen.push(x) });
      assertCount(n, model.len, "consumeBatch");
      assert.equal(seen.length, n, "consumeBatch: one call per item");
      model.consumed(seen, "consumeBatch");
      return;
    }
    case "readable": {
      const region = consumer.readable();
      if (model.len === 0) {
        assert.equal(region, null, "readable: null when empty");
        return;
      }
      assert.ok(region !== null, "readable: a window when not empty");
      assert.equal(region.offset, model.headIndex, "readable: offset");
      assertCount(region.length, Math.min(model.len, cap - model.headIndex), "readable");
      assert.deepEqual(
        Array.from(region.slice),
        model.items.slice(0, region.length),
        "readable: items",
      );
      const k = Math.min(region.length, Math.floor(op.advance * (region.length + 1)));
      const taken = Array.from(region.slice).slice(0, k);
      consumer.advance(k);
      model.consumed(taken, "readable/advance");
      return;
    }
    case "drain": {
      const out = new Uint32Array(op.k);
      const n = consumer.drain(out);
      assert.equal(n, Math.min(op.k, model.len), "drain: everything that fits");
      model.consumed(out.subarray(0, n), "drain");
      return;
    }
    case "iterator": {
      const it = consumer.iterator();
      const taken: number[] = [];
      while (taken.length < op.take) {
        const r = it.next();
        if (r.done) break;
        taken.push(r.value);
      }
      assert.ok(taken.length <= model.len, "iterator: never more than the ring holds");
      assert.equal(it.finish(), taken.length, "iterator: finish consumes what was taken");
      model.consumed(taken, "iterator");
      return;
    }
    case "rebuild": {
      const rebuilt = Ring.fromHandle<number, Uint32Array>(producer.handle());
      if (op.side === "producer") rings.producer = rebuilt;
      else rings.consumer = rebuilt;
      return;
    }
  }
}

function checkState(model: Model, rings: { producer: U32Ring; consumer: U32Ring }): void {
  for (const ring of [rings.producer, rings.consumer]) {
    assert.equal(ring.len(), model.len, "len");
    assert.equal(ring.isEmpty(), model.len === 0, "isEmpty");
    assert.equal(ring.isFull(), model.len === model.capacity, "isFull");
  }
  const wide = new BigUint64Array(rings.producer.handle().buffer, 0, RING_LAYOUT.data / 8);
  assert.equal(wide[RING_LAYOUT.tail / 8], model.tail, "the shared 64-bit tail word");
  assert.equal(wide[RING_LAYOUT.head / 8], model.head, "the shared 64-bit head word");
}

function run(ringBits: number, start: bigint, split: boolean, ops: Op[]): void {
  const handle = new Ring(u32, { ringBits }).handle();
  const wide = new BigUint64Array(handle.buffer, 0, RING_LAYOUT.data / 8);
  wide[RING_LAYOUT.tail / 8] = start;
  wide[RING_LAYOUT.head / 8] = start;
  const first = Ring.fromHandle<number, Uint32Array>(handle);
  const rings = {
    producer: first,
    consumer: split ? Ring.fromHandle<number, Uint32Array>(handle) : first,
  };
  const model = new Model(first.capacity(), start);
  checkState(model, rings);
  for (const op of ops) {
    step(op, model, rings);
    checkState(model, rings);
  }
  // Whatever is left comes out in order.
  const rest = new Uint32Array(model.len);
  assert.equal(rings.consumer.drain(rest), model.len);
  model.consumed(rest, "final drain");
  checkState(model, rings);
}

Deno.test("ring property: random operation sequences against an array model", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 7 }),
      startArb,
      fc.boolean(),
      fc.array(opArb, { minLength: 1, maxLength: 80 }),
      run,
    ),
    { numRuns: 1000 },
  );
});

Deno.test("ring property: long runs on tiny rings from 2^32 − k", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 64 }).map((k) => TWO_32 - BigInt(k)),
      fc.boolean(),
      fc.array(opArb, { minLength: 100, maxLength: 300 }),
      run,
    ),
    { numRuns: 150 },
  );
});
