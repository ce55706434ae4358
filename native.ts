/**
 * The native layer of ringmpsc for Deno (Linux x86_64 and aarch64): what
 * SharedArrayBuffers cannot do, done through a small Zig-built helper library
 * (ffi/) that is loaded with `Deno.dlopen` and ships inside this module, so
 * no build step or download is needed.
 *
 * - {@linkcode SharedMemory}: sealed memfd or /dev/shm regions mapped
 *   `MAP_SHARED` between processes.
 * - {@linkcode futexWait} / {@linkcode futexWake} / {@linkcode futexParker}:
 *   blocking waits that meet across processes.
 * - {@linkcode EventNotifier} and {@linkcode Epoll}: eventfd wakes for event
 *   loops, awaitable without blocking Deno's.
 * - {@linkcode sendFd} / {@linkcode recvFd} / {@linkcode connectUnix} /
 *   {@linkcode FdServer}: fd passing with SCM_RIGHTS, ringmpsc's wire format,
 *   between processes whose kernel-vouched credentials
 *   ({@linkcode peerCredentials}) a policy allows — by default the same user.
 * - `platform.numa`: {@linkcode NumaTopology}, {@linkcode NumaAllocator},
 *   {@linkcode bindToCpu}, {@linkcode bindToNode}, {@linkcode currentCpu},
 *   {@linkcode currentNode}, {@linkcode bindMemoryToNode}.
 * - {@linkcode isProcessAlive}, clocks and the SharedRing heartbeat store.
 * - Everything `mod.ts` exports, so one import serves both layers.
 *
 * Importing this module changes nothing by itself. ringmpsc binds each MPSC
 * producer's ring to the producer's NUMA node; here that is opt-in, per
 * Worker: `setRingPlacement(numaPlacement)`.
 *
 * Run with `--allow-ffi`, plus `--allow-read --allow-write` for the helper's
 * cache folder and `--allow-env` (see ffi/lib.ts for where it goes and
 * `RINGMPSC_LIB` to use another build).
 *
 * @example Passing a sealed region to another process
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectUnix, FdServer, recvFd, sendFd, SharedMemory, closeFd } from "@ringmpsc/ringmpsc/native";
 * const path = `/tmp/ringmpsc-doc-native-${Deno.pid}.sock`;
 * using server = FdServer.listen(path);
 * const client = connectUnix(path); // in the other process
 * const conn = server.accept();
 * using memory = SharedMemory.create(4096);
 * sendFd(conn, memory.fd);
 * const fd = recvFd(client); // in the other process
 * using view = SharedMemory.attach(fd, { size: 4096 });
 * new Uint8Array(view.buffer)[0] = 7;
 * assert.equal(new Uint8Array(memory.buffer)[0], 7);
 * closeFd(fd);
 * closeFd(client);
 * closeFd(conn);
 * ```
 *
 * @module
 */

export { MAX_SHARED_MEMORY_SIZE, Seal, SharedMemory } from "./src/native/shared_memory.ts";
export type {
  SharedMemoryAttachOptions,
  SharedMemoryCreateOptions,
  SharedMemoryPathOptions,
} from "./src/native/shared_memory.ts";
export { futexParker, futexWait, futexWaitAsync, futexWake } from "./src/native/futex.ts";
export type { Parker, WaitResult } from "./src/parker.ts";
export { EventNotifier } from "./src/native/event_notifier.ts";
export { Epoll, EpollFlags } from "./src/native/epoll.ts";
export type { EpollEvent } from "./src/native/epoll.ts";
export {
  connectUnix,
  MAX_FD_PAYLOAD_BYTES,
  MAX_SOCKET_PATH_BYTES,
  recvFd,
  recvFdAsync,
  recvFdWith,
  recvFdWithAsync,
  sendFd,
  sendFdWith,
} from "./src/native/fd_passing.ts";
export type { ConnectOptions } from "./src/native/fd_passing.ts";
export { FdServer } from "./src/native/fd_server.ts";
export type { FdServerOptions } from "./src/native/fd_server.ts";
export { ownCredentials, peerCredentials } from "./src/native/peer_credentials.ts";
export type { PeerCredentials, PeerIds, PeerPolicy } from "./src/native/peer_credentials.ts";
export { closeFd } from "./src/native/close_fd.ts";
export { getPid, isProcessAlive } from "./src/native/process.ts";
export { heartbeatClockNs, monotonicNs, realtimeNs, storeHeartbeat } from "./src/native/clock.ts";
export * as platform from "./src/native/platform.ts";
export {
  bindMemoryToNode,
  bindToCpu,
  bindToNode,
  currentCpu,
  currentNode,
  DEFAULT_NUMA_ROOT,
  getAffinity,
  NumaAllocator,
  NumaTopology,
  setAffinity,
} from "./src/native/numa/mod.ts";
export type { MappedMemory, NumaNode, NumaTopologyOptions } from "./src/native/numa/mod.ts";
export { Errno, errnoName } from "./ffi/errno.ts";
export { nativeLibraryPath } from "./ffi/lib.ts";
export {
  Closed,
  InvalidSharedMemory,
  PeerRefused,
  RingError,
  SystemError,
  UntrustedPath,
} from "./src/errors.ts";
export * from "./src/native/shared_ring.ts";
export { createNumaPlacement, numaPlacement } from "./src/native/numa_placement.ts";
// the whole core too, so one import serves a program that uses both
export * from "./mod.ts";
export * from "./src/native/buffer_pool_shared.ts";
export * from "./src/native/broadcast_producer.ts";
export * from "./src/native/broadcast_consumer.ts";
