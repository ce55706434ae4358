//! Waiting and waking shims: futex wait/wake on shared (not PRIVATE)
//! addresses, eventfd, poll on one fd, and epoll. Every shim returns a value
//! >= 0 or -errno.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

comptime {
    @export(&futexWait, .{ .name = "rmpsc_futex_wait" });
    @export(&futexWake, .{ .name = "rmpsc_futex_wake" });
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
