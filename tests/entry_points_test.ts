/**
 * The package's entry points, imported by the package name as users write
 * them (Deno resolves `@ringmpsc/ringmpsc` to this checkout through
 * deno.json's `name` and `exports`).
 */
import assert from "node:assert/strict";
import * as core from "@ringmpsc/ringmpsc";
import * as native from "@ringmpsc/ringmpsc/native";
import { Ring as NativeRing, ringPlacement, u32 } from "@ringmpsc/ringmpsc/native";

Deno.test("native re-exports the core's values, not only its types", () => {
  const ring = new NativeRing(u32, { ringBits: 4 });
  assert.equal(ring.send([1, 2]), 2);
  assert.equal(ring.tryRecv(), 1);
  for (const name of Object.keys(core)) {
    assert.equal(
      (native as Record<string, unknown>)[name],
      (core as Record<string, unknown>)[name],
      name,
    );
  }
});

Deno.test("importing native installs nothing: NUMA placement is opt-in", () => {
  assert.equal(ringPlacement(), null);
  native.setRingPlacement(native.numaPlacement);
  try {
    assert.equal(ringPlacement(), native.numaPlacement);
  } finally {
    native.setRingPlacement(null);
  }
});

Deno.test("deno.json exports the core, the native layer, the CLI and the NATS bridge", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(config.name, "@ringmpsc/ringmpsc");
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./native": "./native.ts",
    "./cli": "./cli.ts",
    "./nats": "./nats.ts",
  });
});
