/**
 * The native C baseline: the same rings as this library, compiled with the
 * project's Zig (`bench/native/ring_bench.c`), so every JS throughput figure
 * can be reported as a ratio of the physical limit measured in the same run.
 *
 * {@linkcode runNativeBaseline} builds the binary once per process (through
 * `bench/native/build.sh`, which itself rebuilds only when the source
 * changed), runs one mode and returns its parsed JSON line. Every run reads
 * and checks every item; a run that lost, duplicated or reordered an item
 * rejects instead of returning a figure.
 *
 * By default the rings publish their positions with release stores (x86: a
 * plain `mov`). With `seqCst: true` (`--seq-cst`) they publish with
 * sequentially consistent stores instead (x86: `xchg`), the only atomic store
 * JavaScript's `Atomics.store` and WebAssembly's `i32.atomic.store` have: the
 * limit of a ring that publishes the way a JS ring must.
 *
 * Run as a script, it prints the median of several runs of each mode:
 *
 * ```sh
 * deno run --allow-run --allow-read bench/native_baseline.ts [MODE...] [--runs 3] [--batch 256] [--seq-cst] ...
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type LatencyStats, median } from "./_stats.ts";

/** The four benchmark shapes of `ring_bench`. */
export type NativeBaselineMode = "spsc" | "mpsc" | "mpmc" | "pingpong";

/** Element type of the native rings (ping-pong always uses `u32`). */
export type NativeElement = "u32" | "u64" | "f64";

/**
 * Memory order of the stores that publish a position (tail on commit, head on
 * advance): `release`, or `seq_cst` as JS and Wasm atomics always are.
 */
export type NativeOrder = "release" | "seq_cst";

/** Options of {@linkcode runNativeBaseline}; each one left out takes `ring_bench`'s default. */
export interface NativeBaselineOptions {
  /** Items sent in all, split evenly over the producers (throughput modes; 1 to 2^53). */
  items?: number;
  /** Items a producer publishes at once: 1 publishes every item (throughput modes). */
  batch?: number;
  /** Ring capacity is 2^ringBits, 1 to 28 (default 16). */
  ringBits?: number;
  /** Producer threads, 1 to 64 (mpsc and mpmc; spsc allows only 1). */
  producers?: number;
  /** Consumer threads, 1 to 64 (mpmc; spsc and mpsc allow only 1). */
  consumers?: number;
  /** Measured round trips after 10,000 warm-up rounds (pingpong only; 1 to 2^27). */
  rounds?: number;
  /** Element type (throughput modes; pingpong allows only `u32`). */
  elem?: NativeElement;
  /** Pin each thread to its own CPU (default: no pinning). */
  pin?: boolean;
  /**
   * Publish tail and head with sequentially consistent stores, as
   * `Atomics.store` does, instead of release stores (default false).
   */
  seqCst?: boolean;
  /** Kill the run and reject after this many milliseconds (default 120,000). */
  timeoutMs?: number;
}

/** Fields every `ring_bench` result carries. */
export interface NativeResultBase {
  /** The element type the rings carried. */
  elem: NativeElement;
  /** Ring capacity is 2^ringBits. */
  ringBits: number;
  /** Whether threads were pinned to CPUs. */
  pinned: boolean;
  /** How positions were published: `seq_cst` when `seqCst` was set, else `release`. */
  order: NativeOrder;
  /** Wall-clock seconds of the run (pingpong: warm-up rounds included). */
  seconds: number;
  /** Always true: a failed check rejects instead. */
  ok: true;
}

/** A throughput run (spsc, mpsc, mpmc) that passed every check. */
export interface NativeThroughputResult extends NativeResultBase {
  /** Which benchmark ran. */
  mode: "spsc" | "mpsc" | "mpmc";
  /** Producer threads. */
  producers: number;
  /** Consumer threads. */
  consumers: number;
  /** Items published at once by a producer. */
  batch: number;
  /** Items sent (and received, and checked) in all. */
  items: number;
  /** Items per second, from the start signal until every thread finished. */
  itemsPerSec: number;
  /** Sum of every received value modulo 2^64, as a decimal string (`BigInt(checksum)`). */
  checksum: string;
}

/** A ping-pong run: round-trip latency of one u32 each way over two SPSC rings. */
export interface NativePingPongResult extends NativeResultBase, Omit<LatencyStats, "samples"> {
  /** Which benchmark ran. */
  mode: "pingpong";
  /** Measured round trips (the percentiles' samples). */
  rounds: number;
  /** Round trips run before measuring. */
  warmup: number;
  /** Nanoseconds per round trip over `rounds` more rounds timed as one span (no clock per round). */
  aggregateNs: number;
}

/** Any result of {@linkcode runNativeBaseline}. */
export type NativeBaselineResult = NativeThroughputResult | NativePingPongResult;

/** The result type of a given mode. */
export type NativeBaselineResultFor<M extends NativeBaselineMode> = M extends "pingpong"
  ? NativePingPongResult
  : NativeThroughputResult;

const MODES: readonly NativeBaselineMode[] = ["spsc", "mpsc", "mpmc", "pingpong"];
const ELEMS: readonly NativeElement[] = ["u32", "u64", "f64"];
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_RING_BITS = 16;

/** Integer options: command-line flag and inclusive range. */
const INTEGER_OPTIONS = {
  items: { flag: "--items", min: 1, max: 2 ** 53 },
  batch: { flag: "--batch", min: 1, max: 2 ** 28 },
  ringBits: { flag: "--ring-bits", min: 1, max: 28 },
  producers: { flag: "--producers", min: 1, max: 64 },
  consumers: { flag: "--consumers", min: 1, max: 64 },
  rounds: { flag: "--rounds", min: 1, max: 2 ** 27 },
} as const;

type IntegerOption = keyof typeof INTEGER_OPTIONS;

let building: Promise<string> | undefined;

function modulePath(relative: string): string {
  const url = new URL(relative, import.meta.url);
  if (url.protocol !== "file:") {
    throw new TypeError(
      `Cannot build the native baseline as this module must be a local file: received ${url.href}`,
    );
  }
  return fileURLToPath(url);
}

async function build(): Promise<string> {
  const script = modulePath("./native/build.sh");
  const out = await new Deno.Command("bash", {
    args: [script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `Cannot build the native baseline as build.sh exited with code ${out.code}: ${
        decoder.decode(out.stderr).trim()
      }`,
    );
  }
  const path = decoder.decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (path === "") throw new Error("Cannot build the native baseline as build.sh printed no path");
  return path;
}

/**
 * Builds `ring_bench` with the project's Zig, at most once per process, and
 * returns the binary's path. {@linkcode runNativeBaseline} calls it itself;
 * call it first to keep the build out of a timed section.
 *
 * @returns The absolute path of `.tools/bench/ring_bench`.
 * @throws {Error} If `build.sh` fails (the next call tries again).
 *
 * @example Building before timing anything
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNativeBaseline } from "./native_baseline.ts";
 * const path = await buildNativeBaseline();
 * assert.ok(path.endsWith("/ring_bench"));
 * ```
 */
export function buildNativeBaseline(): Promise<string> {
  if (building === undefined) {
    building = build();
    building.catch(() => {
      building = undefined;
    });
  }
  return building;
}

function checkInteger(mode: string, key: IntegerOption, value: number): void {
  const { min, max } = INTEGER_OPTIONS[key];
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot run native baseline ${mode} as ${key} must be an integer: received ${value}`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Cannot run native baseline ${mode} as ${key} must be between ${min} and ${max}: received ${value}`,
    );
  }
}

/** Checks the options against what `ring_bench` accepts for the mode and returns its arguments. */
function toArgs(mode: NativeBaselineMode, options: NativeBaselineOptions): string[] {
  const args: string[] = [mode];
  for (const key of Object.keys(INTEGER_OPTIONS) as IntegerOption[]) {
    const value = options[key];
    if (value === undefined) continue;
    checkInteger(mode, key, value);
    args.push(INTEGER_OPTIONS[key].flag, String(value));
  }
  const allowed: Record<NativeBaselineMode, readonly IntegerOption[]> = {
    spsc: ["items", "batch", "ringBits"],
    mpsc: ["items", "batch", "ringBits", "producers"],
    mpmc: ["items", "batch", "ringBits", "producers", "consumers"],
    pingpong: ["rounds", "ringBits"],
  };
  for (const key of Object.keys(INTEGER_OPTIONS) as IntegerOption[]) {
    if (options[key] === undefined || allowed[mode].includes(key)) continue;
    // A single producer or consumer is what spsc and mpsc have anyway.
    if (key === "producers" && mode === "spsc" && options.producers === 1) continue;
    if (key === "consumers" && mode !== "pingpong" && options.consumers === 1) continue;
    throw new TypeError(
      `Cannot run native baseline ${mode} with option ${key}: received ${options[key]}`,
    );
  }
  const capacity = 2 ** (options.ringBits ?? DEFAULT_RING_BITS);
  if (options.batch !== undefined && options.batch > capacity) {
    throw new RangeError(
      `Cannot run native baseline ${mode} as batch must be between 1 and the ring capacity ${capacity}: received ${options.batch}`,
    );
  }
  if (
    mode === "mpmc" && (options.producers ?? 2) + (options.consumers ?? 2) > 64
  ) {
    throw new RangeError(
      `Cannot run native baseline mpmc as producers + consumers must be at most 64: received ${
        (options.producers ?? 2) + (options.consumers ?? 2)
      }`,
    );
  }
  if (options.elem !== undefined) {
    if (!ELEMS.includes(options.elem)) {
      throw new TypeError(
        `Cannot run native baseline ${mode} as elem must be u32, u64 or f64: received ${options.elem}`,
      );
    }
    if (mode === "pingpong" && options.elem !== "u32") {
      throw new TypeError(
        `Cannot run native baseline pingpong as its element type is u32: received ${options.elem}`,
      );
    }
    args.push("--elem", options.elem);
  }
  for (const key of ["pin", "seqCst"] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `Cannot run native baseline ${mode} as ${key} must be a boolean: received ${
          JSON.stringify(value)
        }`,
      );
    }
  }
  if (options.pin) args.push("--pin");
  if (options.seqCst) args.push("--seq-cst");
  return args;
}

function parseResult(mode: NativeBaselineMode, stdout: string): Record<string, unknown> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw new TypeError(
      `Cannot parse native baseline ${mode} output as JSON: received ${JSON.stringify(line)}`,
      { cause },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError(
      `Cannot parse native baseline ${mode} output as it is not an object: received ${line}`,
    );
  }
  return parsed as Record<string, unknown>;
}

function checkShape(
  mode: NativeBaselineMode,
  result: Record<string, unknown>,
  order: NativeOrder,
): void {
  const numbers = mode === "pingpong"
    ? [
      "ringBits",
      "seconds",
      "rounds",
      "warmup",
      "minNs",
      "p50Ns",
      "p99Ns",
      "p999Ns",
      "maxNs",
      "aggregateNs",
    ]
    : ["ringBits", "seconds", "producers", "consumers", "batch", "items", "itemsPerSec"];
  for (const key of numbers) {
    if (typeof result[key] !== "number" || !Number.isFinite(result[key])) {
      throw new TypeError(
        `Cannot accept native baseline ${mode} output as ${key} must be a finite number: received ${
          JSON.stringify(result[key])
        }`,
      );
    }
  }
  if (result.mode !== mode) {
    throw new TypeError(
      `Cannot accept native baseline ${mode} output as it reports mode ${
        JSON.stringify(result.mode)
      }`,
    );
  }
  if (result.order !== order) {
    throw new TypeError(
      `Cannot accept native baseline ${mode} output as it reports order ${
        JSON.stringify(result.order)
      } where ${order} was asked for`,
    );
  }
  if (mode !== "pingpong" && typeof result.checksum !== "string") {
    throw new TypeError(
      `Cannot accept native baseline ${mode} output as checksum must be a string: received ${
        JSON.stringify(result.checksum)
      }`,
    );
  }
}

/**
 * Runs one mode of the native C baseline and returns its result. The binary
 * is built first if needed ({@linkcode buildNativeBaseline}). Threads are not
 * pinned unless `options.pin` says so.
 *
 * @param mode `spsc` (1 producer, 1 consumer), `mpsc` (P producers, each with
 * its own ring, 1 consumer), `mpmc` (P rings whose heads C consumers claim by
 * compare-and-swap) or `pingpong` (round-trip latency over two rings).
 * @param options Item counts, batch, ring size, threads, element type,
 * pinning, publishing order and timeout; see {@linkcode NativeBaselineOptions}.
 * @returns The parsed result line: throughput figures, or latency percentiles
 * for `pingpong`.
 * @throws {TypeError} If `mode`, `elem` or an option is not accepted for the
 * mode (`pin` and `seqCst` must be booleans), or the output is not a result
 * line.
 * @throws {RangeError} If a numeric option is out of range.
 * @throws {Error} If the build fails, the run exceeds `timeoutMs`, or the
 * run found an item lost, duplicated or reordered (its message says which).
 *
 * @example Measuring the single-producer ring, publishing every 256 items
 * ```ts
 * import { runNativeBaseline } from "./native_baseline.ts";
 * const r = await runNativeBaseline("spsc", { batch: 256, items: 1_000_000 });
 * console.log(`${(r.itemsPerSec / 1e6).toFixed(0)} M items/s`);
 * ```
 *
 * @example Publishing with the stores JavaScript has (seq_cst)
 * ```ts
 * import assert from "node:assert/strict";
 * import { runNativeBaseline } from "./native_baseline.ts";
 * const r = await runNativeBaseline("spsc", { seqCst: true, items: 100_000 });
 * assert.equal(r.order, "seq_cst");
 * ```
 */
export async function runNativeBaseline<M extends NativeBaselineMode>(
  mode: M,
  options: NativeBaselineOptions = {},
): Promise<NativeBaselineResultFor<M>> {
  if (!MODES.includes(mode)) {
    throw new TypeError(
      `Cannot run native baseline as mode must be spsc, mpsc, mpmc or pingpong: received ${mode}`,
    );
  }
  const args = toArgs(mode, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `Cannot run native baseline ${mode} as timeoutMs must be a positive number: received ${timeoutMs}`,
    );
  }
  const binary = await buildNativeBaseline();
  const signal = AbortSignal.timeout(timeoutMs);
  const out = await new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const decoder = new TextDecoder();
  const stderr = decoder.decode(out.stderr).trim();
  if (signal.aborted) {
    throw new Error(
      `Cannot finish native baseline ${mode} as it ran longer than ${timeoutMs} ms and was killed`,
    );
  }
  if (out.code === 1) {
    throw new Error(
      `Cannot accept native baseline ${mode} as the run failed its checks: ${stderr}`,
    );
  }
  if (!out.success) {
    throw new Error(
      `Cannot run native baseline ${mode} as ring_bench exited with code ${out.code}: ${stderr}`,
    );
  }
  const result = parseResult(mode, decoder.decode(out.stdout));
  if (result.ok !== true) {
    throw new Error(
      `Cannot accept native baseline ${mode} as the run failed its checks: ${String(result.error)}`,
    );
  }
  checkShape(mode, result, options.seqCst ? "seq_cst" : "release");
  return result as unknown as NativeBaselineResultFor<M>;
}

/** The default suite when the script names no mode. */
const SUITE: ReadonlyArray<[NativeBaselineMode, NativeBaselineOptions]> = [
  ["spsc", { batch: 1 }],
  ["spsc", { batch: 256 }],
  ["mpsc", { producers: 2, batch: 1 }],
  ["mpsc", { producers: 2, batch: 256 }],
  ["mpmc", { producers: 2, consumers: 2, batch: 1 }],
  ["mpmc", { producers: 2, consumers: 2, batch: 256 }],
  ["pingpong", {}],
];

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      runs: { type: "string", default: "3" },
      items: { type: "string" },
      batch: { type: "string" },
      "ring-bits": { type: "string" },
      producers: { type: "string" },
      consumers: { type: "string" },
      rounds: { type: "string" },
      elem: { type: "string" },
      pin: { type: "boolean", default: false },
      "seq-cst": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const int = (text: string | undefined) => text === undefined ? undefined : Number(text);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(
      `Cannot run as --runs must be a positive integer: received ${values.runs}`,
    );
  }
  const shared: NativeBaselineOptions = {
    items: int(values.items),
    batch: int(values.batch),
    ringBits: int(values["ring-bits"]),
    producers: int(values.producers),
    consumers: int(values.consumers),
    rounds: int(values.rounds),
    elem: values.elem as NativeElement | undefined,
    pin: values.pin,
    seqCst: values["seq-cst"],
  };
  const defined = Object.fromEntries(
    Object.entries(shared).filter(([, v]) => v !== undefined),
  ) as NativeBaselineOptions;
  const plan: Array<[NativeBaselineMode, NativeBaselineOptions]> = positionals.length === 0
    ? SUITE.map(([mode, options]) => [mode, { ...options, ...defined }])
    : positionals.map((mode) => [mode as NativeBaselineMode, defined]);
  await buildNativeBaseline();
  for (const [mode, options] of plan) {
    const results: NativeBaselineResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await runNativeBaseline(mode, options));
    if (values.json) {
      for (const r of results) console.log(JSON.stringify(r));
      continue;
    }
    const first = results[0];
    const order = first.order === "seq_cst" ? " seq_cst" : "";
    if (first.mode === "pingpong") {
      const pick = (k: "p50Ns" | "p99Ns" | "p999Ns") =>
        median(results.map((r) => (r as NativePingPongResult)[k]));
      console.log(
        `${`pingpong${order}`.padEnd(20)}rounds=${first.rounds} runs=${runs}  median p50=${
          pick("p50Ns")
        } ns` +
          `  p99=${pick("p99Ns")} ns  p99.9=${pick("p999Ns")} ns`,
      );
    } else {
      const rates = results.map((r) => (r as NativeThroughputResult).itemsPerSec);
      const label = `${first.mode} ${first.producers}P${first.consumers}C b=${first.batch}${order}`;
      console.log(
        `${label.padEnd(20)}items=${first.items} runs=${runs}  median ${
          (median(rates) / 1e6).toFixed(1)
        } M items/s  (min ${(Math.min(...rates) / 1e6).toFixed(1)}, max ${
          (Math.max(...rates) / 1e6).toFixed(1)
        })`,
      );
    }
  }
}

if (import.meta.main) {
  await main(Deno.args);
}
