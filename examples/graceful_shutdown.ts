/**
 * graceful_shutdown: producers keep sending until the consumer shuts the
 * channel down; they see Closed, stop, and everything they managed to send
 * is still delivered by drainAll. Run: deno run examples/graceful_shutdown.ts
 *
 * @module
 */
import { mpsc, u32 } from "../mod.ts";

const channel = new mpsc.Channel(u32, { ringBits: 8 });
const source = `import { mpsc, sendBlocking, Closed } from ${
  JSON.stringify(new URL("../mod.ts", import.meta.url).href)
};
self.onmessage = (e) => {
  const producer = mpsc.Channel.fromHandle(e.data).registerExt();
  let sent = 0;
  try {
    for (;;) { sendBlocking(producer, sent); sent++; }
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
  }
  self.postMessage(sent);
};`;
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
const sentCounts = workers.map((w) => new Promise<number>((r) => w.onmessage = (e) => r(e.data)));
workers.forEach((w) => w.postMessage(channel.handle()));

let received = 0;
const handler = { process: () => void received++ };
const until = Date.now() + 200;
while (Date.now() < until) channel.consumeAll(handler);

channel.shutdown(); // producers' next send throws Closed
const sent = (await Promise.all(sentCounts)).reduce((a, b) => a + b);
received += channel.drainAll(handler); // nothing committed is lost
workers.forEach((w) => w.terminate());
console.log(
  `graceful_shutdown: sent ${sent}, received ${received}, lost ${
    sent - received
  }, fully drained ${channel.isFullyDrained()}`,
);
