/**
 * One side of tests/web_streams_worker_test.ts: pipes a sequence of u32s
 * into a producer side through `toWritableStream`, or reads a consumer side
 * through `toReadableStream` (a MessageRing through BYOB reads of odd
 * sizes), optionally cancelling after `limit` items.
 *
 * @module
 */
import {
  BroadcastConsumer,
  type BroadcastConsumerHandle,
  MessageRing,
  mpmc,
  mpsc,
  Ring,
  type RingHandle,
  spmc,
  toByteStream,
  toReadableStream,
  toWritableStream,
} from "../../mod.ts";

/** The ring kinds the test pipes through. */
export type StreamKind = "ring" | "message" | "mpsc" | "spmc" | "mpmc" | "broadcast";

/** What the Worker does. */
export type StreamJob =
  | {
    role: "produce";
    kind: StreamKind;
    handle: unknown;
    from: number;
    count: number;
    close: boolean;
  }
  | { role: "consume"; kind: StreamKind; handle: unknown; limit: number | null };

/** What it answers: the items it read, or how many it wrote. */
export interface StreamResult {
  /** Items read, in order. */
  values: number[];
  /** Items written. */
  sent: number;
}

function sequence(from: number, count: number): ReadableStream<number> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i === count) c.close();
      else c.enqueue(from + i++);
    },
  });
}

const asBytes = new TransformStream<number, Uint8Array>({
  transform: (x, c) => c.enqueue(new Uint8Array(new Uint32Array([x]).buffer)),
});

// deno-lint-ignore no-explicit-any
function producerOf(kind: StreamKind, handle: any): WritableStream<any> {
  switch (kind) {
    case "ring":
      return toWritableStream(Ring.fromHandle<number, Uint32Array>(handle));
    case "message":
      return toWritableStream(MessageRing.fromHandle(handle));
    case "mpsc":
      return toWritableStream(mpsc.Channel.fromHandle(handle).register(), { closeTarget: false });
    case "spmc":
      return toWritableStream(spmc.Channel.fromHandle(handle));
    case "mpmc":
      return toWritableStream(mpmc.MpmcChannel.fromHandle(handle).register(), {
        closeTarget: false,
      });
    case "broadcast":
      throw new RangeError("the broadcast producer stays in the test's own thread");
  }
}

// deno-lint-ignore no-explicit-any
function consumerOf(kind: Exclude<StreamKind, "message">, handle: any): ReadableStream<unknown> {
  switch (kind) {
    case "ring":
      return toReadableStream(Ring.fromHandle<number, Uint32Array>(handle as RingHandle));
    case "mpsc":
      return toReadableStream(mpsc.Channel.fromHandle(handle));
    case "spmc":
      return toReadableStream(spmc.Channel.fromHandle(handle).registerConsumer());
    case "mpmc":
      return toReadableStream(mpmc.MpmcChannel.fromHandle(handle).registerConsumer());
    case "broadcast":
      return toReadableStream(BroadcastConsumer.fromHandle(handle as BroadcastConsumerHandle));
  }
}

/** Reads a byte stream in BYOB reads of changing sizes (1 … 97 bytes). */
async function byob(handle: RingHandle, limit: number | null): Promise<number[]> {
  const reader = toByteStream(MessageRing.fromHandle(handle)).getReader({ mode: "byob" });
  const bytes: number[] = [];
  for (let size = 1; limit === null || bytes.length < limit * 4; size = (size * 31 + 7) % 97 + 1) {
    const want = limit === null ? size : Math.min(size, limit * 4 - bytes.length);
    const { value, done } = await reader.read(new Uint8Array(want));
    if (done) break;
    bytes.push(...value!);
  }
  await reader.cancel();
  const values: number[] = [];
  const view = new DataView(new Uint8Array(bytes).buffer);
  for (let i = 0; i + 4 <= bytes.length; i += 4) values.push(view.getUint32(i, true));
  return values;
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<StreamJob>) => void;
  postMessage(message: StreamResult): void;
};

scope.onmessage = async (e) => {
  const job = e.data;
  if (job.role === "produce") {
    let source = sequence(job.from, job.count);
    const sink = producerOf(job.kind, job.handle);
    // deno-lint-ignore no-explicit-any
    if (job.kind === "message") source = source.pipeThrough(asBytes) as any;
    await source.pipeTo(sink, { preventClose: !job.close });
    scope.postMessage({ values: [], sent: job.count } satisfies StreamResult);
    return;
  }
  if (job.kind === "message") {
    scope.postMessage({ values: await byob(job.handle as RingHandle, job.limit), sent: 0 });
    return;
  }
  const reader = consumerOf(job.kind, job.handle).getReader();
  const values: number[] = [];
  while (job.limit === null || values.length < job.limit) {
    const { value, done } = await reader.read();
    if (done) break;
    // broadcast messages are 4 bytes each
    values.push(
      value instanceof Uint8Array ? new DataView(value.buffer).getUint32(0, true) : value as number,
    );
  }
  await reader.cancel();
  scope.postMessage({ values, sent: 0 } satisfies StreamResult);
};
