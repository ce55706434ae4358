/**
 * Web Streams over the rings: `toReadableStream` from every consumer side,
 * `toWritableStream` into every producer side, `toByteStream` (BYOB) over a
 * `MessageRing`; one adapter each over the small `StreamSource` and
 * `StreamSink` interfaces.
 *
 * @module
 */

export * from "./source.ts";
export * from "./sink.ts";
export * from "./readable_stream.ts";
export * from "./writable_stream.ts";
export * from "./byte_stream.ts";
