/**
 * The C peer of the SharedRing tests (tests/fixtures/shared_ring_peer.c, which
 * behaves on a ring exactly as ringmpsc 2.3.0 does): building it once, running
 * it, reading its report, and attaching to a ring it creates.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SharedRing } from "../native.ts";
import { u64 } from "../mod.ts";

const root = new URL("..", import.meta.url).pathname;

/** The JSON line the C peer prints when it succeeds. */
export interface PeerReport {
  role: string;
  items: number;
  ok: boolean;
  /** Times it found the ring empty (full) and polled: ringmpsc has no waits. */
  polls: number;
  /** FUTEX_WAKE calls it made because the other side's waiters word was > 0. */
  wakes: number;
  /** Sleepers those calls woke, as the kernel counted them. */
  woken: number;
  heartbeat: boolean;
  heartbeat_advanced: boolean;
  /** F_GET_SEALS of the ring's fd; -1 for a /dev/shm file. */
  seals: number;
}

/** What the C peer printed and how it ended. */
export interface PeerResult {
  code: number;
  stderr: string;
  report: PeerReport | null;
}

/** A running C peer; `result()` reads its output once it exits, `stop()` kills it if it runs. */
export interface Peer {
  readonly pid: number;
  exited(): boolean;
  result(): Promise<PeerResult>;
  stop(): Promise<void>;
}

let built: Promise<string> | undefined;

/** Builds the peer once per process (the script itself skips unchanged builds). */
export function buildPeer(): Promise<string> {
  built ??= (async () => {
    const out = await new Deno.Command(`${root}tests/fixtures/build_peer.sh`, {
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assert.equal(out.code, 0, `build_peer.sh failed: ${text.decode(out.stderr)}`);
    return text.decode(out.stdout).trim();
  })();
  return built;
}

export async function spawnPeer(args: string[]): Promise<Peer> {
  const child = new Deno.Command(await buildPeer(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let done = false;
  void output.then(() => done = true, () => done = true);
  return {
    pid: child.pid,
    exited: () => done,
    async result() {
      const out = await output;
      const text = new TextDecoder();
      const stdout = text.decode(out.stdout).trim();
      return {
        code: out.code,
        stderr: text.decode(out.stderr),
        report: stdout === "" ? null : JSON.parse(stdout),
      };
    },
    async stop() {
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch {
          // it exited meanwhile
        }
      }
      await output.catch(() => {});
    },
  };
}

export function shmFile(tag: string): string {
  const path = `/dev/shm/ringmpsc-interop-${Deno.pid}-${tag}`;
  removeFile(path);
  return path;
}

export function removeFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Attaches to a ring the peer is still creating: until the file exists, has
 * its size and carries the magic (written last), attaching fails; retry for
 * up to 10 s, or until the peer exits.
 */
export async function attachWhenReady(
  path: string,
  peer: Peer,
): Promise<SharedRing<bigint, BigUint64Array>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return SharedRing.attachPath(u64, path);
    } catch (error) {
      if (peer.exited()) {
        const r = await peer.result();
        assert.fail(`peer exited (${r.code}) before the ring was attached: ${r.stderr}`);
      }
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
