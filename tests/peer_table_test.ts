import assert from "node:assert/strict";
import {
  COMPLETION_COUNTED,
  createRecordPools,
  PARTIAL_SEED,
  type PeerRecord,
  SEEDER,
} from "../src/core/peer_records.ts";
import { PeerTable } from "../src/core/peer_table.ts";
import { id20, ip, seededRandom } from "./support/announce_fixtures.ts";

function record(flags: number, seenAt = 100): PeerRecord {
  return {
    seenAt,
    flags,
    keyHash: 0,
    left: flags & SEEDER ? 0 : 5,
    uploaded: 1,
    downloaded: 2,
    agent: 0,
  };
}

/** Checks every peer of the model is where the table says, with the right port and partition. */
function assertMatches(table: PeerTable, model: Map<string, { seeder: boolean; port: number }>) {
  assert.equal(table.count, model.size);
  let seeders = 0;
  for (const [peer, expected] of model) {
    const slot = table.find(id20(peer));
    assert.ok(slot >= 0, `peer ${peer} not found`);
    assert.equal(table.peerIdOf(slot), id20(peer));
    assert.equal(slot < table.seeders, expected.seeder, `peer ${peer} in the wrong partition`);
    assert.equal(table.portOf(slot), expected.port);
    if (expected.seeder) seeders++;
  }
  assert.equal(table.seeders, seeders);
}

Deno.test("PeerTable.insert() and find() locate peers by id", () => {
  const table = new PeerTable(4, 123, createRecordPools());
  const slot = table.insert(id20("a"), ip("1.2.3.4"), 6881, record(0));
  assert.equal(table.find(id20("a")), slot);
  assert.equal(table.find(id20("b")), -1);
  assert.deepEqual([...table.addressOf(slot)], [1, 2, 3, 4]);
  assert.equal(table.portOf(slot), 6881);
  assert.ok(table.hasAddress(slot, ip("1.2.3.4")));
  assert.ok(!table.hasAddress(slot, ip("1.2.3.5")));
});

Deno.test("PeerTable keeps seeders before leechers through inserts, updates and removals", () => {
  const random = seededRandom(99);
  const table = new PeerTable(4, 7, createRecordPools());
  const model = new Map<string, { seeder: boolean; port: number }>();
  for (let step = 0; step < 5000; step++) {
    const peer = `p${Math.floor(random() * 200)}`;
    const seeder = random() < 0.4;
    const port = 1 + Math.floor(random() * 65535);
    const slot = table.find(id20(peer));
    if (random() < 0.25) {
      if (slot >= 0) table.remove(slot);
      model.delete(peer);
    } else if (slot >= 0) {
      table.update(slot, ip("10.0.0.1"), port, record(seeder ? SEEDER : 0));
      model.set(peer, { seeder, port });
    } else {
      table.insert(id20(peer), ip("10.0.0.1"), port, record(seeder ? SEEDER : 0));
      model.set(peer, { seeder, port });
    }
    if (step % 97 === 0) assertMatches(table, model);
  }
  assertMatches(table, model);
});

Deno.test("PeerTable grows and shrinks without losing peers", () => {
  const table = new PeerTable(16, 1, createRecordPools());
  const model = new Map<string, { seeder: boolean; port: number }>();
  for (let i = 0; i < 3000; i++) {
    table.insert(id20(`g${i}`), ip("2001:db8::1"), i + 1, record(i % 2 ? SEEDER : 0));
    model.set(`g${i}`, { seeder: i % 2 === 1, port: i + 1 });
  }
  assertMatches(table, model);
  for (let i = 0; i < 2990; i++) {
    table.remove(table.find(id20(`g${i}`)));
    model.delete(`g${i}`);
  }
  assertMatches(table, model);
});

Deno.test("PeerTable.removeSeenBefore() removes exactly the stale peers", () => {
  const table = new PeerTable(4, 5, createRecordPools());
  for (let i = 0; i < 100; i++) {
    table.insert(id20(`s${i}`), ip("10.0.0.1"), i + 1, record(i % 3 === 0 ? SEEDER : 0, i));
  }
  assert.equal(table.removeSeenBefore(40), 40);
  assert.equal(table.count, 60);
  for (let i = 0; i < 100; i++) assert.equal(table.find(id20(`s${i}`)) >= 0, i >= 40);
  assert.equal(table.seeders, [...Array(60).keys()].filter((k) => (k + 40) % 3 === 0).length);
});

Deno.test("PeerTable counts partial seeds through updates and removal", () => {
  const table = new PeerTable(4, 5, createRecordPools());
  const slot = table.insert(id20("p"), ip("10.0.0.1"), 1, record(PARTIAL_SEED));
  assert.equal(table.partialSeeds, 1);
  const moved = table.update(slot, ip("10.0.0.1"), 1, record(0));
  assert.equal(table.partialSeeds, 0);
  table.update(moved, ip("10.0.0.1"), 1, record(PARTIAL_SEED | COMPLETION_COUNTED));
  assert.equal(table.partialSeeds, 1);
  table.remove(table.find(id20("p")));
  assert.equal(table.partialSeeds, 0);
});

Deno.test("PeerTable.sample() copies distinct endpoints and skips the excluded slot", () => {
  const table = new PeerTable(4, 5, createRecordPools());
  for (let i = 0; i < 20; i++) table.insert(id20(`x${i}`), ip(`10.0.0.${i}`), 100 + i, record(0));
  const out = new Uint8Array(20 * 6);
  const ids = new Uint8Array(20 * 20);
  const exclude = table.find(id20("x3"));
  const got = table.sample(
    { from: 0, to: table.count, want: 20, exclude, random: seededRandom(3) },
    out,
    0,
    ids,
  );
  assert.equal(got, 19);
  const seen = new Set<number>();
  for (let i = 0; i < got; i++) {
    const port = (out[i * 6 + 4] << 8) | out[i * 6 + 5];
    assert.equal(out[i * 6 + 3], port - 100, "address and port of one peer stay together");
    assert.equal(String.fromCharCode(...ids.subarray(i * 20, i * 20 + 20)), id20(`x${port - 100}`));
    seen.add(port);
  }
  assert.equal(seen.size, 19);
  assert.ok(!seen.has(103));
});

Deno.test("PeerTable remembers a connection address only for peers that have one", () => {
  const table = new PeerTable(4, 5, createRecordPools());
  const slot = table.insert(id20("c"), ip("10.0.0.1"), 1, record(0));
  assert.equal(table.connectionAddressOf(id20("c")), null);
  table.setConnectionAddress(id20("c"), ip("192.0.2.1"));
  assert.deepEqual([...table.connectionAddressOf(id20("c"))!], [192, 0, 2, 1]);
  table.remove(slot);
  assert.equal(table.connectionAddressOf(id20("c")), null);
});

Deno.test("PeerTable keeps every field, endpoint and id of a peer together through swaps and removals", () => {
  // A block keeps its endpoints apart from its record bodies (peer_records.ts): every move must
  // carry both. Each peer has an address and port of its own, so a half-moved peer shows.
  const random = seededRandom(17);
  for (const family of [4, 16] as const) {
    const table = new PeerTable(family, 11, createRecordPools());
    const expected = new Map<string, { fields: PeerRecord; address: Uint8Array; port: number }>();
    for (let step = 0; step < 3000; step++) {
      const n = Math.floor(random() * 60);
      const peer = `r${n}`;
      const slot = table.find(id20(peer));
      if (random() < 0.2) {
        if (slot >= 0) table.remove(slot);
        expected.delete(peer);
        continue;
      }
      // Integers below 2^24 are exact in a float32; the flags move peers across the partition.
      const fields: PeerRecord = {
        seenAt: Math.floor(random() * 0xffff_ffff),
        flags: random() < 0.4 ? SEEDER | COMPLETION_COUNTED : random() < 0.2 ? PARTIAL_SEED : 0,
        keyHash: (Math.floor(random() * 0xffff_ffff) | 0) || 1,
        left: Math.floor(random() * 0xff_ffff),
        uploaded: Math.floor(random() * 0xff_ffff),
        downloaded: Math.floor(random() * 0xff_ffff),
        agent: Math.floor(random() * 4096),
      };
      const address = family === 4 ? ip(`10.0.${step & 0xff}.${n}`) : ip(`2001:db8::${step}:${n}`);
      const port = 1 + Math.floor(random() * 65535);
      if (slot >= 0) table.update(slot, address, port, fields);
      else table.insert(id20(peer), address, port, fields);
      expected.set(peer, { fields, address, port });
    }
    assert.equal(table.count, expected.size);
    for (const [peer, { fields, address, port }] of expected) {
      const slot = table.find(id20(peer));
      assert.deepEqual(table.recordOf(slot), fields, `${peer}, IPv${family}`);
      assert.deepEqual([...table.addressOf(slot)], [...address], `${peer}, IPv${family}`);
      assert.equal(table.portOf(slot), port, `${peer}, IPv${family}`);
      assert.equal(table.peerIdOf(slot), id20(peer));
    }
  }
});

Deno.test("PeerTable.sample() keeps each endpoint with its peer id across blocks, both families", () => {
  for (const family of [4, 16] as const) {
    const table = new PeerTable(family, 7, createRecordPools());
    const entry = family + 2;
    // 37 peers: five blocks of 8 and a partial one; seeders too, so runs start mid-block.
    for (let i = 0; i < 37; i++) {
      const address = family === 4 ? ip(`10.0.0.${i}`) : ip(`2001:db8::${i.toString(16)}`);
      table.insert(id20(`s${i}`), address, 1000 + i, record(i % 3 === 0 ? SEEDER : 0));
    }
    for (let seed = 1; seed <= 20; seed++) {
      const want = 1 + (seed * 7) % 36;
      const out = new Uint8Array(want * entry);
      const ids = new Uint8Array(want * 20);
      const exclude = table.find(id20(`s${seed}`));
      const got = table.sample(
        { from: 0, to: table.count, want, exclude, random: seededRandom(seed) },
        out,
        0,
        ids,
      );
      assert.equal(got, want);
      const seen = new Set<number>();
      for (let i = 0; i < got; i++) {
        const port = (out[i * entry + family] << 8) | out[i * entry + family + 1];
        const n = port - 1000;
        assert.equal(out[i * entry + family - 1], n, "the address belongs to the port's peer");
        assert.equal(String.fromCharCode(...ids.subarray(i * 20, i * 20 + 20)), id20(`s${n}`));
        assert.notEqual(n, seed, "the excluded peer is never sampled");
        seen.add(n);
      }
      assert.equal(seen.size, got, "no peer twice");
    }
  }
});

Deno.test("PeerTable keeps left, uploaded and downloaded to float32 precision", () => {
  const table = new PeerTable(4, 5, createRecordPools());
  const big = 734_003_201; // 2^29 < big: not a float32
  const slot = table.insert(id20("f"), ip("10.0.0.1"), 1, {
    ...record(0),
    left: big,
    uploaded: 12345678901234567890,
    downloaded: Number.MAX_SAFE_INTEGER,
  });
  const kept = table.recordOf(slot);
  assert.equal(kept.left, Math.fround(big));
  assert.ok(Math.abs(kept.left - big) / big < 2 ** -24);
  assert.equal(kept.uploaded, Math.fround(12345678901234567890));
  assert.equal(kept.downloaded, Math.fround(Number.MAX_SAFE_INTEGER));
  assert.ok(kept.left > 0, "a leecher's left never rounds to 0");
});

Deno.test("PeerTable stays consistent as it grows past the small size and shrinks back", () => {
  // Small tables are scanned and larger ones indexed: churn around the switch, both families.
  const random = seededRandom(5);
  for (const family of [4, 16] as const) {
    const table = new PeerTable(family, 3, createRecordPools());
    const model = new Map<string, { seeder: boolean; port: number }>();
    const address = family === 4 ? ip("10.0.0.1") : ip("2001:db8::1");
    for (let step = 0; step < 4000; step++) {
      const peer = `k${Math.floor(random() * 24)}`;
      const seeder = random() < 0.5;
      const port = 1 + Math.floor(random() * 65535);
      const slot = table.find(id20(peer));
      // Phases of mostly joining and mostly leaving, so the size sweeps 0..24 and back.
      const leaving = Math.floor(step / 300) % 2 === 1 ? 0.7 : 0.2;
      if (random() < leaving) {
        if (slot >= 0) table.remove(slot);
        model.delete(peer);
      } else if (slot >= 0) {
        table.update(slot, address, port, record(seeder ? SEEDER : 0));
        model.set(peer, { seeder, port });
      } else {
        table.insert(id20(peer), address, port, record(seeder ? SEEDER : 0));
        model.set(peer, { seeder, port });
      }
      assertMatches(table, model);
      for (let absent = 24; absent < 27; absent++) assert.equal(table.find(id20(`k${absent}`)), -1);
    }
  }
});

Deno.test("PeerTable.clear() empties the table, which can be filled again", () => {
  const table = new PeerTable(4, 9, createRecordPools());
  for (let i = 0; i < 40; i++) table.insert(id20(`c${i}`), ip("10.0.0.1"), i + 1, record(0));
  table.clear();
  assert.equal(table.count, 0);
  assert.equal(table.find(id20("c1")), -1);
  const slot = table.insert(id20("c1"), ip("10.0.0.2"), 7, record(SEEDER));
  assert.equal(table.find(id20("c1")), slot);
  assert.equal(table.seeders, 1);
  assert.equal(table.portOf(slot), 7);
});
