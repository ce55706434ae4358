import assert from "node:assert/strict";
import { check, native, nativeLibraryPath, symbols, systemError } from "../ffi/lib.ts";
import { Errno, errnoName } from "../ffi/errno.ts";
import * as x86_64 from "../ffi/prebuilt/x86_64.ts";
import * as aarch64 from "../ffi/prebuilt/aarch64.ts";
import {
  heartbeatClockNs,
  monotonicNs,
  realtimeNs,
  SharedMemory,
  storeHeartbeat,
  SystemError,
} from "../native.ts";

const LOADER = new URL("./fixtures/load_native.ts", import.meta.url).pathname;

interface LoadReport {
  path?: string;
  pidMatches?: boolean;
  error?: string;
  message?: string;
  cause?: string;
}

/** Runs the loader fixture in a fresh process with exactly these flags and variables. */
async function load(flags: string[], env: Record<string, string>): Promise<LoadReport> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, LOADER],
    env: { PATH: Deno.env.get("PATH") ?? "", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(stdout);
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("each shipped build is an ELF shared library of its architecture with the named hash", async () => {
  for (const [build, machine] of [[x86_64, 62], [aarch64, 183]] as const) {
    const bytes = Uint8Array.fromBase64(build.base64);
    assert.equal(bytes.length, build.size);
    assert.equal(await sha256Hex(bytes), build.sha256);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    const view = new DataView(bytes.buffer);
    assert.equal(view.getUint16(16, true), 3, "ET_DYN");
    assert.equal(view.getUint16(18, true), machine);
    // Every symbol the table names is in the dynamic string table.
    const text = new TextDecoder("latin1").decode(bytes);
    for (const [key, definition] of Object.entries(symbols)) {
      const name = "name" in definition ? definition.name : key;
      assert.ok(text.includes(`\0${name}\0`), `${name} missing from the ${machine} build`);
    }
  }
});

Deno.test("the shipped build is cached under its hash and matches the embedded bytes", () => {
  const path = nativeLibraryPath();
  const build = Deno.build.arch === "x86_64" ? x86_64 : aarch64;
  assert.ok(path.endsWith(`/libringmpsc-${Deno.build.arch}-${build.sha256.slice(0, 16)}.so`), path);
  assert.deepEqual(Deno.readFileSync(path), Uint8Array.fromBase64(build.base64));
  assert.equal(native(), native());
});

Deno.test("loading works in fresh processes in every supported setup", async (t) => {
  const build = Deno.build.arch === "x86_64" ? x86_64 : aarch64;
  const name = `libringmpsc-${Deno.build.arch}-${build.sha256.slice(0, 16)}.so`;
  const scratch = Deno.makeTempDirSync({ prefix: "ringmpsc-load-test-" });
  try {
    await t.step("into RINGMPSC_CACHE_DIR, once, leaving no temporary files", async () => {
      const cache = `${scratch}/cache`;
      const flags = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];
      for (let run = 0; run < 2; run++) {
        const report = await load(flags, { RINGMPSC_CACHE_DIR: cache, HOME: "/nonexistent" });
        assert.deepEqual(report, { path: `${cache}/${name}`, pidMatches: true });
      }
      assert.deepEqual([...Deno.readDirSync(cache)].map((entry) => entry.name), [name]);
    });
    await t.step(
      "with read and write only for the cache: no file of this repository is read",
      async () => {
        const cache = `${scratch}/only`;
        Deno.mkdirSync(cache);
        const report = await load(
          ["--allow-ffi", `--allow-read=${cache}`, `--allow-write=${cache}`, "--allow-env"],
          { XDG_CACHE_HOME: cache },
        );
        assert.deepEqual(report, { path: `${cache}/ringmpsc/${name}`, pidMatches: true });
      },
    );
    await t.step(
      "without --allow-env: a private temporary folder, removed after loading",
      async () => {
        const tmp = `${scratch}/tmp`;
        Deno.mkdirSync(tmp);
        const report = await load(["--allow-ffi", "--allow-read", "--allow-write"], {
          TMPDIR: tmp,
        });
        assert.equal(report.pidMatches, true);
        assert.ok(report.path?.startsWith(`${tmp}/ringmpsc-`), report.path);
        assert.deepEqual([...Deno.readDirSync(tmp)], []);
      },
    );
    await t.step("an unusable cache folder falls back to the temporary folder", async () => {
      const blocker = `${scratch}/file`;
      Deno.writeTextFileSync(blocker, "not a folder");
      const tmp = `${scratch}/tmp2`;
      Deno.mkdirSync(tmp);
      const report = await load(
        ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"],
        { RINGMPSC_CACHE_DIR: `${blocker}/cache`, TMPDIR: tmp },
      );
      assert.equal(report.pidMatches, true);
      assert.ok(report.path?.startsWith(`${tmp}/ringmpsc-`), report.path);
    });
    await t.step("RINGMPSC_LIB points at another build, which is used as is", async () => {
      const other = `${scratch}/custom/libringmpsc.so`;
      Deno.mkdirSync(`${scratch}/custom`);
      Deno.writeFileSync(other, Uint8Array.fromBase64(build.base64));
      // No write permission at all: the shipped build could not be materialized.
      const report = await load(["--allow-ffi", "--allow-read", "--allow-env"], {
        RINGMPSC_LIB: other,
      });
      assert.deepEqual(report, { path: other, pidMatches: true });
    });
    await t.step("a RINGMPSC_LIB that cannot be loaded is an Error with the cause", async () => {
      const report = await load(["--allow-ffi", "--allow-read", "--allow-env"], {
        RINGMPSC_LIB: `${scratch}/missing.so`,
      });
      assert.equal(report.error, "Error");
      assert.equal(report.message, `Cannot load the native helper library "${scratch}/missing.so"`);
      assert.match(report.cause ?? "", /missing\.so/);
    });
    await t.step("without --allow-ffi the permission error passes through", async () => {
      const report = await load(["--allow-read", "--allow-write", "--allow-env"], {
        RINGMPSC_CACHE_DIR: `${scratch}/noffi`,
      });
      assert.equal(report.error, "NotCapable");
    });
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
});

Deno.test("negative results become SystemErrors carrying the errno", () => {
  const error = systemError(-Errno.ENOENT, 'Cannot open "/x" as open failed');
  assert.ok(error instanceof SystemError);
  assert.equal(error.errno, 2);
  assert.equal(error.name, "SystemError");
  assert.equal(error.message, 'Cannot open "/x" as open failed with ENOENT: errno 2');
  assert.equal(check(5, "unused"), 5);
  assert.equal(check(0, "unused"), 0);
  assert.throws(
    () => check(native().rmpsc_close(999_999), "Cannot close fd 999999"),
    (e: unknown) => e instanceof SystemError && e.errno === Errno.EBADF && /EBADF/.test(e.message),
  );
  assert.equal(errnoName(110), "ETIMEDOUT");
  assert.equal(errnoName(4095), "errno 4095");
});

Deno.test("clocks and the heartbeat store", () => {
  const realMs = Number(realtimeNs() / 1_000_000n);
  assert.ok(Math.abs(realMs - Date.now()) < 5_000);
  const a = monotonicNs();
  const b = monotonicNs();
  assert.ok(Number.isSafeInteger(a) && b >= a);
  using memory = SharedMemory.create(4096);
  using peer = SharedMemory.attach(memory.fd);
  // The heartbeat's clock is the realtime clock as of the last tick: never ahead, < 1 s behind.
  const coarse = heartbeatClockNs();
  const fine = realtimeNs();
  assert.ok(coarse <= fine && fine - coarse < 1_000_000_000n, `${coarse} vs ${fine}`);
  const before = heartbeatClockNs();
  storeHeartbeat(new BigUint64Array(memory.buffer, 0x90, 1));
  const stamped = new BigUint64Array(peer.buffer, 0x90, 1)[0];
  assert.ok(stamped >= before && stamped <= heartbeatClockNs() && stamped <= realtimeNs());
  // Misaligned or detached words are refused, not written.
  assert.throws(
    () => storeHeartbeat(new Uint8Array(memory.buffer, 0x91, 8)),
    (e: unknown) => e instanceof SystemError && e.errno === Errno.EINVAL,
  );
  const word = new BigUint64Array(memory.buffer, 0x98, 1);
  memory.close();
  assert.throws(() => storeHeartbeat(word), SystemError);
});
