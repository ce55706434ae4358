/**
 * The NATS bridge of ringmpsc for Deno: for pipelines that span hosts.
 *
 * - {@linkcode NatsForwarder}: drains a ring's consumer side into a subject,
 *   in batches, taking more only once earlier batches are out.
 * - {@linkcode NatsReceiver}: writes a subject's batches into a ring's
 *   producer side; a full ring stops the intake.
 * - Core NATS (at most once) or JetStream (at least once from the server,
 *   sequence de-duplication in the receiver, so the ring sees each item
 *   once); both ride through a server restart on a reconnecting client.
 * - {@linkcode bytesCodec}, {@linkcode jsonCodec}, {@linkcode elementCodec}:
 *   how items become bytes.
 *
 * It uses the NATS JavaScript client from npm (`@nats-io/transport-node`,
 * `@nats-io/jetstream` 3.4.0); connect with it and hand the connection over.
 *
 * @example A ring to NATS and back (needs a nats-server on localhost:4222)
 * ```ts ignore
 * import { connect } from "@nats-io/transport-node";
 * import { MessageRing } from "@ringmpsc/ringmpsc";
 * import { NatsForwarder, NatsReceiver } from "@ringmpsc/ringmpsc/nats";
 * const nc = await connect({ servers: "127.0.0.1:4222", maxReconnectAttempts: -1 });
 * const outbound = new MessageRing({ ringBits: 16 });
 * const inbound = new MessageRing({ ringBits: 16 });
 * const receiver = await NatsReceiver.start(inbound, nc, "pipeline.stage2");
 * const forwarder = NatsForwarder.start(outbound, nc, "pipeline.stage2");
 * outbound.sendMessage(new TextEncoder().encode("hello"));
 * outbound.close();
 * await Promise.all([forwarder.done, receiver.done]);
 * ```
 *
 * @module
 */

export {
  BATCH_HEADER_BYTES,
  BatchCorrupt,
  bytesCodec,
  elementCodec,
  type ItemCodec,
  jsonCodec,
} from "./src/nats/batch.ts";
export { type ForwarderStats, type ForwardOptions, NatsForwarder } from "./src/nats/forwarder.ts";
export { NatsReceiver, type ReceiveOptions, type ReceiverStats } from "./src/nats/receiver.ts";
