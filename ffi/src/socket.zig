//! AF_UNIX stream socket shims and fd passing with SCM_RIGHTS. The wire
//! format is ringmpsc's: each passed fd rides one SCM_RIGHTS control message
//! attached to the first byte of a caller-given payload (one byte for
//! sendFd/recvFd). Listening sockets get an exact file mode, and either end
//! reads the other's kernel-vouched credentials (SO_PEERCRED). Every shim
//! returns a value >= 0 or -errno.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");
const native_endian = @import("builtin").cpu.arch.endian();

comptime {
    @export(&unixListen, .{ .name = "rmpsc_unix_listen" });
    @export(&unixAccept, .{ .name = "rmpsc_unix_accept" });
    @export(&unixConnect, .{ .name = "rmpsc_unix_connect" });
    @export(&sendFd, .{ .name = "rmpsc_send_fd" });
    @export(&recvFd, .{ .name = "rmpsc_recv_fd" });
    @export(&peerCredentials, .{ .name = "rmpsc_peer_cred" });
}

const SCM_RIGHTS = 1;

/// The kernel's `struct cmsghdr` on 64-bit Linux.
const CmsgHeader = extern struct {
    len: usize,
    level: i32,
    type: i32,
};

/// Bytes of control buffer offered to recvmsg: room for an SCM_RIGHTS
/// message with 16 fds. The kernel closes fds that do not fit (MSG_CTRUNC).
const control_capacity = 96;

/// A control buffer aligned for `CmsgHeader`.
const ControlBuffer = extern struct {
    bytes: [control_capacity]u8 align(@alignOf(CmsgHeader)),
};

/// Fills `addr` for `path`; returns the address length or -ENAMETOOLONG.
fn unixAddress(path: [*:0]const u8, addr: *linux.sockaddr.un) isize {
    const len = std.mem.len(path);
    if (len == 0) return -@as(isize, @intFromEnum(linux.E.INVAL));
    if (len >= addr.path.len) return -@as(isize, @intFromEnum(linux.E.NAMETOOLONG));
    addr.* = .{ .path = @splat(0) };
    @memcpy(addr.path[0..len], path[0..len]);
    return @intCast(@offsetOf(linux.sockaddr.un, "path") + len + 1);
}

fn streamSocket() usize {
    return linux.socket(linux.AF.UNIX, linux.SOCK.STREAM | linux.SOCK.CLOEXEC, 0);
}

/// Creates a close-on-exec AF_UNIX stream socket bound to `path`, whose
/// file gets exactly the permission bits `mode` (0 to 0o777) whatever the
/// umask, and listening with `backlog`. Nobody can connect before the mode is
/// set: listen comes last. On failure the file is removed again. Returns the
/// listening fd or -errno.
fn unixListen(path: [*:0]const u8, backlog: c_int, mode: c_int) callconv(.c) c_int {
    if (mode < 0 or mode > 0o777) return sys.fail(.INVAL);
    var addr: linux.sockaddr.un = undefined;
    const len = unixAddress(path, &addr);
    if (len < 0) return @intCast(len);
    const s = streamSocket();
    if (sys.signed(s) < 0) return sys.int(s);
    const fd: i32 = @intCast(s);
    // bind creates the file with the socket inode's mode less the umask, so
    // the file is never wider than `mode`, not even for an instant.
    var rc = linux.fchmod(fd, @intCast(mode));
    if (sys.signed(rc) == 0) rc = linux.bind(fd, @ptrCast(&addr), @intCast(len));
    if (sys.signed(rc) < 0) {
        _ = linux.close(fd);
        return sys.int(rc);
    }
    rc = exactMode(path, @intCast(mode));
    if (sys.signed(rc) == 0) rc = linux.listen(fd, @intCast(@max(backlog, 1)));
    if (sys.signed(rc) < 0) {
        _ = linux.close(fd);
        _ = linux.unlinkat(linux.AT.FDCWD, path, 0);
        return sys.int(rc);
    }
    return fd;
}

/// Widens the socket file at `path` to exactly `mode` where the umask took
/// bits away. Never follows a symbolic link: the file is opened O_PATH
/// without following one, checked to be a socket, and changed through its
/// /proc/self/fd entry. Returns 0 or -errno (-ENOTSOCK when the path no
/// longer names a socket).
fn exactMode(path: [*:0]const u8, mode: linux.mode_t) usize {
    const flags: linux.O = .{ .PATH = true, .NOFOLLOW = true, .CLOEXEC = true };
    const opened = linux.openat(linux.AT.FDCWD, path, flags, 0);
    if (sys.signed(opened) < 0) return opened;
    const fd: i32 = @intCast(opened);
    defer _ = linux.close(fd);
    var st: linux.Stat = undefined;
    const rc = linux.fstat(fd, &st);
    if (sys.signed(rc) < 0) return rc;
    if (!linux.S.ISSOCK(st.mode)) return @bitCast(@as(isize, sys.fail(.NOTSOCK)));
    if (st.mode & 0o7777 == mode) return 0;
    var buf: [32]u8 = undefined;
    const proc = std.fmt.bufPrintZ(&buf, "/proc/self/fd/{d}", .{fd}) catch unreachable;
    return linux.fchmodat(linux.AT.FDCWD, proc, mode, 0);
}

/// Accepts one connection on the listening socket `fd`, retrying after
/// EINTR. Returns the close-on-exec connection fd or -errno.
fn unixAccept(fd: c_int) callconv(.c) c_int {
    while (true) {
        const rc = linux.accept4(fd, null, null, linux.SOCK.CLOEXEC);
        if (sys.is(rc, .INTR)) continue;
        return sys.int(rc);
    }
}

/// Connects a new close-on-exec AF_UNIX stream socket to `path`. Returns the
/// connected fd or -errno.
fn unixConnect(path: [*:0]const u8) callconv(.c) c_int {
    var addr: linux.sockaddr.un = undefined;
    const len = unixAddress(path, &addr);
    if (len < 0) return @intCast(len);
    const s = streamSocket();
    if (sys.signed(s) < 0) return sys.int(s);
    const fd: i32 = @intCast(s);
    while (true) {
        const rc = linux.connect(fd, @ptrCast(&addr), @intCast(len));
        if (sys.is(rc, .INTR)) continue;
        if (sys.signed(rc) < 0) {
            _ = linux.close(fd);
            return sys.int(rc);
        }
        return fd;
    }
}

/// Sends all `len` (>= 1) bytes of `data` on the connected socket `sock`,
/// with `fd` in one SCM_RIGHTS message attached to the first byte. Never
/// raises SIGPIPE. Returns `len` or -errno.
fn sendFd(sock: c_int, fd: c_int, data: [*]const u8, len: u32) callconv(.c) isize {
    if (len == 0 or fd < 0) return -@as(isize, @intFromEnum(linux.E.INVAL));
    var control: extern struct {
        header: CmsgHeader align(@alignOf(usize)),
        fd: i32,
        pad: u32 = 0,
    } = .{
        .header = .{ .len = @sizeOf(CmsgHeader) + @sizeOf(i32), .level = linux.SOL.SOCKET, .type = SCM_RIGHTS },
        .fd = fd,
    };
    var sent: usize = 0;
    while (sent < len) {
        var iov = [1]std.posix.iovec_const{.{ .base = data + sent, .len = len - sent }};
        const msg: linux.msghdr_const = .{
            .name = null,
            .namelen = 0,
            .iov = &iov,
            .iovlen = 1,
            .control = if (sent == 0) @ptrCast(&control) else null,
            .controllen = if (sent == 0) @sizeOf(@TypeOf(control)) else 0,
            .flags = 0,
        };
        const rc = linux.sendmsg(sock, &msg, linux.MSG.NOSIGNAL);
        if (sys.is(rc, .INTR)) continue;
        if (sys.signed(rc) < 0) return sys.signed(rc);
        sent += rc;
    }
    return @intCast(len);
}

/// Walks every control message of `msg` and takes the fds of each
/// SCM_RIGHTS message: the first one goes to `keep` when `keep.* < 0`, every
/// other one is closed. Returns how many fds were found in all.
fn takeFds(msg: *const linux.msghdr, control: *const ControlBuffer, keep: *align(1) i32) usize {
    const end = @min(msg.controllen, control_capacity);
    var found: usize = 0;
    var offset: usize = 0;
    while (offset + @sizeOf(CmsgHeader) <= end) {
        const h: *const CmsgHeader = @ptrCast(@alignCast(&control.bytes[offset]));
        if (h.len < @sizeOf(CmsgHeader) or h.len > end - offset) break;
        if (h.level == linux.SOL.SOCKET and h.type == SCM_RIGHTS) {
            const count = (h.len - @sizeOf(CmsgHeader)) / @sizeOf(i32);
            var i: usize = 0;
            while (i < count) : (i += 1) {
                const at = offset + @sizeOf(CmsgHeader) + i * @sizeOf(i32);
                const received = std.mem.readInt(i32, control.bytes[at..][0..4], native_endian);
                found += 1;
                if (keep.* < 0) keep.* = received else _ = linux.close(received);
            }
        }
        offset += std.mem.alignForward(usize, h.len, @alignOf(CmsgHeader));
    }
    return found;
}

/// Receives exactly `len` (>= 1) bytes into `data` from the connected socket
/// `sock`, and the fd passed with the first byte into `fd_out` (-1 when the
/// peer passed none). Any further fds are closed; received fds are
/// close-on-exec. Returns `len`, 0 when the peer closed before the first
/// byte, -EPROTO when it closed mid-payload or passed a second fd later in
/// the payload (the kept fd is then closed and `fd_out` is -1), or -errno.
fn recvFd(sock: c_int, fd_out: *align(1) i32, data: [*]u8, len: u32) callconv(.c) isize {
    fd_out.* = -1;
    if (len == 0) return -@as(isize, @intFromEnum(linux.E.INVAL));
    var got: usize = 0;
    var control: ControlBuffer = undefined;
    while (got < len) {
        var iov = [1]std.posix.iovec{.{ .base = data + got, .len = len - got }};
        var msg: linux.msghdr = .{
            .name = null,
            .namelen = 0,
            .iov = &iov,
            .iovlen = 1,
            .control = @ptrCast(&control),
            .controllen = @sizeOf(ControlBuffer),
            .flags = 0,
        };
        const rc = linux.recvmsg(sock, &msg, linux.MSG.CMSG_CLOEXEC);
        if (sys.is(rc, .INTR)) continue;
        if (sys.signed(rc) < 0 or (rc == 0 and got > 0)) {
            if (fd_out.* >= 0) _ = linux.close(fd_out.*);
            fd_out.* = -1;
            return if (rc == 0) -@as(isize, @intFromEnum(linux.E.PROTO)) else sys.signed(rc);
        }
        if (rc == 0) return 0;
        if (got == 0) {
            _ = takeFds(&msg, &control, fd_out);
        } else {
            var extra: i32 = -1;
            if (takeFds(&msg, &control, &extra) > 0) {
                _ = linux.close(extra);
                if (fd_out.* >= 0) _ = linux.close(fd_out.*);
                fd_out.* = -1;
                return -@as(isize, @intFromEnum(linux.E.PROTO));
            }
        }
        got += rc;
    }
    return @intCast(len);
}

/// The kernel's `struct ucred`.
const Ucred = extern struct {
    pid: i32,
    uid: u32,
    gid: u32,
};

/// Writes the credentials of the peer of the connected AF_UNIX socket `sock`
/// (SO_PEERCRED: its pid, effective uid and effective gid when it called
/// connect or listen) to `out[0..3]`. The kernel vouches for them; the peer
/// cannot lie. Returns 0 or -errno.
fn peerCredentials(sock: c_int, out: *align(1) [3]i32) callconv(.c) c_int {
    var cred: Ucred = undefined;
    var len: linux.socklen_t = @sizeOf(Ucred);
    const rc = linux.getsockopt(sock, linux.SOL.SOCKET, linux.SO.PEERCRED, @ptrCast(&cred), &len);
    if (sys.signed(rc) < 0) return sys.int(rc);
    if (len != @sizeOf(Ucred)) return sys.fail(.PROTO);
    out.* = .{ cred.pid, @bitCast(cred.uid), @bitCast(cred.gid) };
    return 0;
}
