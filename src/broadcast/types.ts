/**
 * The public types of the broadcast ring: options, the consumer handle, the
 * writable run and reservation the producer hands out, and why a consumer was
 * let go.
 *
 * @module
 */

import type { Parker } from "../parker.ts";

/** How a consumer waits for new messages: on the broadcast token, or by polling. */
export type WakeupMode = "push" | "pull";

/** Options for {@linkcode BroadcastProducer.create} and {@linkcode BroadcastProducer.init}. */
export interface BroadcastProducerOptions {
  /** Data bytes, a power of two between 64 and 2^30 (default 1 MiB). */
  readonly capacity?: number;
  /** Consumer slots, between 1 and 1024 (default 16). */
  readonly maxConsumers?: number;
  /**
   * A consumer that is behind and whose tail has not moved for this many
   * milliseconds counts as hung and is evicted when the ring clogs (default 1000).
   */
  readonly stallTimeoutMs?: number;
  /** Failed queries on a clogged ring before a scan for dead and hung consumers (default 64). */
  readonly clogThreshold?: number;
  /** Sleeps and wakes on the broadcast token (default {@linkcode atomicsParker}). */
  readonly parker?: Parker;
  /**
   * Says whether the process of a consumer that joined with a pid is alive;
   * consumers found dead are evicted by the next scan. Without it only hung
   * consumers are evicted.
   */
  readonly isConsumerAlive?: (pid: number, slot: number) => boolean;
  /**
   * Called once a consumer's slot is let go, because it left or was evicted
   * (the native layer closes its socket there).
   */
  readonly onDetach?: (slot: number, reason: DetachReason) => void;
  /** The producer's pid, written to the control region for consumers (default 0). */
  readonly pid?: number;
  /** The first byte position, a multiple of 16 (default 0); for exercising the u32 wrap. */
  readonly initialPosition?: number;
}

/** Options for {@linkcode BroadcastProducer.init}. */
export interface BroadcastInitOptions extends BroadcastProducerOptions {
  /** Where the ring starts in the buffer, a multiple of 8 (default 0). */
  readonly byteOffset?: number;
}

/**
 * Why a consumer's slot was let go: it left by itself, or was evicted because
 * its process died, it hung, or it wrote an impossible tail.
 */
export type DetachReason = "left" | "dead" | "hung" | "corrupt";

/** Options for {@linkcode BroadcastProducer.join}. */
export interface JoinOptions {
  /** `"push"` sleeps on the broadcast token, `"pull"` polls (default `"push"`). */
  readonly mode?: WakeupMode;
  /** The consumer's pid, for liveness checks (default 0: none). */
  readonly pid?: number;
}

/**
 * What a consumer needs to attach: structured-cloneable when `buffer` is a
 * `SharedArrayBuffer`.
 */
export interface BroadcastConsumerHandle {
  /** The shared memory holding the ring. */
  readonly buffer: ArrayBufferLike;
  /** Where the ring starts in `buffer`. */
  readonly byteOffset: number;
  /** The consumer's slot. */
  readonly slot: number;
  /** The slot's epoch at join; a later join of the slot has another. */
  readonly epoch: number;
  /** How the consumer waits. */
  readonly mode: WakeupMode;
}

/**
 * A physically contiguous writable run (zbq's `contiguous_run`); reused by
 * every query.
 */
export interface ContiguousRun {
  /** The whole data region. */
  readonly array: Uint8Array;
  /** Byte index in `array` where the run starts (16-byte aligned). */
  offset: number;
  /** Bytes that may be written from `offset`; 0 when the ring is clogged. */
  maxBytes: number;
  /** The ring position of `offset`. */
  position: number;
}

/** One message reserved by {@linkcode BroadcastProducer.reserve}; reused by every reserve. */
export interface MessageReservation {
  /** The whole data region. */
  readonly array: Uint8Array;
  /** Byte index in `array` of the payload. */
  offset: number;
  /** Payload bytes to write there. */
  length: number;
  /** The message's sequence id (fds sent with it are tagged with this id). */
  seqId: number;
  /** The ring position of the message header. */
  position: number;
}

/** A {@linkcode BroadcastProducer.commit} flag: scan for dead and hung consumers after committing. */
export const COMMIT_FORCE_SCAN = 1;
