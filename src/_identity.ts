/**
 * Internal: what a ring or channel in a `SharedArrayBuffer` holds, recorded
 * in its own memory by its creator, so that a handle — a structured clone
 * anyone can forge or mix up — cannot make a Worker read the memory as
 * something else. `fromHandle` checks the handle against this record before
 * it builds anything; a handle that disagrees is a `TypeError`.
 *
 * Layout (u32 words, little-endian, from the structure's identity offset,
 * `IDENTITY_OFFSET` in src/layout.ts; written once by the creator before the
 * handle exists, read-only afterwards):
 *
 * ```text
 * +0  magic       0x44494D52 ("RMID")
 * +4  version     layout version of the structure, 1
 * +8  kind        1 Ring, 2 MessageRing, 3 spmc, 4 mpsc, 5 mpmc (written over 1 by the
 *                 MessageRing and spmc constructors, which build on a Ring)
 * +12 ringBits    of every ring in the structure
 * +16 elementBytes
 * +20 elementCode FNV-1a of the element spec (kind, record fields and order)
 * +24 limitA      spmc: maxConsumers; mpmc: maxProducers; else 0
 * +28 limitB      mpmc: maxConsumers; else 0
 * ```
 *
 * @module
 */

import type { ElementSpec } from "./element.ts";

const MAGIC = 0x44494d52;
/** The structures' layout version this library writes and reads. */
export const LAYOUT_VERSION = 1;
/** Bytes the record takes. */
export const IDENTITY_BYTES = 32;

/** Which structure the memory holds. */
export const Kind = { ring: 1, messageRing: 2, spmc: 3, mpsc: 4, mpmc: 5 } as const;

const KIND_NAMES = ["none", "Ring", "MessageRing", "spmc channel", "mpsc channel", "mpmc channel"];

/** The structures that are one ring in RING_LAYOUT, which `Ring.fromHandle` may view raw. */
const SINGLE_RINGS: readonly number[] = [Kind.ring, Kind.messageRing, Kind.spmc];

/** The config fields limitA and limitB hold, by kind. */
const LIMIT_NAMES: Record<number, [string, string]> = {
  [Kind.spmc]: ["maxConsumers", "limitB"],
  [Kind.mpmc]: ["maxProducers", "maxConsumers"],
};

/** The facts a handle states about the memory it points at. */
export interface Identity {
  /** The structure, from {@linkcode Kind}; `undefined` when checking accepts any single ring. */
  readonly kind: number | undefined;
  /** `ringBits` of its rings. */
  readonly ringBits: number;
  /** Its element type's spec. */
  readonly element: ElementSpec;
  /** Its element size in bytes. */
  readonly elementBytes: number;
  /** spmc: maxConsumers; mpmc: maxProducers; else 0. */
  readonly limitA?: number;
  /** mpmc: maxConsumers; else 0. */
  readonly limitB?: number;
}

/**
 * The identity of a structure of `kind` whose rings hold `element` with
 * `ringBits`.
 *
 * @param kind From {@linkcode Kind}; `undefined` to accept any single ring (and its limits) when checking.
 * @param element The element type.
 * @param ringBits The rings' size in bits.
 * @param limitA spmc: maxConsumers; mpmc: maxProducers.
 * @param limitB mpmc: maxConsumers.
 * @returns The record's fields.
 */
export function identityOf(
  kind: number | undefined,
  element: { readonly spec: ElementSpec; readonly bytes: number },
  ringBits: number,
  limitA = 0,
  limitB = 0,
): Identity {
  return { kind, ringBits, element: element.spec, elementBytes: element.bytes, limitA, limitB };
}

/** FNV-1a (32-bit) of the spec's JSON: equal specs, equal codes. */
function elementCode(spec: ElementSpec): number {
  const text = JSON.stringify(spec);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function words(identity: Identity): number[] {
  return [
    MAGIC,
    LAYOUT_VERSION,
    identity.kind ?? 0,
    identity.ringBits,
    identity.elementBytes,
    elementCode(identity.element),
    identity.limitA ?? 0,
    identity.limitB ?? 0,
  ];
}

/**
 * Records `identity` at `byteOffset` of `buffer`; the creator calls it before
 * any handle exists.
 *
 * @param buffer The structure's memory.
 * @param byteOffset Where its record goes (a multiple of 4).
 * @param identity What it holds.
 */
export function writeIdentity(
  buffer: ArrayBufferLike,
  byteOffset: number,
  identity: Identity,
): void {
  new Uint32Array(buffer, byteOffset, IDENTITY_BYTES / 4).set(words(identity));
}

/**
 * Checks that the memory holds what a handle says, field by field.
 *
 * @param action What the caller tried, e.g. "rebuild ring".
 * @param buffer The handle's memory (already known to be a SharedArrayBuffer).
 * @param byteOffset Where the record is (already checked to fit).
 * @param identity What the handle says.
 * @throws {TypeError} Naming the first field that differs, with both values.
 */
export function checkIdentity(
  action: string,
  buffer: ArrayBufferLike,
  byteOffset: number,
  identity: Identity,
): void {
  const held = new Uint32Array(buffer, byteOffset, IDENTITY_BYTES / 4);
  const want = words(identity);
  if (held[0] !== MAGIC) {
    throw new TypeError(
      `Cannot ${action} as the handle's memory holds no ringmpsc structure at byte ${byteOffset}: ` +
        `received magic 0x${held[0].toString(16)}`,
    );
  }
  const [a, b] = LIMIT_NAMES[identity.kind ?? 0] ?? ["limitA", "limitB"];
  const fields = ["magic", "layout version", "kind", "ringBits", "element size", "", a, b];
  for (let i = 1; i < want.length; i++) {
    if (held[i] === want[i]) continue;
    // a raw view (kind undefined) accepts any single ring, whatever its limits
    if (identity.kind === undefined && (i === 2 ? SINGLE_RINGS.includes(held[i]) : i >= 6)) {
      continue;
    }
    if (i === 5) {
      throw new TypeError(
        `Cannot ${action} as the handle's element type must be the memory's: received ${
          JSON.stringify(identity.element)
        }, and the memory holds another type of the same size`,
      );
    }
    const shown = (v: number) => i === 2 ? KIND_NAMES[v] ?? String(v) : String(v);
    throw new TypeError(
      `Cannot ${action} as the handle's ${fields[i]} must match the memory's (${
        shown(held[i])
      }): received ${shown(want[i])}`,
    );
  }
}
