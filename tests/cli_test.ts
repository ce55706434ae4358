/**
 * The `ringmpsc` command line, run as a user runs it: a separate Deno process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BroadcastConsumer, BroadcastProducer, u32 } from "../mod.ts";
import { SharedMemory, SharedRing } from "../native.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

Deno.test("cli demo: the pipeline proves every item arrived", async () => {
  const r = await cli("demo", "--producers", "2", "--consumers", "2", "--items", "20000");
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /OK: 40000 items end to end/);
  assert.doesNotMatch(r.out, /✘/);
});

Deno.test("cli: bad arguments give one line and exit code 2", async () => {
  for (
    const args of [
      [],
      ["frobnicate"],
      ["demo", "--items", "0"],
      ["demo", "--producers", "x"],
      ["demo", "--quick"],
      ["numa", "extra"],
      ["inspect"],
    ]
  ) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    if (args.length > 0) assert.equal(r.err.trim().split("\n").length, 1, r.err);
  }
});

Deno.test("cli --help everywhere", async () => {
  for (const command of ["demo", "bench", "inspect", "numa"]) {
    const r = await cli(command, "--help");
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`Usage: ringmpsc ${command}`));
  }
  assert.match((await cli("--help")).out, /Commands:/);
});

Deno.test("cli inspect: reads a live ring by path and by PID:FD", async () => {
  const path = `/dev/shm/ringmpsc-cli-test-${Deno.pid}`;
  using ring = SharedRing.createPath(u32, path, 6);
  try {
    ring.send([1, 2, 3, 4, 5]);
    const byPath = await cli("inspect", path);
    assert.equal(byPath.code, 0, byPath.out + byPath.err);
    assert.match(byPath.out, /capacity\s+64/);
    assert.match(byPath.out, /fill\s+5 /);
    using memfd = SharedRing.create(u32, 4);
    memfd.send([9]);
    const byFd = await cli("inspect", `${Deno.pid}:${memfd.getFd()}`);
    assert.equal(byFd.code, 0, byFd.out + byFd.err);
    assert.match(byFd.out, /fill\s+1 /);
    const missing = await cli("inspect", "/dev/shm/ringmpsc-no-such-ring");
    assert.equal(missing.code, 1);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("cli inspect: flags a forged header", async () => {
  const path = `/dev/shm/ringmpsc-cli-forged-${Deno.pid}`;
  using forged = SharedMemory.createPath(path, 4096); // (Deno refuses plain writes under /dev)
  new DataView(forged.buffer).setBigUint64(0, 0x1234n, true);
  try {
    const r = await cli("inspect", path);
    assert.equal(r.code, 1);
    assert.match(r.out, /magic is not RNGSHRD/);
    assert.doesNotMatch(r.out, /capacity|tail|head/, "nothing past the bad magic is read");
    new DataView(forged.buffer).setBigUint64(0, 0x0044524853474e52n, true); // RNGSHRD
    new DataView(forged.buffer).setUint32(8, 7, true); // version 7
    const v = await cli("inspect", path);
    assert.equal(v.code, 1);
    assert.match(v.out, /version 7 is not 1/);
    assert.doesNotMatch(v.out, /capacity|tail|head/, "nothing past the bad version is read");
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("cli numa: prints the topology and this thread's CPU", async () => {
  const r = await cli("numa");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /node 0: cpus/);
  assert.match(r.out, /this thread: cpu \d+/);
});

Deno.test("cli inspect: a live broadcast ring shows its consumers and their lag", async () => {
  const path = `/dev/shm/ringmpsc-cli-broadcast-${Deno.pid}`;
  const options = { capacity: 4096, maxConsumers: 2 };
  using memory = SharedMemory.createPath(path, BroadcastProducer.requiredBytes(options));
  try {
    const producer = BroadcastProducer.init(memory.buffer, options);
    const attach = (h: { slot: number; epoch: number }) =>
      BroadcastConsumer.attach(memory.buffer, h.slot, h.epoch);
    const fast = attach(producer.join());
    attach(producer.join({ mode: "pull" }));
    for (let i = 0; i < 5; i++) producer.send(new Uint8Array(32));
    while (fast.recv() !== null);
    const r = await cli("inspect", path);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^broadcast ring at /);
    assert.match(r.out, /consumer 0\s+active, pid 0, push, 0 bytes behind/);
    assert.match(r.out, /consumer 1\s+active, pid 0, pull, 240 bytes behind/);
  } finally {
    Deno.removeSync(path);
  }
});
