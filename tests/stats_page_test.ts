import assert from "node:assert/strict";
import type { PeerView, StatsSnapshot, TorrentView } from "../src/core/stats_snapshot.ts";
import { renderStatsPage } from "../src/http/stats_page.ts";

const V1 = "\x00\x01\xfe\xff" + "a".repeat(16);
const V2 = "\xaa".repeat(20);
const V1_HEX = "0001feff" + "61".repeat(16);
const V2_HEX = "aa".repeat(20);
const OPTIONS = { version: "0.1.0", filtered: false };

function peer(overrides: Partial<PeerView> = {}): PeerView {
  return {
    address: "192.0.2.1:6881",
    connectionAddress: null,
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

function torrent(overrides: Partial<TorrentView> = {}): TorrentView {
  return {
    infoHashes: [V1],
    name: "debian.iso",
    size: 1000,
    counts: { complete: 1, incomplete: 2, downloaders: 1, downloaded: 7 },
    peers: [],
    ...overrides,
  };
}

function snapshot(torrents: TorrentView[], openMode = false): StatsSnapshot {
  return { takenAt: Date.UTC(2024, 0, 2, 3, 4, 5), openMode, torrents };
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
