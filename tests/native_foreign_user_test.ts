/**
 * Who is on the other end, against peers that lie or run as another user:
 * the broadcast handshake checks the pids in its messages against
 * SO_PEERCRED, and a peer running as uid 65534 (these tests need root; CI
 * runs as root) cannot connect under the defaults, gets no fd, and cannot
 * pass a squatted socket off as ours, while allowed peers are still served.
 */

import assert from "node:assert/strict";
import {
  closeFd,
  connectUnix,
  EventNotifier,
  FdServer,
  PeerRefused,
  recvFdWith,
  sendFd,
  sendFdWith,
  SharedBroadcastConsumer,
  SharedBroadcastProducer,
  SharedMemory,
} from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { native } from "../ffi/lib.ts";
import {
  REPLY_BYTES,
  REPLY_MAGIC,
  REQUEST_BYTES,
  REQUEST_MAGIC,
  WIRE_VERSION,
  words,
} from "../src/native/broadcast_wire.ts";
import { uniqueName } from "./fixtures/_child.ts";
import {
  FOREIGN_ID,
  foreignPeer,
  foreignPeerAvailable,
  withReachableDir,
} from "./fixtures/foreign_peer.ts";
import { isErrno, refused, servesOwner } from "./fixtures/peer_checks.ts";

Deno.test("the broadcast handshake believes the kernel, not the pids in its messages", async (t) => {
  await t.step("a join request naming another process is refused", async () => {
    const path = `/tmp/${uniqueName("bcast-pid")}.sock`;
    using producer = SharedBroadcastProducer.create(path, { capacity: 4096 });
    const accepting = producer.acceptAsync();
    const sock = connectUnix(path);
    const pidfd = native().rmpsc_pidfd_open(Deno.pid);
    const request = new Uint8Array(REQUEST_BYTES);
    const w = words(request);
    w.setUint32(0, REQUEST_MAGIC, true);
    w.setUint32(4, WIRE_VERSION, true);
    w.setInt32(12, 1, true); // claims to be init
    sendFdWith(sock, pidfd, request);
    closeFd(pidfd);
    await assert.rejects(accepting, /process \d+ connected: received pid 1/);
    closeFd(sock);
    assert.equal(producer.producer.consumerCount, 0);
  });
  await t.step("a reply naming another producer process is refused", async () => {
    const path = `/tmp/${uniqueName("bcast-reply")}.sock`;
    using server = FdServer.listen(path);
    const joining = SharedBroadcastConsumer.joinAsync(path);
    const conn = await server.acceptAsync();
    closeFd(recvFdWith(conn, new Uint8Array(REQUEST_BYTES)));
    const reply = new Uint8Array(REPLY_BYTES);
    const w = words(reply);
    w.setUint32(0, REPLY_MAGIC, true);
    w.setUint32(4, WIRE_VERSION, true);
    w.setInt32(20, 1, true); // names init as the producer
    using memory = SharedMemory.create(4096);
    sendFdWith(conn, memory.fd, reply);
    await assert.rejects(joining, /process \d+ listens: received producer pid 1/);
    closeFd(conn);
  });
});

Deno.test({
  name: "as another user: the default mode keeps the peer out",
  ignore: !foreignPeerAvailable,
  fn: withReachableDir(false, async (dir) => {
    const path = `${dir}/s.sock`;
    using server = FdServer.listen(path);
    const peer = foreignPeer("connect", path);
    assert.deepEqual(await peer.next(), { connected: false, errno: "EACCES" });
    assert.ok((await peer.finish()).status.success);
    await servesOwner(server); // the owner still gets in
  }),
});

Deno.test({
  name: "as another user: a reachable socket still refuses the peer, and serves allowed ones",
  ignore: !foreignPeerAvailable,
  fn: withReachableDir(false, async (dir) => {
    const path = `${dir}/s.sock`;
    using server = FdServer.listen(path, { mode: 0o666 });
    const peer = foreignPeer("connect", path);
    await assert.rejects(server.acceptAsync(), refused(FOREIGN_ID));
    assert.deepEqual(await peer.next(), { connected: true, fds: 0, bytes: 0 });
    assert.ok((await peer.finish()).status.success);
    await servesOwner(server);
  }),
});

Deno.test({
  name: "as another user: a policy that names the peer lets it have the fd",
  ignore: !foreignPeerAvailable,
  fn: withReachableDir(false, async (dir) => {
    const path = `${dir}/s.sock`;
    let seen: { pid: number; uid: number; gid: number } | undefined;
    using server = FdServer.listen(path, {
      mode: 0o666,
      allow: (peer) => {
        seen = peer;
        return peer.uid === FOREIGN_ID;
      },
    });
    const peer = foreignPeer("connect", path);
    const conn = await server.acceptAsync();
    assert.deepEqual(seen, { pid: peer.pid, uid: FOREIGN_ID, gid: FOREIGN_ID });
    using notifier = EventNotifier.init();
    sendFd(conn, notifier.fd());
    assert.deepEqual(await peer.next(), { connected: true, fds: 1, bytes: 1 });
    closeFd(conn);
    assert.ok((await peer.finish()).status.success);
  }),
});

Deno.test({
  name: "as another user: a squatted socket path is detected by the client",
  ignore: !foreignPeerAvailable,
  fn: withReachableDir(true, async (dir) => {
    const path = `${dir}/s.sock`;
    const squatter = foreignPeer("squat", path, "2");
    assert.deepEqual(await squatter.next(), { listening: true });
    assert.throws(() => FdServer.listen(path), isErrno(Errno.EADDRINUSE)); // never adopted
    assert.deepEqual(await squatter.next(), { accepted: true, sent: 0 }); // listen's probe
    assert.throws(
      () => connectUnix(path),
      (error: unknown) =>
        error instanceof PeerRefused && error.uid === FOREIGN_ID && error.pid === squatter.pid &&
        /server listening there/.test(error.message),
    );
    assert.deepEqual(await squatter.next(), { accepted: true, sent: 0 }); // we sent nothing
    assert.ok((await squatter.finish()).status.success);
  }),
});

Deno.test({
  name: "as another user: the broadcast handshake refuses on both ends",
  ignore: !foreignPeerAvailable,
  fn: withReachableDir(true, async (dir) => {
    await (async () => {
      const path = `${dir}/producer.sock`;
      using producer = SharedBroadcastProducer.create(path, {
        capacity: 4096,
        listen: { mode: 0o666 },
      });
      const peer = foreignPeer("connect", path);
      await assert.rejects(producer.acceptAsync(), refused(FOREIGN_ID));
      assert.deepEqual(await peer.next(), { connected: true, fds: 0, bytes: 0 });
      assert.ok((await peer.finish()).status.success);
      const joining = SharedBroadcastConsumer.joinAsync(path);
      await producer.acceptAsync();
      using consumer = await joining;
      producer.send(Uint8Array.of(5));
      assert.deepEqual(consumer.recv(), Uint8Array.of(5));
    })();
    const squatted = `${dir}/squatted.sock`;
    const squatter = foreignPeer("squat", squatted, "2");
    assert.deepEqual(await squatter.next(), { listening: true });
    await assert.rejects(SharedBroadcastConsumer.joinAsync(squatted), refused(FOREIGN_ID));
    assert.deepEqual(await squatter.next(), { accepted: true, sent: 0 });
    assert.throws(() => SharedBroadcastConsumer.join(squatted), refused(FOREIGN_ID));
    assert.deepEqual(await squatter.next(), { accepted: true, sent: 0 });
    assert.ok((await squatter.finish()).status.success);
  }),
});
