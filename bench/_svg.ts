/**
 * The hand-written SVG chart of the comparison suite: per (row, peer) pair,
 * the JS ÷ peer speed ratio as a bar on a log scale, with both absolute
 * figures (JS vs peer, in M items/s or µs p50) printed beside it.
 *
 * @module
 */
import { type Measurement, speedRatio } from "./_stats.ts";
import { formatNumber, measurementOf, type SuiteReport } from "./_table.ts";

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
  /** Both absolute figures, e.g. `11.2 vs 3.18 M items/s`. */
  figures: string;
  ok: boolean;
}

/** A measurement's headline figure in the unit of its kind, with the unit. */
function absolute(m: Measurement): [string, string] {
  return m.kind === "latency"
    ? [formatNumber((m.p50Ns ?? NaN) / 1000), "µs p50"]
    : [formatNumber(m.value / 1e6), "M items/s"];
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
          figures: `${absolute(js)[0]} vs ${absolute(peer)[0]} ${absolute(js)[1]}`,
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
 * import assert from "node:assert/strict";
 * import { renderSvg } from "./_svg.ts";
 * const svg = renderSvg({ version: 1, mode: "tiny", runs: 1, startedAt: "", seconds: 1,
 *   versions: { deno: "2", v8: "15", typescript: "5" }, cpus: 2, os: "linux", sections: [],
 *   ok: true });
 * assert.ok(svg.startsWith("<?xml"));
 * ```
 */
export function renderSvg(report: SuiteReport): string {
  const all = bars(report);
  const finite = all.filter((b) => Number.isFinite(b.ratio)).map((b) => b.ratio);
  const lo = Math.min(-1, Math.floor(Math.log10(Math.min(...finite, 1))));
  const hi = Math.max(1, Math.ceil(Math.log10(Math.max(...finite, 1))));
  const width = 1260;
  const labelW = 520;
  const plotX = labelW + 10;
  const plotW = width - plotX - 230;
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
        } (${xml(b.figures)})${b.ok ? "" : " (failed)"}</text>`,
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
