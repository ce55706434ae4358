/**
 * cross_process: the seed's full cross-process flow. The server creates a
 * SharedRing in a sealed memfd, listens on a Unix socket and passes the fd
 * with SCM_RIGHTS; the client connects, receives the fd, attaches and
 * consumes.
 *
 * Run: deno run --allow-ffi --allow-read --allow-write --allow-run examples/cross_process.ts
 *
 * (`--allow-ffi` loads the native helper, which `--allow-read --allow-write`
 * let it unpack to a temporary folder — add `--allow-env` to keep it in its
 * cache folder; `--allow-run` starts the client process.) Neither side can
 * hang when the other dies: the server's waits end when the client exits, the
 * client's when the server's process is gone.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Closed, u32 } from "@ringmpsc/ringmpsc";
import {
  closeFd,
  connectUnix,
  FdServer,
  isProcessAlive,
  recvFd,
  sendFd,
  SharedRing,
} from "@ringmpsc/ringmpsc/native";

const COUNT = 100_000;
if (Deno.args[0] === "client") {
  const serverGone = new AbortController();
  const server = Number(Deno.args[2]);
  const watch = setInterval(() => {
    if (!isProcessAlive(server)) serverGone.abort(new Error("the server process exited"));
  }, 100);
  const socket = connectUnix(Deno.args[1]);
  const fd = recvFd(socket); // one data byte + one SCM_RIGHTS fd: ringmpsc's wire format
  closeFd(socket);
  using ring = SharedRing.attach(u32, fd); // checks seals, size and every header field
  closeFd(fd);
  let sum = 0;
  for (;;) {
    const region = ring.readable();
    if (region === null) {
      try {
        await ring.readableAsync({ signal: serverGone.signal });
      } catch (err) {
        if (err instanceof Closed) break; // the server closed the ring and it is drained
        throw err;
      }
      continue;
    }
    for (let i = 0; i < region.length; i++) sum = (sum + region.array[region.offset + i]) >>> 0;
    ring.advance(region.length);
  }
  clearInterval(watch);
  console.log(sum);
} else {
  const path = `/tmp/ringmpsc-example-${Deno.pid}.sock`;
  using ring = SharedRing.create(u32, 14);
  using server = FdServer.listen(path); // deinit removes the socket file
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      new URL(import.meta.url).pathname,
      "client",
      path,
      String(Deno.pid),
    ],
    stdout: "piped",
  }).spawn();
  const output = child.output();
  const clientGone = new AbortController();
  output.finally(() => clientGone.abort(new Error("the client process exited")));
  const aborted = new Promise<never>((_, reject) =>
    clientGone.signal.addEventListener("abort", () => reject(clientGone.signal.reason))
  );
  const conn = await Promise.race([server.acceptAsync(), aborted]);
  sendFd(conn, ring.getFd());
  closeFd(conn);
  let expected = 0;
  for (let i = 0; i < COUNT;) {
    if (ring.sendOne(i)) expected = (expected + i++) >>> 0;
    else await ring.ring.writableAsync(1, { signal: clientGone.signal });
  }
  ring.close(); // the client drains the rest, then sees Closed
  const { code, stdout } = await output;
  assert.equal(code, 0);
  const got = Number(new TextDecoder().decode(stdout));
  assert.equal(got, expected, "the client summed every item exactly once");
  console.log(`cross_process: client summed ${got}, expected ${expected}: match`);
}
