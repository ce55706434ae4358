/**
 * A logger Worker of `logging_pipeline.ts`: writes `lines` log lines of
 * varying length into its MessageRing, then closes it.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { MessageRing, type RingHandle } from "@ringmpsc/ringmpsc";

/** What `logging_pipeline.ts` posts to each logger. */
export interface LoggerJob {
  handle: RingHandle;
  id: number;
  lines: number;
}

self.onmessage = (e: MessageEvent<LoggerJob>) => {
  const ring = MessageRing.fromHandle(e.data.handle);
  const encoder = new TextEncoder();
  for (let i = 0; i < e.data.lines; i++) {
    const line = encoder.encode(`worker ${e.data.id} event ${i} ${"x".repeat(i % 50)}`);
    while (!ring.sendMessage(line)); // the writer is behind: retry until a frame is free
  }
  ring.close();
};
