/**
 * SharedRing v1 interop: a native C process (tests/fixtures/shared_ring_peer.c,
 * built with the project's Zig) that behaves on the ring exactly as ringmpsc
 * 2.3.0 does (memfd without sealing, no waits, FUTEX_WAKE on the waiters
 * words, its own cached_head/cached_tail) and this Deno process share one
 * ring, through a file under /dev/shm or a memfd passed over a Unix socket, in
 * both directions and with either side as the creator. The C peer checks
 * headers the way DESIGN.md §5 says and checks that position i holds the
 * value i; this side checks the same, so nothing may be lost, duplicated or
 * reordered.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  closeFd,
  FdServer,
  InvalidSharedMemory,
  recvFdAsync,
  SharedMemory,
  SharedRing,
} from "../native.ts";
import { Closed, RingCorrupt, SlotSizeMismatch, u32, u64, WaitStrategy } from "../mod.ts";
import { hasPython } from "./_toolchain.ts";
import {
  attachWhenReady,
  buildPeer,
  type Peer,
  removeFile,
  shmFile,
  spawnPeer,
} from "./_c_peer.ts";

const ITEMS = 200_000;
/** The peers pause 5 ms after every this many items, so the other side must sleep. */
const PAUSE_EVERY = 20_000;
/** A wait longer than this means the peer is gone: fail instead of hanging. */
const HANG_GUARD = WaitStrategy.timedBlocking(15_000);

/**
 * Consumes `count` items, blocking on the futex while empty, checking that
 * the k-th item received is `first + k`. Returns how many times it waited.
 */
function consumeAll(ring: SharedRing<bigint, BigUint64Array>, count: number): number {
  let seen = 0;
  let waits = 0;
  while (seen < count) {
    const region = ring.readable();
    if (region === null) {
      waits++;
      ring.waitReadable(HANG_GUARD);
      continue;
    }
    const n = Math.min(region.length, count - seen);
    const array = region.array;
    for (let i = 0; i < n; i++) {
      const value: bigint = array[region.offset + i];
      if (value !== BigInt(seen + i)) {
        assert.fail(
          `item ${seen + i} must be ${seen + i}: received ${value} (lost, duplicated or reordered)`,
        );
      }
    }
    seen += n;
    ring.advance(n);
  }
  return waits;
}

/**
 * Produces the values 0 … count-1 in random batches (send) and single items
 * (sendOne), blocking on the futex while full. Returns how many times it waited.
 */
function produceAll(ring: SharedRing<bigint, BigUint64Array>, count: number, seed: number): number {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  let sent = 0;
  let waits = 0;
  while (sent < count) {
    const want = Math.min(1 + (random() % 64), count - sent);
    let n: number;
    if (want === 1 || random() % 4 === 0) {
      n = ring.sendOne(BigInt(sent)) ? 1 : 0;
    } else {
      const items = Array.from({ length: want }, (_, i) => BigInt(sent + i));
      n = ring.send(items);
    }
    sent += n;
    if (n === 0) {
      waits++;
      ring.ring.waitWritable(1, HANG_GUARD);
    }
  }
  return waits;
}

/**
 * Runs the peer as the creator of a memfd ring (`create` or `create-consume`
 * with WHERE = unix:SOCKET) and receives the memfd it sends, as a ringmpsc
 * process would hand its ring over.
 */
async function peerCreatesMemfd(
  args: string[],
  tag: string,
): Promise<{ peer: Peer; fd: number }> {
  const socket = `/tmp/ringmpsc-interop-${Deno.pid}-${tag}.sock`;
  removeFile(socket);
  using server = FdServer.listen(socket);
  const accepted = server.acceptAsync();
  const peer = await spawnPeer([args[0], `unix:${socket}`, ...args.slice(1)]);
  const conn = await accepted;
  try {
    return { peer, fd: await recvFdAsync(conn) };
  } finally {
    closeFd(conn);
  }
}

/** Reads the raw words a ringmpsc peer keeps: its caches and its padding. */
function peerWords(memory: SharedMemory) {
  const view = new DataView(memory.buffer, 0, 512);
  return {
    tail: view.getBigUint64(0x080, true),
    cachedHead: view.getBigUint64(0x088, true),
    head: view.getBigUint64(0x100, true),
    cachedTail: view.getBigUint64(0x108, true),
    padding: new Uint8Array(memory.buffer, 0x18c, 0x200 - 0x18c).some((b) => b !== 0),
  };
}

/** Reads a few raw header fields (little-endian) through a second mapping. */
function readRawHeader(path: string) {
  using memory = SharedMemory.attachPath(path);
  const view = new DataView(memory.buffer, 0, 512);
  return {
    magic: view.getBigUint64(0x000, true),
    version: view.getUint32(0x008, true),
    ringBits: view.getUint32(0x00c, true),
    capacity: view.getBigUint64(0x010, true),
    mask: view.getBigUint64(0x018, true),
    slotSize: view.getUint32(0x020, true),
    headerSize: view.getUint32(0x024, true),
    totalSize: view.getBigUint64(0x028, true),
    creatorPid: view.getUint32(0x030, true),
    generation: view.getUint32(0x034, true),
    fileSize: memory.size,
  };
}

/** Writes header words through a second mapping, as a hostile or buggy peer would. */
function patchHeader(path: string, patch: (view: DataView) => void): void {
  using memory = SharedMemory.attachPath(path);
  patch(new DataView(memory.buffer, 0, 512));
}

Deno.test({ name: "SharedRing v1 interop with a native C peer", ignore: !hasPython }, async (t) => {
  await buildPeer();

  await t.step(
    "C creates and produces, Deno attaches and consumes every item in order",
    async () => {
      const path = shmFile("a");
      const peer = await spawnPeer(["create", path, "10", String(ITEMS), String(PAUSE_EVERY)]);
      try {
        using ring = await attachWhenReady(path, peer);
        const waits = consumeAll(ring, ITEMS);
        // The C producer stores closed = 1 after its last commit: the drained ring reports it.
        assert.throws(() => ring.waitReadable(HANG_GUARD), Closed);
        assert.equal(ring.isEmpty(), true);
        assert.equal(ring.isClosed(), true);
        // Its heartbeat is CLOCK_REALTIME nanoseconds, as this side reads it.
        assert.equal(ring.isProducerAlive(600_000), true);
        const r = await peer.result();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          { role: r.report?.role, items: r.report?.items, ok: r.report?.ok },
          { role: "producer", items: ITEMS, ok: true },
        );
        // The pauses made this side sleep, and the C commit saw consumer_waiters > 0 and woke it.
        assert.ok(waits > 0, "the Deno consumer never had to wait");
        assert.ok(r.report!.wakes > 0, "the C producer never saw a sleeping consumer");
        const header = readRawHeader(path);
        assert.deepEqual(header, {
          magic: 0x0044524853474E52n,
          version: 1,
          ringBits: 10,
          capacity: 1024n,
          mask: 1023n,
          slotSize: 8,
          headerSize: 512,
          totalSize: 12288n,
          creatorPid: peer.pid,
          generation: 1,
          fileSize: 12288,
        });
      } finally {
        await peer.stop();
        removeFile(path);
      }
    },
  );

  await t.step(
    "Deno creates and produces, C attaches and consumes every item in order",
    async () => {
      const path = shmFile("b");
      try {
        using ring = SharedRing.createPath(u64, path, 10);
        const peer = await spawnPeer(["consume", path, String(ITEMS), String(PAUSE_EVERY)]);
        try {
          const waits = produceAll(ring, ITEMS, Deno.pid);
          ring.close();
          const r = await peer.result();
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(
            { role: r.report?.role, items: r.report?.items, ok: r.report?.ok },
            { role: "consumer", items: ITEMS, ok: true },
          );
          assert.equal(
            r.report!.heartbeat_advanced,
            true,
            "the Deno commits never stamped heartbeat_ns",
          );
          // The C pauses filled the ring: this side slept, and the C advance woke it.
          assert.ok(waits > 0, "the Deno producer never had to wait");
          assert.ok(r.report!.wakes > 0, "the C consumer never saw a sleeping producer");
        } finally {
          await peer.stop();
        }
      } finally {
        removeFile(path);
      }
    },
  );

  await t.step(
    "the C consumer fails on a wrong value, and on a close before COUNT items",
    async () => {
      const path = shmFile("bad");
      try {
        {
          using ring = SharedRing.createPath(u64, path, 4);
          assert.equal(ring.send([0n, 1n, 2n, 4n, 5n]), 5); // 3 is lost
          ring.close();
          const r = await (await spawnPeer(["consume", path, "5"])).result();
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /position 3 must hold 3: received 4/);
          assert.equal(r.report, null);
        }
        removeFile(path);
        {
          using ring = SharedRing.createPath(u64, path, 4);
          assert.equal(ring.send([0n, 1n]), 2);
          ring.close();
          const r = await (await spawnPeer(["consume", path, "5"])).result();
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /closed and drained after 2 of 5 items/);
        }
      } finally {
        removeFile(path);
      }
    },
  );

  await t.step("positions crossing 2^32 carry into the high word for both peers", async () => {
    const start = 2n ** 32n - 3000n;
    const setPositions = (view: DataView) => {
      view.setBigUint64(0x080, start, true); // tail
      view.setBigUint64(0x088, start, true); // cached_head, as ringmpsc's producer left it
      view.setBigUint64(0x100, start, true); // head
      view.setBigUint64(0x108, start, true); // cached_tail, as ringmpsc's consumer left it
    };
    const count = 20_000;
    // Deno produces across the carry (its tail store writes all 64 bits), C consumes.
    const pathA = shmFile("wrap-a");
    try {
      SharedRing.createPath(u64, pathA, 8).deinit();
      patchHeader(pathA, setPositions);
      using ring = SharedRing.attachPath(u64, pathA);
      const peer = await spawnPeer(["consume", pathA, String(count)]);
      try {
        produceAll(ring, count, 7);
        const r = await peer.result();
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.report?.items, count);
      } finally {
        await peer.stop();
      }
      using raw = SharedMemory.attachPath(pathA);
      const words = new BigUint64Array(raw.buffer, 0x080, 17);
      assert.equal(words[0], start + BigInt(count)); // tail
      assert.equal(words[16], start + BigInt(count)); // head
    } finally {
      removeFile(pathA);
    }
    // C produces across the carry, Deno consumes (its head store writes all 64 bits).
    const pathB = shmFile("wrap-b");
    try {
      SharedRing.createPath(u64, pathB, 8).deinit();
      patchHeader(pathB, setPositions);
      using ring = SharedRing.attachPath(u64, pathB);
      const peer = await spawnPeer(["produce", pathB, String(count)]);
      try {
        consumeAll(ring, count);
        const r = await peer.result();
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.report?.items, count);
      } finally {
        await peer.stop();
      }
      using raw = SharedMemory.attachPath(pathB);
      const words = new BigUint64Array(raw.buffer, 0x080, 17);
      assert.equal(words[0], start + BigInt(count));
      assert.equal(words[16], start + BigInt(count));
    } finally {
      removeFile(pathB);
    }
  });

  await t.step("C rejects a Deno u32 ring, Deno rejects a C u64 ring as u32", async () => {
    const path32 = shmFile("c32");
    try {
      SharedRing.createPath(u32, path32, 10).deinit();
      for (const role of ["consume", "produce"]) {
        const peer = await spawnPeer([role, path32, "10"]);
        const r = await peer.result();
        assert.equal(r.code, 3, `${role}: ${r.stderr}`);
        assert.match(r.stderr, /slot_size must be 8: received 4/);
        assert.equal(r.report, null);
      }
    } finally {
      removeFile(path32);
    }
    const path64 = shmFile("c64");
    try {
      // COUNT 0: the peer writes the header, closes the ring and exits at once.
      const peer = await spawnPeer(["create", path64, "10", "0"]);
      const r = await peer.result();
      assert.equal(r.code, 0, r.stderr);
      assert.throws(() => SharedRing.attachPath(u32, path64), SlotSizeMismatch);
      using ring = SharedRing.attachPath(u64, path64); // the same file as u64 is fine
      assert.equal(ring.isClosed(), true);
      assert.throws(() => ring.waitReadable(HANG_GUARD), Closed);
      // create refuses a file that exists.
      const again = await (await spawnPeer(["create", path64, "10", "0"])).result();
      assert.equal(again.code, 2, again.stderr);
    } finally {
      removeFile(path64);
    }
  });

  await t.step(
    "C rejects every lying header field with exit 3, and tail − head > capacity with 4",
    async () => {
      const lies: [string, (v: DataView) => void, RegExp][] = [
        ["magic", (v) => v.setBigUint64(0x000, 0x0044524853474E53n, true), /magic/],
        ["version", (v) => v.setUint32(0x008, 2, true), /version must be 1: received 2/],
        ["ring_bits", (v) => v.setUint32(0x00c, 11, true), /capacity must be 2\^11/],
        ["capacity", (v) => v.setBigUint64(0x010, 2048n, true), /capacity must be 2\^10/],
        ["capacity_mask", (v) => v.setBigUint64(0x018, 1022n, true), /capacity_mask must be 1023/],
        ["header_size", (v) => v.setUint32(0x024, 256, true), /header_size must be 512/],
        [
          "total_size",
          (v) => v.setBigUint64(0x028, 16384n, true),
          /total_size must be the file size/,
        ],
      ];
      for (const [field, lie, message] of lies) {
        const path = shmFile(`lie-${field}`);
        try {
          SharedRing.createPath(u64, path, 10).deinit();
          patchHeader(path, lie);
          const r = await (await spawnPeer(["consume", path, "10"])).result();
          assert.equal(r.code, 3, `${field}: ${r.stderr}`);
          assert.match(r.stderr, message);
        } finally {
          removeFile(path);
        }
      }
      const path = shmFile("lie-positions");
      try {
        SharedRing.createPath(u64, path, 10).deinit();
        patchHeader(path, (v) => v.setBigUint64(0x080, 1025n, true)); // tail − head = 1025 > 1024
        for (const role of ["consume", "produce"]) {
          const r = await (await spawnPeer([role, path, "10"])).result();
          assert.equal(r.code, 4, `${role}: ${r.stderr}`);
          assert.match(r.stderr, /tail - head exceeds capacity 1024/);
        }
        assert.throws(() => {
          using ring = SharedRing.attachPath(u64, path);
          ring.readable();
        }, RingCorrupt);
      } finally {
        removeFile(path);
      }
    },
  );
  await t.step(
    "a ringmpsc memfd (never sealed) is refused by name, then attached with the option",
    async () => {
      const { peer, fd } = await peerCreatesMemfd(
        ["create", "10", String(ITEMS), String(PAUSE_EVERY)],
        "memfd-produce",
      );
      try {
        // Identity before seals: the wrong element type is reported as such.
        assert.throws(() => SharedRing.attach(u32, fd), SlotSizeMismatch);
        assert.throws(
          () => SharedRing.attach(u64, fd),
          (error: unknown) =>
            error instanceof InvalidSharedMemory &&
            /received seals 0x1/.test(error.message) &&
            /allowUnsealedSigbusRisk: true/.test(error.message) &&
            /SIGBUS/.test(error.message),
        );
        assert.throws(
          () => SharedRing.attach(u64, fd, { allowUnsealedSigbusRisk: "yes" as never }),
          TypeError,
        );
        using ring = SharedRing.attach(u64, fd, { allowUnsealedSigbusRisk: true });
        const waits = consumeAll(ring, ITEMS);
        // ringmpsc's close() stores closed = 1 and wakes nobody: the guard timeout finds it.
        assert.throws(() => ring.waitReadable(HANG_GUARD), Closed);
        const r = await peer.result();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          { role: r.report?.role, items: r.report?.items, seals: r.report?.seals },
          { role: "producer", items: ITEMS, seals: 1 },
        );
        assert.ok(waits > 0, "the Deno consumer never had to wait");
        assert.ok(r.report!.wakes > 0, "the C commit never saw consumer_waiters > 0");
        using raw = SharedMemory.attach(fd, { requireSeals: false });
        assert.equal(raw.seals, 1);
        const words = peerWords(raw);
        assert.equal(words.tail, BigInt(ITEMS));
        // The C producer keeps cached_head as ringmpsc does: its last load of head.
        assert.ok(words.cachedHead > 0n && words.cachedHead <= words.head, `${words.cachedHead}`);
      } finally {
        await peer.stop();
        closeFd(fd);
      }
    },
  );

  await t.step(
    "C creates a memfd and consumes, Deno attaches it and produces; the C advance wakes Deno",
    async () => {
      const { peer, fd } = await peerCreatesMemfd(
        ["create-consume", "10", String(ITEMS), String(PAUSE_EVERY)],
        "memfd-consume",
      );
      try {
        using ring = SharedRing.attach(u64, fd, { allowUnsealedSigbusRisk: true });
        const waits = produceAll(ring, ITEMS, Deno.pid);
        const r = await peer.result();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          { role: r.report?.role, items: r.report?.items, ok: r.report?.ok },
          { role: "consumer", items: ITEMS, ok: true },
        );
        assert.equal(r.report!.heartbeat_advanced, true, "the Deno commits never stamped it");
        assert.ok(waits > 0, "the Deno producer never had to wait");
        assert.ok(r.report!.wakes > 0, "the C advance never saw producer_waiters > 0");
        using raw = SharedMemory.attach(fd, { requireSeals: false });
        const words = peerWords(raw);
        // The C consumer keeps cached_tail as ringmpsc does: its last load of tail.
        assert.deepEqual([words.head, words.cachedTail], [BigInt(ITEMS), BigInt(ITEMS)]);
      } finally {
        await peer.stop();
        closeFd(fd);
      }
    },
  );

  await t.step("the C peer writes nothing past closed (0x18C–0x1FF stay zero)", async () => {
    const { peer, fd } = await peerCreatesMemfd(["create", "4", "0"], "memfd-empty");
    try {
      const r = await peer.result();
      assert.equal(r.code, 0, r.stderr);
      using raw = SharedMemory.attach(fd, { requireSeals: false });
      assert.equal(peerWords(raw).padding, false);
      assert.equal(new DataView(raw.buffer).getUint32(0x188, true), 1); // closed
      using ring = SharedRing.attach(u64, fd, { allowUnsealedSigbusRisk: true });
      assert.equal(ring.isClosed(), true);
      assert.equal(ring.isProducerAlive(600e9), true); // create stamps a first heartbeat
    } finally {
      await peer.stop();
      closeFd(fd);
    }
  });
});
