/**
 * A producer Worker of `mpsc_pipeline.ts`: registers on the channel, sends
 * `count` items tagged with its id, then posts "done".
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { mpsc } from "@ringmpsc/ringmpsc";

/** What `mpsc_pipeline.ts` posts to each producer. */
export interface ProducerJob {
  handle: mpsc.ChannelHandle<number, Uint32Array>;
  id: number;
  count: number;
}

self.onmessage = (e: MessageEvent<ProducerJob>) => {
  const producer = mpsc.Channel.fromHandle(e.data.handle).register();
  for (let seq = 0; seq < e.data.count;) if (producer.sendOne((e.data.id << 24) | seq)) seq++;
  self.postMessage("done");
};
