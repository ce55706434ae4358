/**
 * The comparison suite's report: its sections and rows, the table printed at
 * the end, and the JSON document.
 *
 * @module
 */
import { type Measurement, type MeasurementKind, speedRatio } from "./_stats.ts";

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
 * import assert from "node:assert/strict";
 * import { summarize } from "./_stats.ts";
 * import { measurementOf } from "./_table.ts";
 * const m = summarize("a", "A", "latency", []);
 * const section = { id: "s", title: "S", kind: "latency" as const, peerKinds: [],
 *   measurements: [m], rows: [], notes: [] };
 * assert.equal(measurementOf(section, "a").label, "A");
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
 * import assert from "node:assert/strict";
 * import { formatNumber } from "./_table.ts";
 * assert.deepEqual(
 *   [formatNumber(1234.5), formatNumber(12.345), formatNumber(0.01234)],
 *   ["1235", "12.3", "0.0123"],
 * );
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

/** The runs' range in the row's unit (M items/s, or µs of the runs' p50), blank for one run. */
function spreadCell(m: Measurement): string {
  if (m.runs.length < 2 || !Number.isFinite(m.min)) return "";
  const unit = m.kind === "latency" ? 1e3 : 1e6;
  return `${formatNumber(m.min / unit)}–${formatNumber(m.max / unit)}`;
}

function figureCells(m: Measurement, bytesColumn: boolean): string[] {
  if (m.kind === "latency") {
    const [p50, p99, p999] = [m.p50Ns, m.p99Ns, m.p999Ns].map((ns) =>
      formatNumber((ns ?? NaN) / 1000)
    );
    return [p50, spreadCell(m), p99, p999];
  }
  const cells = [formatNumber(m.value / 1e6), spreadCell(m)];
  if (bytesColumn) {
    const big = m.itemBytes !== undefined && m.itemBytes >= BYTES_SHOWN;
    cells.push(big ? formatNumber(m.value * m.itemBytes! / 1e9) : "");
  }
  return cells;
}

function figureHeads(kind: MeasurementKind, bytesColumn: boolean): string[] {
  if (kind === "latency") return ["p50 µs", "min–max", "p99 µs", "p99.9 µs"];
  return bytesColumn ? ["M items/s", "min–max", "GB/s"] : ["M items/s", "min–max"];
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
 * import assert from "node:assert/strict";
 * import { summarize } from "./_stats.ts";
 * import { formatSection } from "./_table.ts";
 * const js = summarize("js", "Ring", "throughput", [{ value: 5e7, ok: true }]);
 * const peer = summarize("pm", "postMessage", "throughput", [{ value: 5e5, ok: true }]);
 * const text = formatSection({ id: "s", title: "Throughput", kind: "throughput",
 *   peerKinds: ["postMessage"], measurements: [js, peer],
 *   rows: [{ js: "js", peers: { postMessage: "pm" } }], notes: [] });
 * assert.ok(text.includes("×100"));
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
 * import assert from "node:assert/strict";
 * import { formatReport } from "./_table.ts";
 * const text = formatReport({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * assert.ok(text.startsWith("ringmpsc bench"));
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
 * import assert from "node:assert/strict";
 * import { reportJson } from "./_table.ts";
 * const json = reportJson({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * assert.equal(JSON.parse(json).ok, true);
 * ```
 */
export function reportJson(report: SuiteReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
