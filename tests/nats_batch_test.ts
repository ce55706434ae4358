/**
 * The NATS bridge's wire format without a server: batches round-trip
 * through every codec, a batch never exceeds its byte limit, and a forged
 * batch (wrong magic, lengths past the end, impossible sequence) is
 * `BatchCorrupt`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { record, u32 } from "../mod.ts";
import { BATCH_HEADER_BYTES, BatchCorrupt, bytesCodec, elementCodec, jsonCodec } from "../nats.ts";
import { BatchWriter, readBatchHeader, readBatchItems } from "../src/nats/batch.ts";

Deno.test("nats batch: items round-trip through the byte, JSON and element codecs", () => {
  const point = record({ x: "f64", id: "u32" });
  const cases: [unknown, unknown[]][] = [
    [bytesCodec, [Uint8Array.of(), Uint8Array.of(1, 2, 3)]],
    [jsonCodec, [null, { a: ["é", 1] }, "𝄞"]],
    [elementCodec(u32), [0, 1, 0xffffffff]],
    [elementCodec(point), [{ x: 0.25, id: 7 }]],
  ];
  for (const [codec, items] of cases) {
    // deno-lint-ignore no-explicit-any
    const writer = new BatchWriter(codec as any, 1024, 0xabc);
    for (const item of items) assert.equal(writer.add(item), true);
    const bytes = writer.finish(42);
    assert.deepEqual(readBatchHeader(bytes), { count: items.length, origin: 0xabc, seq: 42 });
    const got: unknown[] = [];
    // deno-lint-ignore no-explicit-any
    readBatchItems(bytes, codec as any, (x) => got.push(x));
    assert.deepEqual(got, items);
    assert.equal(writer.count, 0);
  }
});

Deno.test("nats batch: a full batch refuses the next item; an item larger than a batch throws", () => {
  const writer = new BatchWriter(bytesCodec, BATCH_HEADER_BYTES + 3 * (4 + 10), 1);
  let n = 0;
  while (writer.add(new Uint8Array(10))) n++;
  assert.equal(n, 3);
  assert.equal(writer.finish(1).length, BATCH_HEADER_BYTES + 3 * 14);
  assert.throws(() => writer.add(new Uint8Array(100)), RangeError);
  assert.equal(readBatchHeader(writer.finish(2)).count, 0); // the end-of-stream batch
});

Deno.test("nats batch: forged batches are BatchCorrupt", () => {
  const writer = new BatchWriter(elementCodec(u32), 256, 1);
  writer.add(5);
  writer.add(6);
  const good = writer.finish(3);
  const forge = (at: number, value: number, float = false) => {
    const copy = good.slice();
    const v = new DataView(copy.buffer);
    if (float) v.setFloat64(at, value, true);
    else v.setUint32(at, value, true);
    return copy;
  };
  assert.throws(() => readBatchHeader(forge(0, 0x12345678)), BatchCorrupt);
  assert.throws(() => readBatchHeader(forge(4, 3)), BatchCorrupt); // count past the end
  assert.throws(() => readBatchHeader(forge(BATCH_HEADER_BYTES, 1000)), BatchCorrupt);
  assert.throws(() => readBatchHeader(forge(16, 0, true)), BatchCorrupt);
  assert.throws(() => readBatchHeader(forge(16, 1.5, true)), BatchCorrupt);
  assert.throws(() => readBatchHeader(forge(16, 2 ** 60, true)), BatchCorrupt);
  assert.throws(() => readBatchHeader(good.subarray(0, 10)), BatchCorrupt);
  assert.throws(() => elementCodec(u32).decode(Uint8Array.of(1)), BatchCorrupt);
  assert.throws(() => jsonCodec.decode(new TextEncoder().encode("{nope")), BatchCorrupt);
});
