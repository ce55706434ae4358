import assert from "node:assert/strict";
import {
  Closed,
  closeFd,
  connectUnix,
  FdServer,
  recvFd,
  recvFdAsync,
  recvFdWith,
  recvFdWithAsync,
  sendFd,
  sendFdWith,
  SharedMemory,
  SystemError,
} from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { native } from "../ffi/lib.ts";
import { Child, uniqueName } from "./fixtures/_child.ts";
import { hasPython } from "./_toolchain.ts";

const PEER = new URL("./fixtures/fd_peer.py", import.meta.url).pathname;

function socketPath(what: string): string {
  return `/tmp/${uniqueName(what)}.sock`;
}

/**
 * How many fds below 1024 this process has open — of the given sizes only,
 * when sizes are named. Other test modules run in this process at the same
 * time (`--parallel`) and open fds of their own; counting only the sizes of
 * the peer's memfds ("one", "two", "three": 3 and 5 bytes) keeps their
 * fds out of the count.
 */
function openFdCount(...sizes: number[]): number {
  const lib = native();
  let count = 0;
  for (let fd = 0; fd < 1024; fd++) {
    const size = lib.rmpsc_fstat_size(fd);
    if (size >= 0 && (sizes.length === 0 || sizes.includes(Number(size)))) count++;
  }
  return count;
}

function isErrno(errno: number): (error: unknown) => boolean {
  return (error: unknown) => error instanceof SystemError && error.errno === errno;
}

/** Runs the Python peer in `mode` against a fresh server; returns the server's end. */
async function withPythonPeer(
  mode: string,
  use: (conn: number) => void | Promise<void>,
): Promise<string> {
  const path = socketPath(`py-${mode}`);
  using server = FdServer.listen(path);
  const peer = new Deno.Command("python3", {
    args: [PEER, mode, path],
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const conn = await server.acceptAsync();
  try {
    await use(conn);
  } finally {
    closeFd(conn);
  }
  const output = await peer.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

Deno.test("sendFd and recvFd pass a memfd within one process", () => {
  const path = socketPath("local");
  using server = FdServer.listen(path);
  assert.equal(server.path, path);
  const client = connectUnix(path);
  const conn = server.accept();
  try {
    using memory = SharedMemory.create(4096);
    new Uint32Array(memory.buffer)[0] = 0x12345678;
    sendFd(client, memory.fd);
    const fd = recvFd(conn);
    assert.notEqual(fd, memory.fd);
    using view = SharedMemory.attach(fd, { size: 4096 });
    assert.equal(new Uint32Array(view.buffer)[0], 0x12345678);
    closeFd(fd);
  } finally {
    closeFd(client);
    closeFd(conn);
  }
});

Deno.test("sendFdWith and recvFdWith carry a payload with the fd, in order", async () => {
  const path = socketPath("payload");
  using server = FdServer.listen(path);
  const client = connectUnix(path);
  const conn = server.accept();
  try {
    const regions = [
      SharedMemory.create(4096),
      SharedMemory.create(8192),
      SharedMemory.create(12288),
    ];
    for (const [seq, memory] of regions.entries()) {
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setBigUint64(0, BigInt(seq) + 0xfeed_0000_0000n, true);
      sendFdWith(client, memory.fd, tag);
    }
    for (const [seq, memory] of regions.entries()) {
      const tag = new Uint8Array(8);
      const fd = seq === 1 ? await recvFdWithAsync(conn, tag) : recvFdWith(conn, tag);
      assert.equal(new DataView(tag.buffer).getBigUint64(0, true), BigInt(seq) + 0xfeed_0000_0000n);
      assert.equal(Number(native().rmpsc_fstat_size(fd)), memory.size);
      closeFd(fd);
      memory.close();
    }
    // A payload larger than one socket buffer arrives whole.
    using big = SharedMemory.create(4096);
    const payload = new Uint8Array(60_000).map((_, i) => i * 31);
    const received = new Uint8Array(payload.length);
    const arriving = recvFdWithAsync(conn, received);
    sendFdWith(client, big.fd, payload);
    closeFd(await arriving);
    assert.deepEqual(received, payload);
  } finally {
    closeFd(client);
    closeFd(conn);
  }
});

Deno.test({
  name: "the wire format is one data byte and one SCM_RIGHTS fd (Python peer)",
  ignore: !hasPython,
}, async (t) => {
  await t.step("our sendFd, received by Python's socket.recv_fds", async () => {
    using memory = SharedMemory.create(4096);
    new Uint8Array(memory.buffer).set([1, 2, 3, 4]);
    const report = JSON.parse(await withPythonPeer("recv", (conn) => sendFd(conn, memory.fd)));
    assert.deepEqual(report, { data: [0], fds: 1, size: 4096, first: [1, 2, 3, 4] });
    assert.equal(new TextDecoder().decode(new Uint8Array(memory.buffer, 4, 4)), "PYOK");
  });
  await t.step("Python's socket.send_fds, received by our recvFd", async () => {
    await withPythonPeer("send", async (conn) => {
      const fd = await recvFdAsync(conn);
      using view = SharedMemory.attach(fd, { requireSeals: false });
      assert.equal(new TextDecoder().decode(view.buffer), "hello from python");
      closeFd(fd);
    });
  });
});

Deno.test({
  name: "a hostile peer cannot leak fds into us or desync us silently",
  ignore: !hasPython,
}, async (t) => {
  await t.step("three fds in one message: the first is kept, the others closed", async () => {
    await withPythonPeer("send-many", (conn) => {
      const before = openFdCount(3, 5);
      const fd = recvFd(conn);
      assert.equal(openFdCount(3, 5), before + 1, "only the first of three fds stayed open");
      using view = SharedMemory.attach(fd, { requireSeals: false });
      assert.equal(new TextDecoder().decode(view.buffer), "one");
      closeFd(fd);
    });
  });
  await t.step("a byte without an fd", async () => {
    await withPythonPeer("send-nofd", (conn) => {
      assert.throws(() => recvFd(conn), isErrno(Errno.EBADMSG));
    });
  });
  await t.step("a payload cut short by closing", async () => {
    await withPythonPeer("send-partial", (conn) => {
      const before = openFdCount(7); // the peer's memfd holds "partial"
      assert.throws(() => recvFdWith(conn, new Uint8Array(8)), isErrno(Errno.EPROTO));
      assert.equal(openFdCount(7), before);
    });
  });
  await t.step("a second fd inside one payload", async () => {
    await withPythonPeer("send-second-fd", (conn) => {
      const before = openFdCount(5, 6); // the peer's memfds hold "first" and "second"
      assert.throws(() => recvFdWith(conn, new Uint8Array(8)), isErrno(Errno.EPROTO));
      assert.equal(openFdCount(5, 6), before);
    });
  });
  await t.step("a peer that closes at once", async () => {
    await withPythonPeer("close", async (conn) => {
      await assert.rejects(recvFdAsync(conn), Closed);
    });
  });
});

Deno.test("memfds pass both ways between two processes", async () => {
  const path = socketPath("exchange");
  const size = 1 << 16;
  using server = FdServer.listen(path);
  using memory = SharedMemory.create(size);
  const child = Child.spawn("fd-exchange", path, "81985529216486895", String(size));
  const conn = await server.acceptAsync();
  try {
    sendFd(conn, memory.fd);
    const tag = new Uint8Array(8);
    const fd = await recvFdWithAsync(conn, tag);
    assert.equal(new DataView(tag.buffer).getBigUint64(0, true), 81985529216486895n);
    const report = await child.next<{ done: boolean; seals: number }>();
    assert.equal(report.done, true);
    assert.equal(report.seals, memory.seals);
    // The child wrote i * 7 into every word of our region.
    const words = new Uint32Array(memory.buffer);
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== Math.imul(i, 7) >>> 0) assert.fail(`word ${i} is ${words[i]}`);
    }
    // And sealed its own region before sending it; it outlives the child.
    assert.equal((await child.finish()).status.code, 0);
    using theirs = SharedMemory.attach(fd, { size });
    const own = new Uint32Array(theirs.buffer);
    for (let i = 0; i < own.length; i++) {
      if (own[i] !== i + 1000) assert.fail(`child word ${i} is ${own[i]}`);
    }
    closeFd(fd);
  } finally {
    closeFd(conn);
  }
});

Deno.test("FdServer removes its socket file, replaces stale ones and keeps live ones", async (t) => {
  await t.step("deinit removes the socket file", () => {
    const path = socketPath("deinit");
    const server = FdServer.listen(path);
    assert.ok(Deno.lstatSync(path).isSocket);
    server.deinit();
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    server.deinit();
    assert.throws(() => server.accept(), Closed);
  });
  await t.step("a stale socket file left by a dead server is replaced", () => {
    const path = socketPath("stale");
    const lib = native();
    const fd = lib.rmpsc_unix_listen(new TextEncoder().encode(`${path}\0`), 1, 0o600);
    assert.ok(fd >= 0);
    lib.rmpsc_close(fd);
    assert.ok(Deno.lstatSync(path).isSocket);
    using server = FdServer.listen(path);
    const client = connectUnix(path);
    closeFd(server.accept());
    closeFd(client);
  });
  await t.step("a live server or another file keeps its path", () => {
    const path = socketPath("live");
    using server = FdServer.listen(path);
    assert.throws(() => FdServer.listen(path), isErrno(Errno.EADDRINUSE));
    const client = connectUnix(path);
    closeFd(server.accept());
    closeFd(client);
    const file = socketPath("regular");
    Deno.writeTextFileSync(file, "keep me");
    try {
      assert.throws(() => FdServer.listen(file), isErrno(Errno.EADDRINUSE));
      assert.equal(Deno.readTextFileSync(file), "keep me");
    } finally {
      Deno.removeSync(file);
    }
  });
  await t.step("deinit wakes a pending acceptAsync with Closed", async () => {
    const path = socketPath("pending");
    const server = FdServer.listen(path);
    const pending = server.acceptAsync();
    server.deinit();
    await assert.rejects(pending, Closed);
    await assert.rejects(server.acceptAsync(), Closed);
  });
});

Deno.test("bad input gives typed errors", async (t) => {
  await t.step("missing, refused and malformed socket paths", () => {
    assert.throws(() => connectUnix(socketPath("missing")), isErrno(Errno.ENOENT));
    const file = socketPath("not-a-socket");
    Deno.writeTextFileSync(file, "");
    try {
      assert.throws(() => connectUnix(file), isErrno(Errno.ECONNREFUSED));
    } finally {
      Deno.removeSync(file);
    }
    assert.throws(() => connectUnix(""), RangeError);
    assert.throws(() => connectUnix(`/tmp/${"x".repeat(120)}`), RangeError);
    assert.throws(() => FdServer.listen(`/tmp/${"x".repeat(120)}`), RangeError);
    assert.throws(() => connectUnix("/tmp/a\0b"), TypeError);
    assert.throws(() => FdServer.listen(socketPath("backlog"), { backlog: 0 }), RangeError);
  });
  await t.step("bad fds and payloads", () => {
    const path = socketPath("bad");
    using server = FdServer.listen(path);
    const client = connectUnix(path);
    const conn = server.accept();
    try {
      assert.throws(() => sendFd(client, 999_999), isErrno(Errno.EBADF));
      assert.throws(() => sendFd(999_999, client), isErrno(Errno.EBADF));
      assert.throws(() => recvFd(999_999), isErrno(Errno.EBADF));
      assert.throws(() => sendFd(client, -1), RangeError);
      assert.throws(() => sendFdWith(client, conn, new Uint8Array(0)), RangeError);
      assert.throws(() => sendFdWith(client, conn, new Uint8Array(65537)), RangeError);
      assert.throws(() => recvFdWith(conn, [1] as unknown as Uint8Array), TypeError);
      using memory = SharedMemory.create(4096);
      assert.throws(() => sendFd(memory.fd, memory.fd), isErrno(Errno.ENOTSOCK));
    } finally {
      closeFd(client);
      closeFd(conn);
    }
  });
  await t.step("sending to a closed peer fails with EPIPE instead of killing us", () => {
    const path = socketPath("epipe");
    using server = FdServer.listen(path);
    const client = connectUnix(path);
    closeFd(server.accept());
    try {
      using memory = SharedMemory.create(4096);
      assert.throws(() => sendFd(client, memory.fd), isErrno(Errno.EPIPE));
    } finally {
      closeFd(client);
    }
  });
});
