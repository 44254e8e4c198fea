/**
 * Tests for `src/protocol/byte_slab.ts`: carved views are zeroed, never overlap, stay valid after
 * their slab is replaced, and large requests get arrays of their own.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ByteSlab } from "../src/protocol/byte_slab.ts";

Deno.test("ByteSlab.carve() hands out zeroed views that never overlap", () => {
  const slab = new ByteSlab(64);
  const views: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const view = slab.carve(4);
    assert.equal(view.length, 4);
    assert.deepEqual([...view], [0, 0, 0, 0]);
    view.fill(i + 1);
    views.push(view);
  }
  // Slabs were replaced along the way: every view still holds what was written to it.
  for (const [i, view] of views.entries()) {
    assert.deepEqual([...view], [i + 1, i + 1, i + 1, i + 1]);
  }
});

Deno.test("ByteSlab.carve() gives a request past an eighth of a slab its own array", () => {
  const slab = new ByteSlab(64);
  const big = slab.carve(9);
  assert.equal(big.length, 9);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 9);
  assert.equal(slab.carve(8).buffer.byteLength, 64);
});
