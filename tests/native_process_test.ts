import assert from "node:assert/strict";
import { getPid, isProcessAlive } from "../native.ts";
import { Child } from "./fixtures/_child.ts";

Deno.test("this process is alive and getPid agrees with Deno.pid", () => {
  assert.equal(isProcessAlive(Deno.pid), true);
  assert.equal(getPid(), Deno.pid);
  assert.equal(isProcessAlive(1), true);
});

Deno.test("a killed child is dead at once, before and after it is reaped", async () => {
  const child = Child.spawn("hold");
  const report = await child.next<{ ready: boolean; pid: number }>();
  assert.equal(report.pid, child.pid);
  assert.equal(isProcessAlive(child.pid), true);
  child.kill("SIGKILL");
  // A zombie (exited, not yet reaped) already counts as dead.
  let alive = true;
  for (let attempt = 0; attempt < 1000 && alive; attempt++) {
    alive = isProcessAlive(child.pid);
    if (alive) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(alive, false);
  const { status } = await child.finish();
  assert.equal(status.signal, "SIGKILL");
  assert.equal(isProcessAlive(child.pid), false);
});

Deno.test("a process that exited normally is not alive", async () => {
  const output = await new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
  const pid = output.pid;
  await output.status;
  assert.equal(isProcessAlive(pid), false);
});

Deno.test("bad pids are RangeErrors", () => {
  for (const pid of [0, -1, 1.5, NaN, 2 ** 31]) {
    assert.throws(
      () => isProcessAlive(pid),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message ===
          `Cannot check the process as pid must be an integer between 1 and 2^31 − 1: received ${pid}`,
    );
  }
});
