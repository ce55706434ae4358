/**
 * Element descriptors (src/element.ts): every numeric kind through a ring,
 * record layout (offsets, padding, alignment) checked byte by byte in shared
 * memory, in-place record access through reservations and cursors, spec
 * round trips, and bad schemas.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  elementFromSpec,
  type ElementStore,
  type ElementType,
  f32,
  f64,
  i16,
  i32,
  i64,
  i8,
  record,
  RecordArray,
  Ring,
  RING_LAYOUT,
  u16,
  u32,
  u64,
  u8,
} from "../mod.ts";

interface Kind<V> {
  name: string;
  el: ElementType<V, ElementStore>;
  bytes: number;
  /** Values that must come back exactly (after the TypedArray's own conversion). */
  values: V[];
  ctor: { from(a: Iterable<V>): ArrayLike<V> & ArrayBufferView };
}

function kind<V>(
  name: string,
  el: ElementType<V, ElementStore & ArrayLike<V>>,
  bytes: number,
  values: V[],
  ctor: { from(a: Iterable<V>): ArrayLike<V> & ArrayBufferView },
): Kind<V> {
  return { name, el: el as unknown as ElementType<V, ElementStore>, bytes, values, ctor };
}

const KINDS = [
  kind("u8", u8, 1, [0, 1, 127, 128, 255], Uint8Array),
  kind("i8", i8, 1, [-128, -1, 0, 1, 127], Int8Array),
  kind("u16", u16, 2, [0, 1, 32768, 65535], Uint16Array),
  kind("i16", i16, 2, [-32768, -1, 0, 32767], Int16Array),
  kind("u32", u32, 4, [0, 1, 2 ** 31, 2 ** 32 - 1], Uint32Array),
  kind("i32", i32, 4, [-(2 ** 31), -1, 0, 2 ** 31 - 1], Int32Array),
  kind(
    "f32",
    f32,
    4,
    [0, -0, 1.5, Math.fround(0.1), -Infinity, 3.4028234663852886e38],
    Float32Array,
  ),
  kind("f64", f64, 8, [0, -0, 0.1, -1e300, Number.MIN_VALUE, Infinity], Float64Array),
  kind("u64", u64, 8, [0n, 1n, 2n ** 63n, 2n ** 64n - 1n], BigUint64Array),
  kind("i64", i64, 8, [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n], BigInt64Array),
] as Kind<unknown>[];

/** `n` values cycling through the kind's list. */
function cycle<V>(k: Kind<V>, n: number): V[] {
  return Array.from({ length: n }, (_, i) => k.values[i % k.values.length]);
}

Deno.test("element: every numeric kind", async (t) => {
  for (const k of KINDS) {
    await t.step(k.name, () => {
      assert.equal(k.el.bytes, k.bytes);
      assert.deepEqual(k.el.spec, { kind: k.name });
      assert.equal(elementFromSpec(k.el.spec), k.el, "the spec rebuilds the same descriptor");
      assert.equal(elementFromSpec(structuredClone(k.el.spec)), k.el);

      const ring = new Ring(k.el, { ringBits: 7 });
      assert.equal(ring.bufferMemory(), 128 * k.bytes);
      // Move the positions so the batches below cross the end of the store.
      for (let moved = 0; moved < 100; moved += 10) {
        ring.send(cycle(k, 10));
        ring.consumeBatchCount();
      }
      // Plain arrays (per-item loop) and TypedArrays of 64+ (bulk copy), across the wrap.
      const small = cycle(k, 40);
      const big = k.ctor.from(cycle(k, 80));
      assert.equal(ring.send(small), 40);
      assert.equal(ring.send(big), 80);
      assert.equal(ring.len(), 120);
      const plainOut: unknown[] = new Array(40);
      assert.equal(ring.recv(plainOut), 40);
      assert.deepEqual(plainOut, small);
      const typedOut = k.ctor.from(cycle(k, 80).map(() => k.values[0]));
      assert.equal(ring.recv(typedOut as unknown as unknown[]), 80);
      assert.deepEqual(Array.from(typedOut as ArrayLike<unknown>), Array.from(big));

      // One at a time, in place through a reservation, peek and the handler.
      for (const v of k.values) {
        const r = ring.reserve(1)!;
        (r.array as unknown as unknown[])[r.offset] = v;
        ring.commit(1);
        assert.ok(Object.is(ring.peek(), v), `peek ${String(v)}`);
        const seen: unknown[] = [];
        ring.consumeBatch({ process: (x) => void seen.push(x) });
        assert.equal(seen.length, 1);
        assert.ok(Object.is(seen[0], v), `consumeBatch ${String(v)}`);
        assert.ok(ring.sendOne(v));
        assert.ok(Object.is(ring.tryRecv(), v), `tryRecv ${String(v)}`);
      }

      // The ring views its data region as the kind's own TypedArray.
      const r = ring.reserve(1)!;
      assert.equal(r.array.constructor, k.ctor);
      assert.equal((r.array as ArrayBufferView).byteOffset, RING_LAYOUT.data);
      ring.commit(0);

      // Rebuilt in "another Worker" from its handle, the element is the same.
      const other = Ring.fromHandle(ring.handle());
      assert.equal(other.element, k.el);
    });
  }
});

Deno.test("element: TypedArray conversion rules apply to out-of-range values", () => {
  const ring = new Ring(u8, { ringBits: 3 });
  ring.send([256, -1, 3.7]);
  assert.deepEqual([ring.tryRecv(), ring.tryRecv(), ring.tryRecv()], [0, 255, 3]);
  const f = new Ring(f32, { ringBits: 3 });
  f.sendOne(0.1);
  assert.equal(f.tryRecv(), Math.fround(0.1));
  const big = new Ring(u64, { ringBits: 3 });
  big.sendOne(-1n);
  assert.equal(big.tryRecv(), 2n ** 64n - 1n);
  assert.throws(() => big.sendOne(1 as unknown as bigint), TypeError, "a number is not a bigint");
});

Deno.test("element: record layout, padding and alignment", async (t) => {
  const cases: [string, Record<string, string>, number, Record<string, number>][] = [
    ["the seed's tick", { price: "f64", qty: "u32", side: "u8" }, 16, {
      price: 0,
      qty: 8,
      side: 12,
    }],
    ["u8 then f64", { a: "u8", b: "f64" }, 16, { a: 0, b: 8 }],
    ["u8 u16 u8", { a: "u8", b: "u16", c: "u8" }, 6, { a: 0, b: 2, c: 4 }],
    ["three bytes", { a: "u8", b: "i8", c: "u8" }, 3, { a: 0, b: 1, c: 2 }],
    ["u16 then u32", { a: "u16", b: "u32" }, 8, { a: 0, b: 4 }],
    ["u32 then u8", { a: "u32", b: "u8" }, 8, { a: 0, b: 4 }],
    ["one u8", { a: "u8" }, 1, { a: 0 }],
    ["bigints", { id: "u64", delta: "i64", flag: "u8" }, 24, { id: 0, delta: 8, flag: 16 }],
    ["f32 pair", { x: "f32", y: "f32" }, 8, { x: 0, y: 4 }],
  ];
  for (const [name, schema, bytes, offsets] of cases) {
    await t.step(name, () => {
      const el = record(schema as Record<string, "u8">);
      assert.equal(el.bytes, bytes);
      // Write slot 1 field by field through the cursor and find each field's
      // bytes where the layout says, with every other byte left zero.
      const ring = new Ring(el, { ringBits: 2 });
      const r = ring.reserve(2)!;
      const cursor = r.array.at(1) as Record<string, number | bigint>;
      const fields = Object.keys(schema);
      fields.forEach((f, i) => {
        cursor[f] = schema[f].endsWith("64") && schema[f] !== "f64" ? BigInt(i + 1) : i + 1;
      });
      ring.commit(2);
      const raw = new Uint8Array(ring.handle().buffer, RING_LAYOUT.data, 4 * bytes);
      const expected = new Uint8Array(4 * bytes);
      const dv = new DataView(expected.buffer);
      fields.forEach((f, i) => {
        const at = bytes + offsets[f];
        switch (schema[f]) {
          case "u8":
          case "i8":
            dv.setUint8(at, i + 1);
            break;
          case "u16":
            dv.setUint16(at, i + 1, true);
            break;
          case "u32":
            dv.setUint32(at, i + 1, true);
            break;
          case "f32":
            dv.setFloat32(at, i + 1, true);
            break;
          case "f64":
            dv.setFloat64(at, i + 1, true);
            break;
          default:
            dv.setBigUint64(at, BigInt(i + 1), true);
        }
      });
      assert.deepEqual(raw, expected);
    });
  }
});

Deno.test("element: records in place", async (t) => {
  const Tick = record({ price: "f64", qty: "u32", side: "u8" });

  await t.step("write through reservation.array.at(i).field, read back copies", () => {
    const ring = new Ring(Tick, { ringBits: 2 });
    ring.send([{ price: 0, qty: 0, side: 0 }, { price: 0, qty: 0, side: 0 }]);
    ring.consumeBatchCount(); // positions at 2: the next reservation of 3 wraps
    const r = ring.reserve(3)!;
    assert.ok(r.array instanceof RecordArray);
    assert.equal(r.offset, 2);
    assert.equal(r.length, 2);
    for (let i = 0; i < r.length; i++) {
      const t = r.array.at(r.offset + i);
      t.price = 100.5 + i;
      t.qty = 10 + i;
      t.side = i;
    }
    ring.commit(2);
    const got = ring.tryRecv()!;
    assert.deepEqual(got, { price: 100.5, qty: 10, side: 0 });
    got.price = -1; // a copy: the ring is untouched
    const p = ring.peek()!;
    assert.deepEqual({ price: p.price, qty: p.qty, side: p.side }, {
      price: 101.5,
      qty: 11,
      side: 1,
    });
  });

  await t.step("peek returns the in-place cursor; tryRecv a fresh object", () => {
    const ring = new Ring(Tick, { ringBits: 2 });
    ring.sendOne({ price: 1, qty: 2, side: 3 });
    const p = ring.peek()!;
    assert.equal(p.qty, 2);
    p.qty = 99; // writes the slot itself
    assert.equal(ring.peek(), p, "the same cursor every time");
    const a = ring.tryRecv()!;
    assert.deepEqual(a, { price: 1, qty: 99, side: 3 });
    ring.sendOne({ price: 4, qty: 5, side: 6 });
    const b = ring.tryRecv()!;
    assert.notEqual(a, b);
    assert.deepEqual(a, { price: 1, qty: 99, side: 3 }, "an earlier copy does not change");
  });

  await t.step("handlers get the cursor; recv, iterator and slice give copies", () => {
    const ring = new Ring(Tick, { ringBits: 3 });
    const items = [1, 2, 3].map((i) => ({ price: i / 2, qty: i, side: i % 2 }));
    ring.send(items);
    const copied: unknown[] = [];
    const cursors = new Set<unknown>();
    ring.consumeUpTo(2, {
      process: (x) => {
        cursors.add(x);
        copied.push({ price: x.price, qty: x.qty, side: x.side });
      },
    });
    assert.equal(cursors.size, 1, "one reused cursor");
    assert.deepEqual(copied, items.slice(0, 2));
    assert.equal(ring.consumeBatchCount(), 1);
    ring.send(items);
    const it = ring.iterator();
    const fromIt = [...it];
    it.finish();
    assert.deepEqual(fromIt, items);
    assert.notEqual(fromIt[0], fromIt[1]);
    ring.send(items);
    const region = ring.readable()!;
    assert.deepEqual(region.slice, items.slice(0, region.length));
    ring.advance(region.length);
    const out: (typeof items[0])[] = [];
    out.length = 3;
    ring.recv(out);
    assert.deepEqual(out.slice(0, 3 - region.length), items.slice(region.length));
  });

  await t.step("64-bit fields are bigints", () => {
    const Ev = record({ id: "u64", at: "i64", v: "f32" });
    const ring = new Ring(Ev, { ringBits: 1 });
    ring.sendOne({ id: 2n ** 64n - 1n, at: -5n, v: 0.5 });
    assert.deepEqual(ring.tryRecv(), { id: 2n ** 64n - 1n, at: -5n, v: 0.5 });
  });

  await t.step("a record spec round-trips, and the rebuilt ring reads the same slots", () => {
    const ring = new Ring(Tick, { ringBits: 2 });
    ring.sendOne({ price: 7.25, qty: 8, side: 1 });
    const spec = structuredClone(Tick.spec);
    assert.deepEqual(spec, { kind: "record", schema: { price: "f64", qty: "u32", side: "u8" } });
    const rebuilt = elementFromSpec(spec);
    assert.equal(rebuilt.bytes, Tick.bytes);
    assert.deepEqual(rebuilt.spec, Tick.spec);
    const other = Ring.fromHandle(structuredClone(ring.handle()));
    assert.deepEqual(other.tryRecv(), { price: 7.25, qty: 8, side: 1 });
    assert.ok(Object.isFrozen(Tick.spec));
  });
});

Deno.test("element: bad schemas and specs are TypeErrors", () => {
  assert.throws(() => record({}), {
    name: "TypeError",
    message: "Cannot describe a record as its schema has no fields: received {}",
  });
  assert.throws(() => record({ a: "u128" } as never), {
    name: "TypeError",
    message: 'Cannot describe a record as field "a" has an unknown kind: received u128',
  });
  for (const bad of ["toString", "constructor", "__proto__", "BYTES_PER_ELEMENT"]) {
    assert.throws(() => record({ a: bad } as never), TypeError, `kind ${bad}`);
  }
  assert.throws(() => record({ a: 8 } as never), TypeError);
  assert.throws(() => elementFromSpec({ kind: "u128" } as never), {
    name: "TypeError",
    message: "Cannot rebuild element type as its kind is unknown: received u128",
  });
  for (const bad of ["constructor", "toString", "hasOwnProperty"]) {
    assert.throws(() => elementFromSpec({ kind: bad } as never), TypeError, `kind ${bad}`);
  }
  assert.throws(() => elementFromSpec(null as never), TypeError);
  assert.throws(() => elementFromSpec({ kind: "record", schema: {} }), TypeError);
  assert.throws(() => elementFromSpec({ kind: "record", schema: { a: "x" } } as never), TypeError);
});
