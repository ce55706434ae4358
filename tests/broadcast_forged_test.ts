import assert from "node:assert/strict";
import fc from "fast-check";
import { BroadcastConsumer, BroadcastProducer } from "../src/broadcast/mod.ts";
import {
  Evicted,
  InvalidMagic,
  RingCorrupt,
  TooManyConsumers,
  VersionMismatch,
} from "../src/errors.ts";
import {
  C_HEAD,
  CONTROL_BYTES,
  P_MODE,
  P_PID,
  P_PROGRESS,
  P_SLOT,
  P_TAIL,
  PAGE_WORDS,
} from "../src/broadcast/_layout.ts";
import { checkMessage, messageLength, writeMessage } from "./fixtures/broadcast_payload.ts";

const typed = (e: unknown) =>
  e instanceof RingCorrupt || e instanceof InvalidMagic || e instanceof VersionMismatch ||
  e instanceof Evicted || e instanceof TooManyConsumers;

/** A page word a hostile consumer can write, and what it writes. */
const pageForgery = fc.record({
  slot: fc.integer({ min: 1, max: 3 }),
  word: fc.constantFrom(P_TAIL, P_PROGRESS, P_SLOT, P_PID, P_MODE),
  value: fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0, max: 64 }).map((n) => n * 16),
    fc.constantFrom(0, 1, 2, 3, 0xfffffff0),
  ),
});

let producerRuns = 0;
let producerForgeries = 0;
Deno.test("broadcast forged: hostile consumers' pages never stall the producer nor cost an honest consumer a message", () => {
  const max = 100;
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant({ op: "send" as const }) },
          { weight: 3, arbitrary: pageForgery.map((f) => ({ op: "forge" as const, ...f })) },
          { weight: 1, arbitrary: fc.constant({ op: "scan" as const }) },
          { weight: 1, arbitrary: fc.constant({ op: "join" as const }) },
          { weight: 2, arbitrary: fc.constant({ op: "read" as const }) },
        ),
        { minLength: 1, maxLength: 80 },
      ),
      (ops) => {
        producerRuns++;
        const p = BroadcastProducer.create({
          capacity: 512,
          maxConsumers: 4,
          stallTimeoutMs: 2 ** 30,
          clogThreshold: 1,
        });
        const honest = BroadcastConsumer.fromHandle(p.join());
        for (let i = 0; i < 3; i++) p.join({ mode: "pull" });
        const pages = new Int32Array(p.buffer, CONTROL_BYTES, 4 * PAGE_WORDS);
        let sent = 0;
        let next = 0;
        const read = () => {
          for (let m = honest.peek(); m !== null; m = honest.peek()) {
            assert.equal(checkMessage(m.array, m.offset, m.length, next, max), null);
            honest.advance();
            next++;
          }
          honest.publish();
        };
        for (const o of ops) {
          try {
            if (o.op === "send") {
              const length = messageLength(sent, max);
              const r = p.reserve(length);
              if (r === null) continue;
              writeMessage(r.array, r.offset, length, sent);
              p.commit();
              sent++;
            } else if (o.op === "forge") {
              producerForgeries++;
              pages[o.slot * PAGE_WORDS + o.word] = o.value;
            } else if (o.op === "scan") {
              p.scan();
            } else if (o.op === "join") {
              p.join();
            } else {
              read();
            }
          } catch (e) {
            assert.ok(typed(e), String(e));
          }
        }
        read();
        assert.equal(next, sent, "the honest consumer got every message sent, in order");
        // Whatever the hostile pages say, evicting their slots frees the ring.
        for (let slot = 1; slot < 4; slot++) p.evict(slot);
        assert.equal(p.consumerCount, 1, "only the honest consumer is left");
        const length = messageLength(sent, max);
        const r = p.reserve(length);
        assert.notEqual(r, null, "a message fits once the honest consumer has read");
        writeMessage(r!.array, r!.offset, length, sent);
        p.commit();
        sent++;
        read();
        assert.equal(next, sent);
      },
    ),
    { numRuns: 1500 },
  );
  assert.equal(producerRuns, 1500);
});

let controlRuns = 0;
Deno.test("broadcast forged: any forged control region is refused with a typed error or read within bounds", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          word: fc.nat({ max: 0x8c >> 2 }),
          value: fc.oneof(
            fc.integer({ min: 0, max: 0xffffffff }),
            fc.constantFrom(0, 1, 16, 64, 256, 4096, 2 ** 30, 0x80000000),
          ),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      (forged) => {
        controlRuns++;
        const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 2 });
        const h = p.join();
        p.send(Uint8Array.of(1, 2, 3));
        const control = new Uint32Array(p.buffer, 0, CONTROL_BYTES >> 2);
        for (const f of forged) control[f.word] = f.value;
        try {
          const c = BroadcastConsumer.attach(p.buffer, h.slot, h.epoch);
          for (let i = 0; i < 4; i++) {
            const m = c.peek();
            if (m === null) break;
            assert.ok(m.offset >= 16 && m.offset + m.length <= c.capacity);
            c.advance();
          }
          c.publish();
        } catch (e) {
          assert.ok(typed(e), String(e));
        }
      },
    ),
    { numRuns: 1500 },
  );
  assert.equal(controlRuns, 1500);
});

Deno.test("broadcast forged: a sequence id past 2^53 is RingCorrupt, printing both words", () => {
  const p = BroadcastProducer.create({ capacity: 256, maxConsumers: 1 });
  const c = BroadcastConsumer.fromHandle(p.join());
  new Uint32Array(p.buffer, CONTROL_BYTES + 4096, 64).set([4, 0, 1, 2 ** 21]);
  new Uint32Array(p.buffer, 0, 64)[C_HEAD] = 32;
  assert.throws(() => c.peek(), {
    name: "RingCorrupt",
    message:
      "Cannot read broadcast ring as the message at 0 holds a sequence id past 2^53: received seqHi 0x200000 and seqLo 0x1",
  });
  console.log(
    `forged broadcast: ${producerRuns} producer runs (${producerForgeries} page words forged), ${controlRuns} control-region runs`,
  );
});
