/**
 * Load consistency (issue 9): thousands of distinct peers over many torrents announce at once,
 * half over HTTP and half over UDP, to one real tracker; afterwards every count agrees exactly
 * with what was announced: scrapes over both transports, `/stats.json` totals and the core. Then
 * half of the peers send `stopped`, at once again, and exactly the other half remain.
 *
 * Nothing is lost and nothing is counted twice under concurrency: a lost UDP datagram is sent
 * again by the client (as real clients do), and announcing the same peer twice changes nothing,
 * so the totals must be exact.
 *
 * @module
 */
import assert from "node:assert/strict";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { seededRandom } from "./support/seeded_random.ts";
import { startTestServer } from "./support/test_server.ts";
import type { ClientAnnounce, TrackerClient } from "./support/tracker_client.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

const PEERS = 3000;
const TORRENTS = 100;
/** Requests in flight at once over HTTP, and UDP sockets each with one request in flight. */
const HTTP_CONCURRENCY = 48;
const UDP_SOCKETS = 24;

interface Peer {
  torrent: number;
  peerId: Uint8Array;
  seeder: boolean;
  udp: boolean;
}

function hashOf(torrent: number): Uint8Array {
  const bytes = new Uint8Array(20);
  bytes.set([0x10, 0xad]);
  new DataView(bytes.buffer).setUint32(16, torrent);
  return bytes;
}

/** Seeded, so a failure replays: which torrent, transport and role each peer has. */
function makePeers(): Peer[] {
  const random = seededRandom(3000);
  return Array.from({ length: PEERS }, (_, i) => {
    const peerId = new Uint8Array(20);
    peerId.set(new TextEncoder().encode("-LC0001-"));
    new DataView(peerId.buffer).setUint32(16, i);
    return {
      torrent: Math.floor(random() * TORRENTS),
      peerId,
      seeder: random() < 0.3,
      udp: i % 2 === 1,
    };
  });
}

function announceOf(peer: Peer, event: ClientAnnounce["event"]): ClientAnnounce {
  return {
    infoHash: hashOf(peer.torrent),
    peerId: peer.peerId,
    port: 20_000 + (new DataView(peer.peerId.buffer).getUint32(16) % 40_000),
    left: peer.seeder ? 0 : 1000,
    event,
    numwant: 20,
  };
}

/** Runs `work` over `items` with `lanes` of them at a time; each lane gets its own index. */
async function inLanes<T>(
  items: T[],
  lanes: number,
  work: (item: T, lane: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    while (next < items.length) await work(items[next++], lane);
  }));
}

/** Announces every peer, HTTP and UDP peers at once, and checks every reply is a success. */
async function announceAll(
  peers: Peer[],
  event: ClientAnnounce["event"],
  clients: { http: TrackerClient; udp: TrackerClient[] },
): Promise<void> {
  const check = async (client: TrackerClient, peer: Peer) => {
    const reply = await client.announce(announceOf(peer, event));
    if (!reply.ok) throw new Error(`announce refused: ${reply.failure}`);
  };
  await Promise.all([
    inLanes(peers.filter((p) => !p.udp), HTTP_CONCURRENCY, (peer) => check(clients.http, peer)),
    inLanes(
      peers.filter((p) => p.udp),
      UDP_SOCKETS,
      (peer, lane) => check(clients.udp[lane], peer),
    ),
  ]);
}

/** Seeders and leechers per torrent, as the tracker must count them. */
function expectedCounts(peers: Peer[]): { complete: number; incomplete: number }[] {
  const counts = Array.from({ length: TORRENTS }, () => ({ complete: 0, incomplete: 0 }));
  for (const peer of peers) counts[peer.torrent][peer.seeder ? "complete" : "incomplete"]++;
  return counts;
}

/** Checks scrapes over both transports and `/stats.json` against the peers that should be live. */
async function assertCounts(
  baseUrl: string,
  live: Peer[],
  clients: { http: TrackerClient; udp: TrackerClient[] },
): Promise<void> {
  const expected = expectedCounts(live);
  const hashes = Array.from({ length: TORRENTS }, (_, t) => hashOf(t));
  const http = await clients.http.scrape(hashes);
  // A BEP 15 scrape takes at most 74 hashes.
  const udp = [
    ...await clients.udp[0].scrape(hashes.slice(0, 50)),
    ...await clients.udp[0].scrape(hashes.slice(50)),
  ];
  for (let t = 0; t < TORRENTS; t++) {
    for (const [name, scrape] of [["http", http], ["udp", udp]] as const) {
      assert.equal(scrape[t].complete, expected[t].complete, `${name} seeders of torrent ${t}`);
      assert.equal(scrape[t].incomplete, expected[t].incomplete, `${name} leechers of ${t}`);
    }
  }
  const stats = await (await fetch(`${baseUrl}/stats.json`)).json();
  const seeders = live.filter((peer) => peer.seeder).length;
  assert.deepEqual(stats.totals, {
    torrents: TORRENTS,
    seeders,
    leechers: live.length - seeders,
    peers: live.length,
    peers_ipv4: live.length,
    peers_ipv6: 0,
    peers_http: live.filter((peer) => !peer.udp).length,
    peers_udp: live.filter((peer) => peer.udp).length,
    peers_websocket: 0,
  });
}

Deno.test("load: 3,000 peers over HTTP and UDP at once are counted exactly, and half stop", async () => {
  const target = await startTestServer();
  const udpPort = target.server.udpAddress!.port;
  const clients = {
    http: new HttpTrackerClient(target.baseUrl),
    udp: Array.from(
      { length: UDP_SOCKETS },
      () => new UdpTrackerClient("127.0.0.1", udpPort, { timeoutMs: 2000, attempts: 5 }),
    ),
  };
  try {
    const peers = makePeers();
    await announceAll(peers, "started", clients);
    await assertCounts(target.baseUrl, peers, clients);
    assert.equal(target.server.tracker.swarmCount, TORRENTS);
    const counters = target.server.counters.snapshot(Date.now());
    assert.equal(counters.announces.http + counters.announces.udp, PEERS);

    // Half of the peers stop: half of the HTTP ones and half of the UDP ones (peers 0, 1, 4, 5,
    // 8, 9, ...), spread over the torrents by the seeded draw.
    const stopping = peers.filter((_, i) => Math.floor(i / 2) % 2 === 0);
    const staying = peers.filter((_, i) => Math.floor(i / 2) % 2 === 1);
    assert.equal(stopping.length, PEERS / 2);
    await announceAll(stopping, "stopped", clients);
    await assertCounts(target.baseUrl, staying, clients);
  } finally {
    clients.http.close();
    for (const client of clients.udp) client.close();
    await target.close();
  }
});
