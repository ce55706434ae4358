//! libringmpsc: thin C-ABI syscall shims for ringmpsc for Deno, loaded with
//! `Deno.dlopen`. Every exported symbol carries the `rmpsc_` prefix and
//! returns a value >= 0 or -errno; the TypeScript side (ffi/lib.ts) turns a
//! negative result into a typed error. The shims keep no state.

comptime {
    _ = @import("memory.zig");
    _ = @import("sync.zig");
    _ = @import("socket.zig");
    _ = @import("affinity.zig");
    _ = @import("process.zig");
    _ = @import("ring.zig");
}
