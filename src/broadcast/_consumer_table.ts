/**
 * The broadcast producer's table of consumers, internal to `src/broadcast/`:
 * joining a slot, refreshing the write limit from the active tails, scanning
 * for dead and hung consumers, and evicting. Only the producer's thread uses
 * it.
 *
 * Shared words it touches, per consumer page (drawn in `_layout.ts`): the
 * slot word (join and evict by compare-and-swap; a consumer leaves by its own
 * swap), the tail (stored at join, then only loaded: the consumer publishes
 * it) and pid, mode, progress and joinedMs (plain writes at join, published by
 * the slot word's swap).
 *
 * Producer-local state, parallel arrays indexed by slot: `epochs` (the epoch
 * this producer gave the slot: the active slot word is `epoch << 2 | ACTIVE`),
 * `pids` (the pid given at join; the page's pid word is never read back),
 * `seenTail` (the tail as last loaded; a tail never moves back past it nor
 * beyond the cursor), and for hang detection `lastTail`, `behind` and
 * `behindSince`. Active slots are packed in `active[0 … count)`.
 *
 * Nothing a consumer writes is believed: a slot word that is not this
 * producer's active word means the consumer left; a tail that is misaligned,
 * moves back, or lies past the cursor evicts the consumer as `"corrupt"`.
 * Every loop runs over at most `maxConsumers` slots.
 * Spin checks join, refresh and evict with the consumer: `models/broadcast.pml`.
 *
 * @module
 */

import { TooManyConsumers } from "../errors.ts";
import { type WaitSpot, wakeSpot } from "../wait_engine.ts";
import {
  ACTIVE,
  EPOCH_MASK,
  EVICTED,
  P_JOINED,
  P_MODE,
  P_PID,
  P_PROGRESS,
  P_SLOT,
  P_TAIL,
  PAGE_WORDS,
  sinceBaseline,
} from "./_layout.ts";
import type { DetachReason } from "./types.ts";

/** What the table needs from its producer. */
export interface TableSettings {
  pages: Int32Array;
  maxConsumers: number;
  capacity: number;
  stallTimeoutMs: number;
  baselineMs: number;
  token: WaitSpot;
  isAlive: ((pid: number, slot: number) => boolean) | null;
  onDetach: ((slot: number, reason: DetachReason) => void) | null;
}

/** The producer's view of its consumers. */
export class ConsumerTable {
  #s: TableSettings;
  #active: Int32Array;
  #count = 0;
  #evictions = 0;
  #epochs: Int32Array;
  #pids: Int32Array;
  #lastTail: Uint32Array;
  #seenTail: Uint32Array;
  #behind: Uint8Array;
  #behindSince: Float64Array;

  constructor(settings: TableSettings) {
    const n = settings.maxConsumers;
    this.#s = settings;
    this.#active = new Int32Array(n);
    this.#epochs = new Int32Array(n);
    this.#pids = new Int32Array(n);
    this.#lastTail = new Uint32Array(n);
    this.#seenTail = new Uint32Array(n);
    this.#behind = new Uint8Array(n);
    this.#behindSince = new Float64Array(n);
  }

  /** Consumers joined and not evicted, as of the last refresh. */
  get count(): number {
    return this.#count;
  }

  /** Consumers evicted so far. */
  get evictions(): number {
    return this.#evictions;
  }

  /**
   * Claims a free, left or evicted slot for a consumer starting at `head`.
   *
   * @returns The slot and its new epoch.
   * @throws {TooManyConsumers} If every slot is active.
   */
  join(head: number, pid: number, pull: boolean): { slot: number; epoch: number } {
    const pages = this.#s.pages;
    for (let slot = 0; slot < this.#s.maxConsumers; slot++) {
      const p = slot * PAGE_WORDS;
      const word = Atomics.load(pages, p + P_SLOT);
      if ((word & 3) === ACTIVE) continue;
      const epoch = ((word >>> 2) + 1) & EPOCH_MASK;
      const now = sinceBaseline(this.#s.baselineMs);
      // Atomic: a stale occupant may race it with a compare-and-swap (which then fails).
      Atomics.store(pages, p + P_TAIL, head);
      // The rest of the page by plain writes, published by the slot word's swap below.
      pages[p + P_PROGRESS] = now;
      pages[p + P_PID] = pid;
      pages[p + P_MODE] = pull ? 1 : 0;
      pages[p + P_JOINED] = now;
      // Publishes the slot as active under its new epoch (a stale occupant's checks now fail).
      if (Atomics.compareExchange(pages, p + P_SLOT, word, (epoch << 2) | ACTIVE) !== word) {
        continue;
      }
      this.#epochs[slot] = epoch;
      this.#pids[slot] = pid;
      this.#lastTail[slot] = head;
      this.#seenTail[slot] = head;
      this.#behind[slot] = 0;
      this.#behindSince[slot] = Date.now();
      this.#active[this.#count++] = slot;
      return { slot, epoch };
    }
    throw new TooManyConsumers(
      `Cannot join broadcast ring as all ${this.#s.maxConsumers} consumer slots are taken`,
    );
  }

  /**
   * The bytes the slowest active consumer has not released, from `cursor`:
   * forgets consumers that left and evicts those with an impossible tail.
   */
  used(cursor: number): number {
    const pages = this.#s.pages;
    let used = 0;
    for (let i = 0; i < this.#count;) {
      const slot = this.#active[i];
      const word = this.#heldWord(slot);
      if (!this.#holds(i, word)) continue;
      const tail = Atomics.load(pages, slot * PAGE_WORDS + P_TAIL) >>> 0;
      if (!this.#plausible(slot, tail, cursor)) {
        if (this.#evict(i, word, "corrupt")) continue;
        i++;
        continue;
      }
      const u = (cursor - tail) >>> 0;
      if (u > used) used = u;
      i++;
    }
    return used;
  }

  /**
   * Evicts the dead, the hung (behind `head` with a tail that has not moved
   * for `stallTimeoutMs`) and those with an impossible tail.
   *
   * @returns How many were evicted.
   */
  scan(head: number, cursor: number): number {
    const pages = this.#s.pages;
    const isAlive = this.#s.isAlive;
    const now = Date.now();
    let evicted = 0;
    for (let i = 0; i < this.#count;) {
      const slot = this.#active[i];
      const word = this.#heldWord(slot);
      if (!this.#holds(i, word)) continue;
      const pid = this.#pids[slot];
      const tail = Atomics.load(pages, slot * PAGE_WORDS + P_TAIL) >>> 0;
      let reason: DetachReason | null = null;
      if (pid > 0 && isAlive !== null && !isAlive(pid, slot)) {
        reason = "dead";
      } else if (!this.#plausible(slot, tail, cursor)) {
        reason = "corrupt";
      } else if (tail !== this.#lastTail[slot] || tail === head) {
        this.#lastTail[slot] = tail;
        this.#behind[slot] = tail === head ? 0 : 1;
        this.#behindSince[slot] = now;
      } else if (this.#behind[slot] === 0) {
        this.#behind[slot] = 1;
        this.#behindSince[slot] = now;
      } else if (now - this.#behindSince[slot] >= this.#s.stallTimeoutMs) {
        reason = "hung";
      }
      if (reason !== null && this.#evict(i, word, reason)) {
        evicted++;
        continue;
      }
      i++;
    }
    return evicted;
  }

  /** Evicts the consumer in `slot` if it is active; false otherwise. */
  evict(slot: number, reason: DetachReason): boolean {
    for (let i = 0; i < this.#count; i++) {
      if (this.#active[i] === slot) {
        return this.#evict(i, this.#heldWord(slot), reason);
      }
    }
    return false;
  }

  /**
   * Whether `tail` lies between the consumer's last seen tail and the cursor
   * (so within a capacity of the cursor, and never moving back); remembers it
   * if so. Refreshes happen at least once per capacity written, so the
   * wrap-safe differences here stay far below 2^32.
   */
  #plausible(slot: number, tail: number, cursor: number): boolean {
    const seen = this.#seenTail[slot];
    if (
      (tail & 15) !== 0 || ((cursor - tail) >>> 0) > this.#s.capacity ||
      ((tail - seen) >>> 0) > ((cursor - seen) >>> 0)
    ) {
      return false;
    }
    this.#seenTail[slot] = tail;
    return true;
  }

  /** Marks the consumer at `active[i]` evicted; false if it left first. */
  #evict(i: number, word: number, reason: DetachReason): boolean {
    const slot = this.#active[i];
    const p = slot * PAGE_WORDS;
    // Publishes the eviction: the consumer's next check fails, its bytes may be overwritten.
    const seen = Atomics.compareExchange(this.#s.pages, p + P_SLOT, word, (word & ~3) | EVICTED);
    this.#drop(i);
    if (seen !== word) {
      // It left (or was reassigned) first.
      this.#s.onDetach?.(slot, "left");
      return false;
    }
    this.#evictions++;
    wakeSpot(this.#s.token);
    this.#s.onDetach?.(slot, reason);
    return true;
  }

  /** The slot word that says `slot` is held by the occupant we know (its epoch, ACTIVE). */
  #heldWord(slot: number): number {
    return (this.#epochs[slot] << 2) | ACTIVE;
  }

  /** Whether active entry `i` still holds its slot; forgets the entry (it left) when not. */
  #holds(i: number, word: number): boolean {
    if (Atomics.load(this.#s.pages, this.#active[i] * PAGE_WORDS + P_SLOT) === word) return true;
    this.#left(i);
    return false;
  }

  /** Forgets the consumer at `active[i]` that left by itself. */
  #left(i: number): void {
    const slot = this.#active[i];
    this.#drop(i);
    this.#s.onDetach?.(slot, "left");
  }

  #drop(i: number): void {
    this.#active[i] = this.#active[--this.#count];
  }
}
