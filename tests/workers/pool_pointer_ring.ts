/**
 * Worker for the pointer-ring test: the producer role allocates a slab,
 * writes a numbered payload in place and sends the 4-byte handle through a
 * `Ring` of u32; the consumer role receives handles, checks every payload's
 * number and bytes, and frees the slab.
 *
 * @module
 */

import { BufferPool, type BufferPoolHandle } from "../../src/buffer_pool.ts";
import { Ring, type RingHandle } from "../../src/ring.ts";

/** What the main thread sends. */
export interface PointerRingJob {
  role: "producer" | "consumer";
  pool: BufferPoolHandle;
  ring: RingHandle;
  count: number;
}

/** What the consumer reports (the producer reports `received: 0`). */
export interface PointerRingReport {
  role: "producer" | "consumer";
  received: number;
  errors: string[];
}

function payloadLength(n: number, slabSize: number): number {
  return 8 + (n * 7919) % (slabSize - 8);
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<PointerRingJob>) => void;
  postMessage(message: PointerRingReport): void;
};

scope.onmessage = (e) => {
  const { role, count } = e.data;
  const pool = BufferPool.fromHandle(e.data.pool);
  const ring = Ring.fromHandle<number, Uint32Array>(e.data.ring);
  const bytes = pool.bytes;
  const errors: string[] = [];
  let received = 0;
  if (role === "producer") {
    for (let n = 0; n < count; n++) {
      let h = pool.alloc();
      while (h === null) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.05);
        h = pool.alloc();
      }
      const len = payloadLength(n, pool.slabSize);
      const o = pool.offsetOf(h);
      new DataView(bytes.buffer, bytes.byteOffset + o, 8).setUint32(0, n, true);
      for (let i = 8; i < len; i++) bytes[o + i] = (n + i) & 0xff;
      pool.setLen(h, len);
      ring.sendOneBlocking(h);
    }
  } else {
    const out = new Uint32Array(64);
    while (received < count) {
      ring.waitReadable();
      const k = ring.recv(out);
      for (let j = 0; j < k; j++) {
        const h = out[j];
        const o = pool.offsetOf(h);
        const len = pool.lengthOf(h);
        const n = new DataView(bytes.buffer, bytes.byteOffset + o, 8).getUint32(0, true);
        if (n !== received) errors.push(`expected message ${received}, received ${n}`);
        if (len !== payloadLength(n, pool.slabSize)) errors.push(`message ${n} has length ${len}`);
        for (let i = 8; i < len; i++) {
          if (bytes[o + i] !== ((n + i) & 0xff)) {
            errors.push(`message ${n} byte ${i} is ${bytes[o + i]}`);
            break;
          }
        }
        pool.free(h);
        received++;
      }
    }
  }
  scope.postMessage({ role, received, errors } satisfies PointerRingReport);
};
