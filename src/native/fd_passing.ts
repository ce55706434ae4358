/**
 * Passing file descriptors between processes over AF_UNIX stream sockets
 * with SCM_RIGHTS, in ringmpsc's wire format: each fd rides one SCM_RIGHTS
 * control message attached to one data byte ({@linkcode sendFd} /
 * {@linkcode recvFd}). {@linkcode sendFdWith} / {@linkcode recvFdWith} carry
 * a caller-sized payload instead of the single byte, for example a message
 * sequence id that tags the fd.
 *
 * A SharedRing connection is set up with {@linkcode FdServer} (listen,
 * accept) on one side and {@linkcode connectUnix} on the other, then
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
import { cString } from "./_args.ts";
import { checkFd, checkInstance, checkInteger } from "../_validate.ts";

/** Longest socket path in bytes (sun_path holds 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Largest payload {@linkcode sendFdWith} and {@linkcode recvFdWith} carry. */
export const MAX_FD_PAYLOAD_BYTES = 65536;

/** The single data byte of ringmpsc's wire format. */
const ONE_BYTE = new Uint8Array(1);

function socketPath(path: string, action: string): Uint8Array<ArrayBuffer> {
  const bytes = cString(path, "the socket path");
  if (bytes.length < 2 || bytes.length - 1 > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(
      `Cannot ${action} as the socket path must be 1 to ${MAX_SOCKET_PATH_BYTES} bytes long: ` +
        `received ${bytes.length - 1} bytes (${JSON.stringify(path)})`,
    );
  }
  return bytes;
}

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
 * import { closeFd } from "./close_fd.ts";
 * import { connectUnix, FdServer, recvFd, sendFd } from "./fd_passing.ts";
 * import { EventNotifier } from "./event_notifier.ts";
 * const path = `/tmp/ringmpsc-doc-send-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * using notifier = EventNotifier.init();
 * sendFd(client, notifier.fd());
 * using copy = EventNotifier.fromFd(recvFd(conn));
 * copy.signal();
 * console.log(notifier.consume()); // 1
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
 * import { closeFd } from "./close_fd.ts";
 * import { connectUnix, FdServer, recvFdWith, sendFdWith } from "./fd_passing.ts";
 * import { EventNotifier } from "./event_notifier.ts";
 * const path = `/tmp/ringmpsc-doc-tag-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * using notifier = EventNotifier.init();
 * sendFdWith(client, notifier.fd(), new Uint8Array(new BigUint64Array([42n]).buffer));
 * const tag = new Uint8Array(8);
 * closeFd(recvFdWith(conn, tag));
 * console.log(new BigUint64Array(tag.buffer)[0]); // 42n
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
 * import { recvFd } from "./fd_passing.ts";
 * console.log(typeof recvFd); // "function"
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
 * import { recvFdWith } from "./fd_passing.ts";
 * console.log(typeof recvFdWith); // "function"
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
 * import { recvFdAsync } from "./fd_passing.ts";
 * console.log(typeof recvFdAsync); // "function"
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
 * import { recvFdWithAsync } from "./fd_passing.ts";
 * console.log(typeof recvFdWithAsync); // "function"
 * ```
 */
export async function recvFdWithAsync(socket: number, data: Uint8Array): Promise<number> {
  checkFd("receive an fd", socket, "socket");
  assertPayload(data, "receive an fd");
  const fdOut = new Int32Array(1);
  const rc = await native().rmpsc_recv_fd_async(socket, fdOut, data, data.length);
  return received(rc, fdOut, socket);
}

/**
 * Connects to the AF_UNIX stream socket at `path` (client side).
 *
 * @param path The socket's path, at most 107 bytes.
 * @returns The connected fd (close-on-exec), owned by the caller.
 * @throws {TypeError} When `path` is not a string or contains NUL.
 * @throws {RangeError} When `path` is empty or too long.
 * @throws {SystemError} When connect fails (ENOENT when nothing is there,
 * ECONNREFUSED when nobody listens).
 *
 * @example Connecting to a missing socket
 * ```ts
 * import { connectUnix } from "./fd_passing.ts";
 * try {
 *   connectUnix("/tmp/ringmpsc-no-such.sock");
 * } catch (error) {
 *   console.log((error as { errno: number }).errno); // 2 (ENOENT)
 * }
 * ```
 */
export function connectUnix(path: string): number {
  const bytes = socketPath(path, "connect");
  return check(
    native().rmpsc_unix_connect(bytes),
    `Cannot connect to ${JSON.stringify(path)} as connect failed`,
  );
}

/** Options of {@linkcode FdServer.listen}. */
export interface FdServerOptions {
  /** The listen backlog (default 16). */
  backlog?: number;
}

/**
 * A listening AF_UNIX stream socket for fd exchange while setting up a
 * SharedRing. {@linkcode FdServer.deinit} closes it and removes the socket
 * file.
 *
 * @example Serving one connection
 * ```ts
 * import { closeFd } from "./close_fd.ts";
 * import { connectUnix, FdServer } from "./fd_passing.ts";
 * const path = `/tmp/ringmpsc-doc-server-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path);
 * const conn = server.accept();
 * closeFd(conn);
 * closeFd(client);
 * ```
 */
export class FdServer {
  #fd: number;
  #path: string;
  #closed = false;
  #pending = 0;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.#path = path;
  }

  /**
   * Creates a socket bound to `path` and listens on it. A stale socket file
   * left by a dead server (nobody accepts on it) is replaced; a live one is
   * not.
   *
   * @param path The socket's path, at most 107 bytes.
   * @param options The listen backlog.
   * @returns The listening server.
   * @throws {TypeError} When `path` is not a string or contains NUL.
   * @throws {RangeError} When `path` is empty or too long, or the backlog is
   * not a positive integer.
   * @throws {SystemError} When bind or listen fails (EADDRINUSE when a live
   * server or another file holds the path).
   *
   * @example Listening
   * ```ts
   * import { FdServer } from "./fd_passing.ts";
   * using server = FdServer.listen(`/tmp/ringmpsc-doc-listen-${Deno.pid}.sock`);
   * console.log(server.fd >= 0); // true
   * ```
   */
  static listen(path: string, options: FdServerOptions = {}): FdServer {
    const bytes = socketPath(path, "listen");
    const backlog = options.backlog ?? 16;
    if (!Number.isInteger(backlog) || backlog < 1 || backlog > 65535) {
      throw new RangeError(
        `Cannot listen as backlog must be an integer between 1 and 65535: received ${backlog}`,
      );
    }
    const lib = native();
    let fd = lib.rmpsc_unix_listen(bytes, backlog);
    if (fd === -Errno.EADDRINUSE && isStaleSocket(path, bytes)) {
      lib.rmpsc_unlink(bytes);
      fd = lib.rmpsc_unix_listen(bytes, backlog);
    }
    check(fd, `Cannot listen on ${JSON.stringify(path)} as bind or listen failed`);
    return new FdServer(fd, path);
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
   * Accepts one connection, blocking the calling thread until a client
   * connects.
   *
   * @returns The connection's fd (close-on-exec), owned by the caller.
   * @throws {Closed} When the server is closed.
   * @throws {SystemError} When accept fails.
   *
   * @example See {@linkcode FdServer}.
   * ```ts
   * import { FdServer } from "./fd_passing.ts";
   * console.log(typeof FdServer.prototype.accept); // "function"
   * ```
   */
  accept(): number {
    if (this.#closed) throw new Closed("Cannot accept as the server is closed");
    return check(
      native().rmpsc_unix_accept(this.#fd),
      `Cannot accept on ${JSON.stringify(this.#path)} as accept failed`,
    );
  }

  /**
   * Like {@linkcode FdServer.accept}, without blocking the event loop (the
   * accept runs on a worker thread). Closing the server while this is pending
   * wakes it; it then rejects with {@linkcode Closed}.
   *
   * @returns A promise of the connection's fd.
   * @throws {Closed} When the server is closed (before or while waiting).
   * @throws {SystemError} (as a rejection) When accept fails.
   *
   * @example Accepting asynchronously
   * ```ts
   * import { closeFd } from "./close_fd.ts";
   * import { connectUnix, FdServer } from "./fd_passing.ts";
   * const path = `/tmp/ringmpsc-doc-accept-${Deno.pid}.sock`;
   * using server = FdServer.listen(path);
   * const accepted = server.acceptAsync();
   * const client = connectUnix(path);
   * closeFd(await accepted);
   * closeFd(client);
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
    return check(fd, `Cannot accept on ${JSON.stringify(this.#path)} as accept failed`);
  }

  /**
   * Closes the listening socket and removes the socket file. Safe to call
   * twice. Pending {@linkcode FdServer.acceptAsync} calls are woken (by a
   * connection to the socket itself) and reject with {@linkcode Closed}.
   *
   * @example Removing the socket file
   * ```ts
   * import { FdServer } from "./fd_passing.ts";
   * const path = `/tmp/ringmpsc-doc-deinit-${Deno.pid}.sock`;
   * const server = FdServer.listen(path);
   * server.deinit();
   * server.deinit();
   * ```
   */
  deinit(): void {
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
    lib.rmpsc_unlink(bytes);
  }

  /** Same as {@linkcode FdServer.deinit}. */
  close(): void {
    this.deinit();
  }

  /** Same as {@linkcode FdServer.deinit}, for `using`. */
  [Symbol.dispose](): void {
    this.deinit();
  }
}

/** True when `path` is a socket file nobody listens on. */
function isStaleSocket(path: string, bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    if (!Deno.lstatSync(path).isSocket) return false;
  } catch {
    return false;
  }
  const lib = native();
  const probe = lib.rmpsc_unix_connect(bytes);
  if (probe >= 0) {
    lib.rmpsc_close(probe);
    return false;
  }
  return probe === -Errno.ECONNREFUSED;
}
