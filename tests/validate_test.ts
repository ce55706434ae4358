import assert from "node:assert/strict";
import {
  checkBoolean,
  checkFd,
  checkIndex,
  checkInstance,
  checkInteger,
  checkObject,
  checkOffset,
  checkOneOf,
  checkPid,
  checkRegion,
  checkString,
  checkTimeoutMs,
  describe,
} from "../src/_validate.ts";

Deno.test("validate: an integer in range comes back unchanged", () => {
  assert.equal(checkInteger("reserve", "count", 1, 1, 4096), 1);
  assert.equal(checkInteger("reserve", "count", 4096, 1, 4096), 4096);
  assert.equal(checkInteger("pick", "node", -1, -1, 7), -1);
  assert.equal(checkIndex("read", "index", 0, 1), 0);
  assert.equal(checkFd("close an fd", 0), 0);
  assert.equal(checkPid("watch", 1), 1);
  assert.equal(checkOffset("view", "byteOffset", 64, 128, 8), 64);
  assert.equal(checkRegion("view", 8, 8, 16), 8);
});

Deno.test("validate: numbers out of range are RangeErrors in std's voice", () => {
  const cases: [() => unknown, string][] = [
    [
      () => checkInteger("reserve", "count", NaN, 1, 4096),
      "Cannot reserve as count must be an integer between 1 and 4096: received NaN",
    ],
    [
      () => checkInteger("reserve", "count", -1, 1, 4096),
      "Cannot reserve as count must be an integer between 1 and 4096: received -1",
    ],
    [
      () => checkInteger("reserve", "count", 1.5, 1, 4096),
      "Cannot reserve as count must be an integer between 1 and 4096: received 1.5",
    ],
    [
      () => checkInteger("reserve", "count", Infinity, 1, 4096),
      "Cannot reserve as count must be an integer between 1 and 4096: received Infinity",
    ],
    [
      () => checkInteger("reserve", "count", 4097, 1, 4096),
      "Cannot reserve as count must be an integer between 1 and 4096: received 4097",
    ],
    [
      () => checkInteger("set", "mode", 2, 3, 3),
      "Cannot set as mode must be an integer equal to 3: received 2",
    ],
    [
      () => checkInteger("map", "size", 0, 1, 2 ** 40),
      "Cannot map as size must be an integer between 1 and 2^40: received 0",
    ],
    [
      () => checkIndex("read", "index", 3, 3),
      "Cannot read as index must be an integer between 0 and 2: received 3",
    ],
    [
      () => checkFd("close an fd", -1),
      "Cannot close an fd as fd must be an integer between 0 and 2^31 − 1: received -1",
    ],
    [
      () => checkPid("watch", 0),
      "Cannot watch as pid must be an integer between 1 and 2^31 − 1: received 0",
    ],
    [
      () => checkOffset("view", "byteOffset", 12, 128, 8),
      "Cannot view as byteOffset must be a multiple of 8: received 12",
    ],
    [
      () => checkRegion("view", 16, 8, 16),
      "Cannot view as byteOffset must leave room for 8 bytes in a buffer of 16 bytes: received 16",
    ],
    [
      () => checkTimeoutMs("receive", -1),
      "Cannot receive as timeoutMs must be a number of milliseconds ≥ 0 or Infinity: received -1",
    ],
    [
      () => checkTimeoutMs("receive", NaN, "deadlineMs"),
      "Cannot receive as deadlineMs must be a number of milliseconds ≥ 0 or Infinity: received NaN",
    ],
  ];
  for (const [call, message] of cases) assert.throws(call, { name: "RangeError", message });
});

Deno.test("validate: values of the wrong kind are TypeErrors naming what came", () => {
  const cases: [() => unknown, string][] = [
    [
      () => checkInteger("reserve", "count", "3", 1, 4096),
      'Cannot reserve as count must be a number: received "3"',
    ],
    [
      () => checkInteger("reserve", "count", 3n, 1, 4096),
      "Cannot reserve as count must be a number: received 3n",
    ],
    [
      () => checkInteger("reserve", "count", undefined, 1, 4096),
      "Cannot reserve as count must be a number: received undefined",
    ],
    [
      () => checkTimeoutMs("receive", null),
      "Cannot receive as timeoutMs must be a number: received null",
    ],
    [
      () => checkBoolean("create ring", "enableMetrics", 1),
      "Cannot create ring as enableMetrics must be a boolean: received 1",
    ],
    [
      () => checkString("open", "path", {}),
      "Cannot open as path must be a string: received [object Object]",
    ],
    [
      () => checkOneOf("wait", "mode", "spin", ["futex", "poll"]),
      'Cannot wait as mode must be one of "futex", "poll": received "spin"',
    ],
    [
      () => checkObject("attach", "handle", 7),
      "Cannot attach as handle must be an object: received 7",
    ],
    [
      () => checkInstance("wait", "words", new Uint32Array(1), Int32Array),
      "Cannot wait as words must be an Int32Array: received [object Uint32Array]",
    ],
  ];
  for (const [call, message] of cases) assert.throws(call, { name: "TypeError", message });
});

Deno.test("validate: accepted shapes come back as given", () => {
  const words = new Int32Array(2);
  assert.equal(checkInstance("wait", "words", words, Int32Array), words);
  const handle = { kind: "ring" };
  assert.equal(checkObject("attach", "handle", handle), handle);
  assert.equal(checkOneOf("wait", "mode", "poll", ["futex", "poll"]), "poll");
  assert.equal(checkTimeoutMs("receive", Infinity), Infinity);
  assert.equal(checkTimeoutMs("receive", 0.25), 0.25);
  assert.equal(checkBoolean("x", "flag", false), false);
  assert.equal(checkString("x", "path", ""), "");
});

Deno.test("validate: describe keeps messages short and unambiguous", () => {
  assert.equal(describe("x".repeat(50)), JSON.stringify(`${"x".repeat(40)}…`));
  assert.equal(describe(Symbol("s")), "Symbol(s)");
  assert.equal(describe(() => 1), "a function");
  assert.equal(describe(-0), "0");
  assert.equal(describe([1]), "[object Array]");
});
