/**
 * Child process for the cross-process BufferPool tests. Connects to the
 * test's Unix socket, receives the pool's memfd (and, for "consumer", a
 * SharedRing's memfd), and then either runs the storm of
 * pool_storm_core.ts ("storm") or receives handles through the SharedRing
 * and checks every payload ("consumer"). Prints one JSON report line.
 *
 * Usage: pool_process.ts storm <socket> <id> <rounds> <hold> <parties>
 *        (receives the pool's memfd, then a barrier region's memfd)
 *        pool_process.ts consumer <socket> <count>
 *        pool_process.ts churn <socket> <hold> <seed>
 *        (allocates and frees without end, holding up to `hold` slabs, and
 *        prints `{"ready":true}` after its first round: the test SIGKILLs it;
 *        it gives up by itself after 60 s)
 *
 * @module
 */

import { u32 } from "../../src/element.ts";
import { SharedBufferPool } from "../../src/native/buffer_pool_shared.ts";
import { closeFd } from "../../src/native/close_fd.ts";
import { connectUnix, recvFd } from "../../src/native/fd_passing.ts";
import { SharedRing } from "../../src/native/shared_ring.ts";
import { SharedMemory } from "../../src/native/shared_memory.ts";
import { runStorm } from "./pool_storm_core.ts";

/** Payload length of message `n` in a slab of `slabSize` bytes. */
export function payloadLength(n: number, slabSize: number): number {
  return 8 + (n * 7919) % (slabSize - 8);
}

if (import.meta.main) {
  const [role, path, ...rest] = Deno.args;
  const socket = connectUnix(path);
  const poolFd = recvFd(socket);
  using shared = SharedBufferPool.attach(poolFd);
  closeFd(poolFd);
  const pool = shared.pool;
  if (role === "churn") {
    const [hold, seed] = rest.map(Number);
    let s = seed | 1;
    const held: number[] = [];
    // churns until the test kills it; the deadline only ends an orphan (generous: on a loaded
    // machine the other children may take long to start)
    const deadline = performance.now() + 300_000;
    for (let round = 0; performance.now() < deadline; round++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const want = 1 + (s >>> 0) % hold;
      for (let h = pool.alloc(); h !== null; h = held.length < want ? pool.alloc() : null) {
        pool.setLen(h, 4);
        held.push(h);
      }
      for (let i = (s >>> 8) % (held.length + 1); i > 0; i--) pool.free(held.pop()!);
      if (round === 0) console.log(JSON.stringify({ ready: true }));
    }
    Deno.exit(3);
  } else if (role === "storm") {
    const [id, rounds, hold, parties] = rest.map(Number);
    const gateFd = recvFd(socket);
    using gate = SharedMemory.attach(gateFd);
    closeFd(gateFd);
    const barrier = new Int32Array(gate.buffer);
    console.log(
      JSON.stringify(runStorm(pool, id, rounds, hold, 0x2545f491 * id, barrier, parties)),
    );
  } else {
    const count = Number(rest[0]);
    const ringFd = recvFd(socket);
    using ring = SharedRing.attach(u32, ringFd);
    closeFd(ringFd);
    const bytes = pool.bytes;
    const errors: string[] = [];
    let received = 0;
    while (received < count) {
      ring.waitReadable();
      for (let h = ring.tryRecv(); h !== null; h = ring.tryRecv()) {
        const o = pool.offsetOf(h);
        const len = pool.lengthOf(h);
        const n = new DataView(bytes.buffer, bytes.byteOffset + o, 8).getUint32(0, true);
        if (n !== received && errors.length < 5) errors.push(`expected ${received}, received ${n}`);
        if (len !== payloadLength(n, pool.slabSize) && errors.length < 5) {
          errors.push(`message ${n} has length ${len}`);
        }
        for (let i = 8; i < len; i++) {
          if (bytes[o + i] !== ((n + i) & 0xff)) {
            if (errors.length < 5) errors.push(`message ${n} byte ${i} is torn`);
            break;
          }
        }
        pool.free(h);
        received++;
      }
    }
    console.log(JSON.stringify({ received, errors }));
  }
  closeFd(socket);
}
