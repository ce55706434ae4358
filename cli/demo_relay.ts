/**
 * The cross-process hop of the demo pipeline: a separate Deno process that
 * connects to the demo's Unix socket, receives two SharedRing fds (the
 * seed's wire format: one data byte, one SCM_RIGHTS fd each), and copies
 * every item from the outbound ring to the return ring until the outbound
 * ring is closed and drained.
 *
 * Run by cli/demo.ts as `deno run --allow-ffi … cli/demo_relay.ts SOCKET`.
 *
 * @module
 */
import { Closed, u32 } from "../mod.ts";
import { closeFd, connectUnix, recvFd, SharedRing } from "../native.ts";
import { sendAll } from "./_pipeline.ts";

const socket = connectUnix(Deno.args[0]);
const outFd = recvFd(socket);
const backFd = recvFd(socket);
closeFd(socket);
using out = SharedRing.attach(u32, outFd);
using back = SharedRing.attach(u32, backFd);
closeFd(outFd); // the mappings stay; the fds are no longer needed
closeFd(backFd);
let items = 0;
for (;;) {
  const region = out.readable();
  if (region === null) {
    try {
      out.waitReadable();
      continue;
    } catch (err) {
      if (err instanceof Closed) break;
      throw err;
    }
  }
  const chunk = region.array.subarray(region.offset, region.offset + region.length);
  sendAll(back.ring, (b) => back.send(b), chunk, chunk.length);
  out.advance(region.length);
  items += region.length;
}
back.close();
console.log(JSON.stringify({ relayed: items }));
