/**
 * Waits on a SharedRing whose peer is a ringmpsc 2.3.0 process (the C peer of
 * tests/fixtures/shared_ring_peer.c: no waits; after publishing, FUTEX_WAKE on
 * the waiters word when its count is > 0; never writes 0x18C+):
 *
 * - A Deno side sleeps with its guard slice set far longer than the whole
 *   test run, so only the peer's FUTEX_WAKE on the waiters word can release
 *   it in time; the peer's own count of the sleepers its wakes woke (the
 *   kernel's answer) must be > 0. Consumer and producer, sync and async.
 * - SIGKILL of the peer during an unlimited wait ends the wait with
 *   `PeerGone` once everything the peer published is taken, in both roles
 *   (the attacher watches the creator_pid of the header; a creator is told
 *   its peer with `watchPeer`).
 *
 * Every item is checked: the k-th item received is k.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PeerGone, u64 } from "../mod.ts";
import { SharedRing } from "../native.ts";
import { attachWhenReady, removeFile, shmFile, spawnPeer } from "./_c_peer.ts";
import { hasPython } from "./_toolchain.ts";

/** Longer than the whole test run: a sleeper that is not woken stays asleep. */
const GUARD_MS = 600_000;
/** Waits give up (fail) after this, well below GUARD_MS, so a missed wake fails instead of hanging. */
const FAIL_AFTER_MS = 60_000;
const ITEMS = 3_000;
/** The peer pauses 5 ms after every this many items, so this side must go to sleep. */
const PAUSE_EVERY = 300;

type Ring = SharedRing<bigint, BigUint64Array>;

/** Consumes `count` items in order, sleeping whenever the ring is empty. */
async function consume(ring: Ring, count: number, async: boolean, first = 0): Promise<void> {
  for (let next = first; next < first + count;) {
    const region = ring.readable();
    if (region === null) {
      if (async) await ring.readableAsync({ timeoutMs: FAIL_AFTER_MS });
      else ring.waitReadable({ timeoutMs: FAIL_AFTER_MS });
      continue;
    }
    const n = Math.min(region.length, first + count - next);
    for (let i = 0; i < n; i++) assert.equal(region.array[region.offset + i], BigInt(next + i));
    ring.advance(n);
    next += n;
  }
}

/** Produces `count` items in order, sleeping whenever the ring is full. */
async function produce(ring: Ring, count: number, async: boolean): Promise<void> {
  for (let next = 0; next < count;) {
    const r = ring.reserve(1);
    if (r === null) {
      if (async) await ring.writableAsync(1, { timeoutMs: FAIL_AFTER_MS });
      else ring.waitWritable(1, { timeoutMs: FAIL_AFTER_MS });
      continue;
    }
    const n = Math.min(r.length, count - next);
    for (let i = 0; i < n; i++) r.array[r.offset + i] = BigInt(next + i);
    ring.commit(n);
    next += n;
  }
}

Deno.test({
  name: "SharedRing: a ringmpsc-style peer's FUTEX_WAKE releases a sleeping Deno side",
  ignore: !hasPython,
  async fn(t) {
    const roles = [
      // [what wakes whom, the peer's role, ring bits, this side's part]
      ["commit → sleeping Deno consumer", "produce", 8, consume],
      ["advance → sleeping Deno producer", "consume", 6, produce],
    ] as const;
    for (const async of [false, true]) {
      for (const [what, role, bits, run] of roles) {
        const how = async ? "async" : "sync";
        await t.step(`${what} (${how})`, async () => {
          const path = shmFile(`wake-${role}-${how}`);
          using ring = SharedRing.createPath(u64, path, bits, { sliceMs: GUARD_MS });
          const peer = await spawnPeer([role, path, String(ITEMS), String(PAUSE_EVERY)]);
          try {
            await run(ring, ITEMS, async);
            const r = await peer.result();
            assert.equal(r.code, 0, r.stderr);
            assert.ok(r.report!.woken > 0, "the peer's FUTEX_WAKE woke this sleeper");
          } finally {
            await peer.stop();
            removeFile(path);
          }
        });
      }
    }
  },
});

Deno.test({
  name: "SharedRing: SIGKILL of the peer ends an unlimited wait with PeerGone, in both roles",
  ignore: !hasPython,
  async fn(t) {
    await t.step("consumer (creator; watchPeer) of a killed producer", async () => {
      const path = shmFile("gone-producer");
      using ring = SharedRing.createPath(u64, path, 8);
      const peer = await spawnPeer(["produce", path, "1000000000", String(PAUSE_EVERY)]);
      try {
        ring.watchPeer(peer.pid);
        await consume(ring, 1_000, false);
        await peer.stop(); // SIGKILL
        let next = 1_000;
        const drained = () => {
          for (let region = ring.readable(); region !== null; region = ring.readable()) {
            for (let i = 0; i < region.length; i++) {
              assert.equal(region.array[region.offset + i], BigInt(next++));
            }
            ring.advance(region.length);
          }
        };
        for (;;) {
          drained();
          try {
            ring.waitReadable(); // unlimited: only the producer's death can end it
          } catch (err) {
            assert.ok(err instanceof PeerGone, String(err));
            break;
          }
        }
        assert.equal(ring.readable(), null, "everything it published was taken first");
      } finally {
        await peer.stop();
        removeFile(path);
      }
    });
    await t.step("producer (attacher; creator_pid) of a killed consumer, async", async () => {
      const path = shmFile("gone-consumer");
      const peer = await spawnPeer(["create-consume", path, "6", "1000000000", "1000000"]);
      try {
        using ring = await attachWhenReady(path, peer);
        await produce(ring, 64, true); // fills the ring: the peer sleeps 5 ms before its first item
        const killed = peer.stop();
        let sent = 64;
        await assert.rejects(
          (async () => {
            for (;;) {
              while (ring.sendOne(BigInt(sent))) sent++;
              await ring.writableAsync(1); // unlimited
            }
          })(),
          PeerGone,
        );
        await killed;
      } finally {
        await peer.stop();
        removeFile(path);
      }
    });
  },
});
