/**
 * Internal: a SharedRing's commit in one FFI call (`rmpsc_shared_commit`,
 * ffi/src/ring.zig): the close gate's P1–P3 (src/close_gate.ts), the
 * heartbeat store and the consumers' waiters load, which `Ring` would
 * otherwise make as four `Atomics` calls and one FFI call. `Ring` uses it for
 * every commit whose tail does not carry into the high word.
 *
 * @module
 */
import { Errno } from "../../ffi/errno.ts";
import { native, systemError } from "../../ffi/lib.ts";
import { SHARED_RING_HEADER, SHARED_RING_HEADER_SIZE, SHARED_RING_LAYOUT } from "../layout.ts";

/**
 * The commit of the SharedRing whose header starts `buffer`.
 *
 * @param buffer The ring's memory (the header at byte 0, 8-byte aligned).
 * @returns `commit(old, next)`: -1 when the ring is closed (nothing
 * published), else the consumers' waiters count after publishing `next`.
 */
export function sharedCommit(buffer: ArrayBufferLike): (old: number, next: number) => number {
  const header = new Uint8Array(buffer, 0, SHARED_RING_HEADER_SIZE);
  const L = SHARED_RING_LAYOUT;
  const words = new Uint32Array([
    L.sending,
    L.closed,
    L.tail,
    SHARED_RING_HEADER.heartbeat,
    L.consumerWaiters,
  ]);
  const commit = native().rmpsc_shared_commit;
  return (old, next) => {
    const rc = commit(header, SHARED_RING_HEADER_SIZE, words, old >>> 0, next >>> 0);
    if (rc >= 0) return rc;
    if (rc === -Errno.EPERM) return -1;
    throw systemError(rc, "Cannot commit to the shared ring as its header is not addressable");
  };
}
