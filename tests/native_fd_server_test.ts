/**
 * Who may connect to an FdServer, as this user: exact socket file modes
 * under any umask, the directory check, SO_PEERCRED policies on both ends,
 * and a close that removes only the server's own socket file. The same
 * doors against a peer running as another user: native_foreign_user_test.ts.
 */

import assert from "node:assert/strict";
import {
  Closed,
  closeFd,
  connectUnix,
  FdServer,
  ownCredentials,
  peerCredentials,
  PeerRefused,
  recvFd,
  UntrustedPath,
} from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { Child, uniqueName } from "./fixtures/_child.ts";
import { FOREIGN_ID } from "./fixtures/foreign_peer.ts";
import { exchangeFd, isErrno, refused } from "./fixtures/peer_checks.ts";

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

function modeOf(path: string): number {
  return Deno.lstatSync(path).mode! & 0o7777;
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
