/**
 * Runs the README's TypeScript samples as a user would: every ```ts block
 * starts with `// FILE.ts`; the blocks under one heading are written to a
 * fresh folder whose deno.json maps the package name to this checkout (through
 * a symlink, so `--allow-read=.` covers it as it covers an installed
 * package's files); each block whose first line goes on with
 * `— run with: deno run … FILE.ts` is type-checked, then run with exactly that
 * command, and must exit 0 within a minute (README "Design notes").
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url);
const FIRST_LINE = /^\/\/ ([\w-]+\.ts)(?: — run with: (deno run .*))?$/;
const LIMIT_MS = 60_000;

/** One README file sample. */
interface Sample {
  file: string;
  source: string;
  command: string | null;
  line: number;
}

/** The README's ```ts blocks, grouped by the heading they sit under. */
function readmeSamples(text: string): Map<string, Sample[]> {
  const sections = new Map<string, Sample[]>();
  const lines = text.split("\n");
  let heading = "(top)";
  for (let i = 0; i < lines.length; i++) {
    if (/^#{2,3} /.test(lines[i])) heading = lines[i].replace(/^#+ /, "");
    if (lines[i] !== "```ts") continue;
    const start = i + 1;
    const end = lines.indexOf("```", start);
    assert.ok(end > start, `README.md:${i + 1}: a \`\`\`ts block that never ends`);
    const first = FIRST_LINE.exec(lines[start]);
    assert.ok(
      first,
      `README.md:${start + 1}: a \`\`\`ts block must start with "// FILE.ts" ` +
        `(and " — run with: deno run … FILE.ts" on the one to run): found ${lines[start]}`,
    );
    const [, file, command] = first;
    if (command) {
      assert.ok(command.endsWith(` ${file}`), `README.md:${start + 1}: the command runs ${file}`);
    }
    const group = sections.get(heading) ?? [];
    assert.ok(!group.some((s) => s.file === file), `README.md:${start + 1}: ${file} twice`);
    group.push({
      file,
      source: lines.slice(start, end).join("\n") + "\n",
      command: command ?? null,
      line: start + 1,
    });
    sections.set(heading, group);
    i = end;
  }
  return sections;
}

async function run(cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(LIMIT_MS),
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

const readme = await Deno.readTextFile(new URL("README.md", ROOT));
const sections = readmeSamples(readme);

Deno.test("every README section with a TypeScript sample has one to run", () => {
  assert.ok(sections.size > 0);
  for (const [heading, samples] of sections) {
    assert.ok(samples.some((s) => s.command), `"${heading}" has no "— run with:" block`);
  }
});

for (const [heading, samples] of sections) {
  Deno.test(`README sample runs with its own command: ${heading}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ringmpsc-readme-" });
    try {
      await Deno.symlink(ROOT.pathname, join(dir, "ringmpsc"));
      const imports = {
        "@ringmpsc/ringmpsc": "./ringmpsc/mod.ts",
        "@ringmpsc/ringmpsc/native": "./ringmpsc/native.ts",
      };
      await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ imports, lock: false }));
      for (const s of samples) await Deno.writeTextFile(join(dir, s.file), s.source);
      const check = await run(dir, ["check", "--quiet", ...samples.map((s) => s.file)]);
      assert.equal(check.code, 0, `deno check failed:\n${check.output}`);
      for (const s of samples.filter((s) => s.command)) {
        const [, ...args] = s.command!.split(/\s+/);
        const result = await run(dir, args);
        assert.equal(result.code, 0, `README.md:${s.line}: ${s.command} failed:\n${result.output}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
