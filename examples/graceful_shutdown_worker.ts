/**
 * A producer Worker of `graceful_shutdown.ts`: sends numbers (sleeping while
 * its ring is full) until the channel is shut down, then posts how many it sent.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { Closed, mpsc, sendBlocking } from "@ringmpsc/ringmpsc";

self.onmessage = (e: MessageEvent<mpsc.ChannelHandle<number, Uint32Array>>) => {
  const producer = mpsc.Channel.fromHandle(e.data).registerExt();
  let sent = 0;
  try {
    for (;;) {
      sendBlocking(producer, sent);
      sent++;
    }
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
  }
  self.postMessage(sent);
};
