import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { takeStatsSnapshot } from "../src/core/stats_view.ts";
import { Tracker } from "../src/core/tracker.ts";
import { announceInput, id20 } from "./support/announce_fixtures.ts";

const NOW = 1_700_000_000_000;

const hybrid: TorrentInfo = {
  name: "hybrid",
  size: 1000,
  secret: false,
  infoHashV1: id20("hybrid-v1"),
  infoHashV2: id20("hybrid-v2"),
  path: "hybrid.torrent",
};
const secret: TorrentInfo = {
  ...hybrid,
  name: "hidden",
  infoHashV1: id20("hidden"),
  infoHashV2: null,
  secret: true,
};

Deno.test("takeStatsSnapshot() shows a hybrid torrent once and counts a peer under both hashes once", () => {
  const tracker = new Tracker({ expirySeconds: 60, allowlist: Allowlist.of([hybrid, secret]) });
  tracker.announce(announceInput("hybrid-v1", "both", { address: "10.0.0.1", left: 0 }), NOW);
  tracker.announce(announceInput("hybrid-v2", "both", { address: "10.0.0.1", left: 0 }), NOW);
  tracker.announce(announceInput("hybrid-v2", "v2only", { address: "10.0.0.2", left: 10 }), NOW);
  const snapshot = takeStatsSnapshot(tracker, { infoHash: null, now: NOW + 5000 });
  assert.equal(snapshot.torrents.length, 1);
  const [view] = snapshot.torrents;
  assert.deepEqual(view.infoHashes, [id20("hybrid-v1"), id20("hybrid-v2")]);
  assert.deepEqual(view.counts, { complete: 1, incomplete: 1, downloaders: 1, downloaded: 0 });
  assert.equal(view.peers.length, 2);
  assert.equal(view.peers[0].secondsSinceSeen, 5);
});

Deno.test("takeStatsSnapshot() hides secret torrents unless asked for by hash", () => {
  const tracker = new Tracker({ expirySeconds: 60, allowlist: Allowlist.of([hybrid, secret]) });
  tracker.announce(announceInput("hidden", "a"), NOW);
  const all = takeStatsSnapshot(tracker, { infoHash: null, now: NOW });
  assert.deepEqual(all.torrents.map((torrent) => torrent.name), ["hybrid"]);
  const one = takeStatsSnapshot(tracker, { infoHash: id20("hidden"), now: NOW });
  assert.deepEqual(one.torrents.map((torrent) => torrent.name), ["hidden"]);
  assert.equal(one.torrents[0].peers.length, 1);
  const unknown = takeStatsSnapshot(tracker, { infoHash: id20("nothing"), now: NOW });
  assert.deepEqual(unknown.torrents, []);
});

Deno.test("takeStatsSnapshot() in open mode lists swarms by size, capped", () => {
  const tracker = new Tracker({ expirySeconds: 60 });
  for (let t = 0; t < 5; t++) {
    for (let p = 0; p <= t; p++) {
      tracker.announce(announceInput(`t${t}`, `p${p}`, { address: `10.0.${t}.${p}` }), NOW);
    }
  }
  const snapshot = takeStatsSnapshot(tracker, { infoHash: null, now: NOW, maxTorrents: 3 });
  assert.equal(snapshot.openMode, true);
  assert.deepEqual(snapshot.torrents.map((torrent) => torrent.peers.length), [5, 4, 3]);
  assert.equal(snapshot.torrents[0].name, null);
});

Deno.test("takeStatsSnapshot() shows the connection address of a peer listed under a trusted ip=", () => {
  const tracker = new Tracker({ expirySeconds: 60 });
  tracker.announce(
    announceInput("t", "a", { address: "192.0.2.7", connectionAddress: "10.9.9.9", port: 7000 }),
    NOW,
  );
  const [peer] = takeStatsSnapshot(tracker, { infoHash: null, now: NOW }).torrents[0].peers;
  assert.equal(peer.address, "192.0.2.7:7000");
  assert.equal(peer.connectionAddress, "10.9.9.9");
  assert.equal(peer.userAgent, "test/1.0");
});
