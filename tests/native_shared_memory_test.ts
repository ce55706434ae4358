import assert from "node:assert/strict";
import { InvalidSharedMemory, Seal, SharedMemory, SystemError } from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { native } from "../ffi/lib.ts";
import { Child, uniqueName } from "./fixtures/_child.ts";

const encoder = new TextEncoder();

/** A raw memfd, sealable but without seals, of `size` bytes. */
function rawMemfd(size: number): number {
  const lib = native();
  const fd = lib.rmpsc_memfd_create(encoder.encode("raw\0"));
  assert.ok(fd >= 0);
  assert.equal(lib.rmpsc_ftruncate(fd, BigInt(size)), 0);
  return fd;
}

Deno.test("SharedMemory.create makes a zero-filled memfd sealed against resizing", () => {
  using memory = SharedMemory.create(3 * 4096);
  assert.equal(memory.size, 3 * 4096);
  assert.equal(memory.buffer.byteLength, 3 * 4096);
  assert.ok(memory.fd >= 0);
  assert.equal(memory.path, undefined);
  assert.equal(memory.seals, Seal.SHRINK | Seal.GROW | Seal.SEAL);
  assert.ok(new Uint8Array(memory.buffer).every((byte) => byte === 0));
  const pointer = Deno.UnsafePointer.value(memory.pointer);
  assert.equal(pointer % 4096n, 0n);
});

Deno.test("seals refuse growing, shrinking and further seals", () => {
  using memory = SharedMemory.create(8192);
  const lib = native();
  assert.equal(lib.rmpsc_ftruncate(memory.fd, 16384n), -Errno.EPERM);
  assert.equal(lib.rmpsc_ftruncate(memory.fd, 4096n), -Errno.EPERM);
  assert.equal(lib.rmpsc_ftruncate(memory.fd, 0n), -Errno.EPERM);
  assert.equal(lib.rmpsc_add_seals(memory.fd, Seal.WRITE), -Errno.EPERM);
  assert.equal(Number(lib.rmpsc_fstat_size(memory.fd)), 8192);
});

Deno.test("SharedMemory.attach maps the same bytes and leaves the fd to the caller", () => {
  using memory = SharedMemory.create(4096);
  const fd = memory.fd;
  const view = SharedMemory.attach(fd, { size: 4096 });
  new Uint32Array(memory.buffer)[10] = 0xdeadbeef;
  assert.equal(new Uint32Array(view.buffer)[10], 0xdeadbeef);
  Atomics.store(new Int32Array(view.buffer), 11, 77);
  assert.equal(Atomics.load(new Int32Array(memory.buffer), 11), 77);
  assert.notEqual(Deno.UnsafePointer.value(view.pointer), Deno.UnsafePointer.value(memory.pointer));
  view.close();
  // The creator's fd is still open and the creator's mapping still works.
  assert.equal(Number(native().rmpsc_fstat_size(fd)), 4096);
  assert.equal(new Uint32Array(memory.buffer)[10], 0xdeadbeef);
});

Deno.test("SharedMemory.attach refuses a size other than the expected one", () => {
  using memory = SharedMemory.create(8192);
  assert.throws(
    () => SharedMemory.attach(memory.fd, { size: 4096 }),
    (error: unknown) =>
      error instanceof InvalidSharedMemory &&
      /must be 4096 bytes: received 8192/.test(error.message),
  );
  assert.throws(() => SharedMemory.attach(memory.fd, { size: 16384 }), InvalidSharedMemory);
});

Deno.test("SharedMemory.attach seals an unsealed memfd itself before reading its size", () => {
  const fd = rawMemfd(4096);
  try {
    assert.equal(native().rmpsc_get_seals(fd), 0);
    using view = SharedMemory.attach(fd, { size: 4096 });
    assert.equal(view.seals & (Seal.SHRINK | Seal.GROW), Seal.SHRINK | Seal.GROW);
    assert.equal(native().rmpsc_ftruncate(fd, 8192n), -Errno.EPERM);
  } finally {
    native().rmpsc_close(fd);
  }
});

Deno.test("SharedMemory.attach refuses memory that cannot be sealed", async (t) => {
  await t.step("a memfd whose seals are frozen without SHRINK and GROW", () => {
    const fd = rawMemfd(4096);
    try {
      assert.equal(native().rmpsc_add_seals(fd, Seal.SEAL), 0);
      assert.throws(
        () => SharedMemory.attach(fd),
        (error: unknown) =>
          error instanceof InvalidSharedMemory &&
          /not sealed.*received seals 0x1/.test(error.message),
      );
      // The caller may waive the seals knowingly.
      using view = SharedMemory.attach(fd, { requireSeals: false });
      assert.equal(view.size, 4096);
    } finally {
      native().rmpsc_close(fd);
    }
  });
  await t.step("a /dev/shm file, which cannot take seals", () => {
    const name = uniqueName("unsealable");
    using file = SharedMemory.createPath(name, 4096);
    try {
      // Kernels report F_SEAL_SEAL (sealing impossible) or nothing for tmpfs files.
      assert.ok(file.seals === 0 || file.seals === Seal.SEAL);
      assert.throws(
        () => SharedMemory.attach(file.fd),
        (error: unknown) =>
          error instanceof InvalidSharedMemory && /is not sealed/.test(error.message),
      );
    } finally {
      SharedMemory.unlinkPath(name);
    }
  });
  await t.step("an empty sealed memfd", () => {
    const fd = rawMemfd(0);
    try {
      assert.equal(native().rmpsc_add_seals(fd, Seal.SHRINK | Seal.GROW), 0);
      assert.throws(
        () => SharedMemory.attach(fd),
        (error: unknown) =>
          error instanceof InvalidSharedMemory && /received 0/.test(error.message),
      );
    } finally {
      native().rmpsc_close(fd);
    }
  });
});

Deno.test("bad arguments give typed errors", async (t) => {
  await t.step("sizes out of range", () => {
    for (const size of [0, -1, 1.5, NaN, 2 ** 41]) {
      assert.throws(
        () => SharedMemory.create(size),
        (error: unknown) =>
          error instanceof RangeError &&
          error.message ===
            `Cannot create shared memory as size must be an integer between 1 and 2^40: received ${size}`,
      );
    }
    assert.throws(() => SharedMemory.createPath(uniqueName("size"), -4096), RangeError);
    using memory = SharedMemory.create(4096);
    assert.throws(() => SharedMemory.attach(memory.fd, { size: -1 }), RangeError);
  });
  await t.step("fds out of range or not open", () => {
    assert.throws(() => SharedMemory.attach(-1), RangeError);
    assert.throws(() => SharedMemory.attach(1.5), RangeError);
    assert.throws(
      () => SharedMemory.attach(999_999),
      (error: unknown) => error instanceof SystemError && error.errno === Errno.EBADF,
    );
    assert.throws(
      () => SharedMemory.attach(999_999, { requireSeals: false }),
      (error: unknown) => error instanceof SystemError && error.errno === Errno.EBADF,
    );
  });
  await t.step("paths outside /dev/shm", () => {
    for (const path of ["/tmp/x", "a/b", "..", "/dev/shm/../etc", "", "/dev/shm/"]) {
      assert.throws(() => SharedMemory.createPath(path, 4096), TypeError);
      assert.throws(() => SharedMemory.attachPath(path), TypeError);
    }
    assert.throws(() => SharedMemory.createPath("a\0b", 4096), TypeError);
  });
  await t.step("missing and existing files", () => {
    assert.throws(
      () => SharedMemory.attachPath(uniqueName("missing")),
      (error: unknown) => error instanceof SystemError && error.errno === Errno.ENOENT,
    );
    const name = uniqueName("exists");
    using first = SharedMemory.createPath(name, 4096);
    try {
      assert.throws(
        () => SharedMemory.createPath(`/dev/shm/${name}`, 4096),
        (error: unknown) => error instanceof SystemError && error.errno === Errno.EEXIST,
      );
      assert.equal(first.path, `/dev/shm/${name}`);
    } finally {
      SharedMemory.unlinkPath(name);
    }
    assert.throws(
      () => SharedMemory.unlinkPath(name),
      (error: unknown) => error instanceof SystemError && error.errno === Errno.ENOENT,
    );
  });
  await t.step("direct construction", () => {
    assert.throws(
      () =>
        new SharedMemory(Symbol("x"), { fd: 0, ownsFd: false, size: 1, path: undefined } as never),
      TypeError,
    );
  });
});

Deno.test("attachPath refuses a size other than the expected one", () => {
  const name = uniqueName("size-mismatch");
  using memory = SharedMemory.createPath(name, 4096);
  try {
    assert.throws(
      () => SharedMemory.attachPath(name, { size: 8192 }),
      (error: unknown) =>
        error instanceof InvalidSharedMemory &&
        /must be 8192 bytes: received 4096/.test(error.message),
    );
    using same = SharedMemory.attachPath(name, { size: 4096 });
    assert.equal(same.size, memory.size);
  } finally {
    SharedMemory.unlinkPath(name);
  }
});

Deno.test("close unmaps once, detaches the buffer and closes an owned fd", () => {
  // tests in other threads may reuse the number of a closed fd: ours is known by its odd size
  const size = 15 * 4096;
  const memory = SharedMemory.create(size);
  const words = new Int32Array(memory.buffer);
  words[0] = 5;
  const fd = memory.fd;
  assert.equal(Number(native().rmpsc_fstat_size(fd)), size);
  memory.close();
  assert.equal(memory.closed, true);
  assert.equal(memory.buffer.byteLength, 0);
  assert.equal(words.length, 0);
  assert.throws(() => Atomics.load(words, 0), TypeError);
  assert.notEqual(
    Number(native().rmpsc_fstat_size(fd)),
    size,
    "the fd was closed (EBADF, or reused)",
  );
  memory.close();
  memory[Symbol.dispose]();
});

Deno.test("a region created by path is attached by another process", async () => {
  const name = uniqueName("path");
  const size = 1 << 16;
  using memory = SharedMemory.createPath(name, size);
  try {
    const words = new Uint32Array(memory.buffer);
    const half = words.length / 2;
    for (let i = 0; i < half; i++) words[i] = Math.imul(i, 2654435761) >>> 0;
    const child = Child.spawn("attach-path", name, String(size));
    const report = await child.next<{ mismatches: number; pid: number }>();
    const { status } = await child.finish();
    assert.equal(status.code, 0);
    assert.equal(report.mismatches, 0);
    assert.notEqual(report.pid, Deno.pid);
    for (let i = half; i < words.length; i++) {
      if (words[i] !== ((i ^ 0x5a5a5a5a) >>> 0)) assert.fail(`word ${i} is ${words[i]}`);
    }
  } finally {
    SharedMemory.unlinkPath(name);
  }
});
