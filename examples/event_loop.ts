/**
 * event_loop: the seed's managed consumer loop, on Deno's event loop.
 * spawn() awaits data without blocking; stop() closes the channel and the
 * loop drains everything before it resolves.
 *
 * Run: deno run examples/event_loop.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { EventLoop, mpsc, u32 } from "@ringmpsc/ringmpsc";

const channel = new mpsc.Channel(u32, { ringBits: 10 });
let sum = 0;
const loop = new EventLoop(channel, (x) => sum += x);
const finished = loop.spawn(); // the seed's spawn(); awaiting it is join()

const producer = channel.register();
for (let i = 1; i <= 1000; i++) {
  while (!producer.sendOne(i)) await new Promise((r) => setTimeout(r, 0));
}
loop.stop(); // shuts the channel down; the loop drains what is left

const processed = await finished;
assert.equal(processed, 1000);
assert.equal(sum, 1000 * 1001 / 2);
console.log(
  `event_loop: processed ${processed} messages, sum ${sum} (expected ${1000 * 1001 / 2})`,
);
