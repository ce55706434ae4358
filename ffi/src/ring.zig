//! A SharedRing commit in one call: the close gate (src/close_gate.ts), the
//! publish, the heartbeat and the sleepers' load that a Deno commit would
//! otherwise make as five calls across the FFI and Atomics boundaries. The
//! header offsets come from the caller (src/layout.ts holds them); the shim
//! keeps no state.

const std = @import("std");
const sys = @import("sys.zig");
const process = @import("process.zig");

comptime {
    @export(&sharedCommit, .{ .name = "rmpsc_shared_commit" });
}

/// Byte offsets of the words a commit touches, in the header at `base`.
const Words = extern struct {
    sending: u32,
    closed: u32,
    tail: u32,
    heartbeat: u32,
    waiters: u32,
};

fn word(comptime T: type, base: usize, offset: u32) *T {
    return @ptrFromInt(base + offset);
}

/// Commits through the close gate: stores `sending = next` (P1); if `closed`
/// is not 0 stores `sending = old` and returns -EPERM (nothing published, P2);
/// else stores the heartbeat (process.heartbeatNs, release), then the tail's
/// low word = `next` (P3, sequentially consistent so that the waiters load
/// below cannot pass it) and returns the consumer waiters count (at most 2^31 − 1: a
/// forged count still reads as "someone sleeps"). `header` must be
/// 8-byte aligned and every offset in `words` in bounds of `len` bytes, u32
/// offsets 4-aligned and the heartbeat's 8-aligned; else -EINVAL.
fn sharedCommit(header: ?*anyopaque, len: u32, words: *align(1) const Words, old: u32, next: u32) callconv(.c) c_int {
    const base = @intFromPtr(header);
    const w = words.*;
    if (base == 0 or base % 8 != 0) return sys.fail(.INVAL);
    inline for (.{ w.sending, w.closed, w.tail, w.waiters }) |offset| {
        if (offset % 4 != 0 or offset > len -| 4) return sys.fail(.INVAL);
    }
    if (w.heartbeat % 8 != 0 or w.heartbeat > len -| 8) return sys.fail(.INVAL);
    @atomicStore(u32, word(u32, base, w.sending), next, .seq_cst);
    if (@atomicLoad(u32, word(u32, base, w.closed), .seq_cst) != 0) {
        @atomicStore(u32, word(u32, base, w.sending), old, .seq_cst);
        return sys.fail(.PERM);
    }
    // the heartbeat first: it shares the tail's cache line, and a store after the publish
    // would take that line back from a consumer that just fetched it to read the tail
    @atomicStore(u64, word(u64, base, w.heartbeat), process.heartbeatNs(), .release);
    @atomicStore(u32, word(u32, base, w.tail), next, .seq_cst);
    const waiters = @atomicLoad(u32, word(u32, base, w.waiters), .seq_cst);
    return @intCast(@min(waiters, std.math.maxInt(i32)));
}
