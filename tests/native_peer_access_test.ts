/**
 * Who may connect: socket file modes, the directory check, SO_PEERCRED
 * policies on both ends of FdServer / connectUnix and of the broadcast
 * handshake, and attachPath's ownership check. The tests marked "as another
 * user" run a peer as uid 65534 and need root (CI runs as root).
 */

import assert from "node:assert/strict";
import {
  Closed,
  closeFd,
  connectUnix,
  EventNotifier,
  FdServer,
  ownCredentials,
  peerCredentials,
  PeerRefused,
  recvFd,
  recvFdWith,
  sendFd,
  sendFdWith,
  SharedBroadcastConsumer,
  SharedBroadcastProducer,
  SharedMemory,
  SystemError,
  UntrustedPath,
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
import { Child, uniqueName } from "./fixtures/_child.ts";
import {
  FOREIGN_ID,
  foreignPeer,
  foreignPeerAvailable,
  reachableDir,
} from "./fixtures/foreign_peer.ts";

const me = ownCredentials();
const NATIVE_CHILD = new URL("./fixtures/native_child.ts", import.meta.url).pathname;

function withDir(mode: number, use: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync({ dir: "/tmp", prefix: "ringmpsc-access-" });
    try {
      Deno.chmodSync(dir, mode);
      await use(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** Runs native_child.ts listen-mode under `sh`, with the given umask and working directory. */
function listenInChild(
  { umask = "022", cwd = ".", path, mode }: {
    umask?: string;
    cwd?: string;
    path: string;
    mode?: string;
  },
): Child {
  return Child.start("sh", [
    "-c",
    `umask ${umask} && cd "$1" && shift && exec "$0" "$@"`,
    Deno.execPath(),
    cwd,
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-ffi",
    "--allow-env",
    NATIVE_CHILD,
    "listen-mode",
    path,
    ...(mode ? [mode] : []),
  ]);
}

/** Runs a system command (Deno's own chmod needs --allow-all for /dev/shm). */
function run(program: string, ...args: string[]): void {
  const { success, stderr } = new Deno.Command(program, { args, stderr: "piped" }).outputSync();
  assert.ok(success, new TextDecoder().decode(stderr));
}

function modeOf(path: string): number {
  return Deno.lstatSync(path).mode! & 0o7777;
}

function isErrno(errno: number): (error: unknown) => boolean {
  return (error: unknown) => error instanceof SystemError && error.errno === errno;
}

function refused(uid: number): (error: unknown) => boolean {
  return (error: unknown) => error instanceof PeerRefused && error.uid === uid;
}

/** Passes an eventfd over `conn` and checks it arrives on `client`. */
function exchangeFd(conn: number, client: number): void {
  using notifier = EventNotifier.init();
  sendFd(conn, notifier.fd());
  using copy = EventNotifier.fromFd(recvFd(client));
  copy.signal();
  assert.equal(notifier.consume(), 1);
}

/** Checks that `server` still serves this user: a connection gets an fd across. */
async function servesOwner(server: FdServer): Promise<void> {
  const client = connectUnix(server.path);
  const conn = await server.acceptAsync();
  exchangeFd(conn, client);
  closeFd(conn);
  closeFd(client);
}

Deno.test("socket files get exactly the mode asked for, whatever the umask", async (t) => {
  for (
    const [umask, mode, expected] of [
      ["000", undefined, 0o600],
      ["022", undefined, 0o600],
      ["077", "660", 0o660],
      ["000", "640", 0o640],
    ] as const
  ) {
    await t.step(`umask ${umask}, mode ${mode ?? "default"}`, async () => {
      const path = `/tmp/${uniqueName("mode")}.sock`;
      const child = listenInChild({ umask, path, mode });
      const { mode: got } = await child.next<{ mode: number }>();
      assert.equal(got, expected);
      assert.ok((await child.finish()).status.success);
      assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    });
  }
  await t.step("modes that lock the owner out or are not permission bits", () => {
    for (const mode of [0o400, 0o200, 0o1777, -1, 0.5, NaN]) {
      assert.throws(() => FdServer.listen(`/tmp/${uniqueName("bad")}.sock`, { mode }), RangeError);
    }
  });
});

Deno.test("listen refuses a directory others could replace the socket in", async (t) => {
  await t.step(
    "writable by others without the sticky bit",
    withDir(0o777, (dir) => {
      const path = `${dir}/s.sock`;
      assert.throws(
        () => FdServer.listen(path),
        (error: unknown) =>
          error instanceof UntrustedPath && error.path === dir &&
          /writable by group or others/.test(error.message),
      );
      assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
      using _server = FdServer.listen(path, { allowSharedDirectory: true });
      assert.equal(modeOf(path), 0o600);
    }),
  );
  await t.step(
    "writable by the group",
    withDir(0o770, (dir) => {
      assert.throws(() => FdServer.listen(`${dir}/s.sock`), UntrustedPath);
    }),
  );
  await t.step(
    "a private directory inside a shared one",
    withDir(0o777, (dir) => {
      Deno.mkdirSync(`${dir}/private`, { mode: 0o700 });
      assert.throws(
        () => FdServer.listen(`${dir}/private/s.sock`),
        (error: unknown) => error instanceof UntrustedPath && error.path === `${dir}/private/..`,
      );
    }),
  );
  await t.step(
    "a sticky directory like /tmp is fine",
    withDir(0o1777, (dir) => {
      using _server = FdServer.listen(`${dir}/s.sock`);
    }),
  );
  await t.step(
    "a relative path is walked up from the working directory",
    withDir(0o700, async (dir) => {
      Deno.mkdirSync(`${dir}/private`, { mode: 0o700 });
      Deno.mkdirSync(`${dir}/shared`);
      Deno.chmodSync(`${dir}/shared`, 0o777);
      const ok = listenInChild({ cwd: `${dir}/private`, path: "s.sock" });
      assert.deepEqual(await ok.next(), { mode: 0o600 });
      assert.ok((await ok.finish()).status.success);
      const refused = listenInChild({ cwd: `${dir}/private`, path: "../shared/s.sock" });
      const { status, stderr } = await refused.finish();
      assert.ok(!status.success);
      assert.match(
        stderr,
        /UntrustedPath: Cannot listen on "..\/shared\/s.sock" as the directory "..\/shared" /,
      );
    }),
  );
  await t.step("a missing directory", () => {
    assert.throws(
      () => FdServer.listen(`/tmp/${uniqueName("none")}/s.sock`),
      isErrno(Errno.ENOENT),
    );
  });
  await t.step({
    name: "owned by another user",
    ignore: me.uid !== 0,
    fn: withDir(0o755, (dir) => {
      Deno.chownSync(dir, FOREIGN_ID, FOREIGN_ID);
      assert.throws(
        () => FdServer.listen(`${dir}/s.sock`),
        (error: unknown) =>
          error instanceof UntrustedPath && error.uid === FOREIGN_ID &&
          /owned by uid 65534/.test(error.message),
      );
    }),
  });
});

Deno.test("FdServer lets in only the clients its policy allows, and goes on serving", async (t) => {
  await t.step("the default allows this user, and the client can see who serves", () => {
    const path = `/tmp/${uniqueName("same")}.sock`;
    using server = FdServer.listen(path);
    const client = connectUnix(path);
    const conn = server.accept();
    assert.deepEqual(peerCredentials(conn), me);
    assert.deepEqual(peerCredentials(client), me);
    exchangeFd(conn, client);
    closeFd(conn);
    closeFd(client);
  });
  await t.step("a refused client gets nothing and the next one is served", async () => {
    const path = `/tmp/${uniqueName("refuse")}.sock`;
    let seen: unknown;
    let admit = false;
    using server = FdServer.listen(path, {
      allow: (peer) => {
        seen = peer;
        return admit;
      },
    });
    const first = connectUnix(path);
    assert.throws(() => server.accept(), refused(me.uid));
    assert.deepEqual(seen, me);
    assert.throws(() => recvFd(first), Closed); // closed before anything was sent
    closeFd(first);
    const second = connectUnix(path);
    await assert.rejects(server.acceptAsync(), PeerRefused);
    closeFd(second);
    admit = true;
    const third = connectUnix(path);
    const conn = await server.acceptAsync();
    exchangeFd(conn, third);
    closeFd(conn);
    closeFd(third);
  });
  await t.step("id sets: uids replace the default, gids add to it", () => {
    const path = `/tmp/${uniqueName("ids")}.sock`;
    {
      using server = FdServer.listen(path, { allow: { uids: [me.uid + 1] } });
      const client = connectUnix(path);
      assert.throws(() => server.accept(), /allowed are uid \d+/);
      closeFd(client);
    }
    using server = FdServer.listen(path, { allow: { uids: [], gids: [me.gid] } });
    const client = connectUnix(path);
    closeFd(server.accept());
    closeFd(client);
  });
  await t.step("an allow function that throws refuses the client too", () => {
    const path = `/tmp/${uniqueName("throws")}.sock`;
    using server = FdServer.listen(path, {
      allow: () => {
        throw new Error("policy failed");
      },
    });
    const client = connectUnix(path);
    assert.throws(() => server.accept(), /policy failed/);
    assert.throws(() => recvFd(client), Closed);
    closeFd(client);
  });
  await t.step("bad policies are refused before anything is made", () => {
    const path = `/tmp/${uniqueName("badpolicy")}.sock`;
    for (const allow of [1, "uid", null, { uids: 0 }]) {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => FdServer.listen(path, { allow: allow as any }), TypeError);
    }
    for (const uids of [[-1], [0.5], [2 ** 32 - 1], [NaN]]) {
      assert.throws(() => FdServer.listen(path, { allow: { uids } }), RangeError);
    }
    // deno-lint-ignore no-explicit-any
    assert.throws(() => FdServer.listen(path, { allowSharedDirectory: 1 as any }), TypeError);
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
  });
});

Deno.test("connectUnix checks who listens", () => {
  const path = `/tmp/${uniqueName("client")}.sock`;
  using server = FdServer.listen(path);
  assert.throws(
    () => connectUnix(path, { allow: { uids: [me.uid + 1] } }),
    (error: unknown) => error instanceof PeerRefused && error.pid === Deno.pid,
  );
  let seen: unknown;
  const client = connectUnix(path, {
    allow: (peer) => {
      seen = peer;
      return true;
    },
  });
  assert.deepEqual(seen, me);
  // Both were queued; the refused one is already closed by the client.
  closeFd(server.accept());
  closeFd(server.accept());
  closeFd(client);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => connectUnix(path, { allow: 5 as any }), TypeError);
});

Deno.test("close removes the socket file only while it is still this server's", () => {
  const path = `/tmp/${uniqueName("own")}.sock`;
  const other = `/tmp/${uniqueName("other")}.sock`;
  const server = FdServer.listen(path);
  const replacement = FdServer.listen(other);
  Deno.renameSync(other, path); // someone else's socket now holds the path
  server.close();
  assert.ok(Deno.lstatSync(path).isSocket);
  replacement.close(); // its own file is gone (renamed away): nothing to remove
  assert.ok(Deno.lstatSync(path).isSocket);
  Deno.removeSync(path);
});

Deno.test("attachPath refuses files others own or may write", async (t) => {
  const name = uniqueName("trust");
  using memory = SharedMemory.createPath(name, 4096);
  try {
    await t.step("this user's private file is attached", () => {
      using _view = SharedMemory.attachPath(name);
    });
    await t.step("writable by group or others", () => {
      for (const mode of [0o660, 0o606]) {
        run("chmod", mode.toString(8), memory.path!);
        assert.throws(
          () => SharedMemory.attachPath(name),
          (error: unknown) =>
            error instanceof UntrustedPath && /writable by group or others/.test(error.message),
        );
        using _view = SharedMemory.attachPath(name, { allowWritableByOthers: true });
      }
      run("chmod", "644", memory.path!); // readable by others: that is not refused
      using _view = SharedMemory.attachPath(name);
    });
    await t.step("owned by someone not allowed", () => {
      assert.throws(
        () => SharedMemory.attachPath(name, { owners: [me.uid + 1] }),
        (error: unknown) =>
          error instanceof UntrustedPath && error.uid === me.uid &&
          new RegExp(`owned by uid ${me.uid}, not by uid ${me.uid + 1}`).test(error.message),
      );
      using _view = SharedMemory.attachPath(name, { owners: [me.uid + 1, me.uid] });
    });
    await t.step({
      name: "owned by another user (as root)",
      ignore: me.uid !== 0,
      fn: () => {
        run("chown", `${FOREIGN_ID}:${FOREIGN_ID}`, memory.path!);
        assert.throws(() => SharedMemory.attachPath(name), UntrustedPath);
        using _view = SharedMemory.attachPath(name, { owners: [FOREIGN_ID] });
      },
    });
    await t.step("bad options", () => {
      assert.throws(() => SharedMemory.attachPath(name, { owners: [] }), RangeError);
      assert.throws(() => SharedMemory.attachPath(name, { owners: [-1] }), RangeError);
      // deno-lint-ignore no-explicit-any
      assert.throws(() => SharedMemory.attachPath(name, { owners: 0 as any }), TypeError);
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => SharedMemory.attachPath(name, { allowWritableByOthers: "yes" as any }),
        TypeError,
      );
    });
  } finally {
    SharedMemory.unlinkPath(name);
  }
});

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
  fn: withForeignDir(false, async (dir) => {
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
  fn: withForeignDir(false, async (dir) => {
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
  fn: withForeignDir(false, async (dir) => {
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
  fn: withForeignDir(true, async (dir) => {
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
  fn: withForeignDir(true, async (dir) => {
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

function withForeignDir(shared: boolean, use: (dir: string) => Promise<void>) {
  return async () => {
    const dir = reachableDir(shared);
    try {
      await use(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}
