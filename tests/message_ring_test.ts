/**
 * MessageRing: variable-length frames that never split across the wrap,
 * against a model queue, between Workers, and with forged lengths.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MessageRing, RING_LAYOUT, RingCorrupt } from "../mod.ts";

function payload(seq: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seq * 31 + i) & 0xff;
  return bytes;
}

Deno.test("message ring: random sends and receives match a queue model (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 9 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 })), { maxLength: 200 }),
      (ringBits, ops) => {
        const ring = new MessageRing({ ringBits });
        const model: Uint8Array[] = [];
        let seq = 0;
        for (const [send, size] of ops) {
          if (send) {
            const length = size % (ring.maxMessage() + 1);
            const m = payload(seq, length);
            if (ring.sendMessage(m)) {
              model.push(m);
              seq++;
            } else assert.ok(model.length > 0, "an empty ring refused a message that fits");
          } else {
            const got = ring.tryRecvMessage();
            const want = model.shift() ?? null;
            assert.deepEqual(got, want);
          }
        }
        while (model.length > 0) assert.deepEqual(ring.tryRecvMessage(), model.shift());
        assert.equal(ring.tryRecvMessage(), null);
        assert.ok(ring.ring.isEmpty());
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("message ring: zero-copy reserve/commit and read/advance; payloads 8-byte aligned", () => {
  const ring = new MessageRing({ ringBits: 6 });
  for (let round = 0; round < 50; round++) {
    const w = ring.reserveMessage(13)!;
    assert.equal(w.offset % 8, 0);
    w.array.set(payload(round, 13), w.offset);
    ring.commitMessage();
    const m = ring.readMessage()!;
    assert.equal(m.offset % 8, 0);
    assert.deepEqual(m.array.slice(m.offset, m.offset + m.length), payload(round, 13));
    ring.advanceMessage();
  }
  assert.throws(() => ring.commitMessage(), RangeError);
  assert.throws(() => ring.advanceMessage(), RangeError);
  assert.throws(() => ring.reserveMessage(ring.maxMessage() + 1), RangeError);
  assert.throws(() => new MessageRing({ ringBits: 3 }), RangeError);
});

Deno.test("message ring: forged lengths and skip markers are RingCorrupt, never an out-of-range read", () => {
  const ring = new MessageRing({ ringBits: 6 });
  const h = ring.handle();
  const words = new Uint32Array(h.buffer, RING_LAYOUT.data, 16);
  ring.sendMessage(new Uint8Array(8));
  words[0] = 1000; // a lying producer: the frame claims more than was published
  assert.throws(() => ring.readMessage(), RingCorrupt);
  words[0] = 0xffffffff; // a skip marker in the middle of the ring
  assert.throws(() => ring.readMessage(), RingCorrupt);
});

Deno.test("message ring: two Workers, random sizes, every message intact and in order", async () => {
  const ring = new MessageRing({ ringBits: 12 });
  const count = 20_000;
  const src = `
    import { MessageRing } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    self.onmessage = (e) => {
      const ring = MessageRing.fromHandle(e.data.handle);
      let x = 12345;
      const next = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % 700; };
      let length = next();
      for (let seq = 0; seq < e.data.count;) {
        const w = ring.reserveMessage(length);
        if (w === null) continue;
        for (let i = 0; i < length; i++) w.array[w.offset + i] = (seq * 31 + i) & 0xff;
        ring.commitMessage();
        seq++;
        length = next();
      }
      ring.close();
      self.postMessage("done");
    };`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const done = new Promise((r) => worker.onmessage = r);
  worker.postMessage({ handle: ring.handle(), count });
  let seq = 0;
  let x = 12345;
  for (;;) {
    const m = ring.readMessage();
    if (m === null) {
      if (ring.isClosed() && ring.ring.isEmpty()) break;
      await ring.readableAsync().catch(() => {});
      continue;
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    assert.equal(m.length, (x >>> 0) % 700, `message ${seq} length`);
    for (let i = 0; i < m.length; i++) {
      if (m.array[m.offset + i] !== ((seq * 31 + i) & 0xff)) {
        assert.fail(`message ${seq} byte ${i}`);
      }
    }
    ring.advanceMessage();
    seq++;
  }
  await done;
  worker.terminate();
  assert.equal(seq, count);
});
