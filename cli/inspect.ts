/**
 * `ringmpsc inspect PATH|PID:FD`: reads a live SharedRing's or broadcast
 * ring's header, read-only, and describes it. PATH is a file under /dev/shm;
 * PID:FD names a memfd held by a running process (read through
 * /proc/PID/fd/FD, which needs the same user). The file is only read: nothing
 * is mapped and no word is changed.
 *
 * @module
 */
import * as bc from "../src/broadcast/_layout.ts";
import { SHARED_RING_MAGIC, SHARED_RING_VERSION } from "../src/native/shared_ring.ts";
import {
  SHARED_RING_HEADER as H,
  SHARED_RING_HEADER_SIZE,
  SHARED_RING_LAYOUT as L,
} from "../src/layout.ts";

/** What `inspect` found, as printed. */
export interface InspectReport {
  /** "SharedRing" or "broadcast ring". */
  kind: string;
  /** The file read. */
  source: string;
  /** Field name to value, in header order. */
  fields: [string, string][];
  /**
   * Problems an honest creator would not leave (empty when consistent). When
   * an identification field (length, magic, version) is wrong, the report
   * stops there: `fields` holds what was read up to it, and nothing after it
   * is interpreted.
   */
  problems: string[];
}

/**
 * Turns `PATH` or `PID:FD` into the file to read.
 *
 * @param target The command-line argument.
 * @returns The path.
 * @throws {TypeError} If the argument is empty.
 */
export function targetPath(target: string): string {
  if (target === "") throw new TypeError("Cannot inspect as no PATH or PID:FD was given");
  const m = /^(\d+):(\d+)$/.exec(target);
  return m ? `/proc/${m[1]}/fd/${m[2]}` : target;
}

/**
 * Reads and checks a SharedRing or broadcast ring header.
 *
 * @param target `PATH` or `PID:FD`.
 * @returns The report.
 */
export async function inspect(target: string): Promise<InspectReport> {
  const source = targetPath(target);
  using file = await Deno.open(source, { read: true });
  const size = (await file.stat()).size;
  const first = await readStart(file, SHARED_RING_HEADER_SIZE);
  if (first.length >= 4 && new DataView(first.buffer).getUint32(0, true) === bc.MAGIC) {
    const maxConsumers = Math.min(
      new DataView(first.buffer).getUint32(bc.C_MAX_CONSUMERS * 4, true),
      bc.MAX_CONSUMERS,
    );
    const control = await readStart(file, bc.CONTROL_BYTES + maxConsumers * bc.PAGE_BYTES);
    return describeBroadcast(source, size, control);
  }
  return describeSharedRing(source, size, first);
}

/** Reads up to `n` bytes from the start of `file`. */
async function readStart(file: Deno.FsFile, n: number): Promise<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  const bytes = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await file.read(bytes.subarray(got));
    if (k === null) break;
    got += k;
  }
  return bytes.subarray(0, got);
}

function describeSharedRing(source: string, size: number, bytes: Uint8Array): InspectReport {
  const kind = "SharedRing";
  const got = bytes.length;
  if (got < SHARED_RING_HEADER_SIZE) {
    return { kind, source, fields: [], problems: [`only ${got} bytes: too short for a header`] };
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, got);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const magic = u64(H.magic);
  const identity: [string, string][] = [["magic", `0x${magic.toString(16)}`]];
  if (magic !== SHARED_RING_MAGIC) {
    return { kind, source, fields: identity, problems: [`magic is not RNGSHRD: not a SharedRing`] };
  }
  identity.push(["version", `${u32(H.version)}`]);
  if (u32(H.version) !== SHARED_RING_VERSION) {
    const problem = `version ${
      u32(H.version)
    } is not ${SHARED_RING_VERSION}: a layout this tool cannot read`;
    return { kind, source, fields: identity, problems: [problem] };
  }
  const problems: string[] = [];
  const capacity = u64(H.capacity);
  const tail = u64(L.tail);
  const head = u64(L.head);
  const fill = tail - head;
  if (fill < 0n || fill > capacity) problems.push(`tail − head = ${fill} is outside 0…${capacity}`);
  if (capacity !== 1n << BigInt(u32(H.ringBits))) problems.push("capacity is not 2^ring_bits");
  if (u64(H.totalSize) !== BigInt(size)) {
    problems.push(`total_size ${u64(H.totalSize)} ≠ file size ${size}`);
  }
  const beat = u64(H.heartbeat);
  const ageMs = beat === 0n
    ? "never"
    : `${Number(BigInt(Date.now()) * 1_000_000n - beat) / 1e6} ms ago`;
  const fields: [string, string][] = [
    ...identity,
    ["ring_bits", `${u32(H.ringBits)}`],
    ["capacity", `${capacity}`],
    ["slot_size", `${u32(H.slotSize)} bytes`],
    ["total_size", `${u64(H.totalSize)} bytes (file ${size})`],
    ["creator_pid", `${u32(H.creatorPid)}`],
    ["generation", `${u32(H.generation)}`],
    ["tail", `${tail}`],
    ["head", `${head}`],
    ["fill", capacity > 0n ? `${fill} (${Number(fill * 1000n / capacity) / 10} %)` : `${fill}`],
    ["heartbeat", ageMs],
    ["consumer_waiters", `${u32(L.consumerWaiters)}`],
    ["producer_waiters", `${u32(L.producerWaiters)}`],
    ["closed", u32(L.closed) ? "yes" : "no"],
  ];
  return { kind, source, fields, problems };
}

const STATES = ["free", "active", "left", "evicted"];

function describeBroadcast(source: string, size: number, bytes: Uint8Array): InspectReport {
  const kind = "broadcast ring";
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const word = (o: number) => (o + 4 <= bytes.length ? v.getUint32(o, true) : 0);
  const identity: [string, string][] = [
    ["magic", `0x${word(0).toString(16)} (BCST)`],
    ["version", `${word(bc.C_VERSION * 4)}`],
  ];
  if (bytes.length < bc.CONTROL_BYTES) {
    const problem = `only ${bytes.length} bytes: too short for a control region`;
    return { kind, source, fields: identity.slice(0, 1), problems: [problem] };
  }
  if (word(bc.C_VERSION * 4) !== bc.VERSION) {
    const problem = `version ${
      word(bc.C_VERSION * 4)
    } is not ${bc.VERSION}: a layout this tool cannot read`;
    return { kind, source, fields: identity, problems: [problem] };
  }
  const problems: string[] = [];
  const capacity = word(bc.C_CAPACITY * 4);
  const maxConsumers = word(bc.C_MAX_CONSUMERS * 4);
  const head = word(bc.C_HEAD * 4);
  const baseline = word(bc.C_BASE_LO * 4) + word(bc.C_BASE_HI * 4) * 2 ** 32;
  const nowMs = (Date.now() - baseline) >>> 0;
  if (bytes.length < bc.CONTROL_BYTES + maxConsumers * bc.PAGE_BYTES) {
    problems.push(`only ${bytes.length} bytes: too short for ${maxConsumers} consumer pages`);
  }
  if (bc.totalBytes(capacity, maxConsumers) > size) {
    problems.push(
      `the layout needs ${bc.totalBytes(capacity, maxConsumers)} bytes, file has ${size}`,
    );
  }
  const fields: [string, string][] = [
    ...identity,
    ["capacity", `${capacity} bytes`],
    ["max consumers", `${maxConsumers}`],
    ["stall timeout", `${word(bc.C_STALL_MS * 4)} ms`],
    ["producer pid", `${v.getInt32(bc.C_PID * 4, true)}`],
    ["head", `${head}`],
    ["waiters", `${v.getInt32(bc.C_WAITERS * 4, true)}`],
    ["closed", word(bc.C_CLOSED * 4) ? "yes" : "no"],
  ];
  for (let i = 0; i < maxConsumers; i++) {
    const page = bc.CONTROL_BYTES + i * bc.PAGE_BYTES;
    if (page + bc.PAGE_BYTES > bytes.length) break;
    const slot = word(page + bc.P_SLOT * 4);
    if ((slot & 3) === bc.FREE) continue;
    const lag = (head - word(page)) >>> 0;
    if ((slot & 3) === bc.ACTIVE && lag > capacity) {
      problems.push(`consumer ${i} is ${lag} bytes behind`);
    }
    fields.push([
      `consumer ${i}`,
      `${STATES[slot & 3]}, pid ${v.getInt32(page + bc.P_PID * 4, true)}, ${
        word(page + bc.P_MODE * 4) ? "pull" : "push"
      }, ${lag} bytes behind, last progress ${((nowMs - word(page + bc.P_PROGRESS * 4)) >>>
        0)} ms ago`,
    ]);
  }
  return { kind, source, fields, problems };
}
