/**
 * The cross-process hop of the demo pipeline: a separate Deno process that
 * connects to the demo's Unix socket, receives two SharedRing fds (the
 * seed's wire format: one data byte, one SCM_RIGHTS fd each), and copies
 * every item from the outbound ring to the return ring until the outbound
 * ring is closed and drained.
 *
 * cli/demo.ts starts it through the CLI's hidden subcommand (cli/_self.ts), so
 * a compiled binary runs it as itself: `ringmpsc __demo-relay SOCKET`.
 *
 * @module
 */
import { Closed, TimedOut, u32, WaitStrategy } from "../mod.ts";
import { closeFd, connectUnix, isProcessAlive, recvFd, SharedRing } from "../native.ts";
import { sendAll } from "./_pipeline.ts";

/** The `deno run` flags the relay process needs. */
export const RELAY_PERMISSIONS: readonly string[] = [
  "--allow-ffi",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/** How long the relay sleeps on an empty ring before it looks whether the demo is still there. */
const WATCH_MS = 100;

/**
 * Relays every item from the outbound ring to the return ring until the
 * outbound ring is closed and drained, then closes the return ring and prints
 * `{"relayed":N}`. Its waits end when the demo process (its parent) exits.
 *
 * @param socketPath The demo's Unix socket, which hands over both ring fds.
 * @returns The number of items relayed.
 */
export function runRelay(socketPath: string): number {
  const demo = Deno.ppid;
  const demoThere = () => {
    if (!isProcessAlive(demo)) throw new Error("the demo process exited");
  };
  const socket = connectUnix(socketPath);
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
        out.waitReadable(WaitStrategy.timedBlocking(WATCH_MS));
        continue;
      } catch (err) {
        if (err instanceof Closed) break;
        if (!(err instanceof TimedOut)) throw err;
        demoThere();
        continue;
      }
    }
    const chunk = region.array.subarray(region.offset, region.offset + region.length);
    sendAll(back.ring, (b) => back.send(b), chunk, chunk.length, demoThere);
    out.advance(region.length);
    items += region.length;
  }
  back.close();
  console.log(JSON.stringify({ relayed: items }));
  return items;
}
