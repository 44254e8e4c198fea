import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import { takeStatsSnapshot } from "../src/stats/stats_view.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler } from "../src/http/handler.ts";
import type { TransportSettings } from "../src/settings.ts";
import { renderStatsJson } from "../src/stats/stats_json.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { announceInput, id20 } from "./support/announce_fixtures.ts";
import { percentEncodeAll } from "./support/http_tracker_client.ts";
import { TEST_HTTP_SETTINGS } from "./support/http_settings.ts";

const NOW = 1_700_000_040_000;
const HOSTILE = `"><img src=x onerror=alert(1)>`;
const hex = (text: string) => new TextEncoder().encode(text).toHex();

const scripted: TorrentInfo = {
  name: "<script>alert(1)</script>",
  size: 2048,
  secret: false,
  infoHashV1: id20("scripted"),
  infoHashV2: id20("scripted-v2"),
  path: "scripted.torrent",
};
const secret: TorrentInfo = {
  name: "very secret",
  size: 1,
  secret: true,
  infoHashV1: id20("secret"),
  infoHashV2: null,
  path: "s.secret.torrent",
};

function setUp() {
  const tracker = new Tracker({ expirySeconds: 600, allowlist: Allowlist.of([scripted, secret]) });
  tracker.announce(
    announceInput("scripted", "a", { address: "10.0.0.1", left: 0, userAgent: HOSTILE }),
    NOW - 4000,
  );
  const udp = announceInput("scripted-v2", "b", { address: "2001:db8::2", left: 1024 });
  udp.transport = "udp";
  tracker.announce(udp, NOW);
  tracker.announce(announceInput("secret", "c", { address: "10.0.0.3" }), NOW);
  const counters = new StatsCounters({ startedAt: NOW - 90_000 });
  counters.advance(NOW - 4000);
  counters.recordAnnounce("http", 0.2);
  counters.advance(NOW);
  counters.recordAnnounce("udp", 0.1);
  counters.recordFailure("udp", "malformed", null);
  return { tracker, counters };
}

function json(options: { infoHash?: string; hide?: boolean } = {}) {
  const { tracker, counters } = setUp();
  const snapshot = takeStatsSnapshot(tracker, {
    infoHash: options.infoHash === undefined ? null : id20(options.infoHash),
    now: NOW,
    counters,
    hidePeerAddresses: options.hide ?? false,
  });
  const text = renderStatsJson(snapshot, { version: "0.1.0" });
  return { text, value: JSON.parse(text) };
}

Deno.test("renderStatsJson() has the documented shape with stable keys", () => {
  const { value } = json();
  assert.deepEqual(Object.keys(value), [
    "version",
    "generated_at",
    "started_at",
    "uptime_seconds",
    "open_mode",
    "peer_addresses_hidden",
    "totals",
    "requests",
    "page",
    "torrents",
  ]);
  assert.equal(value.version, "0.1.0");
  assert.equal(value.generated_at, new Date(NOW).toISOString());
  assert.equal(value.started_at, new Date(NOW - 90_000).toISOString());
  assert.equal(value.uptime_seconds, 90);
  assert.equal(value.open_mode, false);
  assert.deepEqual(value.totals, {
    torrents: 1,
    seeders: 1,
    leechers: 1,
    peers: 2,
    peers_ipv4: 1,
    peers_ipv6: 1,
    peers_http: 1,
    peers_udp: 1,
    peers_websocket: 0,
  });
  assert.deepEqual(Object.keys(value.requests), [
    "announces",
    "scrapes",
    "failures",
    "per_second",
    "last_hour",
  ]);
  assert.deepEqual(value.requests.announces, { http: 1, udp: 1, websocket: 0 });
  assert.deepEqual(value.requests.scrapes, { http: 0, udp: 0, websocket: 0 });
  assert.deepEqual(value.requests.failures.udp, {
    malformed: 1,
    not_allowed: 0,
    full: 0,
    hijack: 0,
    rate_limited: 0,
    internal: 0,
  });
  assert.deepEqual(Object.keys(value.requests.per_second.announces), ["1m", "5m", "15m", "1h"]);
  assert.equal(value.requests.per_second.announces["1m"], 0.033);
  assert.equal(value.requests.last_hour.step_seconds, 10);
  assert.equal(value.requests.last_hour.announces.length, 360);
  assert.equal(value.requests.last_hour.announces.at(-1), 1);
  assert.deepEqual(value.page, { number: 1, pages: 1, per_page: 50, torrents: 1 });
});

Deno.test("renderStatsJson() lists torrents with hex hashes, counts, history and peers", () => {
  const [torrent] = json().value.torrents;
  assert.deepEqual(Object.keys(torrent), [
    "info_hashes",
    "name",
    "size",
    "complete",
    "incomplete",
    "downloaders",
    "downloaded",
    "peer_count",
    "last_hour",
    "peers",
  ]);
  assert.deepEqual(torrent.info_hashes, [hex(id20("scripted")), hex(id20("scripted-v2"))]);
  assert.equal(torrent.name, scripted.name);
  assert.equal(torrent.size, 2048);
  assert.equal(torrent.complete, 1);
  assert.equal(torrent.incomplete, 1);
  assert.equal(torrent.peer_count, 2);
  assert.equal(torrent.last_hour.step_seconds, 60);
  assert.equal(torrent.last_hour.seeders.length, 60);
  assert.equal(torrent.last_hour.seeders.at(-1), 1);
  assert.equal(torrent.last_hour.seeders[0], null);
  const byProtocol = Object.fromEntries(
    torrent.peers.map((peer: Record<string, unknown>) => [peer.protocol, peer]),
  );
  assert.deepEqual(byProtocol.http, {
    address: "10.0.0.1:6881",
    connection_address: null,
    family: "ipv4",
    protocol: "http",
    seeder: true,
    partial_seed: false,
    left: 0,
    uploaded: 0,
    downloaded: 0,
    user_agent: HOSTILE,
    seconds_since_seen: 4,
  });
  assert.equal(byProtocol.udp.address, "[2001:db8::2]:6881");
  assert.equal(byProtocol.udp.family, "ipv6");
});

Deno.test("renderStatsJson() writes < as \\u003c, so the body is inert as HTML", () => {
  const { text, value } = json();
  assert.ok(!text.includes("<"));
  assert.ok(text.includes("\\u003cscript>"));
  assert.equal(value.torrents[0].peers[0].user_agent, HOSTILE);
});

Deno.test("renderStatsJson() leaves secret torrents out unless asked for by hash", () => {
  const all = json();
  assert.ok(!all.text.includes("very secret"));
  assert.ok(!all.text.includes(hex(id20("secret"))));
  const one = json({ infoHash: "secret" });
  assert.deepEqual(one.value.torrents.map((torrent: { name: string }) => torrent.name), [
    "very secret",
  ]);
  assert.equal(one.value.totals.torrents, 1);
});

Deno.test("renderStatsJson() gives null addresses when peers are hidden", () => {
  const { text, value } = json({ hide: true });
  assert.equal(value.peer_addresses_hidden, true);
  for (const peer of value.torrents[0].peers) {
    assert.equal(peer.address, null);
    assert.equal(peer.connection_address, null);
  }
  assert.ok(!text.includes("10.0.0.1") && !text.includes("2001:db8"));
});

const SETTINGS = TEST_HTTP_SETTINGS;
const INFO = { remoteAddr: { hostname: "192.0.2.10" } };

Deno.test("/stats.json answers JSON, follows info_hash and page, and honours nostats", async () => {
  const { tracker } = setUp();
  const make = (settings: Partial<TransportSettings>) =>
    createHttpHandler({
      tracker,
      settings: { ...SETTINGS, ...settings },
      logger: createMemoryLogger(),
      version: "9.9",
      now: () => NOW,
    });
  const handler = make({ statsHidePeers: true });
  const response = handler(new Request("http://t/stats.json?page=7"), INFO);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  const body = await response.json();
  assert.equal(body.version, "9.9");
  assert.equal(body.page.number, 1);
  assert.equal(body.peer_addresses_hidden, true);
  const secretHash = percentEncodeAll(new TextEncoder().encode(id20("secret")));
  const one = await handler(new Request(`http://t/stats.json?info_hash=${secretHash}`), INFO)
    .json();
  assert.equal(one.torrents[0].name, "very secret");
  assert.equal(make({ nostats: true })(new Request("http://t/stats.json"), INFO).status, 404);
});
