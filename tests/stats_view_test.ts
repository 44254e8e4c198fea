import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import { trackerTotals } from "../src/stats/stats_totals.ts";
import { takeStatsSnapshot } from "../src/stats/stats_view.ts";
import { SwarmHistory } from "../src/stats/swarm_history.ts";
import { Tracker } from "../src/core/tracker.ts";
import { WsConnection, WsSwarms } from "../src/core/ws_swarms.ts";
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

Deno.test("takeStatsSnapshot() totals the public torrents by family and transport", () => {
  const tracker = new Tracker({ expirySeconds: 60, allowlist: Allowlist.of([hybrid, secret]) });
  tracker.announce(announceInput("hybrid-v1", "a", { address: "10.0.0.1", left: 0 }), NOW);
  tracker.announce(announceInput("hybrid-v1", "b", { address: "2001:db8::1" }), NOW);
  const viaUdp = announceInput("hybrid-v2", "c", { address: "10.0.0.3" });
  viaUdp.transport = "udp";
  tracker.announce(viaUdp, NOW);
  tracker.announce(announceInput("hidden", "d", { address: "10.0.0.4" }), NOW);
  const snapshot = takeStatsSnapshot(tracker, { infoHash: null, now: NOW });
  assert.deepEqual(snapshot.totals, {
    torrents: 1,
    seeders: 1,
    leechers: 2,
    ipv4: 2,
    ipv6: 1,
    http: 2,
    udp: 1,
    websocket: 0,
  });
  const protocols = snapshot.torrents[0].peers.map((peer) => `${peer.protocol}/${peer.family}`);
  assert.deepEqual(protocols.sort(), ["http/4", "http/6", "udp/4"]);
  // The metrics count every swarm, the secret one too, and every allowed torrent.
  const all = trackerTotals(tracker);
  assert.equal(all.torrents, 2);
  assert.equal(all.ipv4 + all.ipv6, 4);
  // Asked for by hash, the secret torrent is shown; the totals still leave it out.
  const one = takeStatsSnapshot(tracker, { infoHash: id20("hidden"), now: NOW });
  assert.deepEqual(one.torrents.map((torrent) => torrent.name), ["hidden"]);
  assert.equal(one.totals.torrents, 1);
  assert.deepEqual(one.page, { number: 1, pages: 1, size: 50, matching: 1 });
});

Deno.test("takeStatsSnapshot() pages through swarms by size and clamps the page number", () => {
  const tracker = new Tracker({ expirySeconds: 60 });
  for (let t = 0; t < 5; t++) {
    for (let p = 0; p <= t; p++) {
      tracker.announce(announceInput(`t${t}`, `p${p}`, { address: `10.0.${t}.${p}` }), NOW);
    }
  }
  const sizes = (page: number) =>
    takeStatsSnapshot(tracker, { infoHash: null, now: NOW, maxTorrents: 2, page });
  assert.deepEqual(sizes(2).torrents.map((torrent) => torrent.peerCount), [3, 2]);
  assert.deepEqual(sizes(2).page, { number: 2, pages: 3, size: 2, matching: 5 });
  assert.deepEqual(sizes(3).torrents.map((torrent) => torrent.peerCount), [1]);
  assert.equal(sizes(99).page.number, 3);
  assert.equal(sizes(0).page.number, 1);
  assert.equal(sizes(1).totals.torrents, 5);
  assert.equal(sizes(1).totals.leechers, 15);
});

Deno.test("takeStatsSnapshot() caps the peers listed but counts them all, seeders first", () => {
  const tracker = new Tracker({ expirySeconds: 60 });
  for (let p = 0; p < 10; p++) {
    tracker.announce(
      announceInput("t", `p${p}`, { address: `10.0.0.${p}`, left: p === 7 ? 0 : 5 }),
      NOW,
    );
  }
  const [view] = takeStatsSnapshot(tracker, { infoHash: null, now: NOW, maxPeers: 3 }).torrents;
  assert.equal(view.peers.length, 3);
  assert.equal(view.peerCount, 10);
  assert.equal(view.peers[0].seeder, true);
  assert.deepEqual(view.counts, { complete: 1, incomplete: 9, downloaders: 9, downloaded: 0 });
});

Deno.test("takeStatsSnapshot() hides peer addresses when asked", () => {
  const tracker = new Tracker({ expirySeconds: 60 });
  tracker.announce(
    announceInput("t", "a", { address: "192.0.2.7", connectionAddress: "10.9.9.9" }),
    NOW,
  );
  const snapshot = takeStatsSnapshot(tracker, {
    infoHash: null,
    now: NOW,
    hidePeerAddresses: true,
  });
  assert.equal(snapshot.peerAddressesHidden, true);
  const [peer] = snapshot.torrents[0].peers;
  assert.equal(peer.address, null);
  assert.equal(peer.connectionAddress, null);
  assert.equal(peer.userAgent, "test/1.0");
});

Deno.test("takeStatsSnapshot() gives each torrent its last hour ending in its current size", () => {
  const tracker = new Tracker({ expirySeconds: 600 });
  const history = new SwarmHistory();
  tracker.announce(announceInput("t", "a", { address: "10.0.0.1" }), NOW);
  history.sample(tracker, NOW - 120_000);
  tracker.announce(announceInput("t", "b", { address: "10.0.0.2", left: 0 }), NOW);
  const counters = new StatsCounters({ startedAt: NOW - 5000 });
  counters.recordAnnounce("http", 0.1);
  const snapshot = takeStatsSnapshot(tracker, { infoHash: null, now: NOW, history, counters });
  const { seeders, leechers } = snapshot.torrents[0].history;
  assert.deepEqual(leechers.slice(-3), [1, null, 1]);
  assert.deepEqual(seeders.slice(-3), [0, null, 1]);
  assert.equal(snapshot.requests.announces.http, 1);
  assert.equal(snapshot.requests.startedAt, NOW - 5000);
});

Deno.test("takeStatsSnapshot() and trackerTotals() count WebSocket peers, WebSocket-only torrents too", () => {
  const webSockets = new WsSwarms<string>({
    allowlist: () => Allowlist.openMode(),
    expirySeconds: 600,
  });
  const tracker = new Tracker({ expirySeconds: 600, extraCounts: webSockets });
  tracker.announce(announceInput("both", "tcp"), NOW);
  const wsAnnounce = (infoHash: string, peerId: string, left: number) =>
    webSockets.announce(new WsConnection(peerId), {
      action: "announce",
      infoHash: id20(infoHash),
      peerId: id20(peerId),
      event: "started",
      left,
      uploaded: 0,
      downloaded: 0,
      offers: [],
      answer: null,
    }, NOW);
  wsAnnounce("both", "ws1", 0);
  wsAnnounce("ws-only", "ws2", 5);
  wsAnnounce("ws-only", "ws3", 5);

  const snapshot = takeStatsSnapshot(tracker, { infoHash: null, now: NOW });
  assert.equal(snapshot.totals.torrents, 2);
  assert.equal(snapshot.totals.websocket, 3);
  assert.deepEqual([snapshot.totals.seeders, snapshot.totals.leechers], [1, 3]);
  // Largest first: the WebSocket-only torrent has two peers; "both" has one TCP and one WebSocket.
  const [first, second] = snapshot.torrents;
  assert.equal(first?.infoHashes[0], id20("both"));
  assert.deepEqual(first?.counts, { complete: 1, incomplete: 1, downloaders: 1, downloaded: 0 });
  assert.equal(first?.peerCount, 2);
  assert.equal(first?.peers.length, 1, "only the TCP peer has an address to list");
  assert.equal(second?.infoHashes[0], id20("ws-only"));
  assert.equal(second?.peerCount, 2);
  const one = takeStatsSnapshot(tracker, { infoHash: id20("ws-only"), now: NOW });
  assert.equal(one.torrents[0]?.counts.incomplete, 2);

  const totals = trackerTotals(tracker);
  assert.deepEqual(
    [totals.torrents, totals.seeders, totals.leechers, totals.websocket],
    [2, 1, 3, 3],
  );
});
