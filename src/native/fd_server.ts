/**
 * {@linkcode FdServer}: the listening end of a Unix socket through which a
 * SharedRing's (or any) fd is handed to other processes, letting in only the
 * peers it should.
 *
 * Who can reach it:
 * - The socket file is created with exactly `mode` (default 0600, owner
 *   only) whatever the umask; it never exists with wider bits.
 * - `listen` refuses a path whose directory (or one above it) another user
 *   owns, or that group or others may write without the sticky bit, since
 *   they could replace the socket file with their own; `allowSharedDirectory`
 *   opts out. Sticky directories such as /tmp are fine.
 * - Each accepted connection is checked against the kernel-vouched
 *   credentials of the client (`SO_PEERCRED`): by default only this process's
 *   effective uid is allowed. A refused client's connection is closed before
 *   anything is sent; `accept` throws {@linkcode PeerRefused} and the server
 *   goes on serving.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { checkBoolean, checkInteger, checkObject } from "../_validate.ts";
import { check, native } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { socketPath } from "./_socket_path.ts";
import { ownCredentials, type PeerPolicy } from "./peer_credentials.ts";
import { admitPeer, type PeerCheck, peerCheck } from "./_peer_policy.ts";
import {
  assertPrivateDirectory,
  type FileStatus,
  isSocket,
  sameFile,
  statFile,
} from "./_ownership.ts";

/** Options of {@linkcode FdServer.listen}. */
export interface FdServerOptions {
  /** The listen backlog (default 16). */
  backlog?: number;
  /**
   * The socket file's permission bits, exactly, whatever the umask (default
   * `0o600`: only this user may connect). Owner read and write must be kept;
   * `0o660` lets the file's group in as well — then allow its gid in
   * `allow` too.
   */
  mode?: number;
  /**
   * Who may connect (default: only this process's effective uid). Checked
   * against each client's kernel-vouched credentials.
   */
  allow?: PeerPolicy;
  /**
   * Listen even where another user owns the socket's directory or may write
   * into it without the sticky bit (default `false`): they could then remove
   * or replace the socket file.
   */
  allowSharedDirectory?: boolean;
}

function checkOptions(options: FdServerOptions): void {
  checkObject("listen", "options", options);
  checkInteger("listen", "backlog", options.backlog ?? 16, 1, 65535);
  const mode = checkInteger("listen", "mode", options.mode ?? 0o600, 0, 0o777);
  if ((mode & 0o600) !== 0o600) {
    throw new RangeError(
      `Cannot listen as mode must keep owner read and write (0o600): received 0o${
        mode.toString(8)
      }`,
    );
  }
  checkBoolean("listen", "allowSharedDirectory", options.allowSharedDirectory ?? false);
}

/**
 * A listening AF_UNIX stream socket for fd exchange while setting up a
 * SharedRing, that lets in only the clients its policy allows (by default,
 * the same user). {@linkcode FdServer.close} (or `using`) closes it and
 * removes its socket file.
 *
 * @example Serving one connection without blocking the event loop
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, connectUnix, FdServer, peerCredentials } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-server-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o600);
 * const accepted = server.acceptAsync();
 * const client = connectUnix(path);
 * const conn = await accepted;
 * assert.equal(peerCredentials(conn).pid, Deno.pid);
 * closeFd(conn);
 * closeFd(client);
 * ```
 */
export class FdServer {
  #fd: number;
  #path: string;
  #policy: PeerCheck;
  #file: FileStatus | undefined;
  #closed = false;
  #pending = 0;

  private constructor(fd: number, path: string, policy: PeerCheck, file: FileStatus | undefined) {
    this.#fd = fd;
    this.#path = path;
    this.#policy = policy;
    this.#file = file;
  }

  /**
   * Creates a socket file at `path` with exactly `options.mode` and listens
   * on it. A stale socket file left by a dead server (nobody accepts on it)
   * is replaced; a live one, or any other file, is not.
   *
   * @param path The socket's path, at most 107 bytes.
   * @param options The backlog, file mode, who may connect, and whether a
   * shared directory is accepted.
   * @returns The listening server.
   * @throws {TypeError} When `path` is not a string or contains NUL, or an
   * option has the wrong type.
   * @throws {RangeError} When `path` is empty or too long, or an option is
   * out of range.
   * @throws {UntrustedPath} When the socket's directory, or one above it, is
   * owned by another user or writable by group or others without the sticky
   * bit (unless `allowSharedDirectory`).
   * @throws {SystemError} When bind or listen fails (EADDRINUSE when a live
   * server or another file holds the path).
   *
   * @example Listening for the file's group too
   * ```ts
   * import assert from "node:assert/strict";
   * import { FdServer, ownCredentials } from "@ringmpsc/ringmpsc/native";
   * const path = `/tmp/ringmpsc-doc-listen-${Deno.pid}.sock`;
   * const group = ownCredentials().gid;
   * using server = FdServer.listen(path, { mode: 0o660, allow: { gids: [group] } });
   * assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o660);
   * assert.equal(server.path, path);
   * ```
   */
  static listen(path: string, options: FdServerOptions = {}): FdServer {
    const bytes = socketPath(path, "listen");
    checkOptions(options);
    const policy = peerCheck("listen", options.allow);
    const where = `listen on ${JSON.stringify(path)}`;
    if (options.allowSharedDirectory !== true) {
      assertPrivateDirectory(path, ownCredentials().uid, where);
    }
    const backlog = options.backlog ?? 16;
    const mode = options.mode ?? 0o600;
    const lib = native();
    let fd = lib.rmpsc_unix_listen(bytes, backlog, mode);
    if (fd === -Errno.EADDRINUSE && isStaleSocket(path, bytes)) {
      lib.rmpsc_unlink(bytes);
      fd = lib.rmpsc_unix_listen(bytes, backlog, mode);
    }
    check(fd, `Cannot ${where} as bind or listen failed`);
    const file = statFile(-1, path, true);
    return new FdServer(fd, path, policy, typeof file === "number" ? undefined : file);
  }

  /**
   * The listening fd.
   *
   * @returns The fd.
   */
  get fd(): number {
    return this.#fd;
  }

  /**
   * The socket file's path.
   *
   * @returns The path.
   */
  get path(): string {
    return this.#path;
  }

  /**
   * Accepts one connection from an allowed client, blocking the calling
   * thread until a client connects. A client the policy does not allow is
   * disconnected before anything is sent, and this throws
   * {@linkcode PeerRefused}; the server keeps listening.
   *
   * @returns The connection's fd (close-on-exec), owned by the caller; its
   * client's credentials are `peerCredentials(fd)`.
   * @throws {PeerRefused} When the client is not allowed.
   * @throws {Closed} When the server is closed.
   * @throws {SystemError} When accept fails.
   *
   * @example Accepting, blocking
   * ```ts
   * import assert from "node:assert/strict";
   * import { closeFd, connectUnix, FdServer } from "@ringmpsc/ringmpsc/native";
   * const path = `/tmp/ringmpsc-doc-accept-sync-${Deno.pid}.sock`;
   * using server = FdServer.listen(path);
   * const client = connectUnix(path); // queued in the backlog
   * const conn = server.accept();
   * assert.ok(conn >= 0);
   * closeFd(conn);
   * closeFd(client);
   * ```
   */
  accept(): number {
    if (this.#closed) throw new Closed("Cannot accept as the server is closed");
    const conn = check(
      native().rmpsc_unix_accept(this.#fd),
      `Cannot accept on ${JSON.stringify(this.#path)} as accept failed`,
    );
    return this.#admit(conn);
  }

  /**
   * Like {@linkcode FdServer.accept}, without blocking the event loop (the
   * accept runs on a worker thread). Closing the server while this is pending
   * wakes it; it then rejects with {@linkcode Closed}.
   *
   * @returns A promise of the connection's fd.
   * @throws {PeerRefused} (as a rejection) When the client is not allowed.
   * @throws {Closed} When the server is closed (before or while waiting).
   * @throws {SystemError} (as a rejection) When accept fails.
   *
   * @example Closing wakes a pending accept
   * ```ts
   * import assert from "node:assert/strict";
   * import { Closed, FdServer } from "@ringmpsc/ringmpsc/native";
   * const server = FdServer.listen(`/tmp/ringmpsc-doc-accept-${Deno.pid}.sock`);
   * const accepted = server.acceptAsync();
   * server.close();
   * await assert.rejects(accepted, Closed);
   * ```
   */
  async acceptAsync(): Promise<number> {
    if (this.#closed) throw new Closed("Cannot accept as the server is closed");
    const lib = native();
    this.#pending++;
    let fd: number;
    try {
      fd = await lib.rmpsc_unix_accept_async(this.#fd);
    } finally {
      this.#pending--;
      if (this.#closed && this.#pending === 0) lib.rmpsc_close(this.#fd);
    }
    if (this.#closed) {
      if (fd >= 0) lib.rmpsc_close(fd);
      throw new Closed("Cannot accept as the server was closed while waiting");
    }
    check(fd, `Cannot accept on ${JSON.stringify(this.#path)} as accept failed`);
    return this.#admit(fd);
  }

  #admit(conn: number): number {
    admitPeer(conn, this.#policy, `Cannot accept on ${JSON.stringify(this.#path)} as the client`);
    return conn;
  }

  /**
   * Closes the listening socket and removes the socket file — unless the
   * path no longer names the file this server made. Safe to call twice.
   * Pending {@linkcode FdServer.acceptAsync} calls are woken (by a
   * connection to the socket itself) and reject with {@linkcode Closed}.
   *
   * @example Removing the socket file
   * ```ts
   * import assert from "node:assert/strict";
   * import { FdServer } from "@ringmpsc/ringmpsc/native";
   * const path = `/tmp/ringmpsc-doc-deinit-${Deno.pid}.sock`;
   * const server = FdServer.listen(path);
   * server.close();
   * server.close();
   * assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const lib = native();
    const bytes = socketPath(this.#path, "close the server");
    if (this.#pending > 0) {
      for (let i = 0; i < this.#pending; i++) {
        const wake = lib.rmpsc_unix_connect(bytes);
        if (wake >= 0) lib.rmpsc_close(wake);
      }
    } else {
      lib.rmpsc_close(this.#fd);
    }
    const now = statFile(-1, this.#path, true);
    if (this.#file !== undefined && typeof now !== "number" && sameFile(now, this.#file)) {
      lib.rmpsc_unlink(bytes);
    }
  }

  /** Same as {@linkcode FdServer.close}. */
  deinit(): void {
    this.close();
  }

  /** Same as {@linkcode FdServer.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** True when `path` is a socket file nobody listens on. */
function isStaleSocket(path: string, bytes: Uint8Array<ArrayBuffer>): boolean {
  const status = statFile(-1, path, true);
  if (typeof status === "number" || !isSocket(status)) return false;
  const lib = native();
  const probe = lib.rmpsc_unix_connect(bytes);
  if (probe >= 0) {
    lib.rmpsc_close(probe);
    return false;
  }
  return probe === -Errno.ECONNREFUSED;
}
