/**
 * What a small byte array costs on the request path (`src/protocol/byte_slab.ts`): in Deno 2.9
 * (V8 15) every `new Uint8Array(n)` gets an off-heap backing store of its own, however small,
 * where a view on an existing buffer does not. Baseline: `new Uint8Array(4)`, as `parseIp` made
 * for every request's address before `ByteSlab`.
 *
 * Run: `deno bench --allow-all tests/bench/alloc_bench.ts`.
 *
 * @module
 */
import { ByteSlab } from "../../src/protocol/byte_slab.ts";

const slab = new ByteSlab(4096);
const buffer = new Uint8Array(4096);
let next = 0;
// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

Deno.bench("new Uint8Array(4)", { group: "4 fresh bytes", baseline: true }, () => {
  sink += new Uint8Array(4).length;
});

Deno.bench("ByteSlab.carve(4)", { group: "4 fresh bytes" }, () => {
  sink += slab.carve(4).length;
});

Deno.bench("subarray of a buffer (not fresh)", { group: "4 fresh bytes" }, () => {
  const at = (next = (next + 4) & 4091);
  sink += buffer.subarray(at, at + 4).length;
});

Deno.bench("Uint8Array.slice() of 358 bytes (Response body copy)", { group: "copy" }, () => {
  sink += buffer.slice(0, 358).length;
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) throw new Error("unreachable");
});
