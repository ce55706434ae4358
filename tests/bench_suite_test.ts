/**
 * Smoke test of the comparison suite (bench/suite.ts) in its hidden tiny
 * mode, plus the checks that make its "ok" mean something: the benchmark
 * Workers' consumers must reject a lost, duplicated or reordered item, and
 * the report helpers must compute percentiles, ratios, the table, the JSON
 * and a well-formed SVG.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { f64, MessageRing, Ring, u32 } from "../mod.ts";
import { Progress } from "../bench/_progress.ts";
import { latencyStats, median, percentile, speedRatio, summarize } from "../bench/_stats.ts";
import { renderSvg } from "../bench/_svg.ts";
import { formatReport, formatSection, type Section, type SuiteReport } from "../bench/_table.ts";
import { consumeMessages } from "../bench/workers/spsc_types_worker.ts";
import { consumeRing } from "../bench/workers/_ring_moves.ts";
import { echoRings, initiateRings } from "../bench/workers/pingpong_worker.ts";
import { consumeLimit, produceLimit } from "../bench/workers/_limit_ring.ts";
import { hasPython } from "./_toolchain.ts";

/**
 * Checks that `text` is well-formed XML as far as an SVG chart needs: one
 * root, every tag closed in order, attributes quoted, no raw `<` or stray
 * `&` in text. Returns the element names in document order.
 */
function checkXml(text: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let rest = text.replace(/^<\?xml[^?]*\?>\s*/, "");
  let roots = 0;
  const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/;
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const chars = lt < 0 ? rest : rest.slice(0, lt);
    assert.doesNotMatch(chars, /&(?!(lt|gt|amp|quot|apos|#\d+);)/, `stray & in ${chars}`);
    if (stack.length === 0) assert.match(chars, /^\s*$/, `text outside the root: ${chars}`);
    if (lt < 0) break;
    rest = rest.slice(lt);
    const m = tag.exec(rest);
    assert.ok(m !== null, `malformed tag at: ${rest.slice(0, 60)}`);
    const [whole, close, name, , selfClose] = m;
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      names.push(name);
      if (!selfClose) stack.push(name);
    }
    rest = rest.slice(whole.length);
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
  return names;
}

const SUITE = new URL("../bench/suite.ts", import.meta.url);

/** Sends `values` into a ring and runs the benchmark's consumer on them (one thread). */
function consumeU32(values: number[], count: number): number {
  const ring = new Ring(u32, { ringBits: 10 });
  assert.equal(ring.send(values), values.length);
  return consumeRing(ring, 0, count, 0);
}

Deno.test({ name: "bench suite", ignore: !hasPython }, async (t) => {
  await t.step("tiny mode: every row ok, JSON and SVG written", async () => {
    const dir = await Deno.makeTempDir({ prefix: "ringmpsc-bench-suite-" });
    try {
      const json = `${dir}/bench.json`;
      const svg = `${dir}/bench.svg`;
      // A process of its own: `deno run` does not type-check each Worker as `deno test` does.
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-ffi",
          "--allow-run",
          "--allow-env",
          "--allow-sys",
          fileURLToPath(SUITE),
          "--tiny",
          "--json",
          json,
          "--svg",
          svg,
        ],
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const table = new TextDecoder().decode(out.stdout);
      const progress = new TextDecoder().decode(out.stderr);
      const report = JSON.parse(await Deno.readTextFile(json)) as SuiteReport;
      const failures = report.sections.flatMap((s) =>
        s.measurements.filter((m) => !m.ok).map((m) =>
          `${m.id}: ${m.runs.map((r) => r.error).join("; ")}`
        )
      );
      assert.deepEqual(failures, []);
      assert.equal(out.code, 0, `runSuite did not return true:\n${progress}`);
      assert.equal(report.ok, true);
      assert.equal(report.mode, "tiny");
      assert.equal(report.runs, 1);
      const ids = report.sections.flatMap((s) => s.measurements.map((m) => m.id));
      for (
        const id of [
          "pingpong.ring-spin",
          "pingpong.ring-blocking",
          "pingpong.ring-sleep",
          "pingpong.shared-ring",
          "pingpong.post-message",
          "pingpong.message-channel",
          "pingpong.native",
          "pingpong.ring-spin.aggregate",
          "pingpong.shared-ring.aggregate",
          "pingpong.native.aggregate",
          "pingpong.native-sc",
          "pingpong.native-sc.aggregate",
          "pingpong.ring-wasm-spin",
          "pingpong.ring-wasm-spin.aggregate",
          "pingpong.limit",
          "pingpong.limit.aggregate",
          "pingpong.limit-ring",
          "pingpong.limit-ring-wasm.aggregate",
          "pingpong.limit-protocol.aggregate",
          "u32.ring-item",
          "u32.ring-wasm-item",
          "u32.limit-wasm-batch",
          "u32.ring-batch",
          "u32.ring-copy-batch",
          "u32.shared-ring-item",
          "u32.shared-ring-batch",
          "f64.ring-item",
          "f64.ring-batch",
          "msg1k.message-ring-copy",
          "msg1k.message-ring-in-place",
          "msg1k.ringbuf-item",
          "f64.native-batch",
          "u32.native-sc-item",
          "u32.native-sc-batch",
          "channels.mpsc-2x1-b256",
          "channels.mpsc-2x1-b256.native",
          "wake.atomics",
          "wake.futex-process",
          "wake.eventfd",
        ]
      ) assert.ok(ids.includes(id), `missing ${id}`);
      let pairs = 0;
      for (const section of report.sections) {
        for (const m of section.measurements) {
          assert.equal(m.runs.length, 1, m.id);
          assert.ok(m.value > 0, `${m.id} has no figure`);
          if (m.kind === "latency" && !m.id.endsWith(".aggregate")) {
            assert.ok(m.p50Ns! <= m.p99Ns! && m.p99Ns! <= m.p999Ns!, `${m.id} percentiles`);
          }
        }
        for (const row of section.rows) {
          assert.ok(section.measurements.some((m) => m.id === row.js), row.js);
          for (const id of Object.values(row.peers)) {
            assert.ok(section.measurements.some((m) => m.id === id), id);
            pairs++;
          }
        }
      }
      const names = checkXml(await Deno.readTextFile(svg));
      assert.equal(names[0], "svg");
      assert.equal(names.filter((n) => n === "rect").length, pairs + 1, "one bar per pair");
      assert.match(table, /1\. Ping-pong round trip/);
      assert.match(table, /2\. SPSC throughput/);
      assert.match(table, /3\. MPSC and MPMC scaling/);
      assert.match(table, /4\. Wake latency/);
      assert.match(table, /All rows ok/);
      assert.match(table, /× native C seq_cst/);
      assert.match(progress, /Ring ⇄ Ring, spin, Worker ⇄ Worker: p50/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("the SPSC consumer accepts 0…n-1 and finds a lost, doubled or swapped item", () => {
    const n = 200;
    const seq = Array.from({ length: n }, (_, i) => i);
    assert.equal(consumeU32(seq, n), -1);
    const lost = seq.filter((v) => v !== 70);
    lost.push(n);
    assert.equal(consumeU32(lost, n), 70);
    const doubled = [...seq.slice(0, 100), 99, ...seq.slice(100, n - 1)];
    assert.equal(consumeU32(doubled, n), 100);
    const swapped = [...seq];
    [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
    assert.equal(consumeU32(swapped, n), 10);
    const f = new Ring(f64, { ringBits: 4 });
    f.send([0.5, 1.5, 2]);
    assert.equal(consumeRing(f, 0, 3, 0.5), 2);
  });

  await t.step("the 1 KiB consumer checks every field of every message", () => {
    for (const corrupt of [-1, 0, 33, 39]) {
      const ring = new MessageRing({ ringBits: 16 });
      const payload = new Uint8Array(1024);
      const fields = new Float64Array(payload.buffer);
      for (let k = 0; k < 40; k++) {
        for (let j = 0; j < 128; j++) fields[j] = k * 128 + j;
        if (k === corrupt) fields[(k * 7) % 128] = -1;
        assert.equal(ring.sendMessage(payload), true);
      }
      assert.equal(consumeMessages(ring, 40, performance.now() + 10_000), corrupt);
    }
    const short = new MessageRing({ ringBits: 12 });
    short.sendMessage(new Uint8Array(1016));
    assert.equal(consumeMessages(short, 1, performance.now() + 10_000), 0);
  });

  await t.step("the ping-pong echo stops at a value out of sequence", () => {
    const ping = new Ring<number, Uint32Array>(u32, { ringBits: 4 });
    const pong = new Ring<number, Uint32Array>(u32, { ringBits: 4 });
    ping.send([0, 1, 3]);
    const report = echoRings(ping, pong, {
      transport: "ring-spin",
      role: "echo",
      warmup: 0,
      rounds: 10,
      budgetMs: 10_000,
      deadlineMs: performance.now() + 10_000,
    });
    assert.equal(report.ok, false);
    assert.equal(report.rounds, 2);
    assert.match(report.error!, /echo round 2: received 3/);
    const back = new Uint32Array(4);
    assert.equal(pong.recv(back), 2);
    assert.deepEqual([...back.subarray(0, 2)], [0, 1]);
    assert.equal(pong.isClosed(), true);
  });

  await t.step("the ping-pong initiator times every round and checks each answer", () => {
    // A stand-in echo, run inside the initiator's polls, that answers round `wrongAt` wrong.
    const run = (wrongAt: number) => {
      const ping = new Ring<number, Uint32Array>(u32, { ringBits: 4 });
      const pong = new Ring<number, Uint32Array>(u32, { ringBits: 4 });
      let round = 0;
      const pongEnd = {
        sendOne: (v: number) => pong.sendOne(v),
        readable: () => {
          const v = ping.tryRecv();
          if (v !== null) pong.sendOne(round++ === wrongAt ? v + 1 : v);
          return pong.readable();
        },
        advance: (n: number) => pong.advance(n),
        waitReadable: () => {},
        close: () => pong.close(),
        isClosed: () => pong.isClosed(),
      };
      const report = initiateRings(ping, pongEnd, {
        transport: "ring-spin",
        role: "initiator",
        warmup: 1,
        rounds: 5,
        budgetMs: 10_000,
        deadlineMs: performance.now() + 10_000,
      });
      assert.equal(ping.isClosed(), true, "the initiator closes its ring at the end");
      return report;
    };
    const bad = run(2);
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /round 2: came back as 3/);
    const lateBad = run(7); // rounds 6…10 are the aggregate span, checked the same way
    assert.equal(lateBad.ok, false);
    assert.match(lateBad.error!, /round 7: came back as 8/);
    const good = run(-1);
    assert.equal(good.ok, true);
    assert.ok(good.aggregateNs! > 0);
    assert.equal(good.rounds, 5);
    assert.equal(good.latency!.samples, 5);
    assert.ok(good.latency!.minNs >= 0 && good.latency!.minNs <= good.latency!.maxNs);
  });

  await t.step("the limit rings, with JavaScript and with Wasm atomics, of u32 and f64", () => {
    for (const element of ["u32", "f64"] as const) {
      for (const wasm of [false, true]) {
        // 8 slots, 26 items: produce 8, consume 8, …, the wrap reached three times; one thread.
        const ring = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
        for (let from = 0; from < 24; from += 8) {
          assert.equal(produceLimit(ring, 8, wasm, from, from + 8, 3, element), true);
          assert.equal(consumeLimit(ring, 8, wasm, from, from + 8, element), true);
        }
        if (element === "f64") assert.equal(new Float64Array(ring.buffer, 1024, 8)[0], 16.5);
        assert.equal(produceLimit(ring, 8, wasm, 24, 26, 1, element), true);
        assert.equal(consumeLimit(ring, 8, wasm, 23, 25, element), false, "a skipped item is seen");
      }
    }
  });

  await t.step("percentiles, medians and speed ratios", () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const s = latencyStats(xs);
    assert.deepEqual(
      [s.minNs, s.p50Ns, s.p99Ns, s.p999Ns, s.maxNs, s.meanNs],
      [1, 500, 990, 999, 1000, 500.5],
    );
    assert.equal(percentile([], 0.5), NaN);
    assert.throws(() => percentile([1], 1.5), RangeError);
    assert.equal(median([5, NaN, 1, 3]), 3);
    assert.equal(median([]), NaN);
    const fast = summarize("a", "a", "latency", [{ value: 100, ok: true, latency: s }]);
    const slow = summarize("b", "b", "latency", [{ value: 400, ok: true }]);
    assert.equal(speedRatio(fast, slow), 4);
    const tp = summarize("c", "c", "throughput", [
      { value: 10, ok: true },
      { value: 30, ok: true },
      { value: 20, ok: true },
    ]);
    const tpPeer = summarize("d", "d", "throughput", [{ value: 5, ok: true }]);
    assert.equal(speedRatio(tp, tpPeer), 4);
    assert.throws(() => speedRatio(tp, slow), TypeError);
    const failed = summarize("e", "e", "throughput", [{ value: 1, ok: true }, {
      value: NaN,
      ok: false,
      error: "boom",
    }]);
    assert.equal(failed.ok, false);
    assert.equal(failed.value, 1);
    assert.equal(summarize("f", "f", "throughput", []).ok, false);
  });

  await t.step("table, JSON and SVG show a failed row as failed", () => {
    const js = summarize("js", "Ring <fast> & co", "throughput", [{ value: 1e8, ok: true }]);
    const peer = summarize("peer", "peer", "throughput", [{
      value: NaN,
      ok: false,
      error: "item 7 arrived wrong",
    }]);
    const section: Section = {
      id: "s",
      title: 'Section "one"',
      kind: "throughput",
      peerKinds: ["peer"],
      measurements: [js, peer],
      rows: [{ js: "js", peers: { peer: "peer" } }],
      notes: ["a note"],
    };
    const text = formatSection(section);
    assert.match(text, /! peer: item 7 arrived wrong/);
    assert.match(text, /peer\s+—\s+NO/);
    const report: SuiteReport = {
      version: 1,
      mode: "tiny",
      runs: 1,
      startedAt: "2025-01-01T00:00:00.000Z",
      seconds: 1,
      versions: { deno: "2.9.6", v8: "15", typescript: "5" },
      cpus: 2,
      os: "linux x86_64",
      sections: [section],
      ok: false,
    };
    assert.match(formatReport(report), /FAILED/);
    const svg = renderSvg(report);
    const names = checkXml(svg);
    assert.equal(names.filter((n) => n === "rect").length, 1, "no bar without a figure");
    assert.match(svg, /Ring &lt;fast&gt; &amp; co vs peer/);
    assert.match(svg, /no figure/);
  });

  await t.step("progress: a bar on a terminal, lines otherwise", () => {
    const bar: string[] = [];
    const p = new Progress(4, { write: (t) => bar.push(t), tty: true });
    p.section("one");
    p.begin("step");
    p.advance(2);
    p.measured(summarize("x", "x", "throughput", [{ value: 1, ok: true }]));
    p.end();
    assert.ok(bar.every((t) => t.startsWith("\r")));
    assert.ok(bar.some((t) => t.includes(" 50%")));
    const lines: string[] = [];
    const q = new Progress(4, { write: (t) => lines.push(t), tty: false });
    q.section("one");
    q.begin("step");
    q.advance(4);
    q.measured(summarize("x", "Ring x", "throughput", [{ value: 2e6, ok: true }]));
    q.end();
    assert.deepEqual(lines.length, 2);
    assert.match(lines[1], /100%.*Ring x: 2\.00 M items\/s \(1 run, ok\)\n$/);
  });
});
