/**
 * Metrics (src/metrics.ts) and a ring's counters with `enableMetrics`:
 * counts after each kind of send and consume, the derived averages, merge and
 * reset, counters shared between ring objects, and `null` when disabled.
 * Latency counters are checked for consistency, never for their size.
 *
 * @module
 */
import assert from "node:assert/strict";
import { METRIC_FIELDS, Metrics, METRICS_BYTES, Ring, RING_LAYOUT, u32 } from "../mod.ts";

function metricsRing(ringBits = 3, trackContention = false): Ring<number, Uint32Array> {
  return new Ring(u32, { ringBits, enableMetrics: true, trackContention });
}

function snapshot(fields: Partial<Record<(typeof METRIC_FIELDS)[number], number>>): Metrics {
  const m = new Metrics();
  Object.assign(m, fields);
  return m;
}

Deno.test("Metrics: a new snapshot is all zeros and its averages are 0", () => {
  const m = new Metrics();
  for (const f of METRIC_FIELDS) assert.equal(m[f], 0, f);
  assert.equal(m.avgBatchSize(), 0);
  assert.equal(m.avgLatencyNs(), 0);
  assert.equal(m.throughputPerSecond(1e9), 0);
  assert.equal(METRIC_FIELDS.length, 12);
  assert.equal(METRICS_BYTES, 96);
  assert.ok(
    RING_LAYOUT.metrics + METRICS_BYTES <= RING_LAYOUT.data,
    "the counters fit in the ring's cold region",
  );
});

Deno.test("Metrics: avgBatchSize, avgLatencyNs, throughputPerSecond", () => {
  const m = snapshot({
    messagesReceived: 1000,
    batchesReceived: 8,
    latencySumNs: 900,
    latencyCount: 4,
  });
  assert.equal(m.avgBatchSize(), 125);
  assert.equal(m.avgLatencyNs(), 225);
  assert.equal(m.throughputPerSecond(2e9), 500);
  assert.equal(m.throughputPerSecond(5e8), 2000);
  assert.equal(m.throughputPerSecond(0), 0);
  assert.equal(m.throughputPerSecond(-5), 0);
});

Deno.test("Metrics: merge sums counters, keeps maxima and the smallest recorded minimum", () => {
  const a = snapshot({
    messagesSent: 10,
    messagesReceived: 9,
    batchesSent: 2,
    batchesReceived: 3,
    reserveSpins: 1,
    reserveFailures: 1,
    totalWaitNs: 100,
    maxBatchSize: 5,
    latencySumNs: 50,
    latencyCount: 2,
    latencyMinNs: 20,
    latencyMaxNs: 30,
  });
  const b = snapshot({
    messagesSent: 1,
    messagesReceived: 2,
    batchesSent: 1,
    batchesReceived: 1,
    reserveSpins: 4,
    reserveFailures: 0,
    totalWaitNs: 7,
    maxBatchSize: 2,
    latencySumNs: 40,
    latencyCount: 1,
    latencyMinNs: 40,
    latencyMaxNs: 40,
  });
  a.merge(b);
  assert.deepEqual({ ...a }, {
    ...snapshot({
      messagesSent: 11,
      messagesReceived: 11,
      batchesSent: 3,
      batchesReceived: 4,
      reserveSpins: 5,
      reserveFailures: 1,
      totalWaitNs: 107,
      maxBatchSize: 5,
      latencySumNs: 90,
      latencyCount: 3,
      latencyMinNs: 20,
      latencyMaxNs: 40,
    }),
  });
  assert.equal(b.messagesSent, 1, "the merged-in snapshot is unchanged");

  // A side that recorded no latency does not drag the minimum down to 0.
  const empty = new Metrics();
  empty.merge(b);
  assert.equal(empty.latencyMinNs, 40);
  const c = snapshot({ latencyCount: 1, latencyMinNs: 15, latencyMaxNs: 15, latencySumNs: 15 });
  c.merge(new Metrics());
  assert.equal(c.latencyMinNs, 15);
  assert.equal(c.latencyCount, 1);
});

Deno.test("Metrics: reset and fromCounters", () => {
  const counters = Float64Array.from(METRIC_FIELDS.map((_, i) => i + 1));
  const m = Metrics.fromCounters(counters);
  METRIC_FIELDS.forEach((f, i) => assert.equal(m[f], i + 1, f));
  counters[0] = 99;
  assert.equal(m.messagesSent, 1, "a snapshot does not follow the counters");
  m.reset();
  for (const f of METRIC_FIELDS) assert.equal(m[f], 0, f);
});

Deno.test("ring metrics: null when disabled", () => {
  const ring = new Ring(u32, { ringBits: 3 });
  ring.send([1, 2]);
  ring.consumeBatchCount();
  assert.equal(ring.getMetrics(), null);
  assert.equal(new Ring(u32, { ringBits: 3, trackContention: true }).getMetrics(), null);
});

Deno.test("ring metrics: sends and consumes are counted", () => {
  const ring = metricsRing(3);
  ring.send([1, 2, 3]);
  ring.sendOne(4);
  const r = ring.reserve(3)!;
  r.array[r.offset] = 5;
  r.array[r.offset + 1] = 6;
  ring.commit(2);
  ring.reserve(1);
  ring.commit(0); // publishes nothing, counts nothing
  ring.send([]);
  let m = ring.getMetrics()!;
  assert.equal(m.messagesSent, 6);
  assert.equal(m.batchesSent, 3);
  assert.equal(m.messagesReceived, 0);

  const seen: number[] = [];
  assert.equal(ring.consumeUpTo(4, { process: (x) => void seen.push(x) }), 4);
  assert.equal(ring.tryRecv(), 5);
  assert.equal(ring.skip(1), 1);
  m = ring.getMetrics()!;
  assert.equal(m.messagesReceived, 6);
  assert.equal(m.batchesReceived, 3);
  assert.equal(m.maxBatchSize, 4);
  assert.equal(m.avgBatchSize(), 2);
  assert.equal(m.latencyCount, 1, "only handler consumes record latency");

  ring.send([7, 8, 9]);
  ring.consumeBatch({ process: () => {} });
  ring.send([10, 11]);
  ring.consumeBatchFn(() => {});
  ring.send([12]);
  assert.equal(ring.consumeBatchCount(), 1);
  ring.send([13, 14]);
  ring.recv(new Uint32Array(2));
  m = ring.getMetrics()!;
  assert.equal(m.messagesSent, 14);
  assert.equal(m.batchesSent, 7);
  assert.equal(m.messagesReceived, 14);
  assert.equal(m.batchesReceived, 7);
  assert.equal(m.latencyCount, 3);
  assert.ok(m.latencyMinNs >= 0);
  assert.ok(m.latencyMinNs <= m.avgLatencyNs() && m.avgLatencyNs() <= m.latencyMaxNs);
  assert.ok(Math.abs(m.latencySumNs - m.avgLatencyNs() * 3) < 1e-6 * (1 + m.latencySumNs));
  assert.equal(m.reserveSpins, 0, "contention is not tracked unless asked");
  assert.equal(m.reserveFailures, 0);
});

Deno.test("ring metrics: an empty consume counts nothing", () => {
  const ring = metricsRing(3);
  ring.consumeBatch({ process: () => {} });
  ring.consumeBatchCount();
  ring.tryRecv();
  ring.skip(3);
  assert.deepEqual({ ...ring.getMetrics()! }, { ...new Metrics() });
});

Deno.test("ring metrics: trackContention counts full reserves", () => {
  const ring = metricsRing(2, true);
  ring.send([1, 2, 3, 4]);
  assert.equal(ring.reserve(1), null);
  assert.equal(ring.reserve(2), null);
  let m = ring.getMetrics()!;
  assert.equal(m.reserveFailures, 2);
  assert.ok(m.reserveSpins >= 1);
  ring.skip(4);
  assert.notEqual(ring.reserve(4), null);
  m = ring.getMetrics()!;
  assert.equal(m.reserveFailures, 2, "a successful reserve is no failure");
});

Deno.test("ring metrics: shared between ring objects, and cleared by reset", () => {
  const producer = metricsRing(4);
  const consumer = Ring.fromHandle<number, Uint32Array>(producer.handle());
  producer.send([1, 2, 3]);
  consumer.consumeBatch({ process: () => {} });
  const fromConsumer = consumer.getMetrics()!;
  const fromProducer = producer.getMetrics()!;
  assert.deepEqual({ ...fromConsumer }, { ...fromProducer });
  assert.equal(fromProducer.messagesReceived, 3);
  assert.equal(fromConsumer.messagesSent, 3);
  fromProducer.messagesSent = 1000;
  assert.equal(producer.getMetrics()!.messagesSent, 3, "a snapshot is a copy");
  producer.reset();
  assert.deepEqual({ ...consumer.getMetrics()! }, { ...new Metrics() });
});

Deno.test("ring metrics: merging two rings' snapshots", () => {
  const a = metricsRing(3);
  const b = metricsRing(3);
  a.send([1, 2, 3, 4]);
  a.consumeBatchCount();
  b.send([1]);
  b.sendOne(2);
  b.tryRecv();
  const total = a.getMetrics()!;
  total.merge(b.getMetrics()!);
  assert.equal(total.messagesSent, 6);
  assert.equal(total.batchesSent, 3);
  assert.equal(total.messagesReceived, 5);
  assert.equal(total.batchesReceived, 2);
  assert.equal(total.maxBatchSize, 4);
  assert.equal(total.avgBatchSize(), 2.5);
});
