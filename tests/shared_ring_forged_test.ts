/**
 * Forged-memory fuzz of the SharedRing header: a peer that writes any value
 * into any header word — before we attach, or while we use the ring — must
 * only ever get typed errors out of us (InvalidMagic, VersionMismatch,
 * SlotSizeMismatch, RingCorrupt, or a RangeError for a ring_bits legal for
 * ringmpsc but too wide here), never a window outside the data region, a
 * count above the capacity, an item that was not committed, or a hang.
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
  u64,
  VersionMismatch,
} from "../mod.ts";
import { SharedMemory, SharedRing } from "../native.ts";

/** The header's words: byte offset and width. */
const FIELDS: readonly [number, 4 | 8][] = [
  [0x000, 8], // magic
  [0x008, 4], // version
  [0x00c, 4], // ring_bits
  [0x010, 8], // capacity
  [0x018, 8], // capacity_mask
  [0x020, 4], // slot_size
  [0x024, 4], // header_size
  [0x028, 8], // total_size
  [0x080, 8], // tail
  [0x088, 8], // cached_head
  [0x090, 8], // heartbeat_ns
  [0x100, 8], // head
  [0x108, 8], // cached_tail
  [0x180, 4], // consumer_waiters
  [0x184, 4], // producer_waiters
  [0x188, 4], // closed
];

/** The run-time words a peer shares with us: positions, waiters, closed. */
const LIVE = FIELDS.filter(([offset]) => offset >= 0x080);

/** Values a liar picks: anything, and near-honest ones (off by one, high-word lies, wraps). */
const forgedValue = (width: 4 | 8): fc.Arbitrary<bigint> =>
  fc.oneof(
    width === 8
      ? fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
      : fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
    fc.constantFrom(0n, 1n, 7n, 8n, 9n, 15n, 16n, 17n, 2n ** 31n, 2n ** 32n - 1n),
    ...(width === 8
      ? [fc.constantFrom(2n ** 32n, 2n ** 32n + 8n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 8n)]
      : []),
  );

const forgery = (fields: readonly [number, 4 | 8][]) =>
  fc.constantFrom(...fields).chain(([offset, width]) =>
    forgedValue(width).map((value) => ({ offset, width, value }))
  );

type Forgery = { offset: number; width: 4 | 8; value: bigint };

const tally = { forged: 0, attachedAnyway: 0, refusedAtAttach: 0, corruptSeen: 0, closedSeen: 0 };

function write(memory: SharedMemory, f: Forgery): void {
  const view = new DataView(memory.buffer, 0, 512);
  if (f.width === 8) view.setBigUint64(f.offset, f.value, true);
  else view.setUint32(f.offset, Number(f.value), true);
  tally.forged++;
}

function typedAttachError(error: unknown): boolean {
  return error instanceof InvalidMagic || error instanceof VersionMismatch ||
    error instanceof SlotSizeMismatch || error instanceof RingCorrupt ||
    (error instanceof RangeError && /ring_bits must be between 1 and 30/.test(error.message));
}

/** One call on an attached ring; every result it returns must be one an honest ring could give. */
function poke(ring: SharedRing<bigint, BigUint64Array>, op: number, capacity: number): void {
  try {
    switch (op) {
      case 0: {
        const r = ring.readable();
        if (r !== null) {
          assert.ok(r.length >= 1 && r.offset + r.length <= capacity, "window outside the data");
          ring.advance(r.length);
        }
        break;
      }
      case 1: {
        const r = ring.reserve(1);
        if (r !== null) {
          assert.ok(r.length >= 1 && r.offset + r.length <= capacity, "window outside the data");
          r.array[r.offset] = 42n;
          ring.commit(1);
        }
        break;
      }
      case 2:
        ring.send([1n, 2n, 3n]);
        break;
      case 3: {
        const n = ring.len();
        assert.ok(n >= 0 && n <= capacity, `len ${n} outside 0..${capacity}`);
        break;
      }
      default:
        ring.tryRecv();
    }
  } catch (error) {
    // a forged closed word reads as a peer's close: commits then fail with Closed, as on an
    // honestly closed ring (src/close_gate.ts); anything else must be RingCorrupt
    if (!(error instanceof RingCorrupt || error instanceof Closed)) throw error;
    assert.match(error.message, /^Cannot /);
    if (error instanceof Closed) tally.closedSeen++;
    else tally.corruptSeen++;
  }
}

Deno.test("SharedRing forged header: any word forged before attach is refused by type or harmless", () => {
  using honest = SharedRing.create(u64, 3);
  using original = SharedMemory.attach(honest.getFd());
  const template = new Uint8Array(original.buffer.slice(0, 512));
  fc.assert(
    fc.property(
      fc.array(forgery(FIELDS), { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(4), { maxLength: 12 }),
      (forgeries, ops) => {
        using memory = SharedMemory.create(original.size);
        new Uint8Array(memory.buffer).set(template);
        for (const f of forgeries) write(memory, f);
        let ring: SharedRing<bigint, BigUint64Array>;
        try {
          ring = SharedRing.attach(u64, memory.fd);
        } catch (error) {
          assert.ok(typedAttachError(error), `untyped refusal: ${error}`);
          tally.refusedAtAttach++;
          return;
        }
        tally.attachedAnyway++;
        try {
          // what attached must be the honest geometry: the checked fields were not lies
          assert.equal(ring.ring.capacity(), 8);
          for (const op of ops) poke(ring, op, 8);
        } finally {
          ring.deinit();
        }
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("SharedRing forged header: positions, waiters and closed forged while in use", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.nat(4), forgery(LIVE)), { minLength: 1, maxLength: 30 }),
      (steps) => {
        using producer = SharedRing.create(u64, 3);
        using consumer = SharedRing.attach(u64, producer.getFd());
        using peer = SharedMemory.attach(producer.getFd());
        let forged = false;
        let next = 0n;
        for (const s of steps) {
          if (typeof s !== "number") {
            write(peer, s);
            forged = true;
          } else if (s === 4) {
            // an honest exchange: while nothing is forged, an item sent into an empty ring comes back
            if (!forged && consumer.len() === 0) {
              assert.equal(producer.sendOne(next), true);
              assert.equal(consumer.tryRecv(), next++);
            }
          } else {
            poke(s === 1 || s === 2 ? producer : consumer, s, 8); // each object keeps its role
          }
        }
      },
    ),
    { numRuns: 400 },
  );
  assert.ok(tally.forged > 0 && tally.corruptSeen > 0, JSON.stringify(tally));
});
