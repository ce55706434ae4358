//! Shared memory shims: memfd creation and sealing, sizing, mapping, opening
//! files under /dev/shm, and reading small (sysfs) files. Every shim returns a
//! value >= 0 or -errno.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

comptime {
    @export(&memfdCreate, .{ .name = "rmpsc_memfd_create" });
    @export(&truncate, .{ .name = "rmpsc_ftruncate" });
    @export(&fstatSize, .{ .name = "rmpsc_fstat_size" });
    @export(&statOwner, .{ .name = "rmpsc_stat" });
    @export(&mapShared, .{ .name = "rmpsc_mmap" });
    @export(&unmap, .{ .name = "rmpsc_munmap" });
    @export(&openShm, .{ .name = "rmpsc_shm_open" });
    @export(&unlinkPath, .{ .name = "rmpsc_unlink" });
    @export(&addSeals, .{ .name = "rmpsc_add_seals" });
    @export(&getSeals, .{ .name = "rmpsc_get_seals" });
    @export(&closeFd, .{ .name = "rmpsc_close" });
    @export(&readFile, .{ .name = "rmpsc_read_file" });
}

/// Creates an anonymous memory file that allows sealing and closes on exec.
/// Returns the new file descriptor or -errno.
fn memfdCreate(name: [*:0]const u8) callconv(.c) c_int {
    return sys.int(linux.memfd_create(name, linux.MFD.CLOEXEC | linux.MFD.ALLOW_SEALING));
}

/// Sets the size of the file behind `fd` to `length` bytes. Returns 0 or -errno.
fn truncate(fd: c_int, length: i64) callconv(.c) c_int {
    if (length < 0) return sys.fail(.INVAL);
    return sys.int(linux.ftruncate(fd, length));
}

/// Returns the size in bytes of the file behind `fd`, or -errno.
fn fstatSize(fd: c_int) callconv(.c) i64 {
    var st: linux.Stat = undefined;
    const rc = linux.fstat(fd, &st);
    if (sys.signed(rc) < 0) return sys.signed(rc);
    return st.size;
}

/// Writes the device, inode, mode (type and permission bits), owner uid and
/// owner gid of a file to `out[0..5]`: of `path` when it is not empty (not
/// following a final symbolic link when `nofollow != 0`), else of the open
/// file `fd`. Returns 0 or -errno.
fn statOwner(fd: c_int, path: [*:0]const u8, nofollow: c_int, out: *align(1) [5]u64) callconv(.c) c_int {
    var st: linux.Stat = undefined;
    const empty = path[0] == 0;
    var flags: u32 = if (nofollow != 0) linux.AT.SYMLINK_NOFOLLOW else 0;
    if (empty) flags |= linux.AT.EMPTY_PATH;
    const rc = linux.fstatat(if (empty) fd else linux.AT.FDCWD, path, &st, flags);
    if (sys.signed(rc) < 0) return sys.int(rc);
    out.* = .{ @intCast(st.dev), @intCast(st.ino), st.mode, st.uid, st.gid };
    return 0;
}

/// Maps `length` bytes readable and writable. With `fd >= 0` the mapping is
/// MAP_SHARED over that file from offset 0; with `fd < 0` it is private
/// anonymous memory. Returns the address or -errno.
fn mapShared(length: usize, fd: c_int) callconv(.c) isize {
    if (length == 0) return -@as(isize, @intFromEnum(linux.E.INVAL));
    const prot = linux.PROT.READ | linux.PROT.WRITE;
    const flags: linux.MAP = if (fd >= 0)
        .{ .TYPE = .SHARED }
    else
        .{ .TYPE = .PRIVATE, .ANONYMOUS = true };
    return sys.signed(linux.mmap(null, length, prot, flags, if (fd >= 0) fd else -1, 0));
}

/// Unmaps `length` bytes at `address`. Returns 0 or -errno.
fn unmap(address: ?[*]u8, length: usize) callconv(.c) c_int {
    const start = address orelse return sys.fail(.INVAL);
    return sys.int(linux.munmap(start, length));
}

/// Opens `path` read-write, close-on-exec and without following a final
/// symbolic link. With `create != 0` the file must not exist yet and is created
/// with mode 0600 (shm_open with O_CREAT|O_EXCL). Returns the fd or -errno.
fn openShm(path: [*:0]const u8, create: c_int) callconv(.c) c_int {
    const flags: linux.O = .{
        .ACCMODE = .RDWR,
        .CREAT = create != 0,
        .EXCL = create != 0,
        .CLOEXEC = true,
        .NOFOLLOW = true,
    };
    return sys.int(linux.openat(linux.AT.FDCWD, path, flags, 0o600));
}

/// Removes the name `path`. Returns 0 or -errno.
fn unlinkPath(path: [*:0]const u8) callconv(.c) c_int {
    return sys.int(linux.unlinkat(linux.AT.FDCWD, path, 0));
}

/// Adds the F_SEAL_* bits in `seals` to the memfd `fd`. Returns 0 or -errno.
fn addSeals(fd: c_int, seals: c_int) callconv(.c) c_int {
    return sys.int(linux.fcntl(fd, sys.F_ADD_SEALS, @intCast(seals)));
}

/// Returns the F_SEAL_* bits set on `fd`, or -errno (-EINVAL for a file that
/// is not a memfd).
fn getSeals(fd: c_int) callconv(.c) c_int {
    return sys.int(linux.fcntl(fd, sys.F_GET_SEALS, 0));
}

/// Closes `fd`. Returns 0 or -errno.
fn closeFd(fd: c_int) callconv(.c) c_int {
    return sys.int(linux.close(fd));
}

/// Reads up to `capacity` bytes of the file `path` (sysfs and procfs files
/// included, which Deno's own file API refuses without --allow-all) into
/// `out`. Returns the number of bytes read (`capacity` when the file may be
/// longer), or -errno.
fn readFile(path: [*:0]const u8, out: [*]u8, capacity: u32) callconv(.c) c_int {
    const flags: linux.O = .{ .ACCMODE = .RDONLY, .CLOEXEC = true, .NOCTTY = true };
    const opened = linux.openat(linux.AT.FDCWD, path, flags, 0);
    if (sys.signed(opened) < 0) return sys.int(opened);
    const fd: i32 = @intCast(opened);
    defer _ = linux.close(fd);
    var total: usize = 0;
    while (total < capacity) {
        const rc = linux.read(fd, out + total, capacity - total);
        if (sys.is(rc, .INTR)) continue;
        if (sys.signed(rc) < 0) return sys.int(rc);
        if (rc == 0) break;
        total += rc;
    }
    return @intCast(total);
}
