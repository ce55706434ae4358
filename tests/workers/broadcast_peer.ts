/**
 * Worker side of the broadcast tests (tests/broadcast_test.ts): a consumer
 * that attaches (posting "attached"), checks every message's number and
 * bytes, optionally stalls after a number of messages until the test
 * releases it, and posts a report.
 *
 * @module
 */

import { BroadcastConsumer } from "../../src/broadcast/consumer.ts";
import type { BroadcastConsumerHandle } from "../../src/broadcast/producer.ts";
import { Closed, Evicted } from "../../src/errors.ts";
import { checkMessage } from "../fixtures/broadcast_payload.ts";

/** What the test posts. */
export interface ConsumerJob {
  handle: BroadcastConsumerHandle;
  /** The longest payload the producer sends. */
  max: number;
  /** Stop reading after this many messages (default: never). */
  stallAfter?: number;
  /** Post "crashed" and end the worker, leaving the slot joined, after this many messages. */
  crashAfter?: number;
  /** Word the test sets to 1 to release a stalled consumer; word 1 is set when it stalls. */
  control?: SharedArrayBuffer;
}

/** What the consumer reports. */
export interface ConsumerReport {
  slot: number;
  received: number;
  errors: string[];
  /** How the stream ended for this consumer. */
  end: "closed" | "evicted" | "timeout";
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<ConsumerJob>) => void;
  postMessage(message: ConsumerReport | "attached" | "crashed"): void;
  close(): void;
};

/** Ends the worker on the spot without leaving the ring, the way a crash would. */
class WorkerCrash extends Error {}

scope.onmessage = (e) => {
  const { handle, max, stallAfter, crashAfter, control } = e.data;
  const consumer = BroadcastConsumer.fromHandle(handle);
  scope.postMessage("attached");
  const words = control ? new Int32Array(control) : null;
  const errors: string[] = [];
  // Messages count (and their problems) only once the publish after them succeeds:
  // an evicted consumer may have read bytes the producer was already overwriting.
  let pending: string[] = [];
  let received = 0;
  let read = 0;
  let end: ConsumerReport["end"] = "timeout";
  const confirm = () => {
    consumer.publish();
    received = read;
    errors.push(...pending.slice(0, 5 - errors.length));
    pending = [];
  };
  try {
    for (;;) {
      if (!consumer.wait(20_000)) break;
      for (let m = consumer.peek(); m !== null; m = consumer.peek()) {
        const problem = checkMessage(m.array, m.offset, m.length, read, max);
        if (problem !== null) pending.push(problem);
        consumer.advance();
        read++;
        if (read === crashAfter) throw new WorkerCrash();
        if (read === stallAfter && words !== null) {
          confirm();
          Atomics.store(words, 1, 1);
          Atomics.notify(words, 1);
          Atomics.wait(words, 0, 0, 20_000);
        }
      }
      confirm();
    }
  } catch (err) {
    if (err instanceof WorkerCrash) {
      scope.postMessage("crashed");
      scope.close();
      return;
    }
    if (err instanceof Closed) end = "closed";
    else if (err instanceof Evicted) end = "evicted";
    else errors.push(String(err));
  }
  consumer.close();
  scope.postMessage({ slot: handle.slot, received, errors, end });
};
