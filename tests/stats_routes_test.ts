import assert from "node:assert/strict";
import { SwarmHistory } from "../src/stats/swarm_history.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler } from "../src/http/handler.ts";
import { PEERS_PER_TORRENT } from "../src/stats/stats_routes.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { announceInput } from "./support/announce_fixtures.ts";
import { percentEncodeAll } from "./support/http_tracker_client.ts";
import { TEST_HTTP_SETTINGS } from "./support/http_settings.ts";

const NOW = 1_700_000_040_000;
const SETTINGS = TEST_HTTP_SETTINGS;
const INFO = { remoteAddr: { hostname: "192.0.2.10" } };

/** A 20-byte hash from a number, as a byte string. */
function hashOf(n: number): string {
  return `h${n.toString(36)}`.padEnd(20, "-");
}

Deno.test("/stats, /stats.json and /metrics stay capped with 100,000 torrents in open mode", async () => {
  const tracker = new Tracker({ expirySeconds: 3600, maxTorrents: 200_000 });
  const torrents = 100_000;
  for (let t = 0; t < torrents; t++) {
    const input = announceInput("x", "p", {
      address: `10.${t >> 16}.${(t >> 8) & 255}.${t & 255}`,
    });
    input.request.infoHash = hashOf(t);
    tracker.announce(input, NOW);
  }
  // One swarm clearly largest, with more peers than a listing shows.
  for (let p = 0; p < 120; p++) {
    const input = announceInput("x", `big${p}`, { address: `172.16.0.${p}` });
    input.request.infoHash = hashOf(77_777);
    tracker.announce(input, NOW);
  }
  assert.equal(tracker.swarmCount, torrents);
  const history = new SwarmHistory();
  history.sample(tracker, NOW - 60_000);
  assert.equal(history.size, 1000);
  const logger = createMemoryLogger();
  const handler = createHttpHandler({
    tracker,
    settings: SETTINGS,
    logger,
    version: "test",
    now: () => NOW,
    history,
  });

  const page = await handler(new Request("http://t/stats"), INFO).text();
  assert.equal(page.match(/<section>/g)?.length, 50);
  assert.ok(page.includes("Torrents 1–50 of 100000 · page 1 of 2000"));
  assert.ok(page.includes("<li>Torrents: 100000</li>"));
  const first = page.indexOf("<section>");
  assert.ok(
    page.slice(first, first + 200).includes(
      hashOf(77_777).split("").map((c) => c.charCodeAt(0).toString(16)).join(""),
    ),
  );
  assert.ok(page.includes(`Showing ${PEERS_PER_TORRENT.listed} of 121 peers.`));
  assert.ok(page.length < 2_000_000, `page is ${page.length} characters`);

  const last = await handler(new Request("http://t/stats?page=2000"), INFO).text();
  assert.equal(last.match(/<section>/g)?.length, 50);
  assert.ok(last.includes("page 2000 of 2000"));

  const one = hashOf(12_345);
  const filtered = await handler(
    new Request(`http://t/stats?info_hash=${percentEncodeAll(new TextEncoder().encode(one))}`),
    INFO,
  ).text();
  assert.equal(filtered.match(/<section>/g)?.length, 1);
  assert.ok(!filtered.includes("?page="));

  const json = await handler(new Request("http://t/stats.json?page=3"), INFO).json();
  assert.equal(json.torrents.length, 50);
  assert.deepEqual(json.page, { number: 3, pages: 2000, per_page: 50, torrents: 100_000 });
  assert.equal(json.totals.peers, torrents + 120);

  const metrics = await handler(new Request("http://t/metrics"), INFO).text();
  assert.match(metrics, /^nobrake_torrents 100000$/m);
  assert.match(metrics, /^nobrake_peers\{family="ipv4"\} 100120$/m);
  assert.ok(metrics.length < 10_000);
});

Deno.test("the handler records announces, scrapes and failures once each, and not 404s", async () => {
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: { ...SETTINGS, noscrape: true },
    logger: createMemoryLogger(),
    version: "test",
    now: () => NOW,
  });
  const query = `info_hash=${percentEncodeAll(new Uint8Array(20).fill(1))}` +
    `&peer_id=${percentEncodeAll(new Uint8Array(20).fill(2))}&port=6881&left=0`;
  handler(new Request(`http://t/announce?${query}`), INFO);
  handler(new Request(`http://t/announce?${query}`), { remoteAddr: { hostname: "192.0.2.11" } });
  handler(new Request("http://t/scrape"), INFO);
  handler(new Request("http://t/nothing"), INFO);
  handler(new Request("http://t/announce", { method: "POST", body: "x" }), INFO);
  const json = await handler(new Request("http://t/stats.json"), INFO).json();
  assert.deepEqual(json.requests.announces, { http: 1, udp: 0, websocket: 0 });
  assert.deepEqual(json.requests.scrapes, { http: 0, udp: 0, websocket: 0 });
  assert.equal(json.requests.failures.http.hijack, 1);
  assert.equal(json.requests.last_hour.announces.at(-1), 1);
});

Deno.test("/stats and /stats.json answer 400 to an empty or malformed info_hash and never lift the peer cap (issue 14)", async () => {
  const tracker = new Tracker({ expirySeconds: 3600 });
  // More peers than the full list shows per torrent, so a lifted cap would be seen.
  for (let p = 0; p < PEERS_PER_TORRENT.listed + 10; p++) {
    const input = announceInput("x", `peer${p}`, { address: `172.16.1.${p}` });
    input.request.infoHash = hashOf(1);
    tracker.announce(input, NOW);
  }
  const handler = createHttpHandler({
    tracker,
    settings: SETTINGS,
    logger: createMemoryLogger(),
    version: "test",
    now: () => NOW,
  });
  for (const value of ["", "abc", "%41%42", percentEncodeAll(new Uint8Array(21)), "%zz"]) {
    const html = handler(new Request(`http://t/stats?info_hash=${value}`), INFO);
    assert.equal(html.status, 400, `/stats?info_hash=${value}`);
    const htmlBody = await html.text();
    assert.ok(!htmlBody.includes("<section>"), `/stats?info_hash=${value} lists torrents`);
    const json = handler(new Request(`http://t/stats.json?info_hash=${value}`), INFO);
    assert.equal(json.status, 400, `/stats.json?info_hash=${value}`);
    assert.match(json.headers.get("content-type") ?? "", /^application\/json/);
    const body = await json.json();
    assert.equal(typeof body.error, "string");
    assert.equal(body.torrents, undefined);
  }
  // The full list and a well-formed filter keep their caps.
  const all = await handler(new Request("http://t/stats.json"), INFO).json();
  assert.equal(all.torrents[0].peers.length, PEERS_PER_TORRENT.listed);
  const one = percentEncodeAll(new TextEncoder().encode(hashOf(1)));
  const alone = await handler(new Request(`http://t/stats.json?info_hash=${one}`), INFO).json();
  assert.equal(alone.torrents[0].peers.length, PEERS_PER_TORRENT.listed + 10);
});
