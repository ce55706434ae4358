/**
 * Loads libringmpsc, the Zig-built helper library of syscall shims
 * (ffi/src), with `Deno.dlopen`, lazily and once.
 *
 * Load order:
 * 1. `RINGMPSC_LIB`, when set (and readable under `--allow-env`), names the
 *    library file to open, for example a build made with `zig build` in ffi/.
 * 2. Otherwise the build shipped for this platform (linux x86_64 or aarch64).
 *    Its bytes travel inside the module graph as base64 (ffi/prebuilt/), so
 *    loading works from a local checkout, a remote (JSR) import and a
 *    `deno compile` binary alike, without network access or a build step.
 *    They are written once to `$RINGMPSC_CACHE_DIR`, else
 *    `$XDG_CACHE_HOME/ringmpsc`, else `$HOME/.cache/ringmpsc`, under a name
 *    holding their SHA-256, and opened from there. When no cache folder can
 *    be used, the bytes go to a private temporary folder that is removed
 *    right after opening.
 *
 * Every shim returns a value >= 0 or -errno; {@linkcode check} turns a
 * negative result into a {@linkcode SystemError}.
 *
 * Permissions: `--allow-ffi`, plus `--allow-read` and `--allow-write` for the
 * cache folder (or the temporary folder) and `--allow-env` to honour the
 * variables above.
 *
 * @example Calling a shim
 * ```ts
 * import assert from "node:assert/strict";
 * import { check, native } from "./lib.ts";
 * const pid = check(native().rmpsc_getpid(), "Cannot read the process id");
 * assert.ok(pid === Deno.pid);
 * ```
 *
 * @module
 */

import { SystemError } from "../src/errors.ts";
import { errnoName } from "./errno.ts";
import * as x86_64 from "./prebuilt/x86_64.ts";
import * as aarch64 from "./prebuilt/aarch64.ts";

/**
 * Every symbol of libringmpsc, with its C prototype. Symbols ending in
 * `_async` are `nonblocking` aliases of the shim they name: they run on a
 * worker thread and return a Promise, for waits that must not block the event
 * loop. All others are synchronous fast calls.
 */
export const symbols = {
  // int rmpsc_memfd_create(const char *name);
  rmpsc_memfd_create: { parameters: ["buffer"], result: "i32" },
  // int rmpsc_ftruncate(int fd, int64_t length);
  rmpsc_ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  // int64_t rmpsc_fstat_size(int fd);
  rmpsc_fstat_size: { parameters: ["i32"], result: "i64" },
  // int rmpsc_stat(int fd, const char *path, int nofollow, uint64_t out[5]); /* dev, ino, mode, uid, gid; "" = fd */
  rmpsc_stat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  // intptr_t rmpsc_mmap(size_t length, int fd); /* fd < 0: private anonymous */
  rmpsc_mmap: { parameters: ["usize", "i32"], result: "isize" },
  // int rmpsc_munmap(void *address, size_t length);
  rmpsc_munmap: { parameters: ["pointer", "usize"], result: "i32" },
  // int rmpsc_shm_open(const char *path, int create);
  rmpsc_shm_open: { parameters: ["buffer", "i32"], result: "i32" },
  // int rmpsc_unlink(const char *path);
  rmpsc_unlink: { parameters: ["buffer"], result: "i32" },
  // int rmpsc_add_seals(int fd, int seals);
  rmpsc_add_seals: { parameters: ["i32", "i32"], result: "i32" },
  // int rmpsc_get_seals(int fd);
  rmpsc_get_seals: { parameters: ["i32"], result: "i32" },
  // int rmpsc_close(int fd);
  rmpsc_close: { parameters: ["i32"], result: "i32" },
  // int rmpsc_read_file(const char *path, uint8_t *out, uint32_t capacity);
  rmpsc_read_file: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  // int rmpsc_futex_wait(uint32_t *words, uint32_t index, int32_t expected, double timeout_ns);
  rmpsc_futex_wait: { parameters: ["buffer", "u32", "i32", "f64"], result: "i32" },
  // int rmpsc_futex_wait(uint32_t *words, uint32_t index, int32_t expected, double timeout_ns);
  rmpsc_futex_wait_async: {
    name: "rmpsc_futex_wait",
    parameters: ["buffer", "u32", "i32", "f64"],
    result: "i32",
    nonblocking: true,
  },
  // int rmpsc_futex_wait_any(uint32_t *words, const uint32_t *indexes, const int32_t *expected,
  //                          uint32_t count, double timeout_ns);
  rmpsc_futex_wait_any: {
    parameters: ["buffer", "buffer", "buffer", "u32", "f64"],
    result: "i32",
  },
  // int rmpsc_futex_wait_any(uint32_t *words, const uint32_t *indexes, const int32_t *expected,
  //                          uint32_t count, double timeout_ns);
  rmpsc_futex_wait_any_async: {
    name: "rmpsc_futex_wait_any",
    parameters: ["buffer", "buffer", "buffer", "u32", "f64"],
    result: "i32",
    nonblocking: true,
  },
  // int rmpsc_futex_wake(uint32_t *words, uint32_t index, int count);
  rmpsc_futex_wake: { parameters: ["buffer", "u32", "i32"], result: "i32" },
  // int rmpsc_eventfd(uint32_t initial, int nonblocking);
  rmpsc_eventfd: { parameters: ["u32", "i32"], result: "i32" },
  // int rmpsc_eventfd_read(int fd, uint64_t *out);
  rmpsc_eventfd_read: { parameters: ["i32", "buffer"], result: "i32" },
  // int rmpsc_eventfd_write(int fd, uint32_t value);
  rmpsc_eventfd_write: { parameters: ["i32", "u32"], result: "i32" },
  // int rmpsc_poll(int fd, int events, int timeout_ms);
  rmpsc_poll: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int rmpsc_poll(int fd, int events, int timeout_ms);
  rmpsc_poll_async: {
    name: "rmpsc_poll",
    parameters: ["i32", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  // int rmpsc_epoll_create(void);
  rmpsc_epoll_create: { parameters: [], result: "i32" },
  // int rmpsc_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
  rmpsc_epoll_ctl: { parameters: ["i32", "i32", "i32", "u32", "u64"], result: "i32" },
  // int rmpsc_epoll_wait(int epfd, struct { uint32_t events, pad; uint64_t data; } *out, int capacity, int timeout_ms);
  rmpsc_epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  // int rmpsc_epoll_wait(int epfd, struct { uint32_t events, pad; uint64_t data; } *out, int capacity, int timeout_ms);
  rmpsc_epoll_wait_async: {
    name: "rmpsc_epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  // int rmpsc_unix_listen(const char *path, int backlog, int mode);
  rmpsc_unix_listen: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  // int rmpsc_unix_accept(int fd);
  rmpsc_unix_accept: { parameters: ["i32"], result: "i32" },
  // int rmpsc_unix_accept(int fd);
  rmpsc_unix_accept_async: {
    name: "rmpsc_unix_accept",
    parameters: ["i32"],
    result: "i32",
    nonblocking: true,
  },
  // int rmpsc_unix_connect(const char *path);
  rmpsc_unix_connect: { parameters: ["buffer"], result: "i32" },
  // int rmpsc_peer_cred(int sock, int32_t out[3]); /* pid, uid, gid */
  rmpsc_peer_cred: { parameters: ["i32", "buffer"], result: "i32" },
  // intptr_t rmpsc_send_fd(int sock, int fd, const uint8_t *data, uint32_t len);
  rmpsc_send_fd: { parameters: ["i32", "i32", "buffer", "u32"], result: "isize" },
  // intptr_t rmpsc_recv_fd(int sock, int32_t *fd_out, uint8_t *data, uint32_t len);
  rmpsc_recv_fd: { parameters: ["i32", "buffer", "buffer", "u32"], result: "isize" },
  // intptr_t rmpsc_recv_fd(int sock, int32_t *fd_out, uint8_t *data, uint32_t len);
  rmpsc_recv_fd_async: {
    name: "rmpsc_recv_fd",
    parameters: ["i32", "buffer", "buffer", "u32"],
    result: "isize",
    nonblocking: true,
  },
  // int rmpsc_sched_setaffinity(const uint8_t *mask, uint32_t len);
  rmpsc_sched_setaffinity: { parameters: ["buffer", "u32"], result: "i32" },
  // int rmpsc_sched_getaffinity(uint8_t *mask, uint32_t len);
  rmpsc_sched_getaffinity: { parameters: ["buffer", "u32"], result: "i32" },
  // int rmpsc_getcpu(void);
  rmpsc_getcpu: { parameters: [], result: "i32" },
  // int rmpsc_mbind(void *address, size_t length, int node);
  rmpsc_mbind: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // int rmpsc_pidfd_open(int pid);
  rmpsc_pidfd_open: { parameters: ["i32"], result: "i32" },
  // int rmpsc_process_alive(int pid); /* 1 alive, 0 gone */
  rmpsc_process_alive: { parameters: ["i32"], result: "i32" },
  // int rmpsc_getpid(void);
  rmpsc_getpid: { parameters: [], result: "i32" },
  // int rmpsc_own_cred(int32_t out[3]); /* pid, euid, egid */
  rmpsc_own_cred: { parameters: ["buffer"], result: "i32" },
  // int64_t rmpsc_clock_ns(int clock); /* 0 CLOCK_REALTIME, 1 CLOCK_MONOTONIC, 2 CLOCK_REALTIME_COARSE */
  rmpsc_clock_ns: { parameters: ["i32"], result: "i64" },
  // int rmpsc_heartbeat(uint64_t *word); /* release store of CLOCK_REALTIME_COARSE ns */
  rmpsc_heartbeat: { parameters: ["buffer"], result: "i32" },
  // int rmpsc_shared_commit(void *header, uint32_t len, const uint32_t words[5], uint32_t old,
  //                         uint32_t next); /* words: sending, closed, tail, heartbeat, waiters */
  rmpsc_shared_commit: { parameters: ["buffer", "u32", "buffer", "u32", "u32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded symbols of libringmpsc, as {@linkcode native} returns them. */
export type NativeSymbols = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** A shipped build: the generated module of one architecture. */
interface ShippedBuild {
  readonly sha256: string;
  readonly size: number;
  readonly base64: string;
}

const shippedBuilds: Readonly<Record<string, ShippedBuild>> = { x86_64, aarch64 };

let library: Deno.DynamicLibrary<typeof symbols> | undefined;
let loadedFrom: string | undefined;

/**
 * Returns the symbols of libringmpsc, loading the library on the first call.
 *
 * @returns The library's symbols; the same object on every call.
 * @throws {Deno.errors.NotCapable} Without `--allow-ffi` (or the read, write
 * or env permission a step of loading needs), passed through unchanged.
 * @throws {Deno.errors.PermissionDenied} When the operating system refuses a
 * step of loading, passed through unchanged.
 * @throws {Error} When the library cannot be loaded, with the underlying
 * error as `cause`, or when no build ships for this platform.
 *
 * @example Reading the process id
 * ```ts
 * import assert from "node:assert/strict";
 * import { native } from "./lib.ts";
 * assert.ok(native().rmpsc_getpid() === Deno.pid);
 * ```
 */
export function native(): NativeSymbols {
  if (library === undefined) library = load();
  return library.symbols;
}

/**
 * Returns the file libringmpsc was opened from, loading it if needed. For the
 * temporary-folder fallback the file no longer exists after opening.
 *
 * @returns The path given to `Deno.dlopen`.
 * @throws {Error} As {@linkcode native} does.
 *
 * @example Where the helper came from
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeLibraryPath } from "@ringmpsc/ringmpsc/native";
 * // e.g. "/home/me/.cache/ringmpsc/libringmpsc-x86_64-0123456789abcdef.so"
 * assert.match(nativeLibraryPath(), /libringmpsc[^/]*\.so$/);
 * ```
 */
export function nativeLibraryPath(): string {
  native();
  return loadedFrom!;
}

/**
 * Turns a negative errno into the typed error callers catch.
 *
 * @param errno The errno value, positive or negative (the sign is ignored).
 * @param message What was attempted, in std's voice, e.g.
 * `Cannot open "/dev/shm/x" as open failed`; the errno name is appended.
 * @returns A {@linkcode SystemError} carrying the positive errno.
 *
 * @example Building an error
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemError } from "./lib.ts";
 * const err = systemError(-2, 'Cannot open "/dev/shm/x" as open failed');
 * assert.equal(err.errno, 2);
 * assert.equal(err.message, "Cannot open \"/dev/shm/x\" as open failed with ENOENT: errno 2");
 * ```
 */
export function systemError(errno: number, message: string): SystemError {
  const positive = Math.abs(errno);
  return new SystemError(`${message} with ${errnoName(positive)}`, positive);
}

/**
 * Returns a shim's result unchanged when it is >= 0 and throws the matching
 * {@linkcode SystemError} when it is a negative errno.
 *
 * @param result What a shim returned.
 * @param message What was attempted, as for {@linkcode systemError}.
 * @returns `result` when it is not negative.
 * @throws {SystemError} When `result` is negative.
 *
 * @example Checking a result
 * ```ts
 * import assert from "node:assert/strict";
 * import { check } from "./lib.ts";
 * assert.equal(check(3, "Cannot open"), 3);
 * ```
 */
export function check(result: number, message: string): number {
  if (result < 0) throw systemError(result, message);
  return result;
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied;
}

function envVar(name: string): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: name }).state;
  if (state !== "granted") return undefined;
  return Deno.env.get(name) || undefined;
}

function open(path: string): Deno.DynamicLibrary<typeof symbols> {
  try {
    const lib = Deno.dlopen(path, symbols);
    loadedFrom = path;
    return lib;
  } catch (error) {
    if (isPermissionError(error)) throw error;
    throw new Error(`Cannot load the native helper library "${path}"`, { cause: error });
  }
}

function shippedBuild(): ShippedBuild {
  const { os, arch } = Deno.build;
  const build = os === "linux" ? shippedBuilds[arch] : undefined;
  if (build === undefined) {
    throw new Error(
      `Cannot load the native helper as no build ships for ${os}-${arch}: ` +
        "set RINGMPSC_LIB to a libringmpsc built with `zig build` in ffi/",
    );
  }
  return build;
}

function decode(build: ShippedBuild): Uint8Array {
  const bytes = Uint8Array.fromBase64(build.base64);
  if (bytes.length !== build.size) {
    throw new Error(
      `Cannot load the native helper as the shipped build is damaged: ` +
        `expected ${build.size} bytes, received ${bytes.length}`,
    );
  }
  return bytes;
}

function sameBytes(path: string, bytes: Uint8Array): boolean {
  let existing: Uint8Array;
  try {
    existing = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  if (existing.length !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    if (existing[i] !== bytes[i]) return false;
  }
  return true;
}

/** Writes `bytes` to `dir/name` atomically unless it already holds them. */
function materialize(dir: string, name: string, bytes: Uint8Array): string {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = `${dir}/${name}`;
  if (sameBytes(path, bytes)) return path;
  const temporary = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.writeFileSync(temporary, bytes, { mode: 0o600 });
    Deno.renameSync(temporary, path);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // Nothing was written.
    }
    throw error;
  }
  return path;
}

function cacheDir(): string | undefined {
  const explicit = envVar("RINGMPSC_CACHE_DIR");
  if (explicit !== undefined) return explicit;
  const xdg = envVar("XDG_CACHE_HOME");
  if (xdg !== undefined) return `${xdg}/ringmpsc`;
  const home = envVar("HOME");
  if (home !== undefined) return `${home}/.cache/ringmpsc`;
  return undefined;
}

function load(): Deno.DynamicLibrary<typeof symbols> {
  const override = envVar("RINGMPSC_LIB");
  if (override !== undefined) return open(override);
  const build = shippedBuild();
  const bytes = decode(build);
  const name = `libringmpsc-${Deno.build.arch}-${build.sha256.slice(0, 16)}.so`;
  const dir = cacheDir();
  if (dir !== undefined) {
    let path: string | undefined;
    try {
      path = materialize(dir, name, bytes);
    } catch {
      // An unusable cache folder (read-only, not a folder, not permitted):
      // fall back to a private temporary folder below.
    }
    if (path !== undefined) {
      try {
        return open(path);
      } catch (error) {
        if (isPermissionError(error)) throw error;
        // A folder mounted noexec: fall back below.
      }
    }
  }
  let temporary: string;
  try {
    temporary = Deno.makeTempDirSync({ prefix: "ringmpsc-" });
  } catch (error) {
    if (isPermissionError(error)) throw error;
    throw new Error("Cannot load the native helper as no folder can hold it", { cause: error });
  }
  try {
    return open(materialize(temporary, name, bytes));
  } finally {
    Deno.removeSync(temporary, { recursive: true });
  }
}
