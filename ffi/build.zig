//! Builds libringmpsc, the shared library of syscall shims that ringmpsc for
//! Deno loads with `Deno.dlopen`. Built stripped and without a build id so
//! the bytes depend only on the sources, the target and the Zig version:
//!
//!   zig build -Dtarget=x86_64-linux-gnu.2.17 -Doptimize=ReleaseSmall
//!
//! scripts/build_native.sh builds every shipped target.

const std = @import("std");

/// Declares the `libringmpsc` dynamic library for the chosen target.
pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.option(
        std.builtin.OptimizeMode,
        "optimize",
        "Optimization mode (default: ReleaseSmall, the mode of the shipped builds)",
    ) orelse .ReleaseSmall;
    const module = b.createModule(.{
        .root_source_file = b.path("src/root.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = true,
        .pic = true,
    });
    const lib = b.addLibrary(.{
        .name = "ringmpsc",
        .linkage = .dynamic,
        .root_module = module,
    });
    lib.build_id = .none;
    b.installArtifact(lib);
}
