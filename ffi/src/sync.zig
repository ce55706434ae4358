//! Waiting and waking shims: futex wait/wake on shared (not PRIVATE)
//! addresses, eventfd, poll on one fd, and epoll. Every shim returns a value
//! >= 0 or -errno.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

comptime {
    @export(&futexWait, .{ .name = "rmpsc_futex_wait" });
    @export(&futexWake, .{ .name = "rmpsc_futex_wake" });
    @export(&futexWaitAny, .{ .name = "rmpsc_futex_wait_any" });
    @export(&eventfdCreate, .{ .name = "rmpsc_eventfd" });
    @export(&eventfdRead, .{ .name = "rmpsc_eventfd_read" });
    @export(&eventfdWrite, .{ .name = "rmpsc_eventfd_write" });
    @export(&pollOne, .{ .name = "rmpsc_poll" });
    @export(&epollCreate, .{ .name = "rmpsc_epoll_create" });
    @export(&epollCtl, .{ .name = "rmpsc_epoll_ctl" });
    @export(&epollWait, .{ .name = "rmpsc_epoll_wait" });
}

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;

/// Most events one `rmpsc_epoll_wait` call reports.
const max_epoll_events = 64;

/// One event as `rmpsc_epoll_wait` writes it: the same 16 bytes on every
/// architecture (the kernel's `epoll_event` is packed to 12 bytes on x86_64).
const EpollRecord = extern struct {
    events: u32,
    pad: u32 = 0,
    data: u64,
};

/// Returns the address of the 32-bit word `index` of the array at `words`,
/// or 0 when `words` is null or misaligned.
fn wordAddress(words: ?*anyopaque, index: u32) usize {
    const base = @intFromPtr(words);
    if (base == 0 or base % 4 != 0) return 0;
    return base + @as(usize, index) * 4;
}

/// Sleeps while the 32-bit word `words[index]` equals `expected`, at most
/// `timeout_ns` nanoseconds (negative or NaN: no limit; a double, so that
/// JavaScript passes a plain number to a fast call). The futex is shared (not
/// FUTEX_PRIVATE), so a wake from another process that maps the same memory
/// meets it. Returns 0 when woken, -EAGAIN when the word differed,
/// -ETIMEDOUT, -EINTR, or -EINVAL for a null or misaligned array.
fn futexWait(words: ?*anyopaque, index: u32, expected: i32, timeout_ns: f64) callconv(.c) c_int {
    const address = wordAddress(words, index);
    if (address == 0) return sys.fail(.INVAL);
    var ts: linux.timespec = undefined;
    var ts_arg: usize = 0;
    if (timeout_ns >= 0) {
        // Capped at about 292 years, which fits every timespec.
        const ns: i64 = if (timeout_ns >= 9.2e18) 9_200_000_000_000_000_000 else @intFromFloat(timeout_ns);
        ts = .{
            .sec = @intCast(@divTrunc(ns, std.time.ns_per_s)),
            .nsec = @intCast(@rem(ns, std.time.ns_per_s)),
        };
        ts_arg = @intFromPtr(&ts);
    }
    const value: u32 = @bitCast(expected);
    return sys.int(linux.syscall4(.futex, address, FUTEX_WAIT, value, ts_arg));
}

/// Most words one `rmpsc_futex_wait_any` call sleeps on.
const max_wait_words = 8;
/// futex_waitv's flag for a 32-bit word (shared: no FUTEX2_PRIVATE).
const FUTEX2_SIZE_U32 = 0x02;
/// The futex_waitv system call (Linux 5.16+), the same number on x86_64 and aarch64.
const SYS_futex_waitv = 449;

/// One entry of futex_waitv's array, as the kernel lays it out.
const FutexWaitv = extern struct {
    val: u64,
    uaddr: u64,
    flags: u32,
    reserved: u32 = 0,
};

/// Sleeps while every word `words[indexes[i]]` equals `expected[i]` (i < `count`,
/// 1 to 8), until a FUTEX_WAKE on any of them, at most `timeout_ns` (negative
/// or NaN: no limit). One futex_waitv call on shared futexes, so a wake from
/// another process on any of the words ends the sleep; where the kernel lacks
/// futex_waitv (ENOSYS) it sleeps on the first word alone. Returns the index
/// of the word woken (>= 0), -EAGAIN when a word differed, -ETIMEDOUT, -EINTR,
/// or -EINVAL for bad arguments.
fn futexWaitAny(words: ?*anyopaque, indexes: ?[*]const u32, expected: ?[*]const i32, count: u32, timeout_ns: f64) callconv(.c) c_int {
    const idx = indexes orelse return sys.fail(.INVAL);
    const exp = expected orelse return sys.fail(.INVAL);
    if (count == 0 or count > max_wait_words) return sys.fail(.INVAL);
    if (count == 1) return futexWait(words, idx[0], exp[0], timeout_ns);
    var entries: [max_wait_words]FutexWaitv = undefined;
    for (0..count) |i| {
        const address = wordAddress(words, idx[i]);
        if (address == 0) return sys.fail(.INVAL);
        const value: u32 = @bitCast(exp[i]);
        entries[i] = .{ .val = value, .uaddr = address, .flags = FUTEX2_SIZE_U32 };
    }
    var deadline: linux.timespec = undefined;
    var deadline_arg: usize = 0;
    if (timeout_ns >= 0) {
        // futex_waitv takes an absolute CLOCK_MONOTONIC deadline.
        var now: linux.timespec = undefined;
        if (sys.signed(linux.clock_gettime(.MONOTONIC, &now)) < 0) return sys.fail(.INVAL);
        const ns: i64 = if (timeout_ns >= 9.2e18) 9_200_000_000_000_000_000 else @intFromFloat(timeout_ns);
        const total: i128 = @as(i128, now.sec) * std.time.ns_per_s + now.nsec + ns;
        deadline = .{
            .sec = @intCast(@min(@divTrunc(total, std.time.ns_per_s), std.math.maxInt(isize))),
            .nsec = @intCast(@rem(total, std.time.ns_per_s)),
        };
        deadline_arg = @intFromPtr(&deadline);
    }
    const rc = linux.syscall5(@enumFromInt(SYS_futex_waitv), @intFromPtr(&entries), count, 0, deadline_arg, @intFromEnum(linux.CLOCK.MONOTONIC));
    if (sys.is(rc, .NOSYS)) {
        return futexWait(words, idx[0], exp[0], timeout_ns);
    }
    return sys.int(rc);
}

/// Wakes at most `count` threads, in any process, sleeping on the 32-bit word
/// `words[index]`. Returns how many were woken, or -errno.
fn futexWake(words: ?*anyopaque, index: u32, count: c_int) callconv(.c) c_int {
    const address = wordAddress(words, index);
    if (address == 0 or count < 0) return sys.fail(.INVAL);
    return sys.int(linux.syscall3(.futex, address, FUTEX_WAKE, @intCast(count)));
}

/// Creates a close-on-exec eventfd with counter `initial`, non-blocking when
/// `nonblocking != 0`. Returns the fd or -errno.
fn eventfdCreate(initial: u32, nonblocking: c_int) callconv(.c) c_int {
    var flags: u32 = linux.EFD.CLOEXEC;
    if (nonblocking != 0) flags |= linux.EFD.NONBLOCK;
    return sys.int(linux.eventfd(initial, flags));
}

/// Reads and resets the eventfd counter into `out`. Returns 0, -EAGAIN when
/// a non-blocking eventfd is zero, or -errno.
fn eventfdRead(fd: c_int, out: *align(1) u64) callconv(.c) c_int {
    var value: u64 = 0;
    const rc = linux.read(fd, @ptrCast(&value), 8);
    if (sys.signed(rc) < 0) return sys.int(rc);
    if (rc != 8) return sys.fail(.IO);
    out.* = value;
    return 0;
}

/// Adds `value` to the eventfd counter. Returns 0, -EAGAIN when the counter
/// would overflow on a non-blocking eventfd, or -errno.
fn eventfdWrite(fd: c_int, value: u32) callconv(.c) c_int {
    const wide: u64 = value;
    const rc = linux.write(fd, @ptrCast(&wide), 8);
    if (sys.signed(rc) < 0) return sys.int(rc);
    if (rc != 8) return sys.fail(.IO);
    return 0;
}

/// Polls one fd for `events` (POLLIN = 1, POLLOUT = 4) at most `timeout_ms`
/// milliseconds (negative: no limit). Returns the revents bits, 0 on timeout,
/// or -errno (-EINTR included).
fn pollOne(fd: c_int, events: c_int, timeout_ms: c_int) callconv(.c) c_int {
    var pfd = [1]linux.pollfd{.{ .fd = fd, .events = @intCast(events), .revents = 0 }};
    const rc = linux.poll(&pfd, 1, timeout_ms);
    if (sys.signed(rc) <= 0) return sys.int(rc);
    return pfd[0].revents;
}

/// Creates a close-on-exec epoll instance. Returns its fd or -errno.
fn epollCreate() callconv(.c) c_int {
    return sys.int(linux.epoll_create1(linux.EPOLL.CLOEXEC));
}

/// Adds (op 1), removes (op 2) or modifies (op 3) `fd` in the epoll set
/// `epfd`, watching `events` and reporting `data` with them. Returns 0 or -errno.
fn epollCtl(epfd: c_int, op: c_int, fd: c_int, events: u32, data: u64) callconv(.c) c_int {
    var ev: linux.epoll_event = .{ .events = events, .data = .{ .u64 = data } };
    return sys.int(linux.epoll_ctl(epfd, @intCast(op), fd, &ev));
}

/// Waits at most `timeout_ms` (negative: no limit) for events on `epfd` and
/// writes up to `capacity` (at most 64) 16-byte records {u32 events, u32 0,
/// u64 data} to `out`. Returns the number of records, 0 on timeout, or -errno.
fn epollWait(epfd: c_int, out: [*]align(1) EpollRecord, capacity: c_int, timeout_ms: c_int) callconv(.c) c_int {
    if (capacity <= 0) return sys.fail(.INVAL);
    const n: u32 = @intCast(@min(capacity, max_epoll_events));
    var events: [max_epoll_events]linux.epoll_event = undefined;
    const rc = linux.epoll_wait(epfd, &events, n, timeout_ms);
    if (sys.signed(rc) <= 0) return sys.int(rc);
    for (events[0..rc], 0..) |ev, i| {
        out[i] = .{ .events = ev.events, .data = ev.data.u64 };
    }
    return @intCast(rc);
}
