/**
 * Shared by the channel tests and their Workers: the item encoding, the
 * sequence checkers that fail on a lost, duplicated or reordered item, and
 * the producer and consumer loops both sides run.
 *
 * An item is a u32: the producer's tag in bits 24–31 and its sequence number
 * (0, 1, 2 …, modulo 2^24) in bits 0–23, so a consumer can check each
 * producer's order without knowing which ring an item came from.
 *
 * @module
 */
import {
  Backoff,
  Closed,
  type mpsc,
  recvBlocking,
  RING_LAYOUT,
  sendBlocking,
  TimedOut,
  Timeout,
  WaitStrategy,
  yieldThread,
} from "../../mod.ts";

/** Most producers the encoding tells apart. */
export const MAX_TAGS = 256;
const SEQ_MASK = 0xffffff;

/**
 * Packs a producer tag and a sequence number into one u32 item.
 *
 * @param tag The producer's tag, 0–255.
 * @param seq The sequence number (taken modulo 2^24).
 * @returns The item.
 */
export function encode(tag: number, seq: number): number {
  return ((tag << 24) | (seq & SEQ_MASK)) >>> 0;
}

/**
 * The tag of an item.
 *
 * @param item The item.
 * @returns Its producer tag.
 */
export function tagOf(item: number): number {
  return item >>> 24;
}

/**
 * The sequence number of an item.
 *
 * @param item The item.
 * @returns Its sequence number.
 */
export function seqOf(item: number): number {
  return item & SEQ_MASK;
}

/** What a checker reports: counts, and the first problem it saw. */
export interface CheckSummary {
  /** Items seen. */
  received: number;
  /** Items seen per tag (index = tag). */
  perTag: number[];
  /** Items that broke their producer's order. */
  errors: number;
  /** The first broken item, described. */
  firstError: string | null;
}

/**
 * Checks that each producer's items arrive exactly in order 0, 1, 2 …:
 * any loss, duplicate or reordering shows up as an error. A `Handler`.
 */
export class SeqChecker {
  /** Next expected sequence number per tag. */
  readonly next: Int32Array = new Int32Array(MAX_TAGS);
  /** Items seen per tag. */
  readonly counts: Float64Array = new Float64Array(MAX_TAGS);
  /** Items seen. */
  received = 0;
  /** Items out of order. */
  errors = 0;
  /** The first out-of-order item, described. */
  firstError: string | null = null;

  /**
   * Checks one item.
   *
   * @param item The item.
   */
  process(item: number): void {
    const tag = item >>> 24;
    const seq = item & SEQ_MASK;
    if (seq !== this.next[tag]) this.#fail(tag, seq);
    this.next[tag] = (seq + 1) & SEQ_MASK;
    this.counts[tag]++;
    this.received++;
  }

  /**
   * Checks `n` items of `out`.
   *
   * @param out The items.
   * @param n How many.
   */
  processArray(out: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) this.process(out[i]);
  }

  #fail(tag: number, seq: number): void {
    this.errors++;
    this.firstError ??= `producer ${tag}: expected seq ${this.next[tag]}, received ${seq}`;
  }

  /**
   * The counts and the first error.
   *
   * @returns The summary.
   */
  summary(): CheckSummary {
    return {
      received: this.received,
      perTag: Array.from(this.counts),
      errors: this.errors,
      firstError: this.firstError,
    };
  }
}

/** A record item `{ producer, seq }`, checked like {@linkcode SeqChecker} checks u32 items. */
export class RecordChecker {
  readonly #checker = new SeqChecker();

  /**
   * Checks one record (a cursor valid only during the call).
   *
   * @param item The record.
   */
  process(item: { producer: number; seq: number }): void {
    this.#checker.process(encode(item.producer, item.seq));
  }

  /**
   * The counts and the first error.
   *
   * @returns The summary.
   */
  summary(): CheckSummary {
    return this.#checker.summary();
  }
}

/** Collects items into a growing `Uint32Array` (SPMC and MPMC consumers). */
export class Collector {
  #items = new Uint32Array(1024);
  #length = 0;

  /**
   * Adds one item.
   *
   * @param item The item.
   */
  process(item: number): void {
    if (this.#length === this.#items.length) this.#grow(1);
    this.#items[this.#length++] = item;
  }

  /**
   * Adds `n` items of `out`.
   *
   * @param out The items.
   * @param n How many.
   */
  processArray(out: Uint32Array, n: number): void {
    if (this.#length + n > this.#items.length) this.#grow(n);
    this.#items.set(out.subarray(0, n), this.#length);
    this.#length += n;
  }

  #grow(n: number): void {
    const bigger = new Uint32Array(Math.max(this.#items.length * 2, this.#length + n));
    bigger.set(this.#items.subarray(0, this.#length));
    this.#items = bigger;
  }

  /** Items collected so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Items `from …` collected so far, without copying (valid until the next add).
   *
   * @param from First index.
   * @returns A view of the items.
   */
  since(from: number): Uint32Array {
    return this.#items.subarray(from, this.#length);
  }

  /**
   * The collected items, trimmed.
   *
   * @returns A copy of the items.
   */
  items(): Uint32Array {
    return this.#items.slice(0, this.#length);
  }
}

/** How a producer sends. */
export type ProduceMode =
  | "send"
  | "sendOne"
  | "reserve"
  | "reserveWithBackoff"
  | "extSendOne"
  | "sendBlocking"
  | "blockingSendOne";

/** How an MPSC consumer receives. */
export type ConsumeMethod =
  | "consumeAll"
  | "consumeAllCount"
  | "consumeAllUpTo"
  | "recv"
  | "recvOne"
  | "tryRecv"
  | "drain"
  | "recvBlocking";

type MpscProducer = mpsc.Producer<number, Uint32Array>;
type MpscProducerExt = mpsc.ProducerExt<number, Uint32Array>;
type MpscChannel = mpsc.Channel<number, Uint32Array>;

/**
 * A loop's hang guard: it gives up after `ms` without progress, not after `ms`
 * in all, so a long run on a loaded machine (slow, not stuck) never trips it.
 */
export class HangGuard {
  #deadline: number;

  /**
   * @param what What the loop does, for the error message.
   * @param ms How long the loop may go without progress.
   */
  constructor(readonly what: string, readonly ms = 30_000) {
    this.#deadline = performance.now() + ms;
  }

  /** The loop moved on: the guard starts over. */
  progress(): void {
    this.#deadline = performance.now() + this.ms;
  }

  /** Throws if the loop has gone `ms` without progress. */
  check(): void {
    if (performance.now() > this.#deadline) {
      throw new Error(`Gave up ${this.what}: no progress for ${this.ms} ms (hang guard)`);
    }
  }
}

/**
 * Sends `count` items `encode(tag, 0 …)` through an MPSC producer, retrying
 * while the ring is full; stops early once the producer's ring is closed.
 *
 * @param p The producer (a `ProducerExt` for the ext modes).
 * @param tag The producer's tag.
 * @param count Items to send.
 * @param mode Which API to send with.
 * @param batch Largest batch for the batch modes.
 * @param progress Optional shared counter (index `tag`) of items sent so far.
 * @returns Items sent.
 */
export function produceMpsc(
  p: MpscProducer,
  tag: number,
  count: number,
  mode: ProduceMode,
  batch: number,
  progress?: Int32Array,
): number {
  const buf = new Uint32Array(batch);
  const backoff = new Backoff();
  const guard = new HangGuard(`sending as producer ${tag}`);
  let seq = 0;
  while (seq < count && !p.isClosed()) {
    const want = Math.min(batch, count - seq);
    let n = 0;
    try {
      switch (mode) {
        case "send":
        case "sendBlocking": {
          for (let i = 0; i < want; i++) buf[i] = encode(tag, seq + i);
          n = mode === "send"
            ? p.send(buf.subarray(0, want))
            : (p as MpscProducerExt).sendBlocking(buf.subarray(0, want));
          break;
        }
        case "sendOne":
          n = p.sendOne(encode(tag, seq)) ? 1 : 0;
          break;
        case "extSendOne":
          n = (p as MpscProducerExt).sendOne(encode(tag, seq)) ? 1 : 0;
          break;
        case "blockingSendOne":
          sendBlocking(p, encode(tag, seq), Timeout.unlimited);
          n = 1;
          break;
        case "reserve":
        case "reserveWithBackoff": {
          const r = mode === "reserve" ? p.reserve(want) : p.reserveWithBackoff(want);
          if (r === null) break;
          // a partial commit now and then: publish all but the last reserved slot
          const k = r.length > 2 && (seq & 1) === 0 ? r.length - 1 : r.length;
          for (let i = 0; i < k; i++) r.array[r.offset + i] = encode(tag, seq + i);
          p.commit(k);
          n = k;
          break;
        }
      }
    } catch (err) {
      if (err instanceof Closed) return seq; // closed: every send until now was accepted
      throw err;
    }
    seq += n;
    if (progress !== undefined) Atomics.store(progress, tag, seq);
    if (n > 0) {
      backoff.reset();
      guard.progress();
    } else if (backoff.isCompleted()) {
      guard.check();
      yieldThread();
    } else backoff.snooze();
  }
  return seq;
}

/** What an MPSC consumer loop reports. */
export interface ConsumeReport extends CheckSummary {
  /** Whether the channel said `isFullyDrained()` at the end (until-closed runs). */
  fullyDrained: boolean;
  /** Items the final `drainAll`/`drainAllCount` returned. */
  drained: number;
}

/**
 * Consumes an MPSC channel with one method, checking every item, until
 * `total` items arrived or (without `total`) the channel is closed and drained.
 * Sleeps in `waitReadable` while nothing is readable.
 *
 * @param ch The channel.
 * @param method The receiving API.
 * @param total Stop after this many items; `undefined`: until closed and drained.
 * @param bufferSize Size of the receive buffer (and the `consumeAllUpTo` bound).
 * @param progress Optional shared counter (index 0) of items received so far.
 * @returns The checker's summary.
 */
export function consumeMpsc(
  ch: MpscChannel,
  method: ConsumeMethod,
  total: number | undefined,
  bufferSize = 256,
  progress?: Int32Array,
): ConsumeReport {
  const checker = new SeqChecker();
  const out = new Uint32Array(bufferSize);
  const guard = new HangGuard(`consuming with ${method}`);
  let drained = 0;
  for (;;) {
    let n = 0;
    switch (method) {
      case "consumeAll":
        n = ch.consumeAll(checker);
        break;
      case "consumeAllCount":
        n = ch.consumeAllCount();
        checker.received += n;
        break;
      case "consumeAllUpTo":
        n = ch.consumeAllUpTo(bufferSize, checker);
        break;
      case "recv":
        n = ch.recv(out);
        checker.processArray(out, n);
        break;
      case "drain":
        n = ch.drain(out);
        checker.processArray(out, n);
        break;
      case "recvOne":
      case "tryRecv": {
        const x = method === "recvOne" ? ch.recvOne() : ch.tryRecv();
        if (x !== null) {
          checker.process(x);
          n = 1;
        }
        break;
      }
      case "recvBlocking":
        try {
          checker.process(recvBlocking(ch, Timeout.ms(50)));
          n = 1;
        } catch (err) {
          if (!(err instanceof TimedOut) && !(err instanceof Closed)) throw err;
        }
        break;
    }
    if (progress !== undefined) Atomics.store(progress, 0, checker.received);
    if (total !== undefined && checker.received >= total) break;
    if (n > 0) {
      guard.progress();
      continue;
    }
    if (ch.isClosed()) {
      if (method === "consumeAllCount") {
        drained = ch.drainAllCount();
        checker.received += drained;
      } else drained = ch.drainAll(checker);
      break;
    }
    guard.check();
    try {
      ch.waitReadable(WaitStrategy.timedBlocking(50));
    } catch (err) {
      if (!(err instanceof TimedOut) && !(err instanceof Closed)) throw err;
    }
  }
  if (progress !== undefined) Atomics.store(progress, 0, checker.received);
  return {
    ...checker.summary(),
    fullyDrained: total === undefined ? ch.isFullyDrained() : false,
    drained,
  };
}

/**
 * Byte offset of ring `i` in an MPSC or MPMC channel's memory, from the
 * layouts drawn at the top of `src/mpsc/channel.ts` and `src/mpmc/channel.ts`
 * (a 128-byte header, then rings of `RING_LAYOUT.data + capacity × bytes`
 * rounded up to 64).
 *
 * @param i The ring index.
 * @param ringBits The rings' `ringBits`.
 * @param bytes Bytes per element.
 * @returns The offset.
 */
export function channelRingOffset(i: number, ringBits: number, bytes: number): number {
  return 128 + i * Math.ceil((RING_LAYOUT.data + 2 ** ringBits * bytes) / 64) * 64;
}

/**
 * Sets a ring's tail and head (u64 each) to `position`, as if that many items
 * had passed already: for tests of positions crossing 2^32.
 *
 * @param buffer The memory holding the ring.
 * @param byteOffset Where the ring starts.
 * @param position The new tail and head.
 */
export function setPositions(
  buffer: SharedArrayBuffer,
  byteOffset: number,
  position: bigint,
): void {
  const words = new BigUint64Array(buffer, byteOffset, RING_LAYOUT.data / 8);
  words[RING_LAYOUT.tail / 8] = position;
  words[RING_LAYOUT.head / 8] = position;
}

/**
 * Reads a ring's tail and head as u64.
 *
 * @param buffer The memory holding the ring.
 * @param byteOffset Where the ring starts.
 * @returns `[tail, head]`.
 */
export function positions(buffer: SharedArrayBuffer, byteOffset: number): [bigint, bigint] {
  const words = new BigUint64Array(buffer, byteOffset, RING_LAYOUT.data / 8);
  return [words[RING_LAYOUT.tail / 8], words[RING_LAYOUT.head / 8]];
}
