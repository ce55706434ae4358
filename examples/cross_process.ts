/**
 * cross_process: the seed's full cross-process flow. The server creates a
 * SharedRing in a sealed memfd, listens on a Unix socket and passes the fd
 * with SCM_RIGHTS; the client connects, receives the fd, attaches and
 * consumes. Run: deno run --allow-ffi --allow-read --allow-write --allow-run --allow-env examples/cross_process.ts
 *
 * @module
 */
import { u32 } from "../mod.ts";
import { closeFd, connectUnix, FdServer, recvFd, sendFd, SharedRing } from "../native.ts";

const COUNT = 100_000;
if (Deno.args[0] === "client") {
  const socket = connectUnix(Deno.args[1]);
  const fd = recvFd(socket); // one data byte + one SCM_RIGHTS fd: ringmpsc's wire format
  closeFd(socket);
  using ring = SharedRing.attach(u32, fd); // checks seals, size and every header field
  closeFd(fd);
  let sum = 0;
  for (let n = 0; n < COUNT;) {
    const region = ring.readable();
    if (region === null) {
      ring.waitReadable();
      continue;
    }
    for (let i = 0; i < region.length; i++) sum = (sum + region.array[region.offset + i]) >>> 0;
    ring.advance(region.length);
    n += region.length;
  }
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
      "--allow-env",
      new URL(import.meta.url).pathname,
      "client",
      path,
    ],
    stdout: "piped",
  }).spawn();
  const conn = server.accept();
  sendFd(conn, ring.getFd());
  closeFd(conn);
  let expected = 0;
  for (let i = 0; i < COUNT;) {
    if (ring.sendOne(i)) expected = (expected + i++) >>> 0;
    else ring.ring.waitWritable(1);
  }
  const got = Number(new TextDecoder().decode((await child.output()).stdout));
  console.log(
    `cross_process: client summed ${got}, expected ${expected}: ${
      got === expected ? "match" : "MISMATCH"
    }`,
  );
}
