/**
 * event_notifier: a ring whose every commit signals an eventfd, so a
 * consumer can wait in epoll alongside sockets and timers — or, in Deno,
 * await the notifier without blocking the event loop.
 *
 * Run: deno run --allow-ffi --allow-read --allow-write examples/event_notifier.ts
 *
 * (`--allow-ffi` loads the native helper, which `--allow-read --allow-write`
 * let it unpack to a temporary folder; add `--allow-env` to keep it in its
 * cache folder instead.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ring, u32 } from "@ringmpsc/ringmpsc";
import { EventNotifier } from "@ringmpsc/ringmpsc/native";

const ring = new Ring(u32, { ringBits: 8 });
const notifier = EventNotifier.init();
ring.setEventNotifier(notifier); // commit() now writes to the eventfd

// A producer on a timer, like a socket handler would be.
let next = 0;
const timer = setInterval(() => {
  ring.send([next, next + 1, next + 2]);
  next += 3;
  if (next >= 30) clearInterval(timer);
}, 5);

let received = 0;
while (received < 30) {
  await notifier.waitAsync(); // the eventfd became readable (off the event loop's thread)
  notifier.consume(); // reset the counter before waiting again
  for (let region = ring.readable(); region !== null; region = ring.readable()) {
    received += region.length;
    ring.advance(region.length);
  }
}
notifier.deinit();
assert.equal(received, 30);
console.log(`event_notifier: ${received} items announced through eventfd`);
