/**
 * Internal helpers of the comparison suite (`bench/suite.ts`): the shapes of
 * its measurements and sections, medians and latency percentiles, the table
 * printed at the end, the JSON document, the hand-written SVG bar chart of
 * the JS ÷ peer ratios, and the progress bar on stderr.
 *
 * Ratios are speed ratios, so that "greater than 1" always means "the JS
 * row is faster": for throughput it is JS items/s ÷ peer items/s, for
 * latency it is peer p50 ÷ JS p50.
 *
 * @module
 */

/** What a measurement counts: items per second, or round-trip/wake nanoseconds. */
export type MeasurementKind = "throughput" | "latency";

/** Percentiles of one run's latency samples, in nanoseconds. */
export interface LatencyStats {
  /** Number of samples. */
  samples: number;
  /** Fastest sample. */
  minNs: number;
  /** Median sample. */
  p50Ns: number;
  /** 99th percentile. */
  p99Ns: number;
  /** 99.9th percentile. */
  p999Ns: number;
  /** Slowest sample. */
  maxNs: number;
  /** Mean of the samples. */
  meanNs: number;
}

/** One run of one measurement, as it goes into the JSON file. */
export interface RunResult {
  /** Items per second (throughput) or the run's p50 in ns (latency); NaN when the run failed. */
  value: number;
  /** Whether the run finished and its consumer found every item, in order, once. */
  ok: boolean;
  /** Why the run failed. */
  error?: string;
  /** Items (or rounds) the run moved and checked. */
  items?: number;
  /** Seconds the consumer measured. */
  seconds?: number;
  /** Latency percentiles of the run. */
  latency?: LatencyStats;
  /** What one clock read cost in this run (ns), when the run timed itself per round. */
  clockNs?: number;
  /** Wall-clock seconds the whole run took, Worker or process start-up included. */
  wallSeconds?: number;
}

/** A measured transport: its runs and their medians. */
export interface Measurement {
  /** Stable key, e.g. `pingpong.ring-spin`. */
  id: string;
  /** What was measured, for the table. */
  label: string;
  /** Throughput or latency. */
  kind: MeasurementKind;
  /** Payload bytes per item (throughput rows). */
  itemBytes?: number;
  /** Every run, in the order they ran. */
  runs: RunResult[];
  /** Median over runs of `RunResult.value`; NaN when no run produced a figure. */
  value: number;
  /** Latency: median over runs of each run's p50 (ns). */
  p50Ns?: number;
  /** Latency: median over runs of each run's p99 (ns). */
  p99Ns?: number;
  /** Latency: median over runs of each run's p99.9 (ns). */
  p999Ns?: number;
  /** Whether every run was ok. */
  ok: boolean;
}

/** One line of the comparison: a JS measurement and the peer of each kind it is compared with. */
export interface ComparisonRow {
  /** Id of the JS measurement. */
  js: string;
  /** Peer kind (a column of the section) to the id of the peer measurement. */
  peers: Record<string, string>;
}

/** One section of the suite (ping-pong, SPSC throughput, scaling, wake latency). */
export interface Section {
  /** Stable key, e.g. `pingpong`. */
  id: string;
  /** Heading printed above the section's table. */
  title: string;
  /** Throughput or latency: every measurement of a section has this kind. */
  kind: MeasurementKind;
  /** Peer kinds, in column order (e.g. `postMessage`, `native C`). */
  peerKinds: string[];
  /** Every measurement of the section: JS rows and peers. */
  measurements: Measurement[];
  /** The comparisons to print, one table line each. */
  rows: ComparisonRow[];
  /** Remarks printed under the table (what a row means, what is missing and why). */
  notes: string[];
}

/** The whole suite's result, as `--json` writes it. */
export interface SuiteReport {
  /** Format version of this document. */
  version: 1;
  /** `tiny`, `quick` or `full`. */
  mode: string;
  /** Runs per measurement. */
  runs: number;
  /** ISO time the suite started. */
  startedAt: string;
  /** Seconds the suite took. */
  seconds: number;
  /** Deno, V8 and TypeScript versions. */
  versions: { deno: string; v8: string; typescript: string };
  /** Logical CPUs the runtime reports. */
  cpus: number;
  /** Operating system and architecture. */
  os: string;
  /** The sections, in the order they ran. */
  sections: Section[];
  /** Whether every measurement's every run was ok. */
  ok: boolean;
}

/** What a section's runner tells the progress bar. */
export interface ProgressSink {
  /** A step (one run of one transport) begins; `label` names it. */
  begin(label: string): void;
  /** `weight` steps are done. */
  advance(weight: number): void;
  /** A measurement has all its runs: one line when stderr is not a terminal. */
  measured(measurement: Measurement): void;
}

/** A sink that reports nothing. */
export const silentProgress: ProgressSink = Object.freeze({
  begin: () => {},
  advance: () => {},
  measured: () => {},
});

/**
 * The median of `values` (the mean of the middle two when the count is even).
 *
 * @param values The numbers; NaN entries are skipped.
 * @returns The median, or NaN when there is none.
 *
 * @example Medians
 * ```ts
 * import { median } from "./_report.ts";
 * console.log(median([3, 1, 2]), median([4, 1, 3, 2])); // 2 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The nearest-rank percentile of sorted samples: the smallest sample that
 * at least `p` of all samples do not exceed.
 *
 * @param sorted Samples in ascending order.
 * @param p The fraction, between 0 and 1.
 * @returns The sample, or NaN when there are none.
 * @throws {RangeError} If `p` is outside [0, 1].
 *
 * @example The 99th percentile of 1 … 1000
 * ```ts
 * import { percentile } from "./_report.ts";
 * const xs = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
 * console.log(percentile(xs, 0.99)); // 990
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot take a percentile as p must be between 0 and 1: received ${p}`);
  }
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
}

/**
 * Sorts latency samples in place and returns their percentiles.
 *
 * @param samples One latency per round, in nanoseconds; sorted on return.
 * @returns The percentiles.
 *
 * @example Percentiles of a run
 * ```ts
 * import { latencyStats } from "./_report.ts";
 * const s = latencyStats(Float64Array.from({ length: 1000 }, (_, i) => 1000 - i));
 * console.log(s.p50Ns, s.p999Ns, s.maxNs); // 500 999 1000
 * ```
 */
export function latencyStats(samples: Float64Array): LatencyStats {
  samples.sort();
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i];
  return {
    samples: samples.length,
    minNs: samples.length > 0 ? samples[0] : NaN,
    p50Ns: percentile(samples, 0.5),
    p99Ns: percentile(samples, 0.99),
    p999Ns: percentile(samples, 0.999),
    maxNs: samples.length > 0 ? samples[samples.length - 1] : NaN,
    meanNs: samples.length > 0 ? sum / samples.length : NaN,
  };
}

/**
 * The median cost of one `performance.now()` read in nanoseconds, measured
 * back to back; printed beside per-round latencies, which include one read.
 *
 * @param reads How many reads to take.
 * @returns Nanoseconds per read (median of the gaps).
 *
 * @example Measuring the clock
 * ```ts
 * import { clockCostNs } from "./_report.ts";
 * console.log(clockCostNs() >= 0); // true
 * ```
 */
export function clockCostNs(reads = 2001): number {
  const t = new Float64Array(reads);
  for (let i = 0; i < reads; i++) t[i] = performance.now();
  const gaps: number[] = [];
  for (let i = 1; i < reads; i++) gaps.push((t[i] - t[i - 1]) * 1e6);
  return median(gaps);
}

/**
 * Resolves with `work`, or with `onTimeout` once `ms` have passed (calling
 * `stop` first, so whatever runs the work can be torn down).
 *
 * @param work The work.
 * @param ms Milliseconds to wait for it.
 * @param stop Called when the time is up.
 * @param onTimeout What to resolve with then.
 * @returns Whichever came first.
 *
 * @example A race the work wins
 * ```ts
 * import { withTimeout } from "./_report.ts";
 * console.log(await withTimeout(Promise.resolve(1), 1000, () => {}, 0)); // 1
 * ```
 */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  stop: () => void,
  onTimeout: T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      stop();
      resolve(onTimeout);
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Builds a measurement from its runs: the medians, and ok only when every
 * run was ok (and there was at least one).
 *
 * @param id The measurement's key.
 * @param label What was measured.
 * @param kind Throughput or latency.
 * @param runs The runs, in the order they ran.
 * @param itemBytes Payload bytes per item, for throughput rows.
 * @returns The measurement.
 *
 * @example Two runs of a throughput measurement
 * ```ts
 * import { summarize } from "./_report.ts";
 * const m = summarize("x", "x", "throughput", [{ value: 2, ok: true }, { value: 4, ok: true }]);
 * console.log(m.value, m.ok); // 3 true
 * ```
 */
export function summarize(
  id: string,
  label: string,
  kind: MeasurementKind,
  runs: RunResult[],
  itemBytes?: number,
): Measurement {
  const m: Measurement = {
    id,
    label,
    kind,
    runs,
    value: median(runs.map((r) => r.value)),
    ok: runs.length > 0 && runs.every((r) => r.ok),
  };
  if (itemBytes !== undefined) m.itemBytes = itemBytes;
  if (kind === "latency") {
    const pick = (k: "p50Ns" | "p99Ns" | "p999Ns") =>
      median(runs.map((r) => r.latency?.[k] ?? NaN));
    m.p50Ns = pick("p50Ns");
    m.p99Ns = pick("p99Ns");
    m.p999Ns = pick("p999Ns");
  }
  return m;
}

/**
 * The speed ratio of a JS measurement to a peer: JS items/s ÷ peer items/s
 * for throughput, peer p50 ÷ JS p50 for latency; above 1 means JS is faster.
 *
 * @param js The JS measurement.
 * @param peer The peer measurement (of the same kind).
 * @returns The ratio, or NaN when either side has no figure.
 * @throws {TypeError} If the kinds differ.
 *
 * @example Latency ratio
 * ```ts
 * import { speedRatio, summarize } from "./_report.ts";
 * const js = summarize("a", "a", "latency", [{ value: 200, ok: true }]);
 * const peer = summarize("b", "b", "latency", [{ value: 1000, ok: true }]);
 * console.log(speedRatio(js, peer)); // 5
 * ```
 */
export function speedRatio(js: Measurement, peer: Measurement): number {
  if (js.kind !== peer.kind) {
    throw new TypeError(
      `Cannot compare ${js.id} with ${peer.id} as their kinds differ: received ${js.kind} and ${peer.kind}`,
    );
  }
  const ratio = js.kind === "throughput" ? js.value / peer.value : peer.value / js.value;
  return Number.isFinite(ratio) && ratio > 0 ? ratio : NaN;
}

/**
 * Finds a section's measurement by id.
 *
 * @param section The section.
 * @param id The measurement's id.
 * @returns The measurement.
 * @throws {RangeError} If the section has no such measurement.
 *
 * @example Looking a row up
 * ```ts
 * import { measurementOf, summarize } from "./_report.ts";
 * const m = summarize("a", "A", "latency", []);
 * const section = { id: "s", title: "S", kind: "latency" as const, peerKinds: [],
 *   measurements: [m], rows: [], notes: [] };
 * console.log(measurementOf(section, "a").label); // A
 * ```
 */
export function measurementOf(section: Section, id: string): Measurement {
  const m = section.measurements.find((x) => x.id === id);
  if (m === undefined) {
    throw new RangeError(`Cannot find measurement in section ${section.id}: received ${id}`);
  }
  return m;
}

/**
 * Formats a positive number with three significant digits at most (and no
 * exponent), or `—` when it is not a finite number.
 *
 * @param x The number.
 * @returns The text.
 *
 * @example Formatting
 * ```ts
 * import { formatNumber } from "./_report.ts";
 * console.log(formatNumber(1234.5), formatNumber(12.345), formatNumber(0.01234)); // 1235 12.3 0.0123
 * ```
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  const digits = Math.min(6, 2 - Math.floor(Math.log10(a)));
  return x.toFixed(digits);
}

/** Items at least this big also get a GB/s figure. */
const BYTES_SHOWN = 256;

function showsBytes(section: Section): boolean {
  return section.measurements.some((m) => (m.itemBytes ?? 0) >= BYTES_SHOWN);
}

function figureCells(m: Measurement, bytesColumn: boolean): string[] {
  if (m.kind === "latency") {
    return [m.p50Ns, m.p99Ns, m.p999Ns].map((ns) => formatNumber((ns ?? NaN) / 1000));
  }
  const cells = [formatNumber(m.value / 1e6)];
  if (bytesColumn) {
    const big = m.itemBytes !== undefined && m.itemBytes >= BYTES_SHOWN;
    cells.push(big ? formatNumber(m.value * m.itemBytes! / 1e9) : "");
  }
  return cells;
}

function figureHeads(kind: MeasurementKind, bytesColumn: boolean): string[] {
  if (kind === "latency") return ["p50 µs", "p99 µs", "p99.9 µs"];
  return bytesColumn ? ["M items/s", "GB/s"] : ["M items/s"];
}

function layout(table: string[][], leftColumns: number): string[] {
  const widths: number[] = [];
  for (const row of table) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  }
  return table.map((row) =>
    row.map((cell, i) => {
      const pad = widths[i] - [...cell].length;
      return i < leftColumns ? cell + " ".repeat(pad) : " ".repeat(pad) + cell;
    }).join("  ").trimEnd()
  );
}

/**
 * Formats one section as text: a line per JS row (its figures, its ratio
 * to each peer kind, ok), then the peers' own figures, then the notes.
 *
 * @param section The section.
 * @returns The text, ending in a newline; the heading names the most runs
 * any of its measurements has.
 *
 * @example A section with one row
 * ```ts
 * import { formatSection, summarize } from "./_report.ts";
 * const js = summarize("js", "Ring", "throughput", [{ value: 5e7, ok: true }]);
 * const peer = summarize("pm", "postMessage", "throughput", [{ value: 5e5, ok: true }]);
 * const text = formatSection({ id: "s", title: "Throughput", kind: "throughput",
 *   peerKinds: ["postMessage"], measurements: [js, peer],
 *   rows: [{ js: "js", peers: { postMessage: "pm" } }], notes: [] });
 * console.log(text.includes("×100")); // true
 * ```
 */
export function formatSection(section: Section): string {
  const bytesColumn = showsBytes(section);
  const heads = figureHeads(section.kind, bytesColumn);
  const head = [
    "row",
    ...heads,
    ...section.peerKinds.map((k) => `× ${k}`),
    "ok",
  ];
  const table: string[][] = [head];
  for (const row of section.rows) {
    const js = measurementOf(section, row.js);
    const ratios = section.peerKinds.map((kind) => {
      const id = row.peers[kind];
      if (id === undefined) return "";
      return `×${formatNumber(speedRatio(js, measurementOf(section, id)))}`;
    });
    table.push([js.label, ...figureCells(js, bytesColumn), ...ratios, js.ok ? "yes" : "NO"]);
  }
  const jsIds = new Set(section.rows.map((r) => r.js));
  const peers = section.measurements.filter((m) => !jsIds.has(m.id));
  if (peers.length > 0) {
    table.push(["peers:", ...heads.map(() => ""), ...section.peerKinds.map(() => ""), ""]);
    for (const m of peers) {
      table.push([
        `  ${m.label}`,
        ...figureCells(m, bytesColumn),
        ...section.peerKinds.map(() => ""),
        m.ok ? "yes" : "NO",
      ]);
    }
  }
  const runs = Math.max(0, ...section.measurements.map((m) => m.runs.length));
  const lines = [`${section.title} — median of ${runs} run${runs === 1 ? "" : "s"}`];
  lines.push(...layout(table, 1).map((l) => `  ${l}`));
  for (const m of section.measurements) {
    for (const r of m.runs) {
      if (!r.ok) lines.push(`  ! ${m.label}: ${r.error ?? "failed"}`);
    }
  }
  for (const note of section.notes) lines.push(`  · ${note}`);
  return lines.join("\n") + "\n";
}

/**
 * Formats the whole report: a heading line, then every section.
 *
 * @param report The suite's result.
 * @returns The text.
 *
 * @example An empty report
 * ```ts
 * import { formatReport } from "./_report.ts";
 * const text = formatReport({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * console.log(text.startsWith("ringmpsc bench")); // true
 * ```
 */
export function formatReport(report: SuiteReport): string {
  const head =
    `ringmpsc bench (${report.mode}): Deno ${report.versions.deno}, V8 ${report.versions.v8}, ${report.os}, ${report.cpus} CPUs; ${
      report.seconds.toFixed(0)
    } s; every consumer checks ` +
    `every item. Ratios are speed ratios (>1: the JS row is faster than that peer).`;
  const verdict = report.ok
    ? "All rows ok: every consumer received every item once, in order."
    : "FAILED: at least one run lost, duplicated or reordered an item, or did not finish.";
  return [head, "", ...report.sections.map((s) => formatSection(s)), verdict]
    .join("\n") + "\n";
}

/**
 * The report as JSON (NaN figures become `null`).
 *
 * @param report The suite's result.
 * @returns The JSON text.
 *
 * @example Round trip
 * ```ts
 * import { reportJson } from "./_report.ts";
 * const json = reportJson({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * console.log(JSON.parse(json).ok); // true
 * ```
 */
export function reportJson(report: SuiteReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

/** Escapes text for XML character data and attribute values. */
function xml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** One bar of the chart. */
interface Bar {
  section: string;
  label: string;
  ratio: number;
  ok: boolean;
}

function bars(report: SuiteReport): Bar[] {
  const out: Bar[] = [];
  for (const section of report.sections) {
    for (const row of section.rows) {
      const js = measurementOf(section, row.js);
      for (const kind of section.peerKinds) {
        const id = row.peers[kind];
        if (id === undefined) continue;
        const peer = measurementOf(section, id);
        out.push({
          section: section.title,
          label: `${js.label} vs ${kind}`,
          ratio: speedRatio(js, peer),
          ok: js.ok && peer.ok,
        });
      }
    }
  }
  return out;
}

/**
 * Draws the report's JS ÷ peer speed ratios as a horizontal bar chart on a
 * log scale, one bar per (row, peer) pair, grouped by section. Bars right
 * of the 1× line are rows where JS is faster. Plain SVG 1.1, no scripts and
 * no dependencies.
 *
 * @param report The suite's result.
 * @returns The SVG document.
 *
 * @example A chart of an empty report
 * ```ts
 * import { renderSvg } from "./_report.ts";
 * const svg = renderSvg({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * console.log(svg.startsWith("<?xml")); // true
 * ```
 */
export function renderSvg(report: SuiteReport): string {
  const all = bars(report);
  const finite = all.filter((b) => Number.isFinite(b.ratio)).map((b) => b.ratio);
  const lo = Math.min(-1, Math.floor(Math.log10(Math.min(...finite, 1))));
  const hi = Math.max(1, Math.ceil(Math.log10(Math.max(...finite, 1))));
  const width = 1100;
  const labelW = 520;
  const plotX = labelW + 10;
  const plotW = width - plotX - 70;
  const barH = 14;
  const gap = 4;
  const sectionH = 24;
  const top = 64;
  const x = (ratio: number) => plotX + (Math.log10(ratio) - lo) / (hi - lo) * plotW;
  const body: string[] = [];
  let y = top;
  let current = "";
  for (const b of all) {
    if (b.section !== current) {
      current = b.section;
      y += 6;
      body.push(
        `<text x="10" y="${y + 14}" class="section">${xml(current)}</text>`,
      );
      y += sectionH;
    }
    body.push(
      `<text x="${labelW}" y="${y + barH - 3}" class="label" text-anchor="end">${
        xml(b.label)
      }</text>`,
    );
    if (Number.isFinite(b.ratio)) {
      const x0 = x(1);
      const x1 = x(b.ratio);
      const fill = !b.ok ? "#999999" : b.ratio >= 1 ? "#2e7d32" : "#c62828";
      body.push(
        `<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y}" width="${
          Math.max(1, Math.abs(x1 - x0)).toFixed(1)
        }" height="${barH}" fill="${fill}"/>`,
      );
      body.push(
        `<text x="${(Math.max(x0, x1) + 4).toFixed(1)}" y="${y + barH - 3}" class="value">×${
          xml(formatNumber(b.ratio))
        }${b.ok ? "" : " (failed)"}</text>`,
      );
    } else {
      body.push(`<text x="${plotX}" y="${y + barH - 3}" class="value">no figure</text>`);
    }
    y += barH + gap;
  }
  const height = y + 40;
  const grid: string[] = [];
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    const label = d < 0 ? `${(10 ** d).toFixed(-d)}×` : `${10 ** d}×`;
    grid.push(
      `<line x1="${gx}" y1="${top}" x2="${gx}" y2="${y}" class="${d === 0 ? "one" : "grid"}"/>`,
      `<text x="${gx}" y="${y + 16}" class="axis" text-anchor="middle">${label}</text>`,
    );
  }
  const title = `ringmpsc bench (${report.mode}): JS ÷ peer speed ratio, log scale`;
  const subtitle =
    `Deno ${report.versions.deno}, ${report.os}, ${report.cpus} CPUs, ${report.startedAt}; green: JS faster, red: peer faster, grey: a run failed`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<style>text{font-family:sans-serif;font-size:12px;fill:#222}` +
    `.title{font-size:16px;font-weight:bold}.section{font-weight:bold;font-size:13px}` +
    `.axis{font-size:11px;fill:#555}.value{font-size:11px}` +
    `.grid{stroke:#ddd;stroke-width:1}.one{stroke:#333;stroke-width:1.5}</style>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="24" class="title">${xml(title)}</text>`,
    `<text x="10" y="44" class="axis">${xml(subtitle)}</text>`,
    ...grid,
    ...body,
    `<text x="${plotX}" y="${height - 8}" class="axis">${
      report.ok ? "every consumer checked every item: all ok" : "FAILED rows are grey"
    }</text>`,
    `</svg>`,
    "",
  ].join("\n");
}

/** Where {@linkcode Progress} writes, and whether that is a terminal. */
export interface ProgressOptions {
  /** Writes text as is (no newline added). */
  write(text: string): void;
  /** Redraw one bar in place (terminal), or print a line per measured row. */
  tty: boolean;
  /** Width of the terminal in columns; the bar's line is cut to fit (default 100). */
  columns?: number;
}

/**
 * The suite's progress on stderr: on a terminal one bar redrawn in place;
 * otherwise a line per section and per measured row.
 *
 * @example Lines when not a terminal
 * ```ts
 * import { Progress, summarize } from "./_report.ts";
 * const lines: string[] = [];
 * const p = new Progress(2, { write: (t) => lines.push(t), tty: false });
 * p.section("Throughput");
 * p.begin("Ring");
 * p.advance(2);
 * p.measured(summarize("r", "Ring", "throughput", [{ value: 1e6, ok: true }]));
 * p.end();
 * console.log(lines.length); // 2
 * ```
 */
export class Progress implements ProgressSink {
  readonly #total: number;
  readonly #options: ProgressOptions;
  readonly #started = performance.now();
  #done = 0;
  #label = "";

  /**
   * Creates a progress display.
   *
   * @param total Steps in all (each run of each transport is one).
   * @param options Where to write and how.
   */
  constructor(total: number, options: ProgressOptions) {
    this.#total = Math.max(1, total);
    this.#options = options;
  }

  #elapsed(): string {
    return `${((performance.now() - this.#started) / 1000).toFixed(0)} s`;
  }

  #draw(): void {
    if (!this.#options.tty) return;
    const share = Math.min(1, this.#done / this.#total);
    const width = 24;
    const full = Math.round(share * width);
    const bar = "█".repeat(full) + "░".repeat(width - full);
    const head = `${bar} ${(share * 100).toFixed(0).padStart(3)}%  ${this.#elapsed()}  `;
    const room = Math.max(10, (this.#options.columns ?? 100) - [...head].length - 1);
    const chars = [...this.#label];
    const label = chars.length > room ? `${chars.slice(0, room - 1).join("")}…` : this.#label;
    this.#options.write(`\r\x1b[2K${head}${label}`);
  }

  /**
   * Starts a section: a heading line when not a terminal.
   *
   * @param title The section's title.
   */
  section(title: string): void {
    if (!this.#options.tty) this.#options.write(`== ${title}\n`);
    this.#label = title;
    this.#draw();
  }

  /**
   * A step begins.
   *
   * @param label What runs now.
   */
  begin(label: string): void {
    this.#label = label;
    this.#draw();
  }

  /**
   * Steps are done.
   *
   * @param weight How many.
   */
  advance(weight: number): void {
    this.#done += weight;
    this.#draw();
  }

  /**
   * A measurement has all its runs: a line when not a terminal.
   *
   * @param m The measurement.
   */
  measured(m: Measurement): void {
    if (this.#options.tty) return;
    const figure = m.kind === "latency"
      ? `p50 ${formatNumber((m.p50Ns ?? NaN) / 1000)} µs, p99 ${
        formatNumber((m.p99Ns ?? NaN) / 1000)
      } µs`
      : `${formatNumber(m.value / 1e6)} M items/s`;
    const pct = Math.min(100, (this.#done / this.#total) * 100).toFixed(0).padStart(3);
    this.#options.write(
      `[${pct}% ${this.#elapsed()}] ${m.label}: ${figure} (${m.runs.length} run${
        m.runs.length === 1 ? "" : "s"
      }, ${m.ok ? "ok" : "FAILED"})\n`,
    );
  }

  /** Clears the bar (terminal only). */
  end(): void {
    if (this.#options.tty) this.#options.write("\r\x1b[2K");
  }
}

/** A Worker started by {@linkcode startGoWorker}. */
export interface StartedWorker<R> {
  /** The Worker. */
  worker: Worker;
  /** Resolves true once it is loaded and waits for "go" (false if it reported or failed first). */
  ready: Promise<boolean>;
  /** Its report. */
  report: Promise<R>;
}

/**
 * Posts `job` to a new Worker that answers "ready", runs once told "go", and
 * then posts a report, which `pick` recognises among its other messages.
 *
 * @param url The Worker's module.
 * @param job The job to post.
 * @param transfer What to transfer with the job.
 * @param pick The report inside a message, or `undefined` for any other message.
 * @param failed The report to give when the Worker throws.
 * @returns The Worker and its two promises.
 */
export function startGoWorker<R>(
  url: URL,
  job: unknown,
  transfer: Transferable[],
  pick: (data: unknown) => R | undefined,
  failed: (message: string) => R,
): StartedWorker<R> {
  const worker = new Worker(url, { type: "module" });
  let onReady: (ok: boolean) => void = () => {};
  let onReport: (r: R) => void = () => {};
  const ready = new Promise<boolean>((resolve) => onReady = resolve);
  const report = new Promise<R>((resolve) => onReport = resolve);
  worker.onmessage = (e) => {
    if (e.data === "ready") return onReady(true);
    const r = pick(e.data);
    if (r === undefined) return;
    onReady(false);
    onReport(r);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    onReady(false);
    onReport(failed(`worker error: ${e.message}`));
  };
  worker.postMessage(job, transfer);
  return { worker, ready, report };
}
