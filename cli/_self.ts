/**
 * How the CLI starts a copy of itself for one of its hidden subcommands (the
 * demo's relay process). Run by `deno run cli.ts`, `Deno.execPath()` is
 * `deno`, which runs cli.ts again with the permissions the subcommand needs;
 * compiled by `deno task compile`, it is the binary itself, which already
 * holds its permissions and runs the subcommand directly. Either way no
 * script outside the program is spawned, so the binary needs nothing but
 * itself (tests/compile_task_test.ts checks that every Worker and spawned
 * module is covered).
 *
 * @module
 */

const CLI = new URL("../cli.ts", import.meta.url);

/** The hidden subcommand that runs the demo's relay process. */
export const RELAY_SUBCOMMAND = "__demo-relay";

/** A program and its arguments, for `new Deno.Command`. */
export interface SelfCommand {
  /** The program: `deno`, or the compiled binary. */
  readonly command: string;
  /** Its arguments. */
  readonly args: string[];
}

/**
 * The command line that runs `subcommand` of this CLI in a new process.
 *
 * @param subcommand A hidden subcommand of cli.ts.
 * @param args Its arguments.
 * @param permissions The `deno run` flags it needs (ignored when compiled).
 * @returns The program and its arguments.
 */
export function selfCommand(
  subcommand: string,
  args: readonly string[],
  permissions: readonly string[],
): SelfCommand {
  const command = Deno.execPath();
  if (Deno.build.standalone) return { command, args: [subcommand, ...args] };
  return { command, args: ["run", ...permissions, CLI.href, subcommand, ...args] };
}
