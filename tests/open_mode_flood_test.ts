/**
 * Open-mode floods (issue 9): far more unique info hashes than `max_torrents`, and far more peers
 * in one swarm than `max_peers_per_torrent`, sent over HTTP and UDP at once to one real tracker.
 * The caps hold exactly (the core's swarm count and `/stats.json` agree), the refused get a
 * failure reason (with BEP 31 `retry in` over HTTP), swarms that existed before the flood keep
 * working, and the refused leave nothing behind. The process's RSS before and after is printed,
 * not asserted: it is the whole test process, and the garbage collector decides when it shrinks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bytesToByteString } from "../src/protocol/byte_string.ts";
import { peerId } from "./support/behaviour_suite.ts";
import { decodeDict, HttpTrackerClient, textOf } from "./support/http_tracker_client.ts";
import { startTestServer, type TestServer } from "./support/test_server.ts";
import type { ClientAnnounce, TrackerClient } from "./support/tracker_client.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

const MAX_TORRENTS = 1000;
const FLOOD_HASHES = 20_000;
const LANES = 32;
const FULL = "tracker is full: too many torrents";

function hashOf(kind: number, n: number): Uint8Array {
  const bytes = new Uint8Array(20);
  bytes[0] = kind;
  new DataView(bytes.buffer).setUint32(16, n);
  return bytes;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Sends `count` announces built by `make`, `LANES` at a time over HTTP and UDP in turn. */
async function flood(
  count: number,
  clients: TrackerClient[],
  make: (n: number) => ClientAnnounce,
): Promise<Map<string, number>> {
  const outcomes = new Map<string, number>();
  let next = 0;
  await Promise.all(clients.map(async (client) => {
    while (next < count) {
      const reply = await client.announce(make(next++));
      const outcome = reply.ok ? "ok" : reply.failure;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }));
  return outcomes;
}

/** One HTTP client per even lane (fetch pools connections) and a UDP socket per odd lane. */
function makeClients(target: TestServer): TrackerClient[] {
  const port = target.server.udpAddress!.port;
  return Array.from(
    { length: LANES },
    (_, lane) =>
      lane % 2 === 0
        ? new HttpTrackerClient(target.baseUrl)
        : new UdpTrackerClient("127.0.0.1", port, { timeoutMs: 2000, attempts: 5 }),
  );
}

Deno.test("open mode: a flood of unique hashes stops at max_torrents; old swarms keep working", async () => {
  const target = await startTestServer({ config: { max_torrents: MAX_TORRENTS } });
  const clients = makeClients(target);
  const http = new HttpTrackerClient(target.baseUrl);
  try {
    // Ten swarms of two peers exist before the flood.
    for (let t = 0; t < 10; t++) {
      for (const label of ["s", "l"]) {
        const reply = await http.announce({
          infoHash: hashOf(1, t),
          peerId: peerId(`${label}${t}`),
          port: 7000 + t,
          left: label === "s" ? 0 : 10,
        });
        assert.ok(reply.ok);
      }
    }
    // Two halves, the RSS read after each: past the cap, a flood should add nothing that stays.
    const rss = [Deno.memoryUsage().rss];
    const outcomes = new Map<string, number>();
    for (const half of [0, 1]) {
      const sent = await flood(FLOOD_HASHES / 2, clients, (n) => ({
        infoHash: hashOf(2, half * FLOOD_HASHES / 2 + n),
        peerId: peerId(`f${n}`),
        port: 8000,
        left: 10,
        event: "started",
      }));
      for (const [outcome, n] of sent) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + n);
      rss.push(Deno.memoryUsage().rss);
    }
    assert.deepEqual(
      Object.fromEntries(outcomes),
      { ok: MAX_TORRENTS - 10, [FULL]: FLOOD_HASHES - (MAX_TORRENTS - 10) },
    );
    assert.equal(target.server.tracker.swarmCount, MAX_TORRENTS);
    const stats = await (await fetch(`${target.baseUrl}/stats.json`)).json();
    assert.equal(stats.totals.torrents, MAX_TORRENTS);
    assert.equal(stats.totals.peers, 20 + MAX_TORRENTS - 10);
    assert.equal(
      stats.requests.failures.http.full + stats.requests.failures.udp.full,
      FLOOD_HASHES - (MAX_TORRENTS - 10),
    );
    // A refusal over HTTP asks the client to come back later (BEP 31).
    const { body } = await http.get(
      `/announce?${
        HttpTrackerClient.announceQuery({
          infoHash: hashOf(3, 0),
          peerId: peerId("late"),
          port: 1,
          left: 1,
        })
      }`,
    );
    const refusal = decodeDict(body);
    assert.equal(textOf(refusal, "failure reason"), FULL);
    assert.equal(refusal.get("retry in"), 10);
    // Swarms from before the flood still answer, take new peers and list the old ones.
    for (let t = 0; t < 10; t++) {
      const reply = await clients[t % 2].announce({
        infoHash: hashOf(1, t),
        peerId: peerId(`n${t}`),
        port: 9000,
        left: 10,
      });
      assert.ok(reply.ok, `swarm ${t}`);
      assert.equal(reply.complete, 1);
      assert.equal(reply.incomplete, 2);
      assert.deepEqual(reply.peers.map((peer) => peer.port).sort(), [7000 + t, 7000 + t]);
    }
    // The refused hashes left nothing: a scrape of them is all zeros, and the count holds.
    const [missing] = await http.scrape([hashOf(2, FLOOD_HASHES - 1)]);
    assert.deepEqual(missing, { complete: 0, incomplete: 0, downloaded: 0 });
    assert.equal(target.server.tracker.swarmCount, MAX_TORRENTS);
    // deno-lint-ignore no-console
    console.log(
      `  ${FLOOD_HASHES} unique hashes, cap ${MAX_TORRENTS}: test process RSS ` +
        `${mib(rss[0])} before, ${mib(rss[1])} after half, ${mib(rss[2])} after all`,
    );
  } finally {
    http.close();
    for (const client of clients) client.close();
    await target.close();
  }
});

Deno.test("open mode: a flood of peers into one swarm stops at max_peers_per_torrent", async () => {
  const cap = 500;
  const target = await startTestServer({ config: { max_peers_per_torrent: cap } });
  const clients = makeClients(target);
  try {
    const infoHash = hashOf(4, 0);
    const outcomes = await flood(5000, clients, (n) => ({
      infoHash,
      peerId: peerId(`p${n}`),
      port: 10_000 + n,
      left: 10,
    }));
    assert.deepEqual(Object.fromEntries(outcomes), { ok: cap, "swarm is full": 5000 - cap });
    assert.equal(target.server.tracker.swarm(bytesToByteString(infoHash))?.peerCount, cap);
    // Peers already in the swarm still announce; a newcomer is still refused.
    const [http, udp] = clients;
    let known = 0;
    for (let n = 0; n < 5000 && known < 4; n++) {
      const reply = await (n % 2 === 0 ? http : udp).announce({
        infoHash,
        peerId: peerId(`p${n}`),
        port: 10_000 + n,
        left: 10,
      });
      if (reply.ok) known++;
    }
    assert.equal(known, 4);
    const newcomer = await http.announce({ infoHash, peerId: peerId("new"), port: 1, left: 1 });
    assert.deepEqual(newcomer, { ok: false, failure: "swarm is full" });
  } finally {
    for (const client of clients) client.close();
    await target.close();
  }
});
