/**
 * A producer Worker of `graceful_shutdown.ts`: sends numbers (sleeping while
 * its ring is full) until the channel is shut down, then posts how many it sent.
 *
 * @module
 */
import { Closed, mpsc, sendBlocking } from "@ringmpsc/ringmpsc";

const scope = self as unknown as {
  onmessage: (e: MessageEvent<mpsc.ChannelHandle>) => void;
  postMessage(sent: number): void;
};
scope.onmessage = (e) => {
  const producer = mpsc.Channel.fromHandle<number, Uint32Array>(e.data).registerExt();
  let sent = 0;
  try {
    for (;;) {
      sendBlocking(producer, sent);
      sent++;
    }
  } catch (err) {
    if (!(err instanceof Closed)) throw err;
  }
  scope.postMessage(sent);
};
