import assert from "node:assert/strict";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import type { PeerView, StatsSnapshot, TorrentView } from "../src/stats/stats_snapshot.ts";
import { HISTORY_POINTS } from "../src/stats/swarm_history.ts";
import { formatDuration, renderStatsPage } from "../src/stats/stats_page.ts";

const V1 = "\x00\x01\xfe\xff" + "a".repeat(16);
const V2 = "\xaa".repeat(20);
const V1_HEX = "0001feff" + "61".repeat(16);
const V2_HEX = "aa".repeat(20);
const OPTIONS = { version: "0.1.0", filtered: false };

function peer(overrides: Partial<PeerView> = {}): PeerView {
  return {
    address: "192.0.2.1:6881",
    connectionAddress: null,
    family: 4,
    protocol: "http",
    seeder: false,
    partialSeed: false,
    left: 0,
    uploaded: 0,
    downloaded: 0,
    userAgent: "qBittorrent/4.6.0",
    secondsSinceSeen: 12,
    ...overrides,
  };
}

const TAKEN_AT = Date.UTC(2024, 0, 2, 3, 4, 5);

function torrent(overrides: Partial<TorrentView> = {}): TorrentView {
  const peers = overrides.peers ?? [];
  return {
    infoHashes: [V1],
    name: "debian.iso",
    size: 1000,
    counts: { complete: 1, incomplete: 2, downloaders: 1, downloaded: 7 },
    peers,
    peerCount: peers.length,
    history: {
      seeders: new Array(HISTORY_POINTS).fill(null),
      leechers: new Array(HISTORY_POINTS).fill(null),
    },
    ...overrides,
  };
}

/** A snapshot of `torrents` on one page, its totals summed from them. */
function snapshot(
  torrents: TorrentView[],
  openMode = false,
  overrides: Partial<StatsSnapshot> = {},
): StatsSnapshot {
  let seeders = 0;
  let leechers = 0;
  let peers = 0;
  for (const view of torrents) {
    seeders += view.counts.complete;
    leechers += view.counts.incomplete;
    peers += view.peerCount;
  }
  const counters = new StatsCounters({ startedAt: TAKEN_AT - 3_725_000 });
  return {
    takenAt: TAKEN_AT,
    openMode,
    torrents,
    totals: {
      torrents: torrents.length,
      seeders,
      leechers,
      ipv4: peers,
      ipv6: 0,
      http: peers,
      udp: 0,
      websocket: 0,
    },
    page: { number: 1, pages: 1, size: 50, matching: torrents.length },
    peerAddressesHidden: false,
    requests: counters.snapshot(TAKEN_AT),
    ...overrides,
  };
}

function render(torrents: TorrentView[], options = OPTIONS): string {
  return renderStatsPage(snapshot(torrents), options);
}

Deno.test("renderStatsPage() escapes a torrent name", () => {
  const html = render([torrent({ name: "<script>alert(1)</script>" })]);
  assert.ok(!html.includes("<script>alert(1)</script>"));
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
});

Deno.test("renderStatsPage() escapes a user agent", () => {
  const agent = `"><img src=x onerror=alert(1)>`;
  const html = render([torrent({ peers: [peer({ userAgent: agent })] })]);
  assert.ok(!html.includes(agent));
  assert.ok(!html.includes("<img"));
  assert.ok(html.includes("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
});

Deno.test("renderStatsPage() escapes peer addresses", () => {
  const html = render([torrent({
    peers: [peer({ address: "<b>a</b>", connectionAddress: "<i>c</i>" })],
  })]);
  assert.ok(!html.includes("<b>a</b>") && !html.includes("<i>c</i>"));
  assert.ok(html.includes("&lt;b&gt;a&lt;/b&gt;") && html.includes("&lt;i&gt;c&lt;/i&gt;"));
});

Deno.test("renderStatsPage() produces a page without scripts", () => {
  const html = render([torrent({
    name: "<script>alert(1)</script>",
    peers: [peer({ userAgent: "<SCRIPT src=//x></SCRIPT>" })],
  })]);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(!/<script/i.test(html));
  assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'));
});

Deno.test("renderStatsPage() shows both hashes of a hybrid torrent", () => {
  const html = render([torrent({ infoHashes: [V1, V2] })]);
  assert.match(html, new RegExp(`v1</span><a [^>]*><code>${V1_HEX}</code>`));
  assert.match(html, new RegExp(`v2</span><a [^>]*><code>${V2_HEX}</code>`));
});

Deno.test("renderStatsPage() links each hash with every byte percent-encoded", () => {
  const html = render([torrent()]);
  assert.ok(html.includes(`href="/stats?info_hash=%00%01%FE%FF${"%61".repeat(16)}"`));
});

Deno.test("renderStatsPage() shows size and counts", () => {
  const html = render([torrent({ size: 1536 * 1024 })]);
  assert.ok(html.includes(`<span title="1572864 bytes">1.5 MiB</span>`));
  assert.ok(html.includes("<dt>Completed</dt><dd>7</dd>"));
  assert.ok(html.includes("<dt>Seeders</dt><dd>1</dd>"));
  assert.ok(html.includes("<dt>Leechers</dt><dd>2</dd>"));
  assert.ok(html.includes("<dt>Partial seeds</dt><dd>1</dd>"));
});

Deno.test("renderStatsPage() shows percent complete", () => {
  const html = render([torrent({
    size: 1000,
    peers: [
      peer({ left: 250 }),
      peer({ left: 1 }),
      peer({ left: 0, seeder: true }),
      peer({ left: 500, partialSeed: true }),
    ],
  })]);
  assert.ok(html.includes(">75.0%<"));
  // One byte missing is not done.
  assert.ok(html.includes(">99.9%<"));
  assert.ok(html.includes(">seed<"));
  assert.ok(html.includes(">50.0% (partial seed)<"));
});

Deno.test("renderStatsPage() shows ? for percent complete when the size is unknown", () => {
  const html = render([torrent({ size: null, peers: [peer({ left: 10 })] })]);
  assert.ok(html.includes(`<td class="num">?</td>`));
});

Deno.test("renderStatsPage() shows the hex hash for an open-mode torrent", () => {
  const html = renderStatsPage(
    snapshot([torrent({ name: null, size: null })], true),
    OPTIONS,
  );
  assert.ok(html.includes(`<h2><code>${V1_HEX}</code></h2>`));
  assert.ok(html.includes("<dt>Size</dt><dd>?</dd>"));
});

Deno.test("renderStatsPage() says so when there are no torrents", () => {
  const html = render([]);
  assert.ok(html.includes("No torrents."));
  assert.ok(html.includes("<li>Torrents: 0</li>"));
});

Deno.test("renderStatsPage() links back to /stats when filtered", () => {
  assert.ok(render([torrent()], { version: "0.1.0", filtered: true }).includes(`href="/stats"`));
  assert.ok(!render([torrent()]).includes(`href="/stats"`));
});

Deno.test("renderStatsPage() shows the connection address when it differs", () => {
  const html = render([torrent({
    peers: [
      peer({ address: "198.51.100.7:6881", connectionAddress: "203.0.113.9:51000" }),
      peer({ address: "192.0.2.5:6881", connectionAddress: "192.0.2.5:6881" }),
    ],
  })]);
  assert.ok(html.includes("198.51.100.7:6881"));
  assert.ok(html.includes("via 203.0.113.9:51000"));
  assert.ok(!html.includes("via 192.0.2.5:6881"));
});

Deno.test("renderStatsPage() shows totals, time and version", () => {
  const html = renderStatsPage(
    snapshot([
      torrent({ peers: [peer(), peer()] }),
      torrent({ counts: { complete: 3, incomplete: 4, downloaders: 4, downloaded: 0 } }),
    ]),
    { version: "9.9.9-<x>", filtered: false },
  );
  assert.ok(html.includes("<li>Torrents: 2</li>"));
  assert.ok(html.includes("<li>Seeders: 4</li>"));
  assert.ok(html.includes("<li>Leechers: 6</li>"));
  assert.ok(html.includes("<li>Peers: 2</li>"));
  assert.ok(html.includes("2024-01-02T03:04:05.000Z"));
  assert.ok(html.includes("NoBrake 9.9.9-&lt;x&gt;"));
});

Deno.test("renderStatsPage() shows peer traffic, client and last seen", () => {
  const html = render([torrent({
    peers: [peer({ uploaded: 2048, downloaded: 10, secondsSinceSeen: 42.4 })],
  })]);
  assert.ok(html.includes(`<span title="2048 bytes">2.0 KiB</span>`));
  assert.ok(html.includes(`<span title="10 bytes">10 B</span>`));
  assert.ok(html.includes("qBittorrent/4.6.0"));
  assert.ok(html.includes(">42 s ago<"));
});

Deno.test("renderStatsPage() shows uptime, version, totals by family and transport", () => {
  const html = renderStatsPage(
    snapshot([torrent()], false, {
      totals: {
        torrents: 7,
        seeders: 3,
        leechers: 4,
        ipv4: 5,
        ipv6: 2,
        http: 6,
        udp: 1,
        websocket: 0,
      },
    }),
    { version: "1.2.3", filtered: false },
  );
  assert.ok(html.includes(`up <span title="3725 seconds">1 h 2 min</span>`));
  assert.ok(html.includes("version 1.2.3"));
  assert.ok(html.includes("<li>Torrents: 7</li>"));
  assert.ok(html.includes("<li>Peers: 7</li>"));
  assert.ok(html.includes("<li>IPv4 5 · IPv6 2</li>"));
  assert.ok(html.includes("<li>HTTP 6 · UDP 1 · WebSocket 0</li>"));
});

Deno.test("renderStatsPage() shows request rates computed from the counters", () => {
  const counters = new StatsCounters({ startedAt: TAKEN_AT - 600_000 });
  // Two announces a second for the last 10 minutes.
  for (let t = TAKEN_AT - 600_000; t < TAKEN_AT; t += 500) {
    counters.advance(t);
    counters.recordAnnounce("http", null);
  }
  counters.recordScrape("udp", 0.1);
  const html = renderStatsPage(
    snapshot([], false, { requests: counters.snapshot(TAKEN_AT) }),
    OPTIONS,
  );
  assert.ok(html.includes(
    `Announces</span></th><td class="num">2.00</td><td class="num">2.00</td>` +
      `<td class="num">2.00</td><td class="num">2.00</td>`,
  ));
  assert.ok(html.includes("1200 announces, 1 scrapes, 0 refused since start"));
  assert.match(html, /<svg class="chart" [^>]*aria-label="Announces and scrapes[^"]*"/);
  assert.match(html, /<polyline class="announces" points="[^"]+"/);
});

Deno.test("renderStatsPage() draws a torrent's last hour as an inline SVG chart", () => {
  const seeders = new Array(HISTORY_POINTS).fill(null);
  const leechers = new Array(HISTORY_POINTS).fill(null);
  seeders[57] = 1;
  seeders[58] = 2;
  seeders[59] = 2;
  leechers[59] = 4;
  const html = render([torrent({ history: { seeders, leechers } })]);
  assert.match(html, /<figure class="swarm-chart"><svg class="chart" viewBox="0 0 240 48"/);
  assert.match(html, /<polyline class="seeders" points="[\d.]+,[\d.]+ [\d.]+,[\d.]+/);
  // One sample is a dot, not an invisible one-point line.
  assert.match(html, /<circle class="leechers" cx="238" cy="2" r="2"\/>/);
  assert.ok(html.includes("peak 4</figcaption>"));
  assert.ok(!/<svg[^>]*(href|src)=/.test(html), "a chart loads nothing");
});

Deno.test("renderStatsPage() escapes the torrent name inside the chart label too", () => {
  const html = render([torrent({ name: "<script>", peers: [peer()] })]);
  assert.ok(!html.includes("<script>"));
  assert.ok(html.includes("<h2>&lt;script&gt;</h2>"));
});

Deno.test("renderStatsPage() leaves peer addresses out when they are hidden", () => {
  const html = renderStatsPage(
    snapshot(
      [torrent({ peers: [peer({ address: null, userAgent: "Transmission/4.0" })] })],
      false,
      { peerAddressesHidden: true },
    ),
    OPTIONS,
  );
  assert.ok(!html.includes(">Address<"));
  assert.ok(!html.includes("192.0.2.1"));
  assert.ok(html.includes("Transmission/4.0"));
  assert.ok(html.includes("Peer addresses are hidden"));
});

Deno.test("renderStatsPage() marks UDP and IPv6 peers", () => {
  const html = render([torrent({
    peers: [peer({ protocol: "udp", family: 6, address: "[2001:db8::1]:6881" })],
  })]);
  assert.ok(html.includes("<td>UDP · IPv6</td>"));
  assert.ok(html.includes("[2001:db8::1]:6881"));
});

Deno.test("renderStatsPage() says how many peers a capped torrent has and links to it", () => {
  const html = render([torrent({ peers: [peer(), peer()], peerCount: 120 })]);
  assert.ok(html.includes("Showing 2 of 120 peers."));
  assert.ok(html.includes(`<a href="/stats?info_hash=%00%01%FE%FF`));
  const alone = render([torrent({ peers: [peer()], peerCount: 3 })], {
    version: "t",
    filtered: true,
  });
  assert.ok(alone.includes("Showing 1 of 3 peers.</p>"));
});

Deno.test("renderStatsPage() links to the neighbouring pages, not when filtered", () => {
  const page = { number: 2, pages: 3, size: 50, matching: 120 };
  const html = renderStatsPage(snapshot([torrent()], true, { page }), OPTIONS);
  assert.ok(html.includes(`<a href="/stats?page=1" rel="prev">`));
  assert.ok(html.includes(`<a href="/stats?page=3" rel="next">`));
  assert.ok(html.includes("Torrents 51–100 of 120 · page 2 of 3"));
  const filtered = renderStatsPage(snapshot([torrent()], true, { page }), {
    version: "t",
    filtered: true,
  });
  assert.ok(!filtered.includes("?page="));
  assert.ok(!render([torrent()]).includes("?page="));
});

Deno.test("formatDuration() reads as a person would say it", () => {
  assert.equal(formatDuration(0), "0 s");
  assert.equal(formatDuration(59), "59 s");
  assert.equal(formatDuration(60), "1 min");
  assert.equal(formatDuration(3599), "59 min");
  assert.equal(formatDuration(3600), "1 h 0 min");
  assert.equal(formatDuration(90_061), "1 d 1 h");
});
