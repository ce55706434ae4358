/**
 * API fuzz of the channels (mpsc, spmc, mpmc): random sequences of valid and
 * invalid calls on producers, consumers and the channel itself, against a
 * model of one FIFO per producer. A consumed item must be the oldest of its
 * producer's queue (nothing lost, duplicated or reordered) and counts must
 * stay within what the model holds; every invalid call must throw a
 * RangeError or TypeError and leave every byte of the channel's shared memory
 * as it was — also where the head is shared by CAS consumers.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { mpmc, mpsc, spmc, u32 } from "../mod.ts";
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

/** Items are `producer * TAG + sequence`, so the model knows whose queue each came from. */
const TAG = 1 << 20;

/** One FIFO per producer, and each producer's next sequence number. */
class Model {
  readonly queues: number[][];
  readonly next: number[];

  constructor(producers: number) {
    this.queues = Array.from({ length: producers }, () => []);
    this.next = new Array(producers).fill(0);
  }

  get total(): number {
    return this.queues.reduce((sum, q) => sum + q.length, 0);
  }

  fresh(p: number, k: number): number[] {
    return Array.from({ length: k }, (_, i) => p * TAG + this.next[p] + i);
  }

  sent(p: number, values: readonly number[]): void {
    this.queues[p].push(...values);
    this.next[p] += values.length;
  }

  /** Checks that `items` (consumed, in order) are each the oldest of their queue, and pops them. */
  consumed(items: ArrayLike<number>, n: number, bound: number, mustTake: boolean): void {
    assert.ok(n <= bound, `took ${n}, more than the ${bound} available`);
    if (mustTake && bound > 0) assert.ok(n >= 1, "took nothing while items were available");
    for (let i = 0; i < n; i++) {
      const v = items[i];
      const q = this.queues[Math.floor(v / TAG)];
      assert.ok(q !== undefined && q.length > 0, `item ${v} came from nowhere`);
      assert.equal(v, q[0], `item ${v} is not its producer's oldest (${q[0]})`);
      q.shift();
    }
    accepted();
  }
}

/** What the producer side of every kind offers. */
interface Sender {
  reserve(n: number): { array: Uint32Array; offset: number; length: number } | null;
  commit(n: number): void;
  send(items: ArrayLike<number>): number;
  sendOne(item: number): boolean;
}

interface World {
  model: Model;
  senders: Sender[];
  buffers: SharedArrayBuffer[];
  capacity: number;
  pending(): number;
}

/** The world of `senders` over the structure behind `handle`, rings of 8 slots. */
function worldOf(senders: Sender[], handle: unknown, pending: () => number): World {
  return {
    model: new Model(senders.length),
    senders,
    buffers: sharedBuffers(handle),
    capacity: 8,
    pending,
  };
}

type Step = { name: string; run(w: World): void };

const step = (name: string, run: (w: World) => void): Step => ({ name, run });

/** Producer steps every kind shares: valid sends and reservations, and refused ones. */
function producerSteps(producers: number, capacity: number): fc.Arbitrary<Step>[] {
  const p = fc.integer({ min: 0, max: producers - 1 });
  return [
    fc.tuple(p, fc.integer({ min: 0, max: capacity + 2 })).map(([i, k]) =>
      step(`send(p${i}, ${k})`, (w) => {
        const values = w.model.fresh(i, k);
        const n = w.senders[i].send(values);
        assert.ok(n <= k);
        w.model.sent(i, values.slice(0, n));
        assert.equal(w.pending(), w.model.total);
      })
    ),
    fc.tuple(p, fc.integer({ min: 1, max: capacity }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([i, n, f]) =>
        step(`reserve(p${i}, ${n}) commit(${f.toFixed(2)})`, (w) => {
          const r = w.senders[i].reserve(n);
          if (r === null) return;
          const k = Math.floor(f * r.length);
          const values = w.model.fresh(i, k);
          for (let j = 0; j < k; j++) r.array[r.offset + j] = values[j];
          w.senders[i].commit(k);
          w.model.sent(i, values);
          assert.equal(w.pending(), w.model.total);
        })
      ),
    fc.tuple(p, fc.oneof(badCount, fc.constant(capacity + 1))).map(([i, bad]) =>
      step(`reserve/commit(p${i}, ${String(bad)}) refused`, (w) => {
        const s = w.senders[i];
        refused("reserve", w.buffers, () => s.reserve(bad as number));
        const r = s.reserve(1);
        refused("commit", w.buffers, () => s.commit(bad as number));
        if (r !== null) s.commit(0);
      })
    ),
    fc.tuple(p, badArrayLike).map(([i, bad]) =>
      step(`send(p${i}, ${String(bad)}) refused`, (w) => {
        refused("send", w.buffers, () => w.senders[i].send(bad as number[]));
      })
    ),
  ];
}

/** Runs `steps` on a fresh world from `make`, then checks that what is left drains in order. */
function fuzz(
  make: () => { world: World; drain(): number[] },
  consumerSteps: fc.Arbitrary<Step>[],
  producers: number,
  capacity: number,
  numRuns: number,
): void {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(...producerSteps(producers, capacity), ...consumerSteps), {
        maxLength: 50,
      }),
      (steps) => {
        const { world, drain } = make();
        for (const s of steps) s.run(world);
        const rest = drain();
        world.model.consumed(rest, rest.length, world.model.total, true);
        assert.equal(world.model.total, 0, "items the consumers never got");
      },
    ),
    { numRuns },
  );
}

Deno.test("mpsc API fuzz: every invalid call is refused and changes nothing", () => {
  const producers = 3;
  let ch!: mpsc.Channel<number, Uint32Array>;
  const consumer: fc.Arbitrary<Step>[] = [
    fc.integer({ min: 0, max: 12 }).map((size) =>
      step(`recv(${size})`, (w) => {
        const out = new Uint32Array(size);
        const n = ch.recv(out);
        w.model.consumed(out, n, Math.min(size, w.model.total), true);
      })
    ),
    fc.constant(step("recvOne", (w) => {
      const v = ch.recvOne();
      w.model.consumed(v === null ? [] : [v], v === null ? 0 : 1, w.model.total, true);
    })),
    fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(Infinity)).map((max) =>
      step(`consumeAllUpTo(${max})`, (w) => {
        const h = collector();
        const n = ch.consumeAllUpTo(max, h);
        w.model.consumed(h.items, n, Math.min(max, w.model.total), false); // adaptive skip
      })
    ),
    fc.constant(step("drainAll", (w) => {
      const h = collector();
      const bound = w.model.total;
      assert.equal(ch.drainAll(h), bound);
      w.model.consumed(h.items, h.items.length, bound, true);
    })),
    fc.oneof(badArrayLike.map((v) => ["recv", v] as const), badLimit.map((v) => ["max", v])).map((
      [what, bad],
    ) =>
      step(`${what}(${String(bad)}) refused`, (w) => {
        if (what === "recv") {
          refused("recv", w.buffers, () => ch.recv(bad as number[]));
          refused("drain", w.buffers, () => ch.drain(bad as number[]));
        } else {
          refused("consumeAllUpTo", w.buffers, () => ch.consumeAllUpTo(bad as number, collector()));
        }
      })
    ),
    badHandler.map((h) =>
      step(`handler ${String(h)} refused`, (w) => {
        refused("consumeAll", w.buffers, () => ch.consumeAll(h as never));
        refused("drainAll", w.buffers, () => ch.drainAll(h as never));
        refused("consumeAllUpTo", w.buffers, () => ch.consumeAllUpTo(1, h as never));
      })
    ),
    badCount.map((id) =>
      step(`getRing(${String(id)}) refused`, (w) => {
        refused("getRing", w.buffers, () => ch.getRing(id as number));
      })
    ),
  ];
  fuzz(
    () => {
      ch = new mpsc.Channel(u32, { ringBits: 3, maxProducers: producers });
      const senders = Array.from({ length: producers }, () => ch.register());
      const world = worldOf(senders, ch.handle(), () => ch.totalPending());
      return {
        world,
        drain: () => {
          const h = collector();
          ch.drainAll(h);
          return h.items;
        },
      };
    },
    consumer,
    producers,
    8,
    300,
  );
});

Deno.test("spmc API fuzz: CAS consumers refuse bad counts without moving the shared head", () => {
  let consumers!: spmc.Consumer<number, Uint32Array>[];
  const c = fc.integer({ min: 0, max: 1 });
  const consumer: fc.Arbitrary<Step>[] = [
    fc.tuple(c, fc.integer({ min: 0, max: 12 })).map(([i, size]) =>
      step(`steal(c${i}, ${size})`, (w) => {
        const out = new Uint32Array(size);
        const n = consumers[i].steal(out);
        w.model.consumed(out, n, Math.min(size, w.model.total), true);
      })
    ),
    fc.tuple(c, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.nat(12)).map((
      [i, size, startRaw, max],
    ) =>
      step(`claimInto(c${i}, ${size}, ${startRaw % (size + 1)}, ${max})`, (w) => {
        const start = startRaw % (size + 1);
        const out = new Array<number>(size).fill(-1);
        const n = consumers[i].claimInto(out, start, max);
        w.model.consumed(out.slice(start), n, Math.min(size - start, max, w.model.total), true);
      })
    ),
    fc.tuple(c, fc.integer({ min: 0, max: 12 })).map(([i, max]) =>
      step(`consumeBatch(c${i}, ${max})`, (w) => {
        const h = collector();
        const n = consumers[i].consumeBatch(h, max);
        w.model.consumed(h.items, n, Math.min(max, w.model.total), true);
      })
    ),
    fc.tuple(
      c,
      fc.oneof(
        badArrayLike.map((out) => [out, 0, 1] as const),
        badCount.map((start) => [[0, 0], start, 1] as const),
        fc.constant([[0, 0], 3, 1] as const),
        badLimit.map((max) => [[0, 0], 0, max] as const),
      ),
    ).map(([i, [out, start, max]]) =>
      step(`claimInto(c${i}, ${String(out)}, ${String(start)}, ${String(max)}) refused`, (w) => {
        refused("claimInto", w.buffers, () => {
          consumers[i].claimInto(out as number[], start as number, max as number);
        });
      })
    ),
    fc.tuple(c, fc.oneof(badHandler.map((h) => [h, 1]), badLimit.map((m) => [collector(), m])))
      .map(([i, [h, max]]) =>
        step(`consumeBatch(c${i}, ${String(h)}, ${String(max)}) refused`, (w) => {
          refused("consumeBatch", w.buffers, () => {
            consumers[i].consumeBatch(h as never, max as number);
          });
          refused("steal", w.buffers, () => consumers[i].steal(h as never));
        })
      ),
  ];
  fuzz(
    () => {
      const ch = new spmc.Channel(u32, { ringBits: 3, maxConsumers: 2 });
      consumers = [ch.registerConsumer(), ch.registerConsumer()];
      const world = worldOf([ch], ch.handle(), () => ch.len());
      return {
        world,
        drain: () => {
          const out: number[] = [];
          for (let v = consumers[0].stealOne(); v !== null; v = consumers[0].stealOne()) {
            out.push(v);
          }
          return out;
        },
      };
    },
    consumer,
    1,
    8,
    300,
  );
});

Deno.test("mpmc API fuzz: stealing consumers refuse bad arguments and change nothing", () => {
  const producers = 2;
  let consumers!: mpmc.Consumer<number, Uint32Array>[];
  const c = fc.integer({ min: 0, max: 1 });
  const consumer: fc.Arbitrary<Step>[] = [
    fc.tuple(c, fc.integer({ min: 0, max: 12 })).map(([i, size]) =>
      step(`steal(c${i}, ${size})`, (w) => {
        const out = new Uint32Array(size);
        const n = consumers[i].steal(out);
        w.model.consumed(out, n, Math.min(size, w.model.total), true);
      })
    ),
    fc.tuple(c, fc.integer({ min: 0, max: 12 })).map(([i, max]) =>
      step(`stealBatch(c${i}, ${max})`, (w) => {
        const h = collector();
        const n = consumers[i].stealBatch(h, max);
        assert.ok(n <= max);
        w.model.consumed(h.items, n, w.model.total, max > 0);
      })
    ),
    fc.tuple(c, fc.oneof(badHandler.map((h) => [h, 1]), badLimit.map((m) => [collector(), m])))
      .map(([i, [h, max]]) =>
        step(`stealBatch(c${i}, ${String(h)}, ${String(max)}) refused`, (w) => {
          refused("stealBatch", w.buffers, () => {
            consumers[i].stealBatch(h as never, max as number);
          });
        })
      ),
    fc.tuple(c, badArrayLike).map(([i, out]) =>
      step(`steal(c${i}, ${String(out)}) refused`, (w) => {
        refused("steal", w.buffers, () => consumers[i].steal(out as number[]));
      })
    ),
  ];
  fuzz(
    () => {
      const ch = new mpmc.MpmcChannel(u32, {
        ringBits: 3,
        maxProducers: producers,
        maxConsumers: 2,
      });
      const senders = Array.from({ length: producers }, () => ch.register());
      consumers = [ch.registerConsumer(), ch.registerConsumer()];
      const world = worldOf(senders, ch.handle(), () => ch.totalPending());
      return {
        world,
        drain: () => {
          const out = new Uint32Array(64);
          const n = consumers[0].steal(out);
          return Array.from(out.subarray(0, n));
        },
      };
    },
    consumer,
    producers,
    8,
    300,
  );
});
