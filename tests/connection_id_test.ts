/**
 * Tests for `src/udp/connection_id.ts`: SipHash-2-4 against its published test vectors, and
 * connection ids valid for at least two minutes (BEP 15), expiring after, bound to one address and
 * port, and unforgeable without the secret.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConnectionIds, sipHash24, SLOT_MS } from "../src/udp/connection_id.ts";
import { seededRandom } from "./support/seeded_random.ts";

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const V4 = Uint8Array.from([192, 0, 2, 10]);
const V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]);
/** A moment in the middle of nowhere special. */
const T0 = 1_760_000_000_000;

Deno.test("sipHash24() matches the test vectors of the SipHash paper", () => {
  // Key 00..0f; messages of 0 and 15 bytes 00, 01, 02, ... (Aumasson & Bernstein, appendix A).
  assert.equal(sipHash24(KEY, new Uint8Array(0)), 0x726fdb47dd0e0e31n);
  assert.equal(sipHash24(KEY, Uint8Array.from({ length: 15 }, (_, i) => i)), 0xa129ca6149be45e5n);
});

Deno.test("ConnectionIds accepts an id for at least two minutes, wherever in its minute it was issued", () => {
  const ids = new ConnectionIds({ key: KEY });
  for (const offset of [0, 1, SLOT_MS / 2, SLOT_MS - 1]) {
    const issuedAt = Math.floor(T0 / SLOT_MS) * SLOT_MS + offset;
    const id = ids.issue(V4, 6881, issuedAt);
    for (const age of [0, 1000, 60_000, 119_999, 120_000]) {
      assert.ok(ids.verify(id, V4, 6881, issuedAt + age), `offset ${offset}, age ${age}`);
    }
  }
});

Deno.test("ConnectionIds rejects an id three minutes old, and one from the future", () => {
  const ids = new ConnectionIds({ key: KEY });
  const id = ids.issue(V6, 6881, T0);
  assert.equal(ids.verify(id, V6, 6881, T0 + 3 * SLOT_MS), false);
  assert.equal(ids.verify(id, V6, 6881, T0 - SLOT_MS), false);
});

Deno.test("ConnectionIds binds an id to its address and port", () => {
  const ids = new ConnectionIds({ key: KEY });
  const id = ids.issue(V4, 6881, T0);
  assert.equal(ids.verify(id, V4, 6882, T0), false);
  assert.equal(ids.verify(id, Uint8Array.from([192, 0, 2, 11]), 6881, T0), false);
  assert.equal(ids.verify(id, V6, 6881, T0), false);
  // The IPv4-mapped spelling is the same client.
  const mapped = Uint8Array.from([...new Array(10).fill(0), 0xff, 0xff, ...V4]);
  assert.ok(ids.verify(id, mapped, 6881, T0));
  assert.equal(ids.issue(mapped, 6881, T0), id);
});

Deno.test("ConnectionIds under another secret neither issue nor accept the same ids", () => {
  const ours = new ConnectionIds({ key: KEY });
  const theirs = new ConnectionIds();
  const id = theirs.issue(V4, 6881, T0);
  assert.notEqual(ours.issue(V4, 6881, T0), id);
  assert.equal(ours.verify(id, V4, 6881, T0), false);
});

Deno.test("ConnectionIds rejects guessed ids", () => {
  const ids = new ConnectionIds();
  const random = seededRandom(42);
  const genuine = ids.issue(V4, 6881, T0);
  for (let i = 0; i < 10_000; i++) {
    const guess = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) |
      BigInt(Math.floor(random() * 2 ** 32));
    if (guess === genuine) continue;
    assert.equal(ids.verify(guess, V4, 6881, T0), false);
  }
  // Flipping any one bit of a genuine id breaks it.
  for (let bit = 0n; bit < 64n; bit++) {
    assert.equal(ids.verify(genuine ^ (1n << bit), V4, 6881, T0), false, `bit ${bit}`);
  }
});

Deno.test("ConnectionIds spreads ids: 1000 clients get 1000 different ids", () => {
  const ids = new ConnectionIds();
  const seen = new Set<bigint>();
  for (let i = 0; i < 1000; i++) {
    seen.add(ids.issue(Uint8Array.from([10, 0, i >> 8, i & 255]), 6881, T0));
  }
  assert.equal(seen.size, 1000);
});

Deno.test("ConnectionIds refuses a key that is not 16 bytes", () => {
  assert.throws(() => new ConnectionIds({ key: new Uint8Array(8) }), RangeError);
});
