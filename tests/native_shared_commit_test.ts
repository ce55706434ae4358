/**
 * `rmpsc_shared_commit` (ffi/src/ring.zig) through src/native/_shared_commit.ts:
 * a SharedRing commit in one FFI call does what Ring's own commit does — the
 * close gate's P1–P3, the heartbeat, the sleepers' load — and refuses
 * offsets outside the header or misaligned, before it touches anything.
 *
 * @module
 */
import assert from "node:assert/strict";
import { native } from "../ffi/lib.ts";
import { Errno } from "../ffi/errno.ts";
import { sharedCommit } from "../src/native/_shared_commit.ts";
import { Closed, u32 } from "../mod.ts";
import { SharedMemory, SharedRing } from "../native.ts";
import { SHARED_RING_HEADER, SHARED_RING_HEADER_SIZE, SHARED_RING_LAYOUT } from "../src/layout.ts";

const L = SHARED_RING_LAYOUT;
const at = (offset: number) => offset / 4;

Deno.test("shared commit: publishes, stamps the heartbeat, reports sleepers; refuses a closed ring", () => {
  const memory = new ArrayBuffer(SHARED_RING_HEADER_SIZE + 64);
  const words = new Uint32Array(memory);
  const heartbeat = new BigInt64Array(memory, SHARED_RING_HEADER.heartbeat, 1);
  const commit = sharedCommit(memory);

  const before = BigInt(Date.now()) * 1_000_000n;
  assert.equal(commit(0, 3), 0, "nobody sleeps");
  assert.deepEqual([words[at(L.sending)], words[at(L.tail)]], [3, 3]);
  const beat = heartbeat[0];
  assert.ok(beat >= before - 1_000_000_000n && beat <= before + 60_000_000_000n, `${beat}`);

  words[at(L.consumerWaiters)] = 2;
  assert.equal(commit(3, 0xffff_fff0 | 0), 2, "sleepers are reported; u32 positions in full");
  assert.equal(words[at(L.tail)], 0xffff_fff0);
  words[at(L.consumerWaiters)] = 0xffff_ffff; // forged: still reads as "someone sleeps"
  assert.equal(commit(0xffff_fff0 | 0, 0xffff_fff1 | 0), 0x7fff_ffff);

  words[at(L.closed)] = 1; // CLOSING
  assert.equal(commit(0xffff_fff1 | 0, 0xffff_fff2 | 0), -1);
  assert.deepEqual(
    [words[at(L.sending)], words[at(L.tail)]],
    [0xffff_fff1, 0xffff_fff1],
    "a refused commit publishes nothing and leaves sending = tail",
  );
});

Deno.test("shared commit: offsets outside the header or misaligned are EINVAL, nothing written", () => {
  const header = new Uint8Array(SHARED_RING_HEADER_SIZE);
  const good = [L.sending, L.closed, L.tail, SHARED_RING_HEADER.heartbeat, L.consumerWaiters];
  const call = (words: number[], len = SHARED_RING_HEADER_SIZE) =>
    native().rmpsc_shared_commit(header, len, new Uint32Array(words), 0, 1);
  for (
    const words of [
      [L.sending + 1, ...good.slice(1)], // misaligned u32
      [...good.slice(0, 3), SHARED_RING_HEADER.heartbeat + 4, L.consumerWaiters], // misaligned u64
      [SHARED_RING_HEADER_SIZE, ...good.slice(1)], // past the end
      [...good.slice(0, 3), SHARED_RING_HEADER_SIZE - 4, L.consumerWaiters], // u64 across the end
    ]
  ) assert.equal(call(words), -Errno.EINVAL, `${words}`);
  assert.equal(call(good, 16), -Errno.EINVAL, "a header shorter than its offsets");
  assert.ok(header.every((b) => b === 0), "nothing was written");
  assert.equal(call(good), 0);
  assert.equal(new Uint32Array(header.buffer)[at(L.tail)], 1);
});

Deno.test("shared commit: through SharedRing, a send after close() is Closed and publishes nothing", () => {
  using producer = SharedRing.create(u32, 4);
  using consumer = SharedRing.attach(u32, producer.getFd());
  assert.equal(producer.send([1, 2]), 2);
  consumer.close();
  assert.throws(() => producer.sendOne(3), Closed);
  assert.throws(() => producer.send([4, 5]), Closed);
  const r = producer.reserve(1)!;
  r.array[r.offset] = 6;
  assert.throws(() => producer.commit(1), Closed);
  using view = SharedMemory.attach(producer.getFd());
  const words = new Uint32Array(view.buffer, 0, SHARED_RING_HEADER_SIZE / 4);
  assert.equal(words[at(L.tail)], 2, "nothing was published after the close");
  assert.equal(words[at(L.sending)], 2, "sending = tail: no commit in flight");
  assert.equal(consumer.isClosed(), true);
  assert.deepEqual([consumer.tryRecv(), consumer.tryRecv(), consumer.tryRecv()], [1, 2, null]);
});
