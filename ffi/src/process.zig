//! Process and clock shims: pidfd_open, "is this process alive", getpid, the
//! process's own credentials, clock_gettime, and the heartbeat store of a
//! SharedRing commit.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

comptime {
    @export(&pidfdOpen, .{ .name = "rmpsc_pidfd_open" });
    @export(&processAlive, .{ .name = "rmpsc_process_alive" });
    @export(&getPid, .{ .name = "rmpsc_getpid" });
    @export(&ownCredentials, .{ .name = "rmpsc_own_cred" });
    @export(&clockNs, .{ .name = "rmpsc_clock_ns" });
    @export(&heartbeat, .{ .name = "rmpsc_heartbeat" });
}

/// Reads `clock` (0: CLOCK_REALTIME, 1: CLOCK_MONOTONIC, 2:
/// CLOCK_REALTIME_COARSE, the heartbeat's clock) in nanoseconds through libc,
/// which uses the vDSO; any other value reads CLOCK_MONOTONIC.
pub fn readClock(clock: c_int) i64 {
    const id: std.c.clockid_t = switch (clock) {
        0 => .REALTIME,
        2 => .REALTIME_COARSE,
        else => .MONOTONIC,
    };
    var ts: std.c.timespec = undefined;
    if (std.c.clock_gettime(id, &ts) != 0) return 0;
    return @as(i64, ts.sec) * std.time.ns_per_s + ts.nsec;
}

/// Opens a close-on-exec pidfd for process `pid`. Returns the fd or -errno.
fn pidfdOpen(pid: c_int) callconv(.c) c_int {
    if (pid <= 0) return sys.fail(.INVAL);
    return sys.int(linux.pidfd_open(pid, 0));
}

/// Tells whether process `pid` is alive: 1 when it runs, 0 when it never
/// existed or has exited (a zombie counts as exited), or -errno. Uses a pidfd
/// and falls back to kill(pid, 0) on kernels without pidfd_open.
fn processAlive(pid: c_int) callconv(.c) c_int {
    if (pid <= 0) return sys.fail(.INVAL);
    const rc = linux.pidfd_open(pid, 0);
    if (sys.is(rc, .SRCH)) return 0;
    if (sys.is(rc, .NOSYS)) {
        const k = linux.kill(pid, 0);
        if (sys.signed(k) == 0 or sys.is(k, .PERM)) return 1;
        if (sys.is(k, .SRCH)) return 0;
        return sys.int(k);
    }
    if (sys.signed(rc) < 0) return sys.int(rc);
    const fd: i32 = @intCast(rc);
    defer _ = linux.close(fd);
    var pfd = [1]linux.pollfd{.{ .fd = fd, .events = linux.POLL.IN, .revents = 0 }};
    const p = linux.poll(&pfd, 1, 0);
    if (sys.signed(p) < 0) return sys.int(p);
    return if (p > 0 and pfd[0].revents & linux.POLL.IN != 0) 0 else 1;
}

/// Returns the id of the calling process.
fn getPid() callconv(.c) c_int {
    return linux.getpid();
}

/// Writes this process's pid, effective uid and effective gid to `out[0..3]`
/// (what SO_PEERCRED reports of it to a peer). Returns 0.
fn ownCredentials(out: *align(1) [3]i32) callconv(.c) c_int {
    out.* = .{ linux.getpid(), @bitCast(linux.geteuid()), @bitCast(linux.getegid()) };
    return 0;
}

/// Returns `clock` (0: CLOCK_REALTIME, 1: CLOCK_MONOTONIC, 2:
/// CLOCK_REALTIME_COARSE) in nanoseconds.
fn clockNs(clock: c_int) callconv(.c) i64 {
    return readClock(clock);
}

/// The heartbeat's clock: CLOCK_REALTIME_COARSE, the realtime clock as of the
/// last kernel tick (1-10 ms old; 4 ms on the dev VM), read in ~5 ns where
/// CLOCK_REALTIME takes ~25. ringmpsc's peers compare it with CLOCK_REALTIME:
/// it is never ahead of it, so a fresh stamp never reads as from the future.
pub fn heartbeatNs() u64 {
    return @bitCast(readClock(2));
}

/// Stores the heartbeat clock (`heartbeatNs`) in nanoseconds into the
/// 8-byte aligned u64 at `word` with release ordering (a SharedRing commit's
/// heartbeat). Returns 0 or -EINVAL for a null or misaligned word.
fn heartbeat(word: ?*anyopaque) callconv(.c) c_int {
    const address = @intFromPtr(word);
    if (address == 0 or address % 8 != 0) return sys.fail(.INVAL);
    @atomicStore(u64, @as(*u64, @ptrFromInt(address)), heartbeatNs(), .release);
    return 0;
}
