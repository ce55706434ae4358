/**
 * Handles that cannot lie: every ring and channel records in its own memory
 * what it holds (kind, element type and size, ringBits, limits, layout
 * version), and `fromHandle` checks a handle against that record. A handle
 * with a field of the wrong kind, another element type, another ringBits or
 * limit, or memory that holds something else is refused with a TypeError
 * (a RangeError for a number out of range) before anything is built.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { f32, i32, MessageRing, mpmc, mpsc, record, Ring, spmc, u32, u8 } from "../mod.ts";

function refusedAsShape(call: () => unknown, message?: RegExp): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof TypeError || error instanceof RangeError, `received ${error}`);
    assert.match((error as Error).message, /^Cannot /);
    if (message !== undefined) assert.match((error as Error).message, message);
    return true;
  });
}

Deno.test("handles: a Ring handle that lies about its element or ringBits is a TypeError", () => {
  const ring = new Ring(u32, { ringBits: 4 });
  ring.send([1, 2, 3]);
  const h = ring.handle();
  const same = Ring.fromHandle(h);
  assert.equal(same.tryRecv(), 1);
  const lies: [string, unknown, RegExp][] = [
    ["element i32 (same size)", { ...h, element: i32.spec }, /element type must be the memory's/],
    ["element f32 (same size)", { ...h, element: f32.spec }, /element type must be the memory's/],
    [
      "element u8",
      { ...h, element: u8.spec },
      /element size must match the memory's \(4\): received 1/,
    ],
    [
      "ringBits 3",
      { ...h, config: { ...h.config, ringBits: 3 } },
      /ringBits must match the memory's \(4\): received 3/,
    ],
    ["byteOffset as a string", { ...h, byteOffset: "0" }, /byteOffset must be a number/],
    ["config as a string", { ...h, config: "ringBits=4" }, /config must be an object/],
    [
      "no identity (fresh memory)",
      { ...h, buffer: new SharedArrayBuffer(h.buffer.byteLength) },
      /holds no ringmpsc structure/,
    ],
    [
      "a record type",
      { ...h, element: record({ a: "u32" }).spec },
      /element type must be the memory's/,
    ],
  ];
  for (const [what, handle, message] of lies) {
    assert.throws(() => Ring.fromHandle(handle as never), { name: "TypeError", message }, what);
  }
  assert.equal(ring.len(), 2, "nothing was consumed by the refused handles");
});

Deno.test("handles: each kind checks its own record; Ring.fromHandle views single rings raw", () => {
  const bytes = new Ring(u8, { ringBits: 6 });
  refusedAsShape(
    () => MessageRing.fromHandle(bytes.handle()),
    /kind must match the memory's \(Ring\): received MessageRing/,
  );
  const messages = new MessageRing({ ringBits: 6 });
  assert.ok(messages.sendMessage(new Uint8Array([7])));
  assert.equal(MessageRing.fromHandle(messages.handle()).tryRecvMessage()?.[0], 7);
  assert.equal(Ring.fromHandle(messages.handle()).capacity(), 64); // a raw view of the bytes

  const sp = new spmc.Channel(u32, { ringBits: 4, maxConsumers: 3 });
  const sh = sp.handle();
  refusedAsShape(
    () => spmc.Channel.fromHandle({ ...sh, config: { ...sh.config, maxConsumers: 9 } }),
    /maxConsumers must match the memory's \(3\): received 9/,
  );
  refusedAsShape(
    () => spmc.Channel.fromHandle({ ...sh, ring: { ...sh.ring, element: i32.spec } }),
    /element type/,
  );
  refusedAsShape(() =>
    spmc.Channel.fromHandle({ ring: bytes.handle(), config: sh.config } as never)
  );
  refusedAsShape(() => spmc.Channel.fromHandle(null as never), /handle must be an object/);
  assert.equal(spmc.Channel.fromHandle(sh).registerConsumer().stealOne(), null);

  const ms = new mpsc.Channel(u32, { ringBits: 4, maxProducers: 2 });
  const mh = ms.handle();
  refusedAsShape(() => mpsc.Channel.fromHandle({ ...mh, element: f32.spec }), /element type/);
  refusedAsShape(
    () => mpsc.Channel.fromHandle({ ...mh, config: { ...mh.config, ringBits: 5 } }),
    /ringBits must match/,
  );
  refusedAsShape(
    () => mpsc.Channel.fromHandle({ ...mh, buffer: new ArrayBuffer(8) } as never),
    /growable SharedArrayBuffer/,
  );
  mpsc.Channel.fromHandle(mh).register().sendOne(5);
  assert.equal(ms.recvOne(), 5);

  const mm = new mpmc.MpmcChannel(u32, { ringBits: 4, maxProducers: 2, maxConsumers: 2 });
  const xh = mm.handle();
  refusedAsShape(
    () => mpmc.MpmcChannel.fromHandle({ ...xh, config: { ...xh.config, maxProducers: 3 } }),
    /bytes its config needs/,
  );
  refusedAsShape(
    () => mpmc.MpmcChannel.fromHandle({ ...xh, config: { ...xh.config, maxConsumers: 3 } }),
    /maxConsumers must match the memory's \(2\): received 3/,
  );
  refusedAsShape(() => mpmc.MpmcChannel.fromHandle({ ...xh, element: i32.spec }), /element type/);
  refusedAsShape(
    () => mpmc.MpmcChannel.fromHandle({ ...xh, buffer: "x" } as never),
    /SharedArrayBuffer/,
  );
  mpmc.MpmcChannel.fromHandle(xh).register().sendOne(9);
  assert.equal(mm.registerConsumer().steal(new Uint32Array(4)), 1);
});

Deno.test("handles: random lies in any field of any handle are refused, and the memory is untouched", () => {
  const junk = fc.constantFrom<unknown>(
    null,
    undefined,
    "4",
    NaN,
    -1,
    0.5,
    2 ** 40,
    {},
    [],
    u8.spec,
    i32.spec,
    { kind: "u128" },
    new ArrayBuffer(8),
    new SharedArrayBuffer(8),
  );
  const makers: (() => { handle: Record<string, unknown>; rebuild(h: unknown): unknown })[] = [
    () => {
      const r = new Ring(u32, { ringBits: 4 });
      return { handle: { ...r.handle() }, rebuild: (h) => Ring.fromHandle(h as never) };
    },
    () => {
      const m = new mpsc.Channel(u32, { ringBits: 4, maxProducers: 2 });
      return { handle: { ...m.handle() }, rebuild: (h) => mpsc.Channel.fromHandle(h as never) };
    },
    () => {
      const m = new mpmc.MpmcChannel(u32, { ringBits: 3, maxProducers: 2, maxConsumers: 2 });
      return { handle: { ...m.handle() }, rebuild: (h) => mpmc.MpmcChannel.fromHandle(h as never) };
    },
  ];
  fc.assert(
    fc.property(
      fc.nat(makers.length - 1),
      fc.constantFrom("buffer", "byteOffset", "element", "config", "ringBits"),
      junk,
      (k, field, value) => {
        const { handle, rebuild } = makers[k]();
        const forged = field === "ringBits"
          ? { ...handle, config: { ...(handle.config as object), ringBits: value } }
          : { ...handle, [field]: value };
        if (field === "byteOffset" && !("byteOffset" in handle)) return; // channels have none
        const buffer = handle.buffer as SharedArrayBuffer;
        const before = new Uint8Array(buffer).slice();
        refusedAsShape(() => rebuild(forged));
        assert.deepEqual(new Uint8Array(buffer), before);
      },
    ),
    { numRuns: 500 },
  );
});
