/**
 * The `ringmpsc` command line: `demo`, `bench`, `inspect` and `numa`.
 *
 * ```sh
 * deno run -A cli.ts demo            # the Worker + process pipeline, checked end to end
 * deno run -A cli.ts bench --quick   # the comparison suite against every peer
 * deno run -A cli.ts inspect /dev/shm/my-ring
 * deno run -A cli.ts numa
 * ```
 *
 * `deno task compile` makes it one binary, `./ringmpsc` (see the README): its
 * flags embed every module the program starts as a Worker, and the demo's
 * relay process runs through the binary itself (a hidden subcommand), so the
 * binary needs no checkout. `bench` needs one (it builds native peers and
 * spawns benchmark scripts) and says so when compiled. Installed from the
 * registry: `deno install -g -A -n ringmpsc jsr:@ringmpsc/ringmpsc/cli`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RELAY_SUBCOMMAND } from "./cli/_self.ts";

const USAGE = `ringmpsc — lock-free rings and channels for Deno

Usage: ringmpsc <command> [options]

Commands:
  demo      run a Worker pipeline (mpsc → SharedRing hop to another process → spmc) and check it
  bench     run the comparison suite against postMessage, ringbuf.js and a native C build
  inspect   print a live SharedRing's or broadcast ring's header (PATH, or PID:FD)
  numa      print the NUMA topology and this thread's CPU and node

Run 'ringmpsc <command> --help' for a command's options.`;

const HELP: Record<string, string> = {
  demo: `Usage: ringmpsc demo [--producers N] [--consumers N] [--items N] [--ring-bits N]

  --producers N   producer Workers, 1–15 (default 3)
  --consumers N   consumer Workers behind the spmc fan-out, 1–16 (default 2)
  --items N       items per producer, 1 … 2^28 − 1 (default 1000000)
  --ring-bits N   capacity exponent of every ring, 4–20 (default 14)`,
  bench: `Usage: ringmpsc bench [--quick] [--repeat] [--json FILE] [--svg FILE]

  --quick       fewer runs and items (about a minute)
  --repeat      go on, contenders interleaved, until every median settles within 3 %
  --json FILE   also write every row as JSON
  --svg FILE    also write a bar chart of the ratios`,
  inspect: `Usage: ringmpsc inspect PATH|PID:FD

  PATH     a SharedRing or broadcast ring file, e.g. /dev/shm/my-ring
  PID:FD   a memfd held by process PID as descriptor FD`,
  numa: `Usage: ringmpsc numa [--root DIR]

  --root DIR   read the topology from DIR instead of /sys/devices/system/node`,
};

/** A bad command line: printed as one line, exit code 2. */
class UsageError extends Error {}

function intOption(value: string | undefined, name: string, min: number, max: number, def: number) {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be an integer between ${min} and ${max}: received ${value}`,
    );
  }
  return n;
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === RELAY_SUBCOMMAND) {
    if (rest.length !== 1) throw new UsageError(`${RELAY_SUBCOMMAND} needs exactly one SOCKET`);
    const { runRelay } = await import("./cli/demo_relay.ts");
    runRelay(rest[0]);
    return 0;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command '${command}' (try --help)`);
  const options = {
    help: { type: "boolean", short: "h" },
    producers: { type: "string" },
    consumers: { type: "string" },
    items: { type: "string" },
    "ring-bits": { type: "string" },
    quick: { type: "boolean" },
    repeat: { type: "boolean" },
    json: { type: "string" },
    svg: { type: "string" },
    root: { type: "string" },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP[command]);
    return 0;
  }
  const allowed: Record<string, string[]> = {
    demo: ["producers", "consumers", "items", "ring-bits"],
    bench: ["quick", "repeat", "json", "svg"],
    inspect: [],
    numa: ["root"],
  };
  for (const key of Object.keys(values)) {
    if (!allowed[command].includes(key)) {
      throw new UsageError(`'${command}' takes no --${key} (try ringmpsc ${command} --help)`);
    }
  }
  if (command !== "inspect" && positionals.length > 0) {
    throw new UsageError(`'${command}' takes no argument '${positionals[0]}'`);
  }
  switch (command) {
    case "demo": {
      const { runDemo } = await import("./cli/demo.ts");
      const result = await runDemo({
        producers: intOption(values.producers, "producers", 1, 15, 3),
        consumers: intOption(values.consumers, "consumers", 1, 16, 2),
        items: intOption(values.items, "items", 1, 2 ** 28 - 1, 1_000_000),
        ringBits: intOption(values["ring-bits"], "ring-bits", 4, 20, 14),
        write: (line) =>
          Deno.stdout.writeSync(
            new TextEncoder().encode(line.startsWith("\r") ? line : `${line}\n`),
          ),
        tty: Deno.stdout.isTerminal(),
      });
      return result.ok ? 0 : 1;
    }
    case "bench": {
      if (Deno.build.standalone) {
        throw new UsageError(
          "bench needs a checkout of ringmpsc (it builds native peers and spawns benchmark " +
            "scripts): run 'deno task bench' there",
        );
      }
      const { runSuite } = await import("./bench/suite.ts");
      const ok = await runSuite({
        quick: values.quick ?? false,
        repeat: values.repeat ?? false,
        json: values.json,
        svg: values.svg,
      });
      return ok ? 0 : 1;
    }
    case "inspect": {
      if (positionals.length !== 1) {
        throw new UsageError("inspect needs exactly one PATH or PID:FD");
      }
      const { inspect } = await import("./cli/inspect.ts");
      const report = await inspect(positionals[0]);
      console.log(`${report.kind} at ${report.source}`);
      for (const [k, v] of report.fields) console.log(`  ${k.padEnd(17)} ${v}`);
      for (const p of report.problems) console.log(`  ! ${p}`);
      return report.problems.length === 0 ? 0 : 1;
    }
    default: {
      const { printNuma } = await import("./cli/numa.ts");
      printNuma(values.root);
      return 0;
    }
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`ringmpsc: ${err.message}`);
      Deno.exit(2);
    }
    if (err instanceof Deno.errors.NotFound) {
      console.error(`ringmpsc: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
