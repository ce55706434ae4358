/**
 * Internal: parsers for the files of a sysfs NUMA node folder
 * (`/sys/devices/system/node/nodeN/{cpulist,meminfo,distance}`). Their
 * input is checked as untrusted text: anything malformed is refused.
 *
 * @module
 */

/** CPUs a cpu list may name: ids 0 to 8191 (the affinity mask's size). */
export const MAX_CPUS = 8192;

const RANGE = /^(\d+)(?:-(\d+))?$/;

/**
 * Parses a kernel cpu list such as `"0-3,8,10-11\n"`.
 *
 * @param text The file's contents.
 * @param what Where the text came from, for the error message.
 * @returns The CPU ids, ascending and without duplicates.
 * @throws {TypeError} When the text is not a cpu list or names a CPU past 8191.
 */
export function parseCpuList(text: string, what: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(",")) {
    const match = RANGE.exec(part);
    const first = match === null ? NaN : Number(match[1]);
    const last = match === null ? NaN : match[2] === undefined ? first : Number(match[2]);
    if (!(first <= last) || last >= MAX_CPUS) {
      throw new TypeError(
        `Cannot parse ${what} as it must be a list of CPU ids or ranges below ${MAX_CPUS}: ` +
          `received ${JSON.stringify(text.slice(0, 80))}`,
      );
    }
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/**
 * Reads `MemTotal` from a node's meminfo (`"Node 0 MemTotal:  16384 kB"`).
 *
 * @param text The file's contents.
 * @returns The total in bytes; 0 when the line is missing.
 */
export function parseMemTotal(text: string): number {
  const match = /^Node\s+\d+\s+MemTotal:\s+(\d+)\s*kB\s*$/m.exec(text);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/**
 * Parses a node's distance row (`"10 21\n"`), one entry per online node.
 *
 * @param text The file's contents.
 * @param count How many nodes there are.
 * @returns The distances, or `undefined` when the row is malformed or does
 * not have `count` entries.
 */
export function parseDistances(text: string, count: number): number[] | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== count) return undefined;
  const distances = parts.map((part) => /^\d{1,3}$/.test(part) ? Number(part) : NaN);
  return distances.every((d) => d >= 0 && d <= 255) ? distances : undefined;
}
