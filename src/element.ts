/**
 * Element descriptors: the runtime stand-in for the seed's comptime `T`.
 *
 * A descriptor says how many bytes one slot takes and how to view a ring's
 * data region. Numeric descriptors (`u8` … `f64`, and `u64`/`i64` through
 * BigInt arrays) view the region as the matching TypedArray, so a
 * reservation writes straight into the ring. {@linkcode record} describes a
 * fixed-size struct of named numeric fields, read and written in place
 * through a {@linkcode RecordArray}.
 *
 * Descriptors are plain data at heart: {@linkcode ElementType.spec} gives a
 * structured-cloneable form and {@linkcode elementFromSpec} rebuilds the
 * descriptor in another Worker.
 *
 * @module
 */

import { checkIndex, checkObject } from "./_validate.ts";

/** Names of the numeric element kinds. */
export type NumericName =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "f32"
  | "f64"
  | "u64"
  | "i64";

/** A schema for {@linkcode record}: field name to numeric kind, in layout order. */
export type RecordSchema = Readonly<Record<string, NumericName>>;

/** The structured-cloneable description of an element type. */
export type ElementSpec = { kind: NumericName } | { kind: "record"; schema: RecordSchema };

/**
 * What a handle says about its element type, for the type checker only: a
 * handle made by `ring.handle()` on a `Ring<number, Uint32Array>` is a
 * `RingHandle<number, Uint32Array>`, so `Ring.fromHandle(handle)` infers both
 * without type arguments. The property never exists at run time (handles are
 * plain structured-cloneable data); the defaults (`any`) keep a handle whose
 * type was lost, such as `MessageEvent.data`, usable with explicit arguments.
 *
 * @typeParam V The value type of one element.
 * @typeParam S The typed-array store of the elements.
 */
// deno-lint-ignore no-explicit-any
export interface TypedHandle<V = any, S extends ElementStore = any> {
  /** Type-only marker (absent at run time); see {@linkcode TypedHandle}. */
  readonly "~element"?: { readonly value: V; readonly store: S };
}

/** Any TypedArray a numeric element can be viewed as. */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

/**
 * The store a ring's data region is viewed through, indexed by slot:
 * a TypedArray for numeric elements, a {@linkcode RecordArray} for records.
 */
export type ElementStore = NumericArray | RecordArray<RecordSchema>;

/**
 * Describes one slot of a ring. `V` is what a slot holds as a value, `S` the
 * store that views a whole data region.
 */
export interface ElementType<V, S extends ElementStore> {
  /** Bytes per slot; a power of two for numeric kinds, the padded struct size for records. */
  readonly bytes: number;
  /** The structured-cloneable description of this element type. */
  readonly spec: ElementSpec;
  /** Views `length` slots of `buffer` starting at `byteOffset`. */
  view(buffer: ArrayBufferLike, byteOffset: number, length: number): S;
  /** Reads slot `i` as a value of its own (records: a fresh object). */
  read(store: S, i: number): V;
  /** Reads slot `i` in place (records: a reused cursor; numbers: the value). Allocation-free. */
  at(store: S, i: number): V;
  /** Writes `value` to slot `i`. */
  write(store: S, i: number, value: V): void;
  /** Copies `n` items from `src[from…]` into slots `at…`. */
  copyIn(store: S, at: number, src: ArrayLike<V>, from: number, n: number): void;
  /** Copies `n` slots from `at…` into `out[to…]`. */
  copyOut(store: S, at: number, out: { [i: number]: V }, to: number, n: number): void;
}

/** Below this many items a plain loop beats making a subarray for `set`. */
const BULK_COPY_MIN = 64;

type NumericCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<NumericName, NumericCtor> = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  i16: Int16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
  u64: BigUint64Array,
  i64: BigInt64Array,
};

/** One class serves every numeric kind, so ring call sites stay monomorphic on it. */
class NumericElement<V extends number | bigint, S extends NumericArray>
  implements ElementType<V, S> {
  readonly bytes: number;
  readonly spec: ElementSpec;
  readonly #ctor: NumericCtor;

  constructor(kind: NumericName) {
    this.#ctor = CTORS[kind];
    this.bytes = this.#ctor.BYTES_PER_ELEMENT;
    this.spec = Object.freeze({ kind });
  }

  view(buffer: ArrayBufferLike, byteOffset: number, length: number): S {
    return new this.#ctor(buffer, byteOffset, length) as S;
  }

  read(store: S, i: number): V {
    return store[i] as V;
  }

  at(store: S, i: number): V {
    return store[i] as V;
  }

  write(store: S, i: number, value: V): void {
    (store as unknown as { [i: number]: V })[i] = value;
  }

  copyIn(store: S, at: number, src: ArrayLike<V>, from: number, n: number): void {
    if (n >= BULK_COPY_MIN && ArrayBuffer.isView(src)) {
      (store as Float64Array).set((src as unknown as Float64Array).subarray(from, from + n), at);
      return;
    }
    const dst = store as unknown as { [i: number]: V };
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
  }

  copyOut(store: S, at: number, out: { [i: number]: V }, to: number, n: number): void {
    if (n >= BULK_COPY_MIN && ArrayBuffer.isView(out)) {
      (out as unknown as Float64Array).set((store as Float64Array).subarray(at, at + n), to);
      return;
    }
    for (let i = 0; i < n; i++) out[to + i] = store[at + i] as V;
  }
}

/** Unsigned 8-bit slots, viewed as `Uint8Array`. */
export const u8: ElementType<number, Uint8Array> = new NumericElement("u8");
/** Signed 8-bit slots, viewed as `Int8Array`. */
export const i8: ElementType<number, Int8Array> = new NumericElement("i8");
/** Unsigned 16-bit slots, viewed as `Uint16Array`. */
export const u16: ElementType<number, Uint16Array> = new NumericElement("u16");
/** Signed 16-bit slots, viewed as `Int16Array`. */
export const i16: ElementType<number, Int16Array> = new NumericElement("i16");
/** Unsigned 32-bit slots, viewed as `Uint32Array`. */
export const u32: ElementType<number, Uint32Array> = new NumericElement("u32");
/** Signed 32-bit slots, viewed as `Int32Array`. */
export const i32: ElementType<number, Int32Array> = new NumericElement("i32");
/** 32-bit float slots, viewed as `Float32Array`. */
export const f32: ElementType<number, Float32Array> = new NumericElement("f32");
/** 64-bit float slots, viewed as `Float64Array`. */
export const f64: ElementType<number, Float64Array> = new NumericElement("f64");
/** Unsigned 64-bit slots, viewed as `BigUint64Array` (values are `bigint`). */
export const u64: ElementType<bigint, BigUint64Array> = new NumericElement("u64");
/** Signed 64-bit slots, viewed as `BigInt64Array` (values are `bigint`). */
export const i64: ElementType<bigint, BigInt64Array> = new NumericElement("i64");

const NUMERIC: Record<
  NumericName,
  ElementType<number, NumericArray> | ElementType<bigint, NumericArray>
> = {
  u8,
  i8,
  u16,
  i16,
  u32,
  i32,
  f32,
  f64,
  u64,
  i64,
};

/** The value type of a record: one number (or bigint for 64-bit integer fields) per field. */
export type RecordValue<Schema extends RecordSchema> = {
  -readonly [K in keyof Schema]: Schema[K] extends "u64" | "i64" ? bigint : number;
};

interface FieldLayout {
  readonly name: string;
  readonly kind: NumericName;
  /** Byte offset of the field inside one record. */
  readonly offset: number;
}

/**
 * A view of consecutive records inside a ring's data region. Fields are read
 * and written in place: `store.at(i).x = 3` writes slot `i`'s field `x`
 * without copying. `at` returns one reused cursor per store, so it allocates
 * nothing; `get` returns a fresh object.
 */
export class RecordArray<Schema extends RecordSchema> {
  /** Number of records in view. */
  readonly length: number;
  readonly #cursor: RecordValue<Schema>;
  /** Moves the cursor to a record. */
  readonly #seek: (i: number) => void;
  readonly #fields: readonly FieldLayout[];
  readonly #stride: number;
  readonly #views: readonly NumericArray[];

  /**
   * Views `length` records of `stride` bytes starting at `byteOffset`.
   *
   * @param buffer The memory holding the records.
   * @param byteOffset Where the first record starts; a multiple of 8.
   * @param length How many records.
   * @param fields The field layout from {@linkcode record}.
   * @param stride Bytes per record.
   */
  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
    fields: readonly FieldLayout[],
    stride: number,
  ) {
    this.length = length;
    this.#fields = fields;
    this.#stride = stride;
    this.#views = fields.map((f) => {
      const ctor = CTORS[f.kind];
      const count = (length * stride - f.offset) / ctor.BYTES_PER_ELEMENT;
      return new ctor(buffer, byteOffset + f.offset, Math.max(0, Math.floor(count)));
    });
    const { cursor, seek } = makeCursor(fields, this.#views, stride);
    this.#cursor = cursor as RecordValue<Schema>;
    this.#seek = seek;
  }

  /**
   * Returns the store's cursor positioned on record `i`; reading or writing its
   * fields touches the ring in place. The same object is returned on every
   * call, so copy what you need before the next `at`.
   *
   * @param i The slot index.
   * @returns The reused cursor.
   * @throws {RangeError} If `i` is not an index of this array.
   */
  at(i: number): RecordValue<Schema> {
    if (!(i >= 0 && i < this.length && (i | 0) === i)) {
      checkIndex("read a record", "i", i, this.length);
    }
    this.#seek(i);
    return this.#cursor;
  }

  /**
   * Copies record `i` into a fresh object. Allocates.
   *
   * @param i The slot index.
   * @returns The record's fields.
   * @throws {RangeError} If `i` is not an index of this array.
   */
  get(i: number): RecordValue<Schema> {
    if (!(i >= 0 && i < this.length && (i | 0) === i)) {
      checkIndex("read a record", "i", i, this.length);
    }
    const out: Record<string, number | bigint> = {};
    for (let f = 0; f < this.#fields.length; f++) {
      const field = this.#fields[f];
      out[field.name] = this.#views[f][(i * this.#stride) / CTORS[field.kind].BYTES_PER_ELEMENT];
    }
    return out as RecordValue<Schema>;
  }

  /**
   * Writes every field of `value` into record `i`.
   *
   * @param i The slot index.
   * @param value The record's fields.
   * @throws {RangeError} If `i` is not an index of this array.
   * @throws {TypeError} If `value` is not an object.
   */
  set(i: number, value: RecordValue<Schema>): void {
    if (!(i >= 0 && i < this.length && (i | 0) === i)) {
      checkIndex("write a record", "i", i, this.length);
    }
    if (typeof value !== "object" || value === null) checkObject("write a record", "value", value);
    const src = value as Record<string, number | bigint>;
    for (let f = 0; f < this.#fields.length; f++) {
      const field = this.#fields[f];
      (this.#views[f] as { [k: number]: number | bigint })[
        (i * this.#stride) / CTORS[field.kind].BYTES_PER_ELEMENT
      ] = src[field.name];
    }
  }
}

/**
 * Builds a cursor whose only own properties are the fields; the record it
 * points at lives in a closure, so any field name (even `index`) is safe.
 */
function makeCursor(
  fields: readonly FieldLayout[],
  views: readonly NumericArray[],
  stride: number,
): { cursor: object; seek: (i: number) => void } {
  let at = 0;
  const cursor = {};
  fields.forEach((field, f) => {
    const view = views[f] as { [k: number]: number | bigint };
    const perSlot = stride / CTORS[field.kind].BYTES_PER_ELEMENT;
    Object.defineProperty(cursor, field.name, {
      enumerable: true,
      get: () => view[at * perSlot],
      set: (v: number | bigint) => {
        view[at * perSlot] = v;
      },
    });
  });
  return { cursor: Object.seal(cursor), seek: (i) => at = i };
}

class RecordElement<Schema extends RecordSchema>
  implements ElementType<RecordValue<Schema>, RecordArray<Schema>> {
  readonly bytes: number;
  readonly spec: ElementSpec;
  readonly #fields: readonly FieldLayout[];

  constructor(schema: Schema) {
    const names = Object.keys(schema);
    if (names.length === 0) {
      throw new TypeError("Cannot describe a record as its schema has no fields: received {}");
    }
    const fields: FieldLayout[] = [];
    let offset = 0;
    let align = 1;
    for (const name of names) {
      const kind = schema[name];
      if (!Object.hasOwn(CTORS, kind)) {
        throw new TypeError(
          `Cannot describe a record as field "${name}" has an unknown kind: received ${
            String(kind)
          }`,
        );
      }
      const size = CTORS[kind].BYTES_PER_ELEMENT;
      offset = Math.ceil(offset / size) * size;
      fields.push({ name, kind, offset });
      offset += size;
      align = Math.max(align, size);
    }
    this.bytes = Math.ceil(offset / align) * align;
    this.#fields = fields;
    this.spec = Object.freeze({ kind: "record", schema: Object.freeze({ ...schema }) });
  }

  view(buffer: ArrayBufferLike, byteOffset: number, length: number): RecordArray<Schema> {
    return new RecordArray(buffer, byteOffset, length, this.#fields, this.bytes);
  }

  read(store: RecordArray<Schema>, i: number): RecordValue<Schema> {
    return store.get(i);
  }

  at(store: RecordArray<Schema>, i: number): RecordValue<Schema> {
    return store.at(i);
  }

  write(store: RecordArray<Schema>, i: number, value: RecordValue<Schema>): void {
    store.set(i, value);
  }

  copyIn(
    store: RecordArray<Schema>,
    at: number,
    src: ArrayLike<RecordValue<Schema>>,
    from: number,
    n: number,
  ): void {
    for (let i = 0; i < n; i++) store.set(at + i, src[from + i]);
  }

  copyOut(
    store: RecordArray<Schema>,
    at: number,
    out: { [i: number]: RecordValue<Schema> },
    to: number,
    n: number,
  ): void {
    for (let i = 0; i < n; i++) out[to + i] = store.get(at + i);
  }
}

/**
 * Describes a fixed-size record of named numeric fields. Fields are laid out
 * in the order given, each aligned to its own size; the record is padded to
 * its largest field.
 *
 * @param schema Field name to numeric kind, in layout order.
 * @returns The element descriptor.
 * @throws {TypeError} If the schema is empty or names an unknown kind.
 *
 * @example A tick record
 * ```ts
 * import assert from "node:assert/strict";
 * import { record } from "@ringmpsc/ringmpsc";
 * const Tick = record({ price: "f64", qty: "u32", side: "u8" });
 * assert.equal(Tick.bytes, 16);
 * ```
 */
export function record<const Schema extends RecordSchema>(
  schema: Schema,
): ElementType<RecordValue<Schema>, RecordArray<Schema>> {
  return new RecordElement(schema);
}

/**
 * Rebuilds an element descriptor from its structured-cloneable spec, as a
 * Worker does when it receives a ring handle.
 *
 * @param spec The spec, from {@linkcode ElementType.spec}.
 * @returns The descriptor.
 * @throws {TypeError} If the spec names no known kind.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementFromSpec, f64 } from "@ringmpsc/ringmpsc";
 * assert.ok(elementFromSpec(f64.spec) === f64);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function elementFromSpec(spec: ElementSpec): ElementType<any, any> {
  if (spec?.kind === "record") return record(spec.schema);
  const numeric = NUMERIC[spec?.kind as NumericName];
  if (numeric === undefined || !Object.hasOwn(NUMERIC, spec.kind)) {
    throw new TypeError(
      `Cannot rebuild element type as its kind is unknown: received ${spec?.kind}`,
    );
  }
  return numeric;
}
