/**
 * Tests for `src/state/swarm_state.ts` and `src/state/saved_peers.ts`: a tracker exported and
 * imported into a fresh one answers the same; expired peers stay out; the allowlist and caps
 * still apply; the count journal writes exactly what changed and forgets what went.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { COMPLETION_COUNTED, PARTIAL_SEED, SEEDER } from "../src/core/peer_records.ts";
import {
  CountJournal,
  exportSwarms,
  importSwarms,
  type PeerRow,
  type SwarmRow,
} from "../src/state/swarm_state.ts";
import { Tracker } from "../src/core/tracker.ts";
import { decodeSavedPeers, encodeSavedPeers, savedPeerSize } from "../src/state/saved_peers.ts";
import { announceInput, id20, seededRandom, splitEndpoints } from "./support/announce_fixtures.ts";

const T0 = 1_700_000_000_000;
const EXPIRY = 60;

function tracker(allowlist?: Allowlist, maxTorrents?: number) {
  return new Tracker({ expirySeconds: EXPIRY, random: seededRandom(3), allowlist, maxTorrents });
}

function allowing(...labels: string[]): Allowlist {
  return Allowlist.of(labels.map((label): TorrentInfo => ({
    name: label,
    size: 1,
    secret: false,
    infoHashV1: id20(label),
    infoHashV2: null,
    path: `${label}.torrent`,
  })));
}

/** A tracker with two swarms: IPv4 and IPv6 peers, a seeder that completed, a partial seed. */
function populated(source = tracker()): Tracker {
  source.announce(announceInput("t1", "leech", { address: "10.0.0.1", left: 5 }), T0);
  source.announce(announceInput("t1", "seed", { address: "10.0.0.2", left: 5 }), T0);
  source.announce(
    announceInput("t1", "seed", { address: "10.0.0.2", left: 0, event: "completed" }),
    T0,
  );
  source.announce(
    announceInput("t1", "six", { address: "2001:db8::6", left: 9, event: "paused", key: "k" }),
    T0,
  );
  source.announce(
    announceInput("t2", "other", { address: "10.0.0.3", uploaded: 7, downloaded: 8 }),
    T0,
  );
  return source;
}

function rowsOf(source: Tracker): SwarmRow[] {
  return [...exportSwarms(source)];
}

Deno.test("exportSwarms() rows, imported into a fresh tracker, give the same swarms", () => {
  const source = populated();
  const rows = rowsOf(source);
  assert.deepEqual(rows.map((row) => [row.infoHash, row.downloaded, row.peers.length]), [
    [id20("t1"), 1, 3],
    [id20("t2"), 0, 1],
  ]);
  const seed = rows[0].peers.find((peer) => peer.peerId === id20("seed"))!;
  assert.equal(seed.flags, SEEDER | COMPLETION_COUNTED);
  assert.equal(seed.seenAt, T0 / 1000);
  const six = rows[0].peers.find((peer) => peer.peerId === id20("six"))!;
  assert.equal(six.flags & PARTIAL_SEED, PARTIAL_SEED);
  assert.notEqual(six.keyHash, 0);

  const restored = tracker();
  const summary = importSwarms(restored, rows, { now: T0 + 1000, expirySeconds: EXPIRY });
  assert.deepEqual(summary, {
    swarms: 2,
    peers: 4,
    expiredPeers: 0,
    droppedPeers: 0,
    refused: 0,
    keptCounts: 0,
  });
  assert.deepEqual(rowsOf(restored), rows);
  assert.deepEqual(restored.scrape(null), source.scrape(null));
  // The restored seeder is still counted once, and other peers see it.
  const again = restored.announce(
    announceInput("t1", "seed", { address: "10.0.0.2", left: 0, event: "completed" }),
    T0 + 2000,
  );
  assert.equal(again.downloaded, 1);
  const newcomer = restored.announce(announceInput("t1", "new", { address: "10.0.0.9" }), T0);
  assert.deepEqual(splitEndpoints(newcomer.peers4, 6).sort(), ["10.0.0.1:6881", "10.0.0.2:6881"]);
  // The key hash came back: the IPv6 peer may move with its key, not without.
  assert.throws(() =>
    restored.announce(announceInput("t1", "six", { address: "2001:db8::7" }), T0 + 3000)
  );
  restored.announce(announceInput("t1", "six", { address: "2001:db8::7", key: "k" }), T0 + 3000);
});

Deno.test("importSwarms() drops peers older than the expiry, exactly as a sweep would", () => {
  const source = tracker();
  source.announce(announceInput("t", "old", { address: "10.0.0.1" }), T0);
  source.announce(announceInput("t", "new", { address: "10.0.0.2" }), T0 + 30_000);
  const rows = rowsOf(source);
  const restored = tracker();
  const now = T0 + (EXPIRY + 1) * 1000;
  const summary = importSwarms(restored, rows, { now, expirySeconds: EXPIRY });
  assert.equal(summary.peers, 1);
  assert.equal(summary.expiredPeers, 1);
  source.sweep(now);
  assert.deepEqual(rowsOf(restored), rowsOf(source));
});

Deno.test("importSwarms() keeps an allowed torrent's count with no live peer, and refuses what is no longer allowed", () => {
  const rows: SwarmRow[] = [
    { infoHash: id20("kept"), downloaded: 5, peers: [] },
    { infoHash: id20("gone"), downloaded: 9, peers: [] },
    { infoHash: id20("empty"), downloaded: 0, peers: [] },
  ];
  const restored = tracker(allowing("kept", "empty"));
  const summary = importSwarms(restored, rows, { now: T0, expirySeconds: EXPIRY });
  assert.equal(summary.swarms, 1);
  assert.equal(summary.refused, 1);
  assert.deepEqual(restored.scrape([id20("kept")])[0].downloaded, 5);
  assert.equal(restored.swarm(id20("empty")), undefined);
  // The sweep keeps an allowed torrent's empty swarm for its count.
  restored.sweep(T0 + 10 * EXPIRY * 1000);
  assert.equal(restored.swarmCount, 1);
});

Deno.test("importSwarms() in open mode keeps counts of torrents without live peers in the tracker (issue 14)", () => {
  const rows: SwarmRow[] = [{ infoHash: id20("quiet"), downloaded: 4, peers: [] }];
  const restored = tracker();
  const summary = importSwarms(restored, rows, { now: T0, expirySeconds: EXPIRY });
  assert.equal(summary.keptCounts, 1);
  assert.equal(restored.swarmCount, 0);
  assert.equal(restored.keptCountSize, 1);
  // Answered before any peer comes back, and the swarm that forms starts from it.
  assert.deepEqual(restored.scrape([id20("quiet")]).map((entry) => entry.downloaded), [4]);
  assert.equal(restored.announce(announceInput("quiet", "a", { left: 1 }), T0).downloaded, 4);
  assert.equal(restored.keptCountSize, 0);
  // A full save writes the counts kept without a swarm too.
  restored.announce(announceInput("quiet", "a", { left: 1, event: "stopped" }), T0);
  restored.sweep(T0);
  assert.deepEqual([...restored.keptCounts()], [[id20("quiet"), 4]]);
});

Deno.test("importSwarms() in open mode keeps at most maxTorrents counts without a swarm", () => {
  const rows: SwarmRow[] = ["a", "b", "c"].map((label) => ({
    infoHash: id20(label),
    downloaded: 2,
    peers: [],
  }));
  const restored = tracker(undefined, 2);
  const summary = importSwarms(restored, rows, { now: T0, expirySeconds: EXPIRY });
  assert.equal(summary.keptCounts, 2);
  assert.deepEqual(
    restored.scrape(rows.map((row) => row.infoHash)).map((entry) => entry.downloaded),
    [0, 2, 2],
  );
});

Deno.test("importSwarms() respects the caps on torrents and peers", () => {
  const peer = (label: string): PeerRow => ({
    peerId: id20(label),
    address: new Uint8Array([10, 0, 0, label.length]),
    port: 1,
    seenAt: T0 / 1000,
    flags: 0,
    keyHash: 0,
    left: 1,
    uploaded: 0,
    downloaded: 0,
  });
  const rows: SwarmRow[] = [
    { infoHash: id20("a"), downloaded: 0, peers: [peer("p"), peer("q"), peer("r"), peer("p")] },
    { infoHash: id20("b"), downloaded: 0, peers: [peer("p")] },
  ];
  const restored = tracker(undefined, 1);
  const summary = importSwarms(restored, rows, {
    now: T0,
    expirySeconds: EXPIRY,
    maxPeersPerTorrent: 2,
  });
  assert.deepEqual(summary, {
    swarms: 1,
    peers: 2,
    expiredPeers: 0,
    droppedPeers: 2,
    refused: 1,
    keptCounts: 0,
  });
});

Deno.test("encodeSavedPeers() and decodeSavedPeers() round-trip both families", () => {
  const source = populated();
  for (const row of rowsOf(source)) {
    for (const length of [4, 16] as const) {
      const peers = row.peers.filter((peer) => peer.address.length === length);
      const bytes = encodeSavedPeers(peers, length);
      assert.equal(bytes.length, peers.length * savedPeerSize(length));
      assert.deepEqual(decodeSavedPeers(bytes, length), peers);
    }
  }
  assert.equal(savedPeerSize(4), 59);
  assert.equal(savedPeerSize(16), 71);
  assert.throws(() => decodeSavedPeers(new Uint8Array(60), 4), /not a whole number/);
  assert.throws(() => encodeSavedPeers(rowsOf(source)[0].peers, 4), /16-byte address/);
});

Deno.test("CountJournal.collect() returns the counts of torrents with a completion since", () => {
  const journal = new CountJournal();
  const live = new Tracker({
    expirySeconds: EXPIRY,
    random: seededRandom(3),
    onCompletion: (infoHash) => journal.completed(infoHash),
  });
  populated(live);
  const first = journal.collect(live);
  assert.deepEqual(first, { upserts: [[id20("t1"), 1]], deletes: [] });
  assert.deepEqual(journal.collect(live), { upserts: [], deletes: [] });
  // A write that failed comes back with the next collect, once, with the count as it is then.
  journal.failed(first);
  live.announce(announceInput("t1", "leech", { address: "10.0.0.1", left: 0 }), T0);
  live.announce(announceInput("t2", "other", { address: "10.0.0.3", left: 0 }), T0);
  journal.failed(journal.collect(live));
  assert.deepEqual(journal.collect(live), {
    upserts: [[id20("t1"), 2], [id20("t2"), 1]],
    deletes: [],
  });
  // Regular announces of seeders are not completions.
  live.announce(announceInput("t2", "other", { address: "10.0.0.3", left: 0 }), T0);
  assert.deepEqual(journal.collect(live), { upserts: [], deletes: [] });
});

Deno.test("CountJournal writes the count of an open-mode swarm swept before the write (issue 14)", () => {
  const journal = new CountJournal();
  const live = new Tracker({
    expirySeconds: EXPIRY,
    random: seededRandom(3),
    onCompletion: (infoHash) => journal.completed(infoHash),
  });
  live.announce(announceInput("gone", "a", { left: 0, event: "completed" }), T0);
  live.sweep(T0 + (EXPIRY + 1) * 1000);
  assert.equal(live.swarmCount, 0);
  assert.deepEqual(journal.collect(live), { upserts: [[id20("gone"), 1]], deletes: [] });
});
