/**
 * The /stats page: a pure function from a {@linkcode StatsSnapshot} to one self-contained HTML5
 * document, as NoBrakeTracker's /stats showed it (per torrent: name, size, hash, counts; per peer:
 * address, progress, traffic, client, last seen), made readable on a phone.
 *
 * It does not choose what to show (the core filters secret torrents and applies `info_hash`),
 * read the clock, or set headers (the HTTP handler does). Every string that came from a client
 * or a `.torrent` file goes through {@linkcode escapeHtml}; the page has no script and loads
 * nothing, so a strict Content-Security-Policy fits it.
 *
 * @module
 */
import type { PeerView, StatsSnapshot, TorrentView } from "../core/stats_snapshot.ts";
import { type ByteString, byteStringToBytes, byteStringToHex } from "../protocol/byte_string.ts";
import { formatBytes } from "./format_bytes.ts";
import { escapeHtml } from "./html_escape.ts";

/** Options for {@linkcode renderStatsPage}. */
export interface StatsPageOptions {
  /** The tracker version, shown in the footer. */
  version: string;
  /** True when the request named an `info_hash`: the page then links back to the full list. */
  filtered: boolean;
}

/** Renders the whole /stats page for `snapshot`. */
export function renderStatsPage(snapshot: StatsSnapshot, options: StatsPageOptions): string {
  const body = snapshot.torrents.length === 0
    ? `<p class="empty">No torrents.</p>`
    : snapshot.torrents.map(renderTorrent).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>NoBrake tracker stats</title>
<style>${STYLE}</style>
</head>
<body>
${renderHeader(snapshot, options.filtered)}
<main>
${body}
</main>
<footer>NoBrake ${escapeHtml(options.version)}</footer>
</body>
</html>
`;
}

// Peer tables scroll sideways inside `.scroll` rather than widening the page; long names and
// hashes wrap anywhere, since neither has spaces to break at.
const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.4}
body{margin:0 auto;max-width:72rem;padding:.75rem}
h1{font-size:1.3rem;margin:0 0 .25rem}
h2{font-size:1.05rem;margin:0 0 .5rem;overflow-wrap:anywhere}
header p{margin:.25rem 0}
.totals{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:.5rem 0;padding:0}
section{border:1px solid #8886;border-radius:.5rem;margin:1rem 0;padding:.75rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem;margin:0 0 .75rem}
dt{opacity:.75}
dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,monospace;font-size:.9em}
.label{opacity:.75;margin-right:.35em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;min-width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #8886;padding:.3rem .5rem;text-align:left;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
.via{display:block;font-size:.85em;opacity:.75}
.empty,footer{opacity:.75}
footer{font-size:.85rem;margin-top:1.5rem}
`;

function renderHeader(snapshot: StatsSnapshot, filtered: boolean): string {
  let seeders = 0;
  let leechers = 0;
  let peers = 0;
  for (const torrent of snapshot.torrents) {
    seeders += torrent.counts.complete;
    leechers += torrent.counts.incomplete;
    peers += torrent.peers.length;
  }
  const taken = new Date(snapshot.takenAt).toISOString();
  const lines = [
    `<header>`,
    `<h1>NoBrake tracker stats</h1>`,
    `<p>Snapshot at <time datetime="${taken}">${taken}</time>` +
    (snapshot.openMode ? ` · open mode` : "") + `</p>`,
    `<ul class="totals">`,
    `<li>Torrents: ${snapshot.torrents.length}</li>`,
    `<li>Seeders: ${seeders}</li>`,
    `<li>Leechers: ${leechers}</li>`,
    `<li>Peers: ${peers}</li>`,
    `</ul>`,
  ];
  if (filtered) lines.push(`<p><a href="/stats">← All torrents</a></p>`);
  lines.push(`</header>`);
  return lines.join("\n");
}

function renderTorrent(torrent: TorrentView): string {
  const { counts } = torrent;
  // Open mode knows no names: the v1 hash (or the only hash) stands in for one.
  const title = torrent.name === null
    ? `<code>${byteStringToHex(torrent.infoHashes[0] ?? "")}</code>`
    : escapeHtml(torrent.name);
  const size = torrent.size === null
    ? "?"
    : `<span title="${exactBytes(torrent.size)}">${formatBytes(torrent.size)}</span>`;
  // BEP 21: `incomplete` counts partial seeds, `downloaders` does not.
  const partialSeeds = Math.max(0, counts.incomplete - counts.downloaders);
  return `<section>
<h2>${title}</h2>
<dl>
<dt>Size</dt><dd>${size}</dd>
<dt>${torrent.infoHashes.length > 1 ? "Info hashes" : "Info hash"}</dt><dd>${
    renderHashes(torrent.infoHashes)
  }</dd>
<dt>Completed</dt><dd>${counts.downloaded}</dd>
<dt>Seeders</dt><dd>${counts.complete}</dd>
<dt>Leechers</dt><dd>${counts.incomplete}</dd>
<dt>Partial seeds</dt><dd>${partialSeeds}</dd>
</dl>
${renderPeers(torrent.peers, torrent.size)}
</section>`;
}

/** Each hash links to the page filtered on it; a hybrid torrent (BEP 52) lists v1 then v2. */
function renderHashes(hashes: ByteString[]): string {
  const labelled = hashes.length === 2;
  return hashes.map((hash, i) => {
    const label = labelled ? `<span class="label">v${i + 1}</span>` : "";
    const link = `<a href="/stats?info_hash=${percentEncodeAll(hash)}"><code>${
      byteStringToHex(hash)
    }</code></a>`;
    return `<div>${label}${link}</div>`;
  }).join("");
}

/**
 * `%XX` for every byte, not `encodeURIComponent`: the hash is raw bytes, not UTF-8 text, and the
 * tracker's query parser decodes `info_hash` byte for byte.
 */
function percentEncodeAll(bytes: ByteString): string {
  let out = "";
  for (const byte of byteStringToBytes(bytes)) {
    out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function renderPeers(peers: PeerView[], size: number | null): string {
  if (peers.length === 0) return `<p class="empty">No peers.</p>`;
  const rows = peers.map((peer) => renderPeer(peer, size)).join("\n");
  return `<div class="scroll">
<table>
<thead><tr><th scope="col">Address</th><th scope="col" class="num">Done</th>` +
    `<th scope="col" class="num">Uploaded</th><th scope="col" class="num">Downloaded</th>` +
    `<th scope="col">Client</th><th scope="col" class="num">Seen</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>`;
}

function renderPeer(peer: PeerView, size: number | null): string {
  // As the original did: when a peer announced another address than it connected from, show both.
  const via = peer.connectionAddress !== null && peer.connectionAddress !== peer.address
    ? `<span class="via">via ${escapeHtml(peer.connectionAddress)}</span>`
    : "";
  const client = peer.userAgent === ""
    ? `<span class="empty">—</span>`
    : escapeHtml(peer.userAgent);
  const seen = Math.max(0, Math.round(peer.secondsSinceSeen));
  return `<tr><td>${escapeHtml(peer.address)}${via}</td>` +
    `<td class="num">${percentComplete(peer, size)}</td>` +
    `<td class="num">${bytesCell(peer.uploaded)}</td>` +
    `<td class="num">${bytesCell(peer.downloaded)}</td>` +
    `<td>${client}</td>` +
    `<td class="num" title="seconds since last announce">${seen} s ago</td></tr>`;
}

/**
 * "seed" for a seeder, else the share of `size` not `left`, floored to 0.1 % so a peer missing
 * one piece never reads "100%"; "?" when the size is unknown (open mode). A BEP 21 partial seed
 * is marked as such, since it will not reach 100 %.
 */
function percentComplete(peer: PeerView, size: number | null): string {
  if (peer.seeder) return "seed";
  let text = "?";
  if (size !== null && size > 0) {
    const ratio = Math.min(1, Math.max(0, (size - peer.left) / size));
    text = `${(Math.floor(ratio * 1000) / 10).toFixed(1)}%`;
  }
  return peer.partialSeed ? `${text} (partial seed)` : text;
}

function bytesCell(bytes: number): string {
  return `<span title="${exactBytes(bytes)}">${formatBytes(bytes)}</span>`;
}

function exactBytes(bytes: number): string {
  return `${bytes} bytes`;
}
