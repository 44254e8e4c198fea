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
    held: [],
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

Deno.test("importSwarms() in open mode holds counts of torrents without live peers", () => {
  const rows: SwarmRow[] = [{ infoHash: id20("quiet"), downloaded: 4, peers: [] }];
  const restored = tracker();
  const summary = importSwarms(restored, rows, { now: T0, expirySeconds: EXPIRY });
  assert.deepEqual(summary.held, [[id20("quiet"), 4]]);
  assert.equal(restored.swarmCount, 0);
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
    held: [],
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
  const first = journal.collect(live, T0);
  assert.deepEqual(first, { upserts: [[id20("t1"), 1]], deletes: [] });
  assert.deepEqual(journal.collect(live, T0), { upserts: [], deletes: [] });
  // A write that failed comes back with the next collect, once, with the count as it is then.
  journal.failed(first);
  live.announce(announceInput("t1", "leech", { address: "10.0.0.1", left: 0 }), T0);
  live.announce(announceInput("t2", "other", { address: "10.0.0.3", left: 0 }), T0);
  journal.failed(journal.collect(live, T0));
  assert.deepEqual(journal.collect(live, T0), {
    upserts: [[id20("t1"), 2], [id20("t2"), 1]],
    deletes: [],
  });
  // Regular announces of seeders are not completions.
  live.announce(announceInput("t2", "other", { address: "10.0.0.3", left: 0 }), T0);
  assert.deepEqual(journal.collect(live, T0), { upserts: [], deletes: [] });
});

Deno.test("CountJournal adds a held count back when its swarm returns, and drops it when late", () => {
  const live = tracker();
  const journal = new CountJournal();
  journal.hold(id20("back"), 4, T0 / 1000 + EXPIRY);
  journal.hold(id20("late"), 6, T0 / 1000 + EXPIRY);
  assert.deepEqual(journal.collect(live, T0), { upserts: [], deletes: [] });
  live.announce(announceInput("back", "a", { left: 1 }), T0);
  const changes = journal.collect(live, T0 + 1000);
  assert.deepEqual(changes, { upserts: [[id20("back"), 4]], deletes: [] });
  assert.equal(live.scrape([id20("back")])[0].downloaded, 4);
  assert.equal(journal.heldCount, 1);
  assert.deepEqual([...journal.held()].map(([hash]) => hash), [id20("late")]);
  assert.deepEqual(journal.collect(live, T0 + (EXPIRY + 1) * 1000), {
    upserts: [],
    deletes: [id20("late")],
  });
  assert.equal(journal.heldCount, 0);
});

Deno.test("CountJournal checks at most `budget` held counts per collect", () => {
  const live = tracker();
  const journal = new CountJournal();
  for (let i = 0; i < 5; i++) journal.hold(id20(`h${i}`), 1, T0 / 1000 + EXPIRY);
  for (let i = 0; i < 5; i++) live.announce(announceInput(`h${i}`, "a"), T0);
  assert.equal(journal.collect(live, T0, 2).upserts.length, 2);
  assert.equal(journal.collect(live, T0, 2).upserts.length, 2);
  assert.equal(journal.collect(live, T0, 2).upserts.length, 1);
  assert.equal(journal.heldCount, 0);
});
