/**
 * Internal: who owns a file and who else may write it, read with stat(2)
 * through the native helper (no `--allow-read` needed), and the two checks
 * built on it — that a socket's directory lets nobody else take over its
 * names, and that a /dev/shm file was made by an allowed user and is not
 * writable by others.
 *
 * @module
 */

import { UntrustedPath } from "../errors.ts";
import { native, systemError } from "../../ffi/lib.ts";
import { cString } from "./_args.ts";

/** What stat(2) says of a file. */
export interface FileStatus {
  readonly dev: bigint;
  readonly ino: bigint;
  /** File type and permission bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** File type bits of a mode, and the types used here. */
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
export const S_IFSOCK = 0o140000;
/** The sticky bit: in such a directory only a name's owner may remove or rename it. */
const S_ISVTX = 0o1000;
/** Write permission for group and others. */
const GROUP_OTHER_WRITE = 0o022;

/**
 * The longest chain of directories walked up: each step adds "/.." to a path
 * that the kernel limits to 4096 bytes, so the walk ends by then anyway.
 */
const MAX_DEPTH = 1366;

/**
 * Stats `path` (not following a final symbolic link when `nofollow`), or the
 * open file `fd` when `path` is empty.
 *
 * @returns The status, or a negative errno.
 */
export function statFile(fd: number, path: string, nofollow: boolean): FileStatus | number {
  const out = new BigUint64Array(5);
  const rc = native().rmpsc_stat(fd, cString(path, "the path"), nofollow ? 1 : 0, out);
  if (rc < 0) return rc;
  return {
    dev: out[0],
    ino: out[1],
    mode: Number(out[2]),
    uid: Number(out[3]),
    gid: Number(out[4]),
  };
}

/** Whether `a` and `b` are the same file. */
export function sameFile(a: FileStatus, b: FileStatus): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Whether `status` is of a socket. */
export function isSocket(status: FileStatus): boolean {
  return (status.mode & S_IFMT) === S_IFSOCK;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** The directory a socket path's name lives in. */
function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Refuses a socket path whose directory, or any directory above it, lets
 * someone other than `uid` or root replace the names in it: one owned by
 * another user, or writable by group or others without the sticky bit. A
 * sticky directory such as /tmp is allowed — others may create names there
 * but cannot remove or rename ours (and a name they took first makes bind
 * fail, or a client's server check refuse them). The walk follows the real
 * chain (`dir/..`, `dir/../..`), whatever symbolic links the path holds.
 *
 * @param path The socket path.
 * @param uid The caller's effective uid.
 * @param action What the caller tried, e.g. `listen on "/p"`.
 * @throws {UntrustedPath} Naming the directory and what is wrong with it.
 * @throws {SystemError} When a directory cannot be examined.
 */
export function assertPrivateDirectory(path: string, uid: number, action: string): void {
  let at = directoryOf(path);
  let below: FileStatus | undefined;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const status = statFile(-1, at, false);
    if (typeof status === "number") {
      throw systemError(status, `Cannot ${action} as the directory "${at}" cannot be examined`);
    }
    if (below !== undefined && sameFile(status, below)) return; // "/.." is "/" itself
    if ((status.mode & S_IFMT) !== S_IFDIR) {
      throw new UntrustedPath(
        `Cannot ${action} as "${at}" is not a directory`,
        at,
        status.uid,
        status.mode,
      );
    }
    if (status.uid !== uid && status.uid !== 0) {
      throw new UntrustedPath(
        `Cannot ${action} as the directory "${at}" is owned by uid ${status.uid}, ` +
          `neither this process's uid ${uid} nor root: pass allowSharedDirectory to listen there anyway`,
        at,
        status.uid,
        status.mode,
      );
    }
    if ((status.mode & GROUP_OTHER_WRITE) !== 0 && (status.mode & S_ISVTX) === 0) {
      throw new UntrustedPath(
        `Cannot ${action} as the directory "${at}" (mode ${octal(status.mode)}) is writable by ` +
          `group or others without the sticky bit: pass allowSharedDirectory to listen there anyway`,
        at,
        status.uid,
        status.mode,
      );
    }
    below = status;
    at = at === "/" ? "/.." : `${at}/..`;
  }
}

/** Options naming whose /dev/shm files may be attached. */
export interface FileTrust {
  /** The uids that may own the file. */
  readonly owners: readonly number[];
  /** Whether a file writable by group or others is accepted. */
  readonly allowWritableByOthers: boolean;
}

/**
 * Refuses the open file `fd` (opened from `path`) unless an allowed user owns
 * it and, unless allowed, neither group nor others may write it.
 *
 * @throws {UntrustedPath} Saying which of the two it is.
 * @throws {SystemError} When fstat fails.
 */
export function assertTrustedFile(
  fd: number,
  path: string,
  trust: FileTrust,
  action: string,
): void {
  const status = statFile(fd, "", false);
  if (typeof status === "number") {
    throw systemError(status, `Cannot ${action} as fstat of "${path}" failed`);
  }
  if (!trust.owners.includes(status.uid)) {
    throw new UntrustedPath(
      `Cannot ${action} as "${path}" is owned by uid ${status.uid}, not by ` +
        `${trust.owners.length === 1 ? "uid" : "one of uids"} ${trust.owners.join(", ")}: ` +
        "name its owner in owners to attach it anyway",
      path,
      status.uid,
      status.mode,
    );
  }
  if ((status.mode & GROUP_OTHER_WRITE) !== 0 && !trust.allowWritableByOthers) {
    throw new UntrustedPath(
      `Cannot ${action} as "${path}" (mode ${
        octal(status.mode)
      }) is writable by group or others: ` +
        "pass allowWritableByOthers to attach it anyway",
      path,
      status.uid,
      status.mode,
    );
  }
}
