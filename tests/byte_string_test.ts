/**
 * Tests for `src/protocol/byte_string.ts`: conversions between byte strings, bytes and hex.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  bytesToByteString,
  byteString20,
  byteStringToBytes,
  byteStringToHex,
  hexToByteString,
} from "../src/protocol/byte_string.ts";

Deno.test("byteString20() reads 20 bytes at an offset as bytesToByteString() does", () => {
  const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const start of [0, 7, 44]) {
    const text = byteString20(bytes, start);
    assert.equal(text, bytesToByteString(bytes, start, start + 20));
    assert.deepEqual(byteStringToBytes(text), bytes.subarray(start, start + 20));
  }
});

Deno.test("byte strings round-trip through bytes and hex", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = bytesToByteString(bytes);
  assert.equal(text.length, 256);
  assert.deepEqual(byteStringToBytes(text), bytes);
  assert.equal(hexToByteString(byteStringToHex(text)), text);
  assert.equal(hexToByteString("0g"), null);
});
