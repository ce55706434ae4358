/**
 * Starts tests/fixtures/stream_process.ts (a process that pipes a sequence
 * into a SharedRing, or reads one and checks it) and collects its output.
 *
 * @module
 */
import assert from "node:assert/strict";

const CHILD = new URL("./fixtures/stream_process.ts", import.meta.url).pathname;

/**
 * Spawns `stream_process.ts ARGS…` with the native layer's permissions.
 *
 * @param args Its mode and arguments.
 * @returns The running process.
 */
export function streamChild(...args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-ffi", "--allow-env", CHILD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Waits for the process, asserts it exited 0 (showing its stderr if not).
 *
 * @param process The process.
 * @returns Its stdout.
 */
export async function childOutput(process: Deno.ChildProcess): Promise<string> {
  const { code, stdout, stderr } = await process.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}
