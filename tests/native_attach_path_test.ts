/**
 * SharedMemory.attachPath maps only /dev/shm files owned by an allowed user
 * and not writable by group or others, unless the caller opts in.
 */

import assert from "node:assert/strict";
import { ownCredentials, SharedMemory, UntrustedPath } from "../native.ts";
import { uniqueName } from "./fixtures/_child.ts";
import { FOREIGN_ID } from "./fixtures/foreign_peer.ts";

const me = ownCredentials();

/** Runs a system command (Deno's own chmod needs --allow-all for /dev/shm). */
function run(program: string, ...args: string[]): void {
  const { success, stderr } = new Deno.Command(program, { args, stderr: "piped" }).outputSync();
  assert.ok(success, new TextDecoder().decode(stderr));
}

Deno.test("attachPath refuses files others own or may write", async (t) => {
  const name = uniqueName("trust");
  using memory = SharedMemory.createPath(name, 4096);
  try {
    await t.step("this user's private file is attached", () => {
      using _view = SharedMemory.attachPath(name);
    });
    await t.step("writable by group or others", () => {
      for (const mode of [0o660, 0o606]) {
        run("chmod", mode.toString(8), memory.path!);
        assert.throws(
          () => SharedMemory.attachPath(name),
          (error: unknown) =>
            error instanceof UntrustedPath && /writable by group or others/.test(error.message),
        );
        using _view = SharedMemory.attachPath(name, { allowWritableByOthers: true });
      }
      run("chmod", "644", memory.path!); // readable by others: that is not refused
      using _view = SharedMemory.attachPath(name);
    });
    await t.step("owned by someone not allowed", () => {
      assert.throws(
        () => SharedMemory.attachPath(name, { owners: [me.uid + 1] }),
        (error: unknown) =>
          error instanceof UntrustedPath && error.uid === me.uid &&
          new RegExp(`owned by uid ${me.uid}, not by uid ${me.uid + 1}`).test(error.message),
      );
      using _view = SharedMemory.attachPath(name, { owners: [me.uid + 1, me.uid] });
    });
    await t.step({
      name: "owned by another user (as root)",
      ignore: me.uid !== 0,
      fn: () => {
        run("chown", `${FOREIGN_ID}:${FOREIGN_ID}`, memory.path!);
        assert.throws(() => SharedMemory.attachPath(name), UntrustedPath);
        using _view = SharedMemory.attachPath(name, { owners: [FOREIGN_ID] });
      },
    });
    await t.step("bad options", () => {
      assert.throws(() => SharedMemory.attachPath(name, { owners: [] }), RangeError);
      assert.throws(() => SharedMemory.attachPath(name, { owners: [-1] }), RangeError);
      // deno-lint-ignore no-explicit-any
      assert.throws(() => SharedMemory.attachPath(name, { owners: 0 as any }), TypeError);
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => SharedMemory.attachPath(name, { allowWritableByOthers: "yes" as any }),
        TypeError,
      );
    });
  } finally {
    SharedMemory.unlinkPath(name);
  }
});
