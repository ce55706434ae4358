/**
 * `deno task compile` (deno.json) embeds everything the CLI starts: `deno
 * compile` takes the static module graph (and dynamic imports of literal
 * specifiers), not a module that is only named by a `new URL(…,
 * import.meta.url)` for a Worker or a child process. `deno compile` itself
 * cannot run on these machines (no `denort`), so this checks the task against
 * the sources: every such URL in a module of cli.ts's graph is covered by an
 * `--include`, and no module but cli/_self.ts spawns `Deno.execPath()` (which
 * is the binary itself once compiled, and runs a hidden subcommand there).
 * `bench/` is left out: `bench` refuses to run from a compiled binary.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = fromFileUrl(new URL("..", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));

function compileTask(): { includes: string[]; entry: string; flags: string[] } {
  const words: string[] = config.tasks.compile.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  const includes: string[] = [];
  words.forEach((w, i) => w === "--include" && includes.push(words[i + 1]));
  return { includes, entry: words[words.length - 1], flags: words };
}

/** Local modules of the entry's graph (static and literal dynamic imports), relative paths. */
async function graph(entry: string): Promise<string[]> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
  }).output();
  assert.ok(success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(stdout));
  return (info.modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file:"))
    .map((s) => relative(ROOT, fromFileUrl(s)));
}

const covered = (path: string, includes: string[]) =>
  includes.some((inc) => path === inc || path.startsWith(`${inc.replace(/\/$/, "")}/`));

Deno.test("deno task compile embeds every module the CLI starts as a Worker or process", async () => {
  const { includes, entry } = compileTask();
  assert.equal(entry, "cli.ts");
  const modules = (await graph(entry)).filter((m) => !m.startsWith("bench/"));
  assert.ok(modules.includes("cli/demo.ts") && modules.includes("cli/demo_relay.ts"));
  const started: string[] = [];
  const spawners: string[] = [];
  for (const module of modules) {
    const source = await Deno.readTextFile(`${ROOT}/${module}`);
    for (const m of source.matchAll(/new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g)) {
      const target = relative(ROOT, fromFileUrl(new URL(m[1], `file://${ROOT}/${module}`)));
      if (target !== entry) started.push(target); // the entry is the binary itself
    }
    if (/Deno\.execPath\(\)/.test(source.replace(/^\s*\*.*$/gm, ""))) spawners.push(module);
  }
  assert.ok(started.includes("cli/demo_worker.ts"), "the scan finds the demo's Worker");
  for (const target of started) {
    assert.ok(covered(target, includes), `${target} is started but not --include'd`);
  }
  assert.deepEqual(spawners, ["cli/_self.ts"], "only the self-command spawns Deno.execPath()");
});

Deno.test("deno task compile grants what the demo, inspect and numa need", () => {
  const { flags } = compileTask();
  for (const flag of ["--allow-ffi", "--allow-read", "--allow-write", "--allow-run"]) {
    assert.ok(flags.includes(flag), flag);
  }
  assert.ok(flags.includes("--output"));
});

Deno.test("the relay's hidden subcommand is refused without its socket", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", `${ROOT}/cli.ts`, "__demo-relay"],
    env: { NO_COLOR: "1" },
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(new TextDecoder().decode(stderr), /__demo-relay needs exactly one SOCKET/);
});
