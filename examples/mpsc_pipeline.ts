/**
 * mpsc_pipeline: four producer Workers register on one MPSC channel (each
 * gets its own ring); the main thread consumes with consumeAll and checks
 * every producer's order. Run: deno run examples/mpsc_pipeline.ts
 *
 * @module
 */
import { Closed, mpsc, u32 } from "../mod.ts";

const PRODUCERS = 4;
const EACH = 50_000;
const channel = new mpsc.Channel(u32, { ringBits: 12, maxProducers: 2 }); // grows to 4 on demand

const source = `import { mpsc } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
self.onmessage = (e) => {
  const producer = mpsc.Channel.fromHandle(e.data.handle).register();
  for (let seq = 0; seq < ${EACH};) if (producer.sendOne((e.data.id << 24) | seq)) seq++;
  self.postMessage("done");
};`;
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const done = Array.from({ length: PRODUCERS }, (_, id) => {
  const w = new Worker(url, { type: "module" });
  w.postMessage({ handle: channel.handle(), id });
  return new Promise<void>((resolve) => w.onmessage = () => (w.terminate(), resolve()));
});
Promise.all(done).then(() => channel.close());

const next = new Array(PRODUCERS).fill(0);
const handler = {
  process(v: number) {
    const id = v >>> 24;
    if ((v & 0xffffff) !== next[id]++) throw new Error(`producer ${id} out of order`);
  },
};
for (;;) {
  if (channel.consumeAll(handler) > 0) continue;
  try {
    await channel.readableAsync(); // lets the close above run
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
    channel.drainAll(handler);
    break;
  }
}
console.log(
  `mpsc_pipeline: ${
    next.reduce((a, b) => a + b)
  } items from ${channel.snapshot().producers} producers, each in order`,
);
