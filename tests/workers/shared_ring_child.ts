/**
 * The other process of tests/shared_ring_test.ts. Usage:
 *   shared_ring_child.ts MODE SOCKET|PATH COUNT
 * MODE: "consume-fd" | "consume-path" (attach, read COUNT u32 items, check order, print JSON),
 *       "produce-fd" (attach, send COUNT items, close),
 *       "crash-producer" (attach, commit batches of up to 100 forever, each item = batch << 8 | size,
 *        and write a partial batch without committing it before each commit; killed by the test),
 *       "wait-then-report" (attach, block in waitReadable, print what woke it).
 *
 * @module
 */
import { Closed, u32 } from "../../mod.ts";
import { closeFd, connectUnix, recvFd, SharedRing } from "../../native.ts";

const [mode, where, countText] = Deno.args;
const count = Number(countText);

function attach(): SharedRing<number, Uint32Array> {
  if (mode === "consume-path") return SharedRing.attachPath(u32, where);
  const socket = connectUnix(where);
  const fd = recvFd(socket);
  closeFd(socket);
  const ring = SharedRing.attach(u32, fd);
  closeFd(fd);
  return ring;
}

using ring = attach();
if (mode === "consume-fd" || mode === "consume-path") {
  let expected = 0;
  let ok = true;
  while (expected < count) {
    const region = ring.readable();
    if (region === null) {
      ring.waitReadable();
      continue;
    }
    for (let i = 0; i < region.length; i++) {
      if (region.array[region.offset + i] !== expected++) ok = false;
    }
    ring.advance(region.length);
  }
  console.log(JSON.stringify({ received: expected, ok }));
} else if (mode === "produce-fd") {
  for (let i = 0; i < count;) {
    if (ring.sendOne(i)) i++;
    else ring.ring.waitWritable(1);
  }
  ring.close();
  console.log(JSON.stringify({ sent: count }));
} else if (mode === "crash-producer") {
  console.log("ready");
  for (let batch = 0;; batch++) {
    const r = ring.ring.reserveBlocking(100);
    const k = Math.min(r.length, 100);
    for (let i = 0; i < k; i++) r.array[r.offset + i] = (batch << 8) | k;
    ring.commit(k);
    // a write that is never committed: the consumer must never see it
    const partial = ring.reserve(50);
    if (partial !== null) {
      for (let i = 0; i < partial.length; i++) partial.array[partial.offset + i] = 0xdead;
    }
  }
} else if (mode === "wait-then-report") {
  console.log("waiting");
  try {
    ring.waitReadable();
    console.log(JSON.stringify({ woke: "data", item: ring.tryRecv() }));
  } catch (err) {
    console.log(JSON.stringify({ woke: err instanceof Closed ? "closed" : String(err) }));
  }
}
