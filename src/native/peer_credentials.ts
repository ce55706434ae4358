/**
 * Who is on the other end of a Unix socket: the kernel-vouched credentials
 * (`SO_PEERCRED`) of a connected peer, and the policies `FdServer` and
 * `connectUnix` use to decide whom they deal with.
 *
 * The credentials are those the peer had when it called `connect` (for a
 * client) or `listen` (for a server); the peer cannot forge them. The pid is
 * the one to watch for a dead peer (`isProcessAlive`, `pidfd_open`).
 *
 * @module
 */

import { check, native } from "../../ffi/lib.ts";
import { checkFd } from "../_validate.ts";

/** A process's credentials as the kernel reports them to its peer. */
export interface PeerCredentials {
  /** The process id. */
  readonly pid: number;
  /** The effective user id. */
  readonly uid: number;
  /** The effective group id. */
  readonly gid: number;
}

/**
 * The users and groups a policy lets in: a peer is allowed when its uid is
 * in `uids` or its gid is in `gids`.
 */
export interface PeerIds {
  /** The uids allowed (default: only this process's effective uid). */
  readonly uids?: readonly number[];
  /**
   * The gids allowed besides (default: none). Matched against the peer's
   * effective gid only: SO_PEERCRED carries no supplementary groups.
   */
  readonly gids?: readonly number[];
}

/**
 * Who may be on the other end: a set of ids, or a function given the peer's
 * credentials that allows it by returning `true` (anything else refuses it).
 * Where no policy is given, only peers with this process's effective uid are
 * allowed.
 */
export type PeerPolicy = PeerIds | ((peer: PeerCredentials) => boolean);

function credentials(read: (out: Int32Array) => number, message: string): PeerCredentials {
  const out = new Int32Array(3);
  check(read(out), message);
  // uid_t and gid_t are unsigned.
  return Object.freeze({ pid: out[0], uid: out[1] >>> 0, gid: out[2] >>> 0 });
}

/**
 * Reads the credentials of the process on the other end of the connected
 * AF_UNIX socket `socket` (`SO_PEERCRED`): on an accepted connection, the
 * client's; on a connected client socket, the listening server's.
 *
 * @param socket A connected AF_UNIX socket.
 * @returns The peer's pid, effective uid and effective gid.
 * @throws {RangeError} When `socket` is not a non-negative integer.
 * @throws {SystemError} When getsockopt fails (ENOTSOCK, EBADF).
 *
 * @example Both ends of a local connection are this process
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, connectUnix, FdServer, ownCredentials, peerCredentials } from "../../native.ts";
 * const path = `/tmp/ringmpsc-doc-cred-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * assert.deepEqual(peerCredentials(conn), ownCredentials());
 * assert.equal(peerCredentials(client).pid, Deno.pid);
 * closeFd(conn);
 * closeFd(client);
 * ```
 */
export function peerCredentials(socket: number): PeerCredentials {
  checkFd("read peer credentials", socket, "socket");
  return credentials(
    (out) => native().rmpsc_peer_cred(socket, out),
    `Cannot read the peer credentials of socket ${socket} as getsockopt(SO_PEERCRED) failed`,
  );
}

/**
 * This process's pid, effective uid and effective gid: what
 * {@linkcode peerCredentials} reports of it to a peer.
 *
 * @returns This process's credentials.
 *
 * @example Reading them
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownCredentials } from "../../native.ts";
 * assert.equal(ownCredentials().pid, Deno.pid);
 * ```
 */
export function ownCredentials(): PeerCredentials {
  return credentials((out) => native().rmpsc_own_cred(out), "Cannot read own credentials");
}
