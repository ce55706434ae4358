/**
 * One side of bench/values.ts: sends `count` small objects Worker → Worker
 * through a ValueChannel or through `postMessage` on a MessagePort, or
 * receives them, checking every `seq`, and reports the seconds from "go" to
 * the last object.
 *
 * @module
 */
import { type RingHandle, ValueChannel } from "../../mod.ts";

/** What the Worker does. */
export interface ValuesJob {
  /** The transport. */
  mode: "ring" | "post";
  /** Sender or receiver. */
  role: "send" | "recv";
  /** Objects to move. */
  count: number;
  /** The ValueChannel's handle (ring). */
  handle?: RingHandle;
  /** Its end of a MessageChannel (post). */
  port?: MessagePort;
}

/** The receiver's report. */
export interface ValuesReport {
  /** Objects received in order. */
  received: number;
  /** Seconds from "go" to the last one. */
  seconds: number;
  /** Whether every object arrived once, in order, with its fields intact. */
  ok: boolean;
}

/** The object sent as number `seq`. */
export function order(seq: number) {
  return { seq, id: `order-${seq}`, qty: seq % 17, price: seq * 0.25, tags: ["new", "eu"] };
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
};

function check(v: ReturnType<typeof order>, seq: number): boolean {
  return v.seq === seq && v.qty === seq % 17 && v.price === seq * 0.25 && v.tags.length === 2;
}

async function send(job: ValuesJob): Promise<void> {
  if (job.mode === "post") {
    for (let i = 0; i < job.count; i++) job.port!.postMessage(order(i));
    return;
  }
  const ch = ValueChannel.fromHandle<ReturnType<typeof order>>(job.handle!);
  for (let i = 0; i < job.count; i++) {
    const v = order(i);
    if (!ch.sendOne(v)) await ch.sendAsync(v);
  }
}

function recv(job: ValuesJob, started: number): Promise<ValuesReport> {
  let seq = 0;
  let ok = true;
  const report = () => ({ received: seq, seconds: (performance.now() - started) / 1000, ok });
  if (job.mode === "post") {
    return new Promise((resolve) => {
      job.port!.onmessage = (e) => {
        ok &&= check(e.data, seq);
        if (++seq === job.count) resolve(report());
      };
    });
  }
  const ch = ValueChannel.fromHandle<ReturnType<typeof order>>(job.handle!);
  return (async () => {
    while (seq < job.count) {
      const v = ch.tryRecv();
      if (v === undefined) {
        await ch.readableAsync();
        continue;
      }
      ok &&= check(v, seq++);
    }
    return report();
  })();
}

scope.onmessage = (e: MessageEvent<ValuesJob>) => {
  const job = e.data;
  scope.onmessage = async () => {
    const started = performance.now();
    if (job.role === "send") {
      await send(job);
      scope.postMessage({ sent: job.count });
    } else scope.postMessage({ report: await recv(job, started) });
  };
  scope.postMessage("ready");
};
