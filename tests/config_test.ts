/**
 * Config (src/config.ts): the seed's defaults and four presets, and a
 * RangeError or TypeError that states the value for every bad field, both
 * from `makeConfig` and from the `Ring` constructor.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Config,
  defaultConfig,
  highThroughputConfig,
  lowLatencyConfig,
  makeConfig,
  MAX_RING_BITS,
  Ring,
  u8,
  ultraLowLatencyConfig,
} from "../mod.ts";

Deno.test("config: the seed's defaults", () => {
  assert.deepEqual({ ...defaultConfig }, {
    ringBits: 16,
    maxProducers: 16,
    enableMetrics: false,
    trackContention: false,
    numaNode: -1,
    numaAware: true,
    prefetchThreshold: 16,
    wasmAtomics: "auto", // ours, not the seed's: Wasm atomics where a ring has a page of its own
  });
  assert.equal(MAX_RING_BITS, 30);
});

Deno.test("config: the four presets differ from the default only in ringBits", () => {
  const presets: [Config, number][] = [
    [defaultConfig, 16],
    [lowLatencyConfig, 12],
    [highThroughputConfig, 18],
    [ultraLowLatencyConfig, 10],
  ];
  for (const [preset, ringBits] of presets) {
    assert.equal(preset.ringBits, ringBits);
    assert.deepEqual({ ...preset, ringBits: 16 }, { ...defaultConfig });
    assert.ok(Object.isFrozen(preset));
    assert.deepEqual(makeConfig(preset), preset, "a preset passes its own checks");
  }
  const ring = new Ring(u8, ultraLowLatencyConfig);
  assert.equal(ring.capacity(), 1024);
});

Deno.test("config: makeConfig fills gaps from the default and freezes", () => {
  const c = makeConfig({ ringBits: 8, enableMetrics: true });
  assert.equal(c.ringBits, 8);
  assert.equal(c.enableMetrics, true);
  assert.equal(c.maxProducers, 16);
  assert.equal(c.numaNode, -1);
  assert.ok(Object.isFrozen(c));
  assert.deepEqual(makeConfig(), defaultConfig);
  assert.deepEqual(makeConfig({}), defaultConfig);
  const edges = makeConfig({
    ringBits: 1,
    maxProducers: 65536,
    numaNode: 1023,
    prefetchThreshold: 0,
  });
  assert.equal(edges.ringBits, 1);
  assert.equal(edges.maxProducers, 65536);
  assert.equal(makeConfig({ ringBits: 30 }).ringBits, 30);
});

Deno.test("config: every bad field is a RangeError or TypeError stating the value", async (t) => {
  const cases: [Partial<Record<keyof Config, unknown>>, string, string][] = [
    [{ ringBits: 0 }, "RangeError", "ringBits must be an integer between 1 and 30: received 0"],
    [{ ringBits: 31 }, "RangeError", "ringBits must be an integer between 1 and 30: received 31"],
    [{ ringBits: -1 }, "RangeError", "ringBits must be an integer between 1 and 30: received -1"],
    [{ ringBits: 2.5 }, "RangeError", "ringBits must be an integer between 1 and 30: received 2.5"],
    [{ ringBits: "8" }, "TypeError", 'ringBits must be a number: received "8"'],
    [{ ringBits: NaN }, "RangeError", "ringBits must be an integer between 1 and 30: received NaN"],
    [
      { ringBits: Infinity },
      "RangeError",
      "ringBits must be an integer between 1 and 30: received Infinity",
    ],
    [{ ringBits: null }, "TypeError", "ringBits must be a number: received null"],
    [{ ringBits: 8n }, "TypeError", "ringBits must be a number: received 8n"],
    [
      { maxProducers: 0 },
      "RangeError",
      "maxProducers must be an integer between 1 and 65536: received 0",
    ],
    [
      { maxProducers: 65537 },
      "RangeError",
      "maxProducers must be an integer between 1 and 65536: received 65537",
    ],
    [
      { maxProducers: 1.5 },
      "RangeError",
      "maxProducers must be an integer between 1 and 65536: received 1.5",
    ],
    [
      { numaNode: -2 },
      "RangeError",
      "numaNode must be an integer between -1 and 1023: received -2",
    ],
    [
      { numaNode: 1024 },
      "RangeError",
      "numaNode must be an integer between -1 and 1023: received 1024",
    ],
    [
      { prefetchThreshold: -1 },
      "RangeError",
      "prefetchThreshold must be an integer between 0 and 2^31 − 1: received -1",
    ],
    [{ enableMetrics: "yes" }, "TypeError", 'enableMetrics must be a boolean: received "yes"'],
    [{ enableMetrics: 1 }, "TypeError", "enableMetrics must be a boolean: received 1"],
    [{ trackContention: null }, "TypeError", "trackContention must be a boolean: received null"],
    [{ numaAware: "true" }, "TypeError", 'numaAware must be a boolean: received "true"'],
  ];
  for (const [config, name, tail] of cases) {
    await t.step(`${Deno.inspect(config)} → ${name}`, () => {
      assert.throws(() => makeConfig(config as Partial<Config>), {
        name,
        message: `Cannot create ring as ${tail}`,
      });
      assert.throws(() => new Ring(u8, config as Partial<Config>), {
        name,
        message: `Cannot create ring as ${tail}`,
      });
      assert.throws(() => makeConfig(config as Partial<Config>, "create channel"), {
        name,
        message: `Cannot create channel as ${tail}`,
      });
    });
  }
  await t.step("a config that is not an object is a TypeError", () => {
    for (const [bad, shown] of [[null, "null"], ["ringBits", '"ringBits"'], [8, "8"]]) {
      assert.throws(() => makeConfig(bad as never), {
        name: "TypeError",
        message: `Cannot create ring as config must be an object: received ${shown}`,
      });
    }
  });
});
