/**
 * What the machine offers beyond Node.js and Deno. The Zig toolchain comes
 * from PyPI (`scripts/install_zig.sh` runs pip) and one fd-passing peer is a
 * Python script, so the tests that build C peers or talk to Python need
 * python3; on a machine with nothing but Node.js they are skipped — reported
 * as ignored, never passed.
 *
 * @module
 */

/** Whether `python3` runs here. */
export const hasPython: boolean = (() => {
  try {
    return new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
