/**
 * Internal: the consumer conveniences of a `Ring` — `consumeBatch` and
 * friends, `recv`, `tryRecv`, `peek`, `skip`, `drain`, the iterator — written
 * over the ring's consumer side (readable items, the head, publishing it).
 * `Ring`'s methods of the same names call these; src/ring.ts holds the
 * protocol itself.
 *
 * @module
 */

import { checkArrayLike, checkCallable, checkInteger, checkLimit } from "./_validate.ts";
import type { ElementStore, ElementType } from "./element.ts";
import { M_LATENCY_COUNT, M_LATENCY_MAX_NS, M_LATENCY_MIN_NS, M_LATENCY_SUM_NS } from "./layout.ts";
import type { Region } from "./reservation.ts";
import { RingIterator } from "./ring_iterator.ts";

/** What `consumeBatch` and friends call per item. */
export interface Handler<V> {
  /** Processes one item; for records, a cursor valid only during the call. */
  process(item: V): void;
}

/**
 * One `Ring` object's consumer side, as the functions of this file use it:
 * made once by the ring over its private state (not part of the public API;
 * mod.ts does not export it).
 */
export interface RingConsumer<V, S extends ElementStore> {
  /** The ring's element type. */
  readonly element: ElementType<V, S>;
  /** The ring's data store. */
  readonly data: S;
  /** Slots in the ring. */
  readonly capacity: number;
  /** `capacity − 1`. */
  readonly mask: number;
  /** The ring's metric counters, or `null` when it keeps none. */
  readonly counters: Float64Array | null;
  /** The window `peekMany` returns (reused). */
  readonly peekRegion: Region<S>;
  /** Readable items, reloading the tail only when the cached copy says empty. */
  available(): number;
  /** The consumer's head position (its low word). */
  head(): number;
  /** Consumes `n` ≤ `available()` items: publishes the head, wakes producers. */
  publishHead(n: number): void;
}

/** An array-like that receives items. */
type Out<V> = { length: number; [i: number]: V };

/** Adds one batch's processing time to the latency counters. */
function recordLatency(c: Float64Array, startMs: number): void {
  const ns = (performance.now() - startMs) * 1e6;
  c[M_LATENCY_SUM_NS] += ns;
  c[M_LATENCY_MIN_NS] = c[M_LATENCY_COUNT] === 0 ? ns : Math.min(c[M_LATENCY_MIN_NS], ns);
  c[M_LATENCY_COUNT]++;
  if (ns > c[M_LATENCY_MAX_NS]) c[M_LATENCY_MAX_NS] = ns;
}

/** Calls `handler.process` on at most `max` readable items (see `Ring.consumeUpTo`). */
export function consumeUpTo<V, S extends ElementStore>(
  c: RingConsumer<V, S>,
  max: number,
  handler: Handler<V>,
): number {
  checkLimit("consume", "max", max);
  checkCallable("consume", "handler", handler, "process");
  const avail = c.available();
  const n = avail < max ? avail : max;
  if (n <= 0) return 0;
  const start = c.counters === null ? 0 : performance.now();
  const el = c.element;
  const data = c.data;
  const head = c.head();
  const mask = c.mask;
  for (let i = 0; i < n; i++) handler.process(el.at(data, (head + i) & mask));
  if (c.counters !== null) recordLatency(c.counters, start);
  c.publishHead(n);
  return n;
}

/** Calls `callback` on every readable item (see `Ring.consumeBatchFn`). */
export function consumeBatchFn<V, S extends ElementStore>(
  c: RingConsumer<V, S>,
  callback: (item: V) => void,
): number {
  checkCallable("consume", "callback", callback);
  const avail = c.available();
  if (avail === 0) return 0;
  const start = c.counters === null ? 0 : performance.now();
  const el = c.element;
  const data = c.data;
  const head = c.head();
  const mask = c.mask;
  for (let i = 0; i < avail; i++) callback(el.at(data, (head + i) & mask));
  if (c.counters !== null) recordLatency(c.counters, start);
  c.publishHead(avail);
  return avail;
}

/** Consumes every readable item unseen (see `Ring.consumeBatchCount`). */
export function consumeBatchCount<V, S extends ElementStore>(c: RingConsumer<V, S>): number {
  const n = c.available();
  c.publishHead(n);
  return n;
}

/** Copies readable items into `out` from `start` (see `Ring.recv`). */
export function recv<V, S extends ElementStore>(
  c: RingConsumer<V, S>,
  out: Out<V>,
  start: number,
): number {
  const length = checkArrayLike("receive", "out", out);
  checkInteger("receive", "start", start, 0, length);
  const avail = c.available();
  const room = length - start;
  const n = avail < room ? avail : room;
  if (n <= 0) return 0;
  const index = c.head() & c.mask;
  const first = Math.min(n, c.capacity - index);
  c.element.copyOut(c.data, index, out, start, first);
  if (first < n) c.element.copyOut(c.data, 0, out, start + first, n - first);
  c.publishHead(n);
  return n;
}

/** Receives one item, or `null` (see `Ring.tryRecv`). */
export function tryRecv<V, S extends ElementStore>(c: RingConsumer<V, S>): V | null {
  if (c.available() === 0) return null;
  const item = c.element.read(c.data, c.head() & c.mask);
  c.publishHead(1);
  return item;
}

/** The next item, unconsumed, or `null` (see `Ring.peek`). */
export function peek<V, S extends ElementStore>(c: RingConsumer<V, S>): V | null {
  if (c.available() === 0) return null;
  return c.element.at(c.data, c.head() & c.mask);
}

/** Up to `n` readable items as a contiguous window, unconsumed (see `Ring.peekMany`). */
export function peekMany<V, S extends ElementStore>(
  c: RingConsumer<V, S>,
  n: number,
): Region<S> | null {
  checkLimit("peek", "n", n);
  const avail = c.available();
  if (avail === 0 || n === 0) return null;
  const index = c.head() & c.mask;
  const region = c.peekRegion;
  region.offset = index;
  region.length = Math.min(n, avail, c.capacity - index);
  return region;
}

/** Receives into `out` with `ring.recv` until it is full or the ring is empty (see `Ring.drain`). */
export function drain<V>(
  ring: { recv(out: Out<V>, start?: number): number },
  out: Out<V>,
): number {
  checkArrayLike("drain", "out", out);
  let total = 0;
  for (let n = ring.recv(out); n > 0; n = ring.recv(out, total)) total += n;
  return total;
}

/** Discards up to `n` readable items (see `Ring.skip`). */
export function skip<V, S extends ElementStore>(c: RingConsumer<V, S>, n: number): number {
  checkLimit("skip", "n", n);
  const avail = c.available();
  const k = n < avail ? n : avail;
  c.publishHead(k);
  return k;
}

/** An iterator over the readable items, consuming on `finish()` (see `Ring.iterator`). */
export function iterator<V, S extends ElementStore>(c: RingConsumer<V, S>): RingIterator<V> {
  return new RingIterator(
    c.available(),
    (i) => c.element.read(c.data, (c.head() + i) & c.mask),
    (n) => c.publishHead(n),
  );
}
