/**
 * Passing file descriptors between processes over AF_UNIX stream sockets
 * with SCM_RIGHTS, in ringmpsc's wire format: each fd rides one SCM_RIGHTS
 * control message attached to one data byte ({@linkcode sendFd} /
 * {@linkcode recvFd}). {@linkcode sendFdWith} / {@linkcode recvFdWith} carry
 * a caller-sized payload instead of the single byte, for example a message
 * sequence id that tags the fd.
 *
 * A SharedRing connection is set up with `FdServer` (listen, accept; see
 * fd_server.ts) on one side and {@linkcode connectUnix} on the other, then
 * `sendFd(conn, ring.getFd())` / `SharedRing.attach(recvFd(conn))`.
 *
 * Received fds are close-on-exec. A peer that passes extra fds cannot leak
 * them into this process: all but the first are closed.
 *
 * @module
 */

import { Closed } from "../errors.ts";
import { check, native, systemError } from "../../ffi/lib.ts";
import { Errno } from "../../ffi/errno.ts";
import { checkFd, checkInstance, checkInteger, checkObject } from "../_validate.ts";
import { socketPath } from "./_socket_path.ts";
import type { PeerPolicy } from "./peer_credentials.ts";
import { admitPeer, peerCheck } from "./_peer_policy.ts";

export { MAX_SOCKET_PATH_BYTES } from "./_socket_path.ts";

/** Largest payload {@linkcode sendFdWith} and {@linkcode recvFdWith} carry. */
export const MAX_FD_PAYLOAD_BYTES = 65536;

/** The single data byte of ringmpsc's wire format. */
const ONE_BYTE = new Uint8Array(1);

function assertPayload(data: Uint8Array, action: string): void {
  checkInstance(action, "data", data, Uint8Array);
  checkInteger(action, "data.length", data.length, 1, MAX_FD_PAYLOAD_BYTES);
}

function received(rc: number | bigint, fdOut: Int32Array, socket: number): number {
  const n = Number(rc);
  if (n === 0) throw new Closed(`Cannot receive an fd as the peer closed socket ${socket}`);
  if (n === -Errno.EPROTO) {
    throw systemError(
      n,
      `Cannot receive an fd as the peer on socket ${socket} closed mid-message or passed a second fd`,
    );
  }
  if (n < 0) throw systemError(n, `Cannot receive an fd on socket ${socket} as recvmsg failed`);
  if (fdOut[0] < 0) {
    throw systemError(
      -Errno.EBADMSG,
      `Cannot receive an fd as the message on socket ${socket} carried none`,
    );
  }
  return fdOut[0];
}

/**
 * Sends `fd` over the connected socket `socket`: one data byte with one
 * SCM_RIGHTS control message (ringmpsc's wire format). The fd stays open
 * here; the receiver gets its own.
 *
 * @param socket A connected AF_UNIX stream socket.
 * @param fd The fd to pass.
 * @throws {RangeError} When `socket` or `fd` is not a non-negative integer.
 * @throws {SystemError} When sendmsg fails (EPIPE when the peer is gone,
 * EBADF for a bad fd).
 *
 * @example Passing an fd within one process
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, connectUnix, recvFd, sendFd, FdServer, EventNotifier } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-send-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * using notifier = EventNotifier.init();
 * sendFd(client, notifier.fd());
 * using copy = EventNotifier.fromFd(recvFd(conn));
 * copy.signal();
 * assert.equal(notifier.consume(), 1);
 * closeFd(client);
 * closeFd(conn);
 * ```
 */
export function sendFd(socket: number, fd: number): void {
  sendFdWith(socket, fd, ONE_BYTE);
}

/**
 * Sends `fd` with a payload: all of `data`, with one SCM_RIGHTS control
 * message carrying `fd` attached to its first byte.
 *
 * @param socket A connected AF_UNIX stream socket.
 * @param fd The fd to pass.
 * @param data The payload, 1 to 65536 bytes (e.g. a sequence id).
 * @throws {RangeError} When `socket` or `fd` is out of range, or `data` is
 * empty or too long.
 * @throws {TypeError} When `data` is not a Uint8Array.
 * @throws {SystemError} When sendmsg fails.
 *
 * @example Tagging an fd with a sequence id
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, connectUnix, recvFdWith, sendFdWith, FdServer, EventNotifier } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-tag-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * using notifier = EventNotifier.init();
 * sendFdWith(client, notifier.fd(), new Uint8Array(new BigUint64Array([42n]).buffer));
 * const tag = new Uint8Array(8);
 * closeFd(recvFdWith(conn, tag));
 * assert.equal(new BigUint64Array(tag.buffer)[0], 42n);
 * closeFd(client);
 * closeFd(conn);
 * ```
 */
export function sendFdWith(socket: number, fd: number, data: Uint8Array): void {
  checkFd("send an fd", socket, "socket");
  checkFd("send an fd", fd);
  assertPayload(data, "send an fd");
  const rc = native().rmpsc_send_fd(socket, fd, data, data.length);
  if (rc < 0) {
    throw systemError(Number(rc), `Cannot send fd ${fd} on socket ${socket} as sendmsg failed`);
  }
}

/**
 * Receives one fd sent with {@linkcode sendFd} (one data byte, one
 * SCM_RIGHTS fd), blocking the calling thread until it arrives.
 *
 * @param socket A connected AF_UNIX stream socket.
 * @returns The received fd (close-on-exec), now owned by the caller.
 * @throws {RangeError} When `socket` is not a non-negative integer.
 * @throws {Closed} When the peer closed the connection first.
 * @throws {SystemError} When recvmsg fails, or (EBADMSG) the byte came
 * without an fd.
 *
 * @example See {@linkcode sendFd}.
 * ```ts
 * import assert from "node:assert/strict";
 * import { recvFd } from "@ringmpsc/ringmpsc/native";
 * assert.equal(typeof recvFd, "function");
 * ```
 */
export function recvFd(socket: number): number {
  return recvFdWith(socket, new Uint8Array(1));
}

/**
 * Receives one fd with a payload sent by {@linkcode sendFdWith}: exactly
 * `data.length` bytes are read into `data`, the fd riding on the first.
 * Blocks the calling thread.
 *
 * @param socket A connected AF_UNIX stream socket.
 * @param data Where the payload goes; its length is the payload's.
 * @returns The received fd (close-on-exec), now owned by the caller.
 * @throws {RangeError} When `socket` is out of range, or `data` is empty or
 * too long.
 * @throws {TypeError} When `data` is not a Uint8Array.
 * @throws {Closed} When the peer closed the connection before the payload.
 * @throws {SystemError} When recvmsg fails, (EPROTO) the peer closed
 * mid-payload or passed a second fd within it, or (EBADMSG) the payload came
 * without an fd.
 *
 * @example See {@linkcode sendFdWith}.
 * ```ts
 * import assert from "node:assert/strict";
 * import { recvFdWith } from "@ringmpsc/ringmpsc/native";
 * assert.equal(typeof recvFdWith, "function");
 * ```
 */
export function recvFdWith(socket: number, data: Uint8Array): number {
  checkFd("receive an fd", socket, "socket");
  assertPayload(data, "receive an fd");
  const fdOut = new Int32Array(1);
  return received(native().rmpsc_recv_fd(socket, fdOut, data, data.length), fdOut, socket);
}

/**
 * Like {@linkcode recvFd}, without blocking the event loop (the receive runs
 * on a worker thread).
 *
 * @param socket A connected AF_UNIX stream socket.
 * @returns A promise of the received fd.
 * @throws {RangeError} When `socket` is not a non-negative integer.
 * @throws {Closed} (as a rejection) When the peer closed the connection.
 * @throws {SystemError} (as a rejection) As {@linkcode recvFd}.
 *
 * @example Receiving asynchronously
 * ```ts
 * import assert from "node:assert/strict";
 * import { recvFdAsync } from "@ringmpsc/ringmpsc/native";
 * assert.equal(typeof recvFdAsync, "function");
 * ```
 */
export function recvFdAsync(socket: number): Promise<number> {
  return recvFdWithAsync(socket, new Uint8Array(1));
}

/**
 * Like {@linkcode recvFdWith}, without blocking the event loop. `data` must
 * not be touched until the promise settles.
 *
 * @param socket A connected AF_UNIX stream socket.
 * @param data Where the payload goes; its length is the payload's.
 * @returns A promise of the received fd.
 * @throws {RangeError} When `socket` is out of range, or `data` is empty or
 * too long.
 * @throws {TypeError} When `data` is not a Uint8Array.
 * @throws {Closed} (as a rejection) When the peer closed the connection.
 * @throws {SystemError} (as a rejection) As {@linkcode recvFdWith}.
 *
 * @example Receiving a tagged fd asynchronously
 * ```ts
 * import assert from "node:assert/strict";
 * import { recvFdWithAsync } from "@ringmpsc/ringmpsc/native";
 * assert.equal(typeof recvFdWithAsync, "function");
 * ```
 */
export async function recvFdWithAsync(socket: number, data: Uint8Array): Promise<number> {
  checkFd("receive an fd", socket, "socket");
  assertPayload(data, "receive an fd");
  const fdOut = new Int32Array(1);
  const rc = await native().rmpsc_recv_fd_async(socket, fdOut, data, data.length);
  return received(rc, fdOut, socket);
}

/** Options of {@linkcode connectUnix}. */
export interface ConnectOptions {
  /**
   * Which server may be listening (default: only one running as this
   * process's effective uid). Checked against the kernel-vouched credentials
   * of the process that listens, so a server that squatted the path (a stale
   * socket in a shared directory, say) is refused before anything is read
   * from it or sent to it.
   */
  allow?: PeerPolicy;
}

/**
 * Connects to the AF_UNIX stream socket at `path` (client side) and checks
 * who listens there: by default, only a server running as this process's
 * effective uid is accepted.
 *
 * @param path The socket's path, at most 107 bytes.
 * @param options Which servers are allowed.
 * @returns The connected fd (close-on-exec), owned by the caller; the
 * server's credentials are `peerCredentials(fd)`.
 * @throws {TypeError} When `path` is not a string or contains NUL, or
 * `options.allow` has the wrong shape.
 * @throws {RangeError} When `path` is empty or too long, or an id is out of
 * range.
 * @throws {PeerRefused} When the server is not allowed (the connection is
 * closed again).
 * @throws {SystemError} When connect fails (ENOENT when nothing is there,
 * ECONNREFUSED when nobody listens, EACCES when the socket file's mode keeps
 * this user out).
 *
 * @example Connecting to a missing socket
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectUnix, SystemError } from "@ringmpsc/ringmpsc/native";
 * assert.throws(
 *   () => connectUnix("/tmp/ringmpsc-no-such.sock"),
 *   (error) => error instanceof SystemError && error.errno === 2, // ENOENT
 * );
 * ```
 */
export function connectUnix(path: string, options: ConnectOptions = {}): number {
  const bytes = socketPath(path, "connect");
  checkObject("connect", "options", options);
  const policy = peerCheck("connect", options.allow);
  const socket = check(
    native().rmpsc_unix_connect(bytes),
    `Cannot connect to ${JSON.stringify(path)} as connect failed`,
  );
  admitPeer(
    socket,
    policy,
    `Cannot connect to ${JSON.stringify(path)} as the server listening there`,
  );
  return socket;
}
