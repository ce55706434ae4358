/**
 * A producer Worker of `mpsc_pipeline.ts`: registers on the channel, sends
 * `count` items tagged with its id, then posts "done".
 *
 * @module
 */
import { mpsc } from "@ringmpsc/ringmpsc";

/** What `mpsc_pipeline.ts` posts to each producer. */
export interface ProducerJob {
  handle: mpsc.ChannelHandle;
  id: number;
  count: number;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<ProducerJob>) => void;
  postMessage(message: string): void;
};
scope.onmessage = (e) => {
  const producer = mpsc.Channel.fromHandle<number, Uint32Array>(e.data.handle).register();
  for (let seq = 0; seq < e.data.count;) if (producer.sendOne((e.data.id << 24) | seq)) seq++;
  scope.postMessage("done");
};
