//! CPU affinity and NUMA memory placement shims: sched_setaffinity,
//! sched_getaffinity, getcpu and mbind(MPOL_BIND). Every shim returns a value
//! >= 0 or -errno.

const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

comptime {
    @export(&setAffinity, .{ .name = "rmpsc_sched_setaffinity" });
    @export(&getAffinity, .{ .name = "rmpsc_sched_getaffinity" });
    @export(&currentCpu, .{ .name = "rmpsc_getcpu" });
    @export(&bindNode, .{ .name = "rmpsc_mbind" });
}

const MPOL_BIND = 2;
const MPOL_MF_MOVE = 1 << 1;

/// Highest NUMA node id `rmpsc_mbind` accepts, plus one.
const max_nodes = 1024;

/// Sets the calling thread's CPU set to the `len`-byte little-endian bit mask
/// at `mask` (bit n = CPU n). Returns 0 or -errno.
fn setAffinity(mask: [*]const u8, len: u32) callconv(.c) c_int {
    return sys.int(linux.syscall3(.sched_setaffinity, 0, len, @intFromPtr(mask)));
}

/// Writes the calling thread's CPU set as a bit mask into the `len` bytes at
/// `mask` (`len` a multiple of 8). Returns the number of bytes the kernel
/// wrote, or -errno.
fn getAffinity(mask: [*]u8, len: u32) callconv(.c) c_int {
    @memset(mask[0..len], 0);
    return sys.int(linux.syscall3(.sched_getaffinity, 0, len, @intFromPtr(mask)));
}

/// Returns the CPU the calling thread runs on, or -errno.
fn currentCpu() callconv(.c) c_int {
    var cpu: u32 = 0;
    var node: u32 = 0;
    const rc = linux.syscall3(.getcpu, @intFromPtr(&cpu), @intFromPtr(&node), 0);
    if (sys.signed(rc) < 0) return sys.int(rc);
    return @intCast(cpu);
}

/// Binds the pages of `[address, address + length)` to NUMA node `node` with
/// MPOL_BIND, moving pages already placed elsewhere. Returns 0 or -errno.
fn bindNode(address: ?*anyopaque, length: usize, node: c_int) callconv(.c) c_int {
    if (address == null or node < 0 or node >= max_nodes) return sys.fail(.INVAL);
    var mask = [_]u64{0} ** (max_nodes / 64);
    const n: usize = @intCast(node);
    mask[n / 64] |= @as(u64, 1) << @intCast(n % 64);
    // The kernel reads maxnode - 1 bits.
    return sys.int(linux.syscall6(.mbind, @intFromPtr(address), length, MPOL_BIND, @intFromPtr(&mask), max_nodes + 1, MPOL_MF_MOVE));
}
