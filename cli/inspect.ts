/**
 * `ringmpsc inspect PATH|PID:FD`: reads a live SharedRing's header, read-only,
 * and describes it. PATH is a file under /dev/shm; PID:FD names a memfd held by
 * a running process (read through /proc/PID/fd/FD, which needs the same user).
 * Nothing is mapped writable and no word is changed.
 *
 * @module
 */
import { SHARED_RING_HEADER_SIZE, SHARED_RING_MAGIC } from "../src/native/shared_ring.ts";

/** What `inspect` found, as printed. */
export interface InspectReport {
  /** The file read. */
  source: string;
  /** Field name to value, in header order. */
  fields: [string, string][];
  /** Problems an honest creator would not leave (empty when consistent). */
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
 * Reads and checks a SharedRing header.
 *
 * @param target `PATH` or `PID:FD`.
 * @returns The report.
 */
export async function inspect(target: string): Promise<InspectReport> {
  const source = targetPath(target);
  using file = await Deno.open(source, { read: true });
  const size = (await file.stat()).size;
  const header = new Uint8Array(SHARED_RING_HEADER_SIZE);
  let got = 0;
  while (got < header.length) {
    const n = await file.read(header.subarray(got));
    if (n === null) break;
    got += n;
  }
  const problems: string[] = [];
  if (got < SHARED_RING_HEADER_SIZE) problems.push(`only ${got} bytes: too short for a header`);
  const v = new DataView(header.buffer);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const magic = u64(0);
  if (magic !== SHARED_RING_MAGIC) problems.push(`magic 0x${magic.toString(16)} is not RNGSHRD`);
  const capacity = u64(0x10);
  const tail = u64(0x80);
  const head = u64(0x100);
  const fill = tail - head;
  if (fill < 0n || fill > capacity) problems.push(`tail − head = ${fill} is outside 0…${capacity}`);
  if (capacity !== 1n << BigInt(u32(0x0c))) problems.push("capacity is not 2^ring_bits");
  if (u64(0x28) !== BigInt(size)) problems.push(`total_size ${u64(0x28)} ≠ file size ${size}`);
  const beat = u64(0x90);
  const ageMs = beat === 0n
    ? "never"
    : `${Number(BigInt(Date.now()) * 1_000_000n - beat) / 1e6} ms ago`;
  const fields: [string, string][] = [
    ["magic", `0x${magic.toString(16)}`],
    ["version", `${u32(0x08)}`],
    ["ring_bits", `${u32(0x0c)}`],
    ["capacity", `${capacity}`],
    ["slot_size", `${u32(0x20)} bytes`],
    ["total_size", `${u64(0x28)} bytes (file ${size})`],
    ["creator_pid", `${u32(0x30)}`],
    ["generation", `${u32(0x34)}`],
    ["tail", `${tail}`],
    ["head", `${head}`],
    ["fill", capacity > 0n ? `${fill} (${Number(fill * 1000n / capacity) / 10} %)` : `${fill}`],
    ["heartbeat", ageMs],
    ["consumer_waiters", `${u32(0x180)}`],
    ["producer_waiters", `${u32(0x184)}`],
    ["closed", u32(0x188) ? "yes" : "no"],
  ];
  return { source, fields, problems };
}
