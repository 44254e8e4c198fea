/**
 * Tests for `src/config_readers.ts`: what each reader accepts, and how it names what it expected
 * (the words every config error message quotes).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  addressList,
  flag,
  integer,
  nonEmptyString,
  oneOf,
  orNull,
} from "../src/config_readers.ts";

Deno.test("flag reads true, false, 1 and 0, nothing else", () => {
  assert.deepEqual([true, 1, false, 0].map((value) => flag.read(value)), [
    true,
    true,
    false,
    false,
  ]);
  for (const value of ["true", 2, null, []]) assert.equal(flag.read(value), undefined);
  assert.equal(flag.expected, "true, false, 1 or 0");
});

Deno.test("integer() reads safe integers in its range and names the range", () => {
  const port = integer(0, 65535);
  assert.equal(port.read(0), 0);
  assert.equal(port.read(65535), 65535);
  for (const value of [-1, 65536, 1.5, "80", null]) assert.equal(port.read(value), undefined);
  assert.equal(port.expected, "an integer from 0 to 65535");
  assert.equal(integer(1).expected, "a positive integer");
  assert.equal(integer(0).expected, "a non-negative integer");
  assert.equal(integer(1).read(0), undefined);
  assert.equal(integer(0).read(2 ** 53), undefined);
});

Deno.test("orNull() adds null; oneOf() reads its choices only", () => {
  const file = orNull(nonEmptyString);
  assert.equal(file.read(null), null);
  assert.equal(file.read("a"), "a");
  assert.equal(file.read(""), undefined);
  assert.equal(file.expected, "a non-empty string or null");
  const level = oneOf(["info", "debug"] as const);
  assert.equal(level.read("debug"), "debug");
  assert.equal(level.read("DEBUG"), undefined);
  assert.equal(level.expected, 'one of "info", "debug"');
});

Deno.test("addressList reads a list of strings, frozen", () => {
  const list = addressList.read(["10.0.0.0/8", "::1"]);
  assert.deepEqual(list, ["10.0.0.0/8", "::1"]);
  assert.ok(Object.isFrozen(list));
  assert.equal(addressList.read(["10.0.0.1", 7]), undefined);
  assert.equal(addressList.read("10.0.0.1"), undefined);
});
