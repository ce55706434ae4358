/**
 * Internal: a ring's memory — the handle that carries it to another Worker,
 * the `RingMemory` a ring is built over when it does not own its memory, how
 * many bytes a ring takes, and where a new ring's memory comes from (a
 * `SharedArrayBuffer`, or a shared `WebAssembly.Memory` for Wasm atomics).
 * src/ring.ts re-exports the public names.
 *
 * @module
 */

import { type Config, makeConfig } from "./config.ts";
import { checkIdentity, identityOf } from "./_identity.ts";
import { checkInstance, checkObject, checkOffset, describe } from "./_validate.ts";
import {
  elementFromSpec,
  type ElementSpec,
  type ElementStore,
  type ElementType,
  type TypedHandle,
} from "./element.ts";
import { IDENTITY_OFFSET, RING_LAYOUT, type RingLayout } from "./layout.ts";
import { atomicsParker, type Parker } from "./parker.ts";
import type { WaitSpot } from "./wait_engine.ts";

/**
 * A structured-cloneable description of a ring, for rebuilding it in another
 * Worker; typed with the ring's element type (see {@linkcode TypedHandle}).
 */
// deno-lint-ignore no-explicit-any
export interface RingHandle<V = any, S extends ElementStore = any> extends TypedHandle<V, S> {
  /** The memory holding the ring. */
  readonly buffer: SharedArrayBuffer;
  /** Where the ring starts in `buffer`. */
  readonly byteOffset: number;
  /** The element type's spec. */
  readonly element: ElementSpec;
  /** The ring's config. */
  readonly config: Config;
  /** The shared `WebAssembly.Memory` whose buffer is `buffer` (rings with Wasm atomics, see `Config.wasmAtomics`). */
  readonly wasmMemory?: WebAssembly.Memory;
}

/** Memory for a ring that does not live in its own `SharedArrayBuffer` (e.g. a native region). */
export interface RingMemory {
  /** The memory holding the ring (a `SharedArrayBuffer`, or an `ArrayBuffer` over FFI memory). */
  readonly buffer: ArrayBufferLike;
  /** Where the ring's layout starts in `buffer`; a multiple of 64. */
  readonly byteOffset: number;
  /** Where each shared word lives. */
  readonly layout: RingLayout;
  /** How sleepers meet wakers on this memory. */
  readonly parker: Parker;
  /** Zero the memory's words first (creator) or keep them (attacher). */
  readonly initialize: boolean;
  /**
   * Where consumers sleep, when several rings share one consumer (an MPSC
   * channel's doorbell); default: this ring's own consumer words.
   */
  readonly consumerSpot?: WaitSpot;
  /** Told of every commit right after the tail store, before any wake (SharedRing's heartbeat). */
  readonly heartbeat?: CommitSignal;
  /**
   * A whole commit in one call, used when the tail's low word does not carry:
   * the close gate's P1–P3 with `next` as the new tail (src/close_gate.ts),
   * the heartbeat, then the consumers' waiters load. Returns -1 when the ring
   * is closed (nothing published, `sending` restored to `old`), else a value
   * that is not 0 when consumers sleep (SharedRing's `rmpsc_shared_commit`
   * returns the waiters count, at most 2^31 − 1).
   */
  readonly commit?: (old: number, next: number) => number;
  /**
   * The shared `WebAssembly.Memory` whose buffer is `buffer`: the ring's
   * publish and acquire words then go through WebAssembly atomics.
   */
  readonly wasm?: WebAssembly.Memory;
  /** Longest single sleep in ms (the guard re-check); default `layout.sliceMs`. */
  readonly sliceMs?: number;
  /** Says how the peer process died, or `null` while it lives (asked after each sleep). */
  readonly peer?: () => string | null;
}

/** Something told of every commit (the native layer's `EventNotifier`). */
export interface CommitSignal {
  /** Called after each commit publishes. */
  signal(): void;
}

/** Bytes a ring of `capacity` slots of `bytes` each needs in the default layout. */
function ringBytes(capacity: number, bytes: number): number {
  return RING_LAYOUT.data + capacity * bytes;
}

/** Bytes of a WebAssembly page. */
const WASM_PAGE = 65536;

/** WebAssembly pages that hold `bytes`. */
function wasmPages(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WASM_PAGE));
}

/**
 * The Wasm memory of a ring built over given memory, checked: with
 * `wasmAtomics: true` the memory must be a shared `WebAssembly.Memory` whose
 * buffer is the ring's buffer (as `Ring.handle()` passes it on); with
 * `"auto"` such a memory is used when the caller gives one.
 */
function wasmMemoryOf(memory: RingMemory, config: Config): WebAssembly.Memory | null {
  if (config.wasmAtomics === false) return null;
  const wasm = memory.wasm;
  const usable = wasm instanceof WebAssembly.Memory && wasm.buffer === memory.buffer;
  if (config.wasmAtomics === "auto") return usable ? wasm : null;
  if (!usable) {
    throw new TypeError(
      `Cannot build ring with wasmAtomics as its memory is not the buffer of a shared WebAssembly.Memory: received ${
        describe(wasm)
      }`,
    );
  }
  return wasm;
}

/**
 * Bytes from one ring to the next when channels lay rings out back to back
 * (each 64-byte aligned).
 *
 * @param ringBits The rings' capacity exponent.
 * @param bytes Bytes per slot.
 * @returns The stride.
 */
export function ringStride(ringBits: number, bytes: number): number {
  return Math.ceil(ringBytes(2 ** ringBits, bytes) / 64) * 64;
}

/** Where a ring lives, as its constructor settles it. */
export interface RingPlace {
  /** The memory holding the ring. */
  readonly buffer: ArrayBufferLike;
  /** Where the ring's layout starts in `buffer`. */
  readonly byteOffset: number;
  /** The shared `WebAssembly.Memory` whose buffer is `buffer`, for Wasm atomics; else `null`. */
  readonly wasmMemory: WebAssembly.Memory | null;
}

/**
 * Where a ring of `capacity` slots of `bytes` each lives: without `memory`, a
 * new `SharedArrayBuffer` in the default layout — or a shared
 * `WebAssembly.Memory` when `config.wasmAtomics` is `true`, or `"auto"` and the
 * ring takes at least one page; with `memory`, that memory, checked to hold
 * the ring.
 *
 * @param capacity Slots in the ring.
 * @param bytes Bytes per slot.
 * @param config The ring's config.
 * @param memory Given memory, if any.
 * @returns The ring's place.
 * @throws {RangeError} If the ring would exceed 4 GiB, or does not fit in the given memory, or
 * its `byteOffset` is not a multiple of 64.
 * @throws {TypeError} If `wasmAtomics: true` and the given memory is not a shared
 * `WebAssembly.Memory`'s buffer.
 */
export function ringPlace(
  capacity: number,
  bytes: number,
  config: Config,
  memory?: RingMemory,
): RingPlace {
  if (memory === undefined) {
    const size = ringBytes(capacity, bytes);
    if (size > 2 ** 32) {
      throw new RangeError(
        `Cannot create ring as ${capacity} slots of ${bytes} bytes exceed 4 GiB: received ringBits ${config.ringBits}`,
      );
    }
    const wasm = config.wasmAtomics;
    const wasmMemory = wasm === true || (wasm === "auto" && size >= WASM_PAGE)
      ? new WebAssembly.Memory({
        initial: wasmPages(size),
        maximum: wasmPages(size),
        shared: true,
      })
      : null;
    return { buffer: wasmMemory?.buffer ?? new SharedArrayBuffer(size), byteOffset: 0, wasmMemory };
  }
  const wasmMemory = wasmMemoryOf(memory, config);
  if (memory.byteOffset % 64 !== 0) {
    throw new RangeError(
      `Cannot create ring as byteOffset must be a multiple of 64: received ${memory.byteOffset}`,
    );
  }
  const need = memory.byteOffset + memory.layout.data + capacity * bytes;
  if (need > memory.buffer.byteLength) {
    throw new RangeError(
      `Cannot create ring as it needs ${need} bytes but the memory holds ${memory.buffer.byteLength}`,
    );
  }
  return { buffer: memory.buffer, byteOffset: memory.byteOffset, wasmMemory };
}

/** What a ring is built from: the arguments of `Ring`'s constructor. */
export interface RingArgs<V, S extends ElementStore> {
  /** The element type. */
  readonly element: ElementType<V, S>;
  /** The complete config. */
  readonly config: Config;
  /** The memory to build the ring over. */
  readonly memory: RingMemory;
}

/**
 * What `Ring.fromHandle` builds its ring from: the handle, checked field by
 * field and against the identity record its memory carries (element type and
 * size, ringBits, layout version).
 *
 * @param handle The handle.
 * @returns The constructor's arguments.
 * @throws {TypeError} If the handle is malformed or disagrees with what the memory holds.
 * @throws {RangeError} If its byteOffset or a config value is out of range.
 */
export function ringArgsOf<V, S extends ElementStore>(handle: RingHandle<V, S>): RingArgs<V, S> {
  const action = "rebuild ring";
  checkObject(action, "handle", handle);
  checkInstance(action, "handle.buffer", handle.buffer, SharedArrayBuffer);
  const element = elementFromSpec(handle.element);
  const config = makeConfig(handle.config, action);
  const byteOffset = checkOffset(
    action,
    "handle.byteOffset",
    handle.byteOffset,
    handle.buffer.byteLength - RING_LAYOUT.data,
    64,
  );
  // the memory, not the handle, says what it holds
  checkIdentity(
    action,
    handle.buffer,
    byteOffset + IDENTITY_OFFSET,
    identityOf(undefined, element, config.ringBits),
  );
  return {
    element,
    config,
    memory: {
      // a posted Memory arrives as its own object; its buffer is the ring's memory
      buffer: handle.wasmMemory instanceof WebAssembly.Memory
        ? handle.wasmMemory.buffer
        : handle.buffer,
      byteOffset,
      layout: RING_LAYOUT,
      parker: atomicsParker,
      initialize: false,
      wasm: handle.wasmMemory,
    },
  };
}
