/**
 * The comparison suite's progress display on stderr: one bar redrawn in
 * place on a terminal, a line per section and per measured row otherwise.
 *
 * @module
 */
import type { Measurement } from "./_stats.ts";
import { formatNumber } from "./_table.ts";

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
 * import assert from "node:assert/strict";
 * import { Progress } from "./_progress.ts";
 * import { summarize } from "./_stats.ts";
 * const lines: string[] = [];
 * const p = new Progress(2, { write: (t) => lines.push(t), tty: false });
 * p.section("Throughput");
 * p.begin("Ring");
 * p.advance(2);
 * p.measured(summarize("r", "Ring", "throughput", [{ value: 1e6, ok: true }]));
 * p.end();
 * assert.equal(lines.length, 2);
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
