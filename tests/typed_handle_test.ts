/**
 * Handles carry their element type (src/element.ts `TypedHandle`), so
 * `fromHandle` infers it without type arguments. The checks are at the type
 * level: `deno check` (which `deno test` runs first) fails if inference is lost.
 */
import assert from "node:assert/strict";
import { mpmc, mpsc, record, Ring, type RingHandle, spmc, u32, u64 } from "../mod.ts";

/** `true` only when A and B are the same type (`any` is not `number`). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

Deno.test("fromHandle infers the element type from a typed handle", () => {
  const ring = new Ring(u64, { ringBits: 4 });
  const other = Ring.fromHandle(ring.handle());
  const sameRing: Equal<typeof other, Ring<bigint, BigUint64Array>> = true;
  other.send([7n]);
  assert.equal(ring.tryRecv(), 7n);

  const Tick = record({ price: "f64", qty: "u32" });
  const ticks = Ring.fromHandle(new Ring(Tick, { ringBits: 4 }).handle());
  const sameValue: Equal<ReturnType<typeof ticks.tryRecv>, { price: number; qty: number } | null> =
    true;

  const ch = mpsc.Channel.fromHandle(new mpsc.Channel(u32, { ringBits: 4 }).handle());
  const sameMpsc: Equal<typeof ch, mpsc.Channel<number, Uint32Array>> = true;
  const sp = spmc.Channel.fromHandle(new spmc.Channel(u32, { ringBits: 4 }).handle());
  const sameSpmc: Equal<typeof sp, spmc.Channel<number, Uint32Array>> = true;
  const mp = mpmc.MpmcChannel.fromHandle(new mpmc.MpmcChannel(u32, { ringBits: 4 }).handle());
  const sameMpmc: Equal<typeof mp, mpmc.MpmcChannel<number, Uint32Array>> = true;
  assert.deepEqual([sameRing, sameValue, sameMpsc, sameSpmc, sameMpmc], [
    true,
    true,
    true,
    true,
    true,
  ]);
});

Deno.test("a handle whose type was lost still takes explicit type arguments", () => {
  const posted: RingHandle = structuredClone(new Ring(u32, { ringBits: 4 }).handle());
  const ring = Ring.fromHandle<number, Uint32Array>(posted);
  const same: Equal<typeof ring, Ring<number, Uint32Array>> = true;
  assert.ok(same);
  assert.equal(ring.send([1, 2]), 2);
  assert.equal("~element" in posted, false, "the marker is type-only");
});
