//! Helpers shared by every shim: turning a raw Linux syscall return value into
//! the `>= 0 or -errno` convention the TypeScript side expects, and a few
//! constants that `std.os.linux` does not name.

const std = @import("std");
const linux = std.os.linux;

/// Reinterprets a raw syscall return (`-errno` in two's complement on failure)
/// as a signed value: the result itself on success, `-errno` on failure.
pub inline fn signed(rc: usize) isize {
    return @bitCast(rc);
}

/// Narrows a raw syscall return to `c_int` for calls whose success values
/// (file descriptors, counts, flags) always fit in 32 bits.
pub inline fn int(rc: usize) c_int {
    return @intCast(signed(rc));
}

/// Returns `-errno` as a `c_int` for the given error.
pub inline fn fail(err: linux.E) c_int {
    return -@as(c_int, @intCast(@intFromEnum(err)));
}

/// True when the raw syscall return stands for the given error.
pub inline fn is(rc: usize, err: linux.E) bool {
    return linux.E.init(rc) == err;
}

/// `fcntl` command that adds seals to a memfd.
pub const F_ADD_SEALS = 1033;
/// `fcntl` command that reads the seals of a memfd.
pub const F_GET_SEALS = 1034;
