import assert from "node:assert/strict";
import { formatBytes } from "../src/stats/format_bytes.ts";

Deno.test("formatBytes() shows small counts in bytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
});

Deno.test("formatBytes() uses binary units with one decimal", () => {
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536 * 1024), "1.5 MiB");
  assert.equal(formatBytes(5 * 1024 ** 3), "5.0 GiB");
});

Deno.test("formatBytes() moves up a unit instead of showing 1024.0", () => {
  assert.equal(formatBytes(1024 * 1024 - 1), "1.0 MiB");
});

Deno.test("formatBytes() shows ? for a count that is not a byte count", () => {
  assert.equal(formatBytes(-1), "?");
  assert.equal(formatBytes(Number.NaN), "?");
});
