/**
 * A broadcast ring in shared memory: one producer, any number of consumers,
 * and every consumer sees every message, in order (zbq's model). Variable-length
 * messages are written in place; dead and hung consumers are evicted when the
 * ring clogs; consumers join and leave at any time and wait by push (the
 * broadcast token) or pull. The native layer adds the cross-process join
 * handshake and fd passing.
 *
 * @example Producer and consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { BroadcastConsumer, BroadcastProducer } from "@ringmpsc/ringmpsc";
 * const producer = BroadcastProducer.create({ capacity: 4096 });
 * const consumer = BroadcastConsumer.fromHandle(producer.join());
 * producer.send(Uint8Array.of(1, 2, 3));
 * assert.deepEqual(consumer.recv(), Uint8Array.of(1, 2, 3));
 * ```
 *
 * @module
 */

export {
  type BroadcastConsumerHandle,
  type BroadcastInitOptions,
  BroadcastProducer,
  type BroadcastProducerOptions,
  COMMIT_FORCE_SCAN,
  type ContiguousRun,
  type DetachReason,
  type JoinOptions,
  type MessageReservation,
  type WakeupMode,
} from "./producer.ts";
export { type BroadcastAttachOptions, BroadcastConsumer, type MessageView } from "./consumer.ts";
export type { Parker, WaitResult } from "../parker.ts";
