/**
 * `using` works on every object that owns shared memory, fds or a ring:
 * leaving the scope closes it (rings and channels) or releases it.
 */
import assert from "node:assert/strict";
import { MessageRing, mpmc, mpsc, Ring, spmc, u32 } from "../mod.ts";

Deno.test("rings and channels close when a `using` scope ends", () => {
  const ring = new Ring(u32, { ringBits: 4 });
  const messages = new MessageRing({ ringBits: 10 });
  const single = new spmc.Channel(u32, { ringBits: 4 });
  const multi = new mpmc.MpmcChannel(u32, { ringBits: 4 });
  const fan = new mpsc.Channel(u32, { ringBits: 4 });
  {
    using _ring = Ring.fromHandle(ring.handle());
    using _messages = MessageRing.fromHandle(messages.handle());
    using _single = spmc.Channel.fromHandle(single.handle());
    using _multi = mpmc.MpmcChannel.fromHandle(multi.handle());
    using _fan = mpsc.Channel.fromHandle(fan.handle());
    assert.deepEqual(
      [ring, messages, single, multi, fan].map((x) => x.isClosed()),
      [false, false, false, false, false],
    );
  }
  assert.deepEqual(
    [ring, messages, single, multi, fan].map((x) => x.isClosed()),
    [true, true, true, true, true],
  );
});
