/**
 * {@linkcode SharedMemory}: a region of memory mapped `MAP_SHARED` so that
 * several processes see the same bytes, backed by a sealed memfd (passed to
 * other processes as an fd) or by a file under `/dev/shm` (found by name).
 *
 * The region has no byte layout of its own; structures placed in it (such as
 * SharedRing's 512-byte header) draw theirs. `buffer` is a plain
 * `ArrayBuffer` over the mapping: Deno never makes a SharedArrayBuffer over
 * foreign memory, so `Atomics.load/store/compareExchange` work on it but
 * `Atomics.wait/notify` do not — block with the futex functions instead.
 *
 * Trust: a memfd made by {@linkcode SharedMemory.create} is sealed against
 * shrinking and growing, and {@linkcode SharedMemory.attach} insists on those
 * seals (adding them itself when the memfd allows it), so a peer cannot
 * truncate the file under our mapping and make an access fault (SIGBUS).
 * Files under `/dev/shm` cannot be sealed: attach by path only to peers you
 * trust not to truncate the file. `attachPath` therefore maps only files
 * owned by an allowed user (by default, this one) that neither group nor
 * others may write, unless the caller opts in.
 *
 * @module
 */

import { InvalidSharedMemory } from "../errors.ts";
import { check, native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { cString } from "./_args.ts";
import { checkBoolean, checkFd, checkInteger, checkObject } from "../_validate.ts";
import { assertTrustedFile, type FileTrust } from "./_ownership.ts";
import { checkIds } from "./_peer_policy.ts";
import { ownCredentials } from "./peer_credentials.ts";

/** memfd seal bits (F_SEAL_*), as {@linkcode SharedMemory.seals} reports them. */
export const Seal = {
  /** No further seals may be added. */
  SEAL: 1,
  /** The file may not shrink. */
  SHRINK: 2,
  /** The file may not grow. */
  GROW: 4,
  /** The contents may not be written. */
  WRITE: 8,
} as const;

/** The largest region this module maps: 1 TiB. */
export const MAX_SHARED_MEMORY_SIZE = 2 ** 40;

const REQUIRED_SEALS = Seal.SHRINK | Seal.GROW;

/** Options of {@linkcode SharedMemory.create}. */
export interface SharedMemoryCreateOptions {
  /** The memfd's name, shown in `/proc/<pid>/fd` (default `"ringmpsc"`). */
  name?: string;
}

/** Options of {@linkcode SharedMemory.attach} and {@linkcode SharedMemory.attachPath}. */
export interface SharedMemoryAttachOptions {
  /** The exact size the caller expects, in bytes; any other size is refused. */
  size?: number;
  /**
   * Whether the memfd must be sealed against shrinking and growing (default
   * `true`). Missing seals are added when the memfd allows it; otherwise the
   * attach fails. Ignored by `attachPath`, as files under /dev/shm cannot be
   * sealed.
   */
  requireSeals?: boolean;
}

/**
 * Options of {@linkcode SharedMemory.attachPath} saying whose files are
 * trusted. Anyone who may write a /dev/shm file can rewrite a ring under us
 * or truncate it (such files cannot be sealed), so by default only files
 * owned by this process's effective uid and not writable by group or others
 * are attached.
 */
export interface SharedMemoryPathOptions {
  /** The uids that may own the file (default: only this process's effective uid). */
  owners?: readonly number[];
  /** Attach a file that group or others may write, too (default `false`). */
  allowWritableByOthers?: boolean;
}

interface Mapping {
  fd: number;
  ownsFd: boolean;
  size: number;
  path: string | undefined;
}

const constructing = Symbol("SharedMemory.constructing");

function assertSize(size: number, action: string): void {
  checkInteger(action, "size", size, 1, MAX_SHARED_MEMORY_SIZE);
}

/**
 * Turns a name or path into a path directly under /dev/shm.
 *
 * @throws {TypeError} For anything else.
 */
function shmPath(path: string, action: string): string {
  if (typeof path !== "string") {
    throw new TypeError(`Cannot ${action} as the path must be a string: received ${typeof path}`);
  }
  const name = path.startsWith("/dev/shm/") ? path.slice("/dev/shm/".length) : path;
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.length > 255) {
    throw new TypeError(
      `Cannot ${action} as the path must be a name or a file directly under /dev/shm: ` +
        `received ${JSON.stringify(path)}`,
    );
  }
  return `/dev/shm/${name}`;
}

function fileTrust(options: SharedMemoryPathOptions, action: string): FileTrust {
  const owners = checkIds(action, "owners", options.owners) ?? [ownCredentials().uid];
  if (owners.length === 0) {
    throw new RangeError(`Cannot ${action} as owners must name at least one uid: received []`);
  }
  const allowWritableByOthers = checkBoolean(
    action,
    "allowWritableByOthers",
    options.allowWritableByOthers ?? false,
  );
  return { owners, allowWritableByOthers };
}

function fstatSize(fd: number, action: string): number {
  const size = native().rmpsc_fstat_size(fd);
  if (size < 0) throw systemError(Number(size), `Cannot ${action} as fstat of fd ${fd} failed`);
  return Number(size);
}

/**
 * A region mapped `MAP_SHARED` over a memfd or a /dev/shm file.
 *
 * The creator owns the fd and closes it in {@linkcode SharedMemory.close};
 * {@linkcode SharedMemory.attach} leaves the fd it was given to the caller,
 * as ringmpsc's `SharedRing.attach` does. Path-based regions own the fd they
 * opened.
 *
 * @example A sealed region shared by fd
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
 * using memory = SharedMemory.create(4096);
 * new Uint32Array(memory.buffer)[0] = 42;
 * using view = SharedMemory.attach(memory.fd);
 * assert.equal(new Uint32Array(view.buffer)[0], 42);
 * ```
 */
export class SharedMemory {
  #fd: number;
  #ownsFd: boolean;
  #size: number;
  #path: string | undefined;
  #pointer: Deno.PointerObject;
  #buffer: ArrayBuffer;
  #closed = false;

  /**
   * Internal: use {@linkcode SharedMemory.create}, {@linkcode SharedMemory.attach},
   * {@linkcode SharedMemory.createPath} or {@linkcode SharedMemory.attachPath}.
   *
   * @param token An internal token.
   * @param mapping The fd and size to map.
   * @throws {TypeError} When called from outside this module.
   * @throws {SystemError} When mmap fails.
   */
  constructor(token: symbol, mapping: Mapping) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct SharedMemory directly: use SharedMemory.create or SharedMemory.attach",
      );
    }
    const address = native().rmpsc_mmap(BigInt(mapping.size), mapping.fd);
    if (address < 0) {
      throw systemError(
        Number(address),
        `Cannot map ${mapping.size} bytes of fd ${mapping.fd} as mmap failed`,
      );
    }
    this.#pointer = Deno.UnsafePointer.create(BigInt(address))!;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(this.#pointer, mapping.size);
    this.#fd = mapping.fd;
    this.#ownsFd = mapping.ownsFd;
    this.#size = mapping.size;
    this.#path = mapping.path;
  }

  /**
   * Creates a memfd of `size` bytes (zero-filled), seals it against shrinking,
   * growing and further seals, and maps it. Pass {@linkcode SharedMemory.fd}
   * to another process (see `sendFd`) so that it can attach.
   *
   * @param size The size in bytes, 1 to 2^40; callers round to pages.
   * @param options The memfd's name.
   * @returns The mapped region, owning its fd.
   * @throws {RangeError} When `size` is out of range.
   * @throws {SystemError} When memfd_create, ftruncate, sealing or mmap fails.
   *
   * @example Creating a region
   * ```ts
   * import assert from "node:assert/strict";
   * import { Seal, SharedMemory } from "@ringmpsc/ringmpsc/native";
   * using memory = SharedMemory.create(8192, { name: "demo" });
   * assert.equal(memory.size, 8192);
   * assert.equal((memory.seals & Seal.GROW) !== 0, true);
   * ```
   */
  static create(size: number, options: SharedMemoryCreateOptions = {}): SharedMemory {
    assertSize(size, "create shared memory");
    const lib = native();
    const name = cString(options.name ?? "ringmpsc", "the memfd name");
    const fd = check(
      lib.rmpsc_memfd_create(name),
      "Cannot create shared memory as memfd_create failed",
    );
    try {
      check(
        lib.rmpsc_ftruncate(fd, BigInt(size)),
        `Cannot size shared memory to ${size} bytes as ftruncate failed`,
      );
      check(
        lib.rmpsc_add_seals(fd, Seal.SHRINK | Seal.GROW | Seal.SEAL),
        `Cannot seal shared memory fd ${fd} as F_ADD_SEALS failed`,
      );
      return new SharedMemory(constructing, { fd, ownsFd: true, size, path: undefined });
    } catch (error) {
      lib.rmpsc_close(fd);
      throw error;
    }
  }

  /**
   * Maps the memfd `fd` received from another process, after checking that it
   * is sealed against shrinking and growing (adding the seals when the memfd
   * allows it) and, when `options.size` is given, that it has that size. The
   * size is read after sealing, so it cannot change afterwards. The fd stays
   * the caller's to close.
   *
   * @param fd A memfd, for example from `recvFd`.
   * @param options The expected size, and whether seals are required.
   * @returns The mapped region.
   * @throws {RangeError} When `fd` or `options.size` is out of range.
   * @throws {InvalidSharedMemory} When seals are missing and cannot be added,
   * or the size is 0, over 2^40 or not the expected one.
   * @throws {SystemError} When fstat or mmap fails (EBADF for a bad fd).
   *
   * @example Attaching by fd
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
   * using memory = SharedMemory.create(4096);
   * using view = SharedMemory.attach(memory.fd, { size: 4096 });
   * assert.equal(view.size, 4096);
   * ```
   */
  static attach(fd: number, options: SharedMemoryAttachOptions = {}): SharedMemory {
    checkFd("attach shared memory", fd);
    if (options.size !== undefined) assertSize(options.size, "attach shared memory");
    const lib = native();
    if (options.requireSeals ?? true) {
      let seals = lib.rmpsc_get_seals(fd);
      if (seals >= 0 && (seals & REQUIRED_SEALS) !== REQUIRED_SEALS) {
        lib.rmpsc_add_seals(fd, REQUIRED_SEALS);
        seals = lib.rmpsc_get_seals(fd);
      }
      if (seals === -Errno.EBADF) {
        throw systemError(seals, `Cannot attach shared memory as F_GET_SEALS of fd ${fd} failed`);
      }
      if (seals < 0 || (seals & REQUIRED_SEALS) !== REQUIRED_SEALS) {
        const shown = seals < 0 ? "none (not a memfd)" : `0x${seals.toString(16)}`;
        throw new InvalidSharedMemory(
          `Cannot attach shared memory as fd ${fd} is not sealed against shrinking and growing: ` +
            `received seals ${shown}`,
        );
      }
    }
    const size = fstatSize(fd, "attach shared memory");
    checkAttachedSize(fd, size, options.size);
    return new SharedMemory(constructing, { fd, ownsFd: false, size, path: undefined });
  }

  /**
   * Creates the file `path` under /dev/shm (it must not exist yet), sizes it
   * to `size` bytes, and maps it. Another process attaches with
   * {@linkcode SharedMemory.attachPath}; remove the name with
   * {@linkcode SharedMemory.unlinkPath} when it is no longer needed.
   *
   * @param path A name (`"ring-1"`) or a path directly under /dev/shm.
   * @param size The size in bytes, 1 to 2^40.
   * @returns The mapped region, owning the fd it opened.
   * @throws {TypeError} When `path` is not a name or a file under /dev/shm.
   * @throws {RangeError} When `size` is out of range.
   * @throws {SystemError} When open (EEXIST if the file exists), ftruncate or
   * mmap fails.
   *
   * @example Creating a named region
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
   * const name = `ringmpsc-doc-${Deno.pid}`;
   * using memory = SharedMemory.createPath(name, 4096);
   * assert.equal(memory.path, `/dev/shm/${name}`);
   * SharedMemory.unlinkPath(name);
   * ```
   */
  static createPath(path: string, size: number): SharedMemory {
    const file = shmPath(path, "create shared memory");
    assertSize(size, "create shared memory");
    const lib = native();
    const fd = check(
      lib.rmpsc_shm_open(cString(file, "the path"), 1),
      `Cannot create shared memory "${file}" as open failed`,
    );
    try {
      check(
        lib.rmpsc_ftruncate(fd, BigInt(size)),
        `Cannot size shared memory "${file}" to ${size} bytes as ftruncate failed`,
      );
      return new SharedMemory(constructing, { fd, ownsFd: true, size, path: file });
    } catch (error) {
      lib.rmpsc_close(fd);
      lib.rmpsc_unlink(cString(file, "the path"));
      throw error;
    }
  }

  /**
   * Opens and maps the existing file `path` under /dev/shm, refusing a size
   * other than `options.size` when given, and a file that is not owned by an
   * allowed user or that group or others may write (see
   * {@linkcode SharedMemoryPathOptions}). Such files cannot be sealed: a peer
   * that truncates the file makes accesses beyond the new end fault.
   *
   * @param path A name or a path directly under /dev/shm.
   * @param options The expected size, and whose files are trusted.
   * @returns The mapped region, owning the fd it opened.
   * @throws {TypeError} When `path` is not a name or a file under /dev/shm,
   * or an option has the wrong type.
   * @throws {RangeError} When `options.size` or an owner is out of range.
   * @throws {UntrustedPath} When the file's owner is not allowed, or group or
   * others may write it; the message says which.
   * @throws {InvalidSharedMemory} When the size is 0, over 2^40 or not the
   * expected one.
   * @throws {SystemError} When open (ENOENT if missing), fstat or mmap fails.
   *
   * @example Attaching by name
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
   * const name = `ringmpsc-doc-attach-${Deno.pid}`;
   * using memory = SharedMemory.createPath(name, 4096);
   * using other = SharedMemory.attachPath(name, { size: 4096 });
   * assert.equal(other.size, 4096);
   * SharedMemory.unlinkPath(name);
   * ```
   */
  static attachPath(
    path: string,
    options: SharedMemoryAttachOptions & SharedMemoryPathOptions = {},
  ): SharedMemory {
    const action = "attach shared memory";
    const file = shmPath(path, action);
    checkObject(action, "options", options);
    if (options.size !== undefined) assertSize(options.size, action);
    const trust = fileTrust(options, action);
    const lib = native();
    const fd = check(
      lib.rmpsc_shm_open(cString(file, "the path"), 0),
      `Cannot attach shared memory "${file}" as open failed`,
    );
    try {
      assertTrustedFile(fd, file, trust, action);
      const size = fstatSize(fd, `attach shared memory "${file}"`);
      checkAttachedSize(fd, size, options.size);
      return new SharedMemory(constructing, { fd, ownsFd: true, size, path: file });
    } catch (error) {
      lib.rmpsc_close(fd);
      throw error;
    }
  }

  /**
   * Removes the name `path` under /dev/shm. Mappings stay valid until closed.
   *
   * @param path A name or a path directly under /dev/shm.
   * @throws {TypeError} When `path` is not a name or a file under /dev/shm.
   * @throws {SystemError} When unlink fails (ENOENT if missing).
   *
   * @example Removing a name
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
   * const name = `ringmpsc-doc-unlink-${Deno.pid}`;
   * SharedMemory.createPath(name, 4096).close();
   * SharedMemory.unlinkPath(name);
   * assert.throws(() => SharedMemory.attachPath(name)); // the name is gone
   * ```
   */
  static unlinkPath(path: string): void {
    const file = shmPath(path, "unlink shared memory");
    check(
      native().rmpsc_unlink(cString(file, "the path")),
      `Cannot unlink shared memory "${file}" as unlink failed`,
    );
  }

  /**
   * The mapped bytes: a plain `ArrayBuffer` over the mapping. After
   * {@linkcode SharedMemory.close} it is detached (length 0), so stale views
   * read nothing instead of touching unmapped memory.
   *
   * @returns The ArrayBuffer over the mapping.
   */
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }

  /**
   * The mapping's base address, for FFI calls.
   *
   * @returns The pointer to the first byte.
   */
  get pointer(): Deno.PointerObject {
    return this.#pointer;
  }

  /**
   * The file descriptor behind the mapping (to pass with `sendFd`).
   *
   * @returns The fd.
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * The mapped size in bytes.
   *
   * @returns The size.
   */
  get size(): number {
    return this.#size;
  }

  /**
   * The /dev/shm path of a path-based region, `undefined` for a memfd.
   *
   * @returns The path or `undefined`.
   */
  get path(): string | undefined {
    return this.#path;
  }

  /**
   * The memfd's current seals (see {@linkcode Seal}). A /dev/shm file reports
   * `Seal.SEAL` (it can never be sealed) or, on older kernels, 0.
   *
   * @returns The F_SEAL_* bits.
   * @throws {SystemError} When the region is closed and its fd with it.
   */
  get seals(): number {
    const seals = native().rmpsc_get_seals(this.#fd);
    if (seals === -Errno.EINVAL) return 0;
    return check(seals, `Cannot read the seals of fd ${this.#fd} as F_GET_SEALS failed`);
  }

  /**
   * Whether {@linkcode SharedMemory.close} has run.
   *
   * @returns `true` once closed.
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Unmaps the region (once), detaches {@linkcode SharedMemory.buffer}, and
   * closes the fd when this region owns it. Safe to call twice.
   *
   * @example Closing twice
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedMemory } from "@ringmpsc/ringmpsc/native";
   * const memory = SharedMemory.create(4096);
   * memory.close();
   * memory.close();
   * assert.equal(memory.buffer.byteLength, 0);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Views over the old buffer now see length 0 rather than unmapped memory.
    if (!this.#buffer.detached) this.#buffer = this.#buffer.transfer(0);
    const lib = native();
    lib.rmpsc_munmap(this.#pointer, BigInt(this.#size));
    if (this.#ownsFd) lib.rmpsc_close(this.#fd);
  }

  /** Same as {@linkcode SharedMemory.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkAttachedSize(fd: number, size: number, expected: number | undefined): void {
  if (size < 1 || size > MAX_SHARED_MEMORY_SIZE) {
    throw new InvalidSharedMemory(
      `Cannot attach shared memory as the size of fd ${fd} must be between 1 and 2^40 bytes: ` +
        `received ${size}`,
    );
  }
  if (expected !== undefined && size !== expected) {
    throw new InvalidSharedMemory(
      `Cannot attach shared memory as fd ${fd} must be ${expected} bytes: received ${size}`,
    );
  }
}
