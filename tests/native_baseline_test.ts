import assert from "node:assert/strict";
import { buildNativeBaseline, runNativeBaseline } from "../bench/native_baseline.ts";
import { hasPython } from "./_toolchain.ts";

const seqSum = (n: bigint) => n * (n - 1n) / 2n;

Deno.test({ name: "native baseline", ignore: !hasPython }, async (t) => {
  await t.step("builds once per process", async () => {
    const a = buildNativeBaseline();
    const b = buildNativeBaseline();
    assert.equal(a, b);
    assert.match(await a, /\/\.tools\/bench\/ring_bench$/);
  });
  await t.step("spsc per item and per batch deliver every item", async () => {
    for (const batch of [1, 7, 256]) {
      const r = await runNativeBaseline("spsc", { items: 1_000_003, batch, ringBits: 10 });
      assert.equal(r.mode, "spsc");
      assert.equal(r.items, 1_000_003);
      assert.equal(r.batch, batch);
      assert.equal(BigInt(r.checksum), seqSum(1_000_003n));
      assert.ok(r.itemsPerSec > 0);
    }
  });
  await t.step("mpsc splits items over producers", async () => {
    const r = await runNativeBaseline("mpsc", { items: 1_000_001, producers: 3, elem: "u64" });
    assert.equal(r.producers, 3);
    assert.equal(r.elem, "u64");
    assert.equal(BigInt(r.checksum), 2n * seqSum(333_334n) + seqSum(333_333n));
  });
  await t.step("mpmc delivers every item exactly once", async () => {
    const r = await runNativeBaseline("mpmc", {
      items: 2_000_000,
      producers: 2,
      consumers: 3,
      ringBits: 6,
      elem: "f64",
    });
    assert.equal(r.consumers, 3);
    assert.equal(BigInt(r.checksum), 2n * seqSum(1_000_000n));
  });
  await t.step("pingpong reports ordered percentiles", async () => {
    const r = await runNativeBaseline("pingpong", { rounds: 20_000 });
    assert.equal(r.rounds, 20_000);
    assert.ok(
      r.minNs <= r.p50Ns && r.p50Ns <= r.p99Ns && r.p99Ns <= r.p999Ns && r.p999Ns <= r.maxNs,
    );
  });
  await t.step("seqCst publishes with seq_cst stores and still delivers every item", async () => {
    const plain = await runNativeBaseline("spsc", { items: 100_003, ringBits: 8 });
    assert.equal(plain.order, "release");
    for (const mode of ["spsc", "mpsc", "mpmc"] as const) {
      const r = await runNativeBaseline(mode, { seqCst: true, items: 100_003, ringBits: 8 });
      assert.equal(r.ok, true);
      assert.equal(r.order, "seq_cst");
      assert.equal(r.items, 100_003);
      const p = BigInt(r.producers);
      const share = 100_003n / p;
      const extra = 100_003n % p; // the first `extra` producers send one item more
      assert.equal(
        BigInt(r.checksum),
        extra * seqSum(share + 1n) + (p - extra) * seqSum(share),
      );
    }
    const batched = await runNativeBaseline("spsc", { seqCst: true, items: 100_000, batch: 256 });
    assert.equal(batched.order, "seq_cst");
    assert.equal(BigInt(batched.checksum), seqSum(100_000n));
    const ping = await runNativeBaseline("pingpong", { seqCst: true, rounds: 2_000 });
    assert.equal(ping.order, "seq_cst");
    assert.equal(ping.rounds, 2_000);
  });
  await t.step("rejects bad options before running", async () => {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      runNativeBaseline("spsc", { seqCst: "yes" as any, items: 2 ** 40, timeoutMs: 100 }),
      TypeError,
    );
    // deno-lint-ignore no-explicit-any
    await assert.rejects(runNativeBaseline("pingpong", { pin: 1 as any }), TypeError);
    await assert.rejects(runNativeBaseline("spsc", { batch: 0 }), RangeError);
    await assert.rejects(runNativeBaseline("spsc", { batch: 2048, ringBits: 10 }), RangeError);
    await assert.rejects(runNativeBaseline("spsc", { items: 1.5 }), TypeError);
    await assert.rejects(runNativeBaseline("spsc", { producers: 2 }), TypeError);
    await assert.rejects(runNativeBaseline("mpsc", { consumers: 2 }), TypeError);
    await assert.rejects(runNativeBaseline("pingpong", { items: 5 }), TypeError);
    await assert.rejects(runNativeBaseline("pingpong", { elem: "f64" }), TypeError);
    await assert.rejects(runNativeBaseline("mpmc", { producers: 40, consumers: 40 }), RangeError);
    // deno-lint-ignore no-explicit-any
    await assert.rejects(runNativeBaseline("nope" as any), TypeError);
    await assert.rejects(runNativeBaseline("spsc", { timeoutMs: 0 }), RangeError);
    // accepted: single producer/consumer stated explicitly
    const r = await runNativeBaseline("spsc", { items: 10, producers: 1, consumers: 1 });
    assert.equal(BigInt(r.checksum), seqSum(10n));
  });
  await t.step("a run that overruns timeoutMs is killed and rejects", async () => {
    await assert.rejects(
      runNativeBaseline("spsc", { items: 2 ** 40, batch: 1, timeoutMs: 300 }),
      /ran longer than 300 ms/,
    );
  });
});
