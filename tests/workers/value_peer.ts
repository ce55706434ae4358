/**
 * One side of tests/value_channel_test.ts: sends `count` objects
 * `{ seq, name, tags }` through a ValueChannel (awaiting room), or receives
 * them with `for await` and checks every `seq` and field.
 *
 * @module
 */
import { type RingHandle, ValueChannel } from "../../mod.ts";

/** What the Worker does. */
export interface ValueJob {
  /** Producer or consumer. */
  role: "send" | "recv";
  /** The channel's handle. */
  handle: RingHandle;
  /** Values to send. */
  count: number;
}

/** The value sent for `seq`: varied lengths and non-ASCII text. */
export function valueFor(seq: number): { seq: number; name: string; tags: string[] } {
  return { seq, name: `item-${seq}-${"ü".repeat(seq % 7)}`, tags: seq % 3 === 0 ? [] : ["𝄞", "x"] };
}

const scope = self as unknown as {
  onmessage: (e: MessageEvent<ValueJob>) => void;
  postMessage(message: { received: number; firstError: string | null }): void;
};

scope.onmessage = async (e) => {
  const { role, handle, count } = e.data;
  const ch = ValueChannel.fromHandle<ReturnType<typeof valueFor>>(handle);
  if (role === "send") {
    for (let i = 0; i < count; i++) await ch.sendAsync(valueFor(i));
    ch.close();
    scope.postMessage({ received: 0, firstError: null });
    return;
  }
  let received = 0;
  let firstError: string | null = null;
  for await (const v of ch) {
    if (firstError === null && JSON.stringify(v) !== JSON.stringify(valueFor(received))) {
      firstError = `at ${received}: ${JSON.stringify(v)}`;
    }
    received++;
  }
  scope.postMessage({ received, firstError });
};
