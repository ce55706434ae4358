import assert from "node:assert/strict";
import { SharedBroadcastProducer } from "../src/native/broadcast_producer.ts";
import { SharedBroadcastConsumer } from "../src/native/broadcast_consumer.ts";
import { SharedMemory } from "../src/native/shared_memory.ts";
import { connectUnix, sendFdWith } from "../src/native/fd_passing.ts";
import { closeFd } from "../src/native/close_fd.ts";
import { native } from "../ffi/lib.ts";
import type { DetachReason } from "../src/broadcast/mod.ts";
import { PeerGone, RingCorrupt, TimedOut } from "../src/errors.ts";
import { checkMessage, messageLength, writeMessage } from "./fixtures/broadcast_payload.ts";
import type { ProcessReport } from "./fixtures/broadcast_consumer_process.ts";

const FIXTURE = new URL("./fixtures/broadcast_consumer_process.ts", import.meta.url).pathname;

function socketPath(tag: string): string {
  return `/tmp/ringmpsc-bcast-${tag}-${Deno.pid}.sock`;
}

/** Reads a child's stdout line by line. */
class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #lines: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | null> {
    while (this.#lines.length === 0) {
      const { value, done } = await this.#reader.read();
      if (done) {
        const rest = this.#buffer;
        this.#buffer = "";
        return rest === "" ? null : rest;
      }
      const parts = (this.#buffer + value).split("\n");
      this.#buffer = parts.pop()!;
      this.#lines.push(...parts);
    }
    return this.#lines.shift()!;
  }

  async expect(line: string): Promise<void> {
    assert.equal(await this.next(), line);
  }

  async report(): Promise<ProcessReport> {
    let last: string | null = null;
    for (let line = await this.next(); line !== null; line = await this.next()) last = line;
    assert.notEqual(last, null, "the child printed a report");
    return JSON.parse(last!) as ProcessReport;
  }
}

interface Child {
  process: Deno.ChildProcess;
  lines: Lines;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
}

function spawnConsumer(path: string, mode: string, max: number, stallAfter?: number): Child {
  const args = ["run", "-A", FIXTURE, path, mode, String(max)];
  if (stallAfter !== undefined) args.push(String(stallAfter));
  const process = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { process, lines: new Lines(process.stdout), stdin: process.stdin.getWriter() };
}

/** Joins every child: accept its connection, then wait for its "attached". */
async function joinAll(producer: SharedBroadcastProducer, children: Child[]): Promise<void> {
  await Promise.all(children.map(() => producer.acceptAsync()));
  await Promise.all(children.map((c) => c.lines.expect("attached")));
}

/** The memfd name of attachments. */
const ATTACHMENT = "bcast-attachment";
/** An odd size no other test's memfd has: test modules share this process's fd table. */
const ATTACHMENT_SIZE = 5 * 4096 + 64;

/** Message `n`'s attachments: `fdsOf(n)` sealed memfds holding [n, index]. */
function attachments(n: number, count: number): SharedMemory[] {
  return Array.from({ length: count }, (_, i) => {
    const memory = SharedMemory.create(ATTACHMENT_SIZE, { name: ATTACHMENT });
    new Uint32Array(memory.buffer).set([n, i]);
    return memory;
  });
}

/** Produces `count` numbered messages, some with fds, without starving the event loop. */
async function produce(
  producer: SharedBroadcastProducer,
  count: number,
  max: number,
  fdsOf: (n: number) => number,
  onSent?: (n: number) => void,
): Promise<void> {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let n = 0, misses = 0; n < count;) {
    const fdCount = fdsOf(n);
    const length = messageLength(n, max);
    const r = producer.reserve(length, fdCount);
    if (r !== null) {
      writeMessage(r.array, r.offset, length, n);
      if (fdCount > 0) {
        const files = attachments(n, fdCount);
        producer.broadcastFds(r.seqId, files.map((f) => f.fd));
        for (const f of files) f.close();
      }
      producer.commit();
      n++;
      onSent?.(n);
      if ((n & 63) === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    } else if (++misses % 32 === 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    } else {
      Atomics.wait(nap, 0, 0, 0.05);
    }
  }
}

const everyFiftyNinth = (n: number) => (n % 59 === 7 ? 1 + (n % 3) : 0);

function expectedFds(count: number): number {
  let total = 0;
  for (let n = 0; n < count; n++) total += everyFiftyNinth(n);
  return total;
}

Deno.test("broadcast across processes: every consumer gets every message and every fd, in order", async () => {
  const max = 400;
  const count = 3000;
  const path = socketPath("all");
  using producer = SharedBroadcastProducer.create(path, { capacity: 8192, maxConsumers: 4 });
  const children = [
    spawnConsumer(path, "push", max),
    spawnConsumer(path, "push", max),
    spawnConsumer(path, "pull", max),
  ];
  try {
    await joinAll(producer, children);
    assert.equal(producer.producer.consumerCount, 3);
    await produce(producer, count, max, everyFiftyNinth);
    producer.producer.close();
    const reports = await Promise.all(children.map((c) => c.lines.report()));
    for (const r of reports) {
      assert.deepEqual(r.errors, []);
      assert.equal(r.received, count);
      assert.equal(r.fdsChecked, expectedFds(count));
      assert.equal(r.end, "closed");
    }
    assert.equal(producer.producer.evictions, 0);
  } finally {
    for (const c of children) {
      await c.stdin.close().catch(() => {});
      await c.process.status;
    }
  }
});

Deno.test("broadcast across processes: a kill -9 consumer and a stalled one are evicted, the rest get everything", async () => {
  const max = 200;
  const count = 2000;
  const path = socketPath("evict");
  const detached = new Map<number, DetachReason>();
  using producer = SharedBroadcastProducer.create(path, {
    capacity: 4096,
    maxConsumers: 4,
    stallTimeoutMs: 300,
    clogThreshold: 4,
    onDetach: (slot, reason) => detached.set(slot, reason),
  });
  const good = spawnConsumer(path, "push", max);
  const victim = spawnConsumer(path, "push", max);
  const staller = spawnConsumer(path, "pull", max, 150);
  const children = [good, victim, staller];
  try {
    await joinAll(producer, children);
    await produce(producer, count, max, everyFiftyNinth, (n) => {
      if (n === 300) victim.process.kill("SIGKILL");
    });
    producer.producer.close();
    const r = await good.lines.report();
    assert.deepEqual(r.errors, []);
    assert.equal(r.received, count);
    assert.equal(r.fdsChecked, expectedFds(count));
    assert.equal(r.end, "closed");
    assert.equal((await victim.process.status).signal, "SIGKILL");
    // Release the stalled consumer: it reads on and finds itself evicted.
    await staller.lines.expect("stalled");
    await staller.stdin.write(new TextEncoder().encode("go\n"));
    const s = await staller.lines.report();
    assert.equal(s.end, "evicted");
    assert.equal(s.received, 150);
    assert.deepEqual(s.errors, []);
    assert.equal(detached.get(s.slot), "hung");
    const reasons = [...detached.values()].sort();
    assert.deepEqual(reasons, ["dead", "hung"], "the killed one was seen dead through its pidfd");
    assert.equal(producer.producer.evictions, 2);
  } finally {
    for (const c of children) {
      await c.stdin.close().catch(() => {});
      await c.process.status;
    }
  }
});

/**
 * Attachment memfds this process holds open: sealed memfds of exactly
 * `ATTACHMENT_SIZE` bytes among the first 1024 fds (probed through the native
 * helper, as reading /proc/self/fd would need --allow-all).
 */
function openAttachments(): number {
  const lib = native();
  let open = 0;
  for (let fd = 0; fd < 1024; fd++) {
    if (lib.rmpsc_get_seals(fd) >= 0 && Number(lib.rmpsc_fstat_size(fd)) === ATTACHMENT_SIZE) {
      open++;
    }
  }
  return open;
}

Deno.test("broadcast across processes: fds a consumer does not claim are closed", async () => {
  const path = socketPath("unclaimed");
  using producer = SharedBroadcastProducer.create(path, { capacity: 4096, maxConsumers: 1 });
  const joining = SharedBroadcastConsumer.joinAsync(path);
  await producer.acceptAsync();
  using consumer = await joining;
  for (let n = 1; n <= 20; n++) {
    const files = attachments(n, 3);
    assert.ok(producer.send(Uint8Array.of(n), files.map((f) => f.fd)));
    for (const f of files) f.close();
    if (n % 2 === 0) {
      // Claim some, skip others: the skipped ones must not pile up.
      const m = consumer.peek()!;
      assert.equal(m.fdCount, 3);
      const fds = consumer.recvFds(m.seqId, m.fdCount);
      assert.equal(fds.length, 3);
      for (const fd of fds) closeFd(fd);
      consumer.advance();
      consumer.publish();
    } else {
      assert.equal(consumer.recv()![0], n);
      assert.equal(consumer.discardedFds, 3 * ((n + 1) / 2), "skipping a message closed its fds");
    }
    assert.equal(openAttachments(), 0, "no attachment fd stays open here");
  }
  assert.equal(consumer.recv(), null);
  assert.equal(openAttachments(), 0, "every attachment fd was closed");
});

Deno.test("broadcast across processes: malformed and silent joiners are refused", async () => {
  const path = socketPath("hostile");
  using producer = SharedBroadcastProducer.create(path, {
    capacity: 4096,
    maxConsumers: 2,
    handshakeTimeoutMs: 200,
  });
  // A join request with a forged magic, carrying some fd.
  const accepting = producer.acceptAsync();
  const sock = connectUnix(path);
  using junk = SharedMemory.create(4096);
  sendFdWith(sock, junk.fd, new Uint8Array(16).fill(0xab));
  await assert.rejects(accepting, RingCorrupt);
  closeFd(sock);
  // A client that connects and says nothing.
  const waiting = producer.acceptAsync();
  const silent = connectUnix(path);
  await assert.rejects(waiting, TimedOut);
  closeFd(silent);
  assert.equal(producer.producer.consumerCount, 0);
  // An honest consumer still gets in.
  const joining = SharedBroadcastConsumer.joinAsync(path, { mode: "pull" });
  assert.equal(await producer.acceptAsync(), 0);
  using consumer = await joining;
  assert.ok(producer.send(Uint8Array.of(5)));
  assert.equal(consumer.recv()![0], 5);
  assert.ok(consumer.isProducerAlive());
});

Deno.test("broadcast across processes: a producer killed with kill -9 mid-write leaves whole messages, then PeerGone", async () => {
  const path = socketPath("producer");
  const max = 300;
  const count = 100;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./fixtures/broadcast_producer_process.ts", import.meta.url).pathname,
      path,
      String(count),
      String(max),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new Lines(child.stdout);
  await lines.expect("listening");
  using consumer = await SharedBroadcastConsumer.joinAsync(path);
  await lines.expect("sent");
  assert.ok(consumer.isProducerAlive());
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
  assert.equal(consumer.isProducerAlive(), false);
  let next = 0;
  for (;;) {
    let more: boolean;
    try {
      more = consumer.wait(); // unlimited: only the producer's death can end it
    } catch (error) {
      assert.ok(error instanceof PeerGone, String(error));
      break;
    }
    assert.ok(more, "the wait ends by PeerGone, not by its timeout");
    for (let m = consumer.peek(); m !== null; m = consumer.peek()) {
      assert.equal(checkMessage(m.array, m.offset, m.length, next, max), null);
      consumer.advance();
      next++;
    }
    consumer.publish();
  }
  assert.equal(next, count, "every committed message, and not the uncommitted one");
  // The killed producer could not remove its socket file.
  Deno.removeSync(path);
});
