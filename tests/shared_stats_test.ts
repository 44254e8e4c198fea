/**
 * Tests for `takeSharedSnapshot()` in `src/stats/shared_stats.ts`: /stats for a shared store, built
 * from scrape counts and totals (a fake source here; the Redis store is tested end to end in
 * `e2e_redis_processes_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import type { ByteString } from "../src/protocol/byte_string.ts";
import type { ScrapeEntry } from "../src/protocol/messages.ts";
import { type SharedStatsSource, takeSharedSnapshot } from "../src/stats/shared_stats.ts";
import type { StatsTotals } from "../src/stats/stats_snapshot.ts";

const TOTALS: StatsTotals = {
  torrents: 99,
  seeders: 99,
  leechers: 99,
  ipv4: 7,
  ipv6: 1,
  http: 5,
  udp: 3,
  websocket: 0,
};

function torrent(name: string, v1: string, options: { v2?: string; secret?: boolean } = {}) {
  return {
    name,
    size: 100,
    secret: options.secret ?? false,
    infoHashV1: v1.repeat(20),
    infoHashV2: options.v2 === undefined ? null : options.v2.repeat(20),
    path: `${name}.torrent`,
  } satisfies TorrentInfo;
}

/** A source whose swarms are the given counts; records what it was asked. */
function source(allowlist: Allowlist, counts: Record<ByteString, [number, number, number]>) {
  const asked: (readonly ByteString[] | null)[] = [];
  const entry = (infoHash: ByteString): ScrapeEntry => {
    const [complete, incomplete, downloaded] = counts[infoHash] ?? [0, 0, 0];
    return { infoHash, complete, incomplete, downloaders: incomplete, downloaded };
  };
  const fake: SharedStatsSource = {
    allowlist,
    errors: 0,
    scrape(hashes) {
      asked.push(hashes);
      const listed = hashes ?? (allowlist.open ? Object.keys(counts) : allowlist.torrents
        .filter((info) => !info.secret)
        .flatMap((info) => [info.infoHashV1, info.infoHashV2].filter((hash) => hash !== null)));
      return Promise.resolve(listed.filter((hash) => allowlist.allows(hash)).map(entry));
    },
    totals: () => Promise.resolve(TOTALS),
  };
  return { fake, asked };
}

Deno.test("takeSharedSnapshot() lists public torrents by size, sums a hybrid's hashes, and leaves secret ones out", async () => {
  const allowlist = Allowlist.of([
    torrent("small", "a"),
    torrent("hybrid", "b", { v2: "c" }),
    torrent("hidden", "d", { secret: true }),
  ]);
  const { fake } = source(allowlist, {
    ["a".repeat(20)]: [1, 0, 4],
    ["b".repeat(20)]: [1, 1, 2],
    ["c".repeat(20)]: [0, 2, 1],
    ["d".repeat(20)]: [9, 9, 9],
  });
  const snapshot = await takeSharedSnapshot(fake, { infoHash: null, now: 1_000_000 });
  assert.deepEqual(snapshot.torrents.map((view) => view.name), ["hybrid", "small"]);
  assert.deepEqual(snapshot.torrents[0].counts, {
    complete: 1,
    incomplete: 3,
    downloaders: 3,
    downloaded: 3,
  });
  assert.deepEqual(snapshot.torrents[0].peers, [], "no peer rows from a shared store");
  // Torrents, seeders and leechers over what the page lists; the rest from the store's totals.
  assert.deepEqual(snapshot.totals, { ...TOTALS, torrents: 2, seeders: 2, leechers: 3 });
  assert.equal(snapshot.openMode, false);
});

Deno.test("takeSharedSnapshot() shows a secret torrent when its hash is asked for, and nothing for an unknown one", async () => {
  const allowlist = Allowlist.of([torrent("hidden", "d", { secret: true })]);
  const { fake, asked } = source(allowlist, { ["d".repeat(20)]: [2, 1, 5] });
  const one = await takeSharedSnapshot(fake, { infoHash: "d".repeat(20), now: 0 });
  assert.deepEqual(one.torrents.map((view) => [view.name, view.counts.downloaded]), [
    ["hidden", 5],
  ]);
  assert.deepEqual(asked, [["d".repeat(20)]]);
  const none = await takeSharedSnapshot(fake, { infoHash: "z".repeat(20), now: 0 });
  assert.deepEqual(none.torrents, []);
});

Deno.test("takeSharedSnapshot() in open mode lists every swarm the store has, a page at a time", async () => {
  const counts: Record<ByteString, [number, number, number]> = {};
  for (let i = 0; i < 120; i++) counts[String(i).padStart(20, "h")] = [i, 0, 0];
  const { fake } = source(Allowlist.openMode(), counts);
  const second = await takeSharedSnapshot(fake, { infoHash: null, now: 0, page: 2 });
  assert.equal(second.openMode, true);
  assert.deepEqual(second.page, { number: 2, pages: 3, size: 50, matching: 120 });
  assert.equal(second.torrents[0].counts.complete, 69, "largest first: page 2 starts at the 51st");
  assert.equal(second.totals.torrents, 120);
});
