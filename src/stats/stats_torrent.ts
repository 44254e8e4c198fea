/**
 * One torrent's section of the /stats page: name, size, info hash(es), counts, a chart of its
 * swarm over the last hour, and its peer table (address, progress, traffic, client, transport,
 * last seen), as NoBrakeTracker showed them.
 *
 * Pure. Every string from a client or a `.torrent` file goes through {@linkcode escapeHtml};
 * hashes are shown as hex and linked percent-encoded.
 *
 * @module
 */
import type { PeerView, TorrentView } from "./stats_snapshot.ts";
import { type ByteString, byteStringToBytes, byteStringToHex } from "../protocol/byte_string.ts";
import { formatBytes } from "./format_bytes.ts";
import { escapeHtml } from "./html_escape.ts";
import { renderLineChart } from "./svg_chart.ts";

/** How the page shows a torrent. */
export interface TorrentSectionOptions {
  /** Peer addresses are hidden (`stats_hide_peers`): the address column is left out. */
  peerAddressesHidden: boolean;
  /** The page lists one torrent: no link to "all peers". */
  filtered: boolean;
}

/** The `<section>` of one torrent. */
export function renderTorrent(torrent: TorrentView, options: TorrentSectionOptions): string {
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
<div class="overview">
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
${renderSwarmChart(torrent)}
</div>
${renderPeers(torrent, options)}
</section>`;
}

function renderSwarmChart(torrent: TorrentView): string {
  const { seeders, leechers } = torrent.history;
  const chart = renderLineChart([
    { values: leechers, className: "leechers" },
    { values: seeders, className: "seeders" },
  ], {
    label: `Seeders and leechers over the last hour, now ${torrent.counts.complete} seeders ` +
      `and ${torrent.counts.incomplete} leechers`,
  });
  let peak = 0;
  for (const value of [...seeders, ...leechers]) peak = Math.max(peak, value ?? 0);
  return `<figure class="swarm-chart">${chart}<figcaption>` +
    `<span class="key seeders">seeders</span> <span class="key leechers">leechers</span> ` +
    `· last hour · peak ${peak}</figcaption></figure>`;
}

/** Each hash links to the page filtered on it; a hybrid torrent (BEP 52) lists v1 then v2. */
function renderHashes(hashes: ByteString[]): string {
  const labelled = hashes.length === 2;
  return hashes.map((hash, i) => {
    const label = labelled ? `<span class="label">v${i + 1}</span>` : "";
    const link = `<a href="${filterLink(hash)}"><code>${byteStringToHex(hash)}</code></a>`;
    return `<div>${label}${link}</div>`;
  }).join("");
}

/** The link to the page showing only this torrent. */
function filterLink(hash: ByteString): string {
  return `/stats?info_hash=${percentEncodeAll(hash)}`;
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

function renderPeers(torrent: TorrentView, options: TorrentSectionOptions): string {
  const { peers } = torrent;
  if (torrent.peerCount === 0) return `<p class="empty">No peers.</p>`;
  const showAddress = !options.peerAddressesHidden;
  const rows = peers.map((peer) => renderPeer(peer, torrent.size, showAddress)).join("\n");
  let more = "";
  if (torrent.peerCount > peers.length) {
    const all = options.filtered || torrent.infoHashes.length === 0
      ? ""
      : ` <a href="${filterLink(torrent.infoHashes[0])}">Show this torrent alone</a>`;
    more = `\n<p class="more">Showing ${peers.length} of ${torrent.peerCount} peers.${all}</p>`;
  }
  return `<div class="scroll">
<table>
<thead><tr>${showAddress ? `<th scope="col">Address</th>` : ""}` +
    `<th scope="col" class="num">Done</th>` +
    `<th scope="col" class="num">Uploaded</th><th scope="col" class="num">Downloaded</th>` +
    `<th scope="col">Client</th><th scope="col">Transport</th>` +
    `<th scope="col" class="num">Seen</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>${more}`;
}

function renderPeer(peer: PeerView, size: number | null, showAddress: boolean): string {
  let address = "";
  if (showAddress) {
    // As the original did: when a peer announced another address than it connected from, show both.
    const via = peer.connectionAddress !== null && peer.connectionAddress !== peer.address
      ? `<span class="via">via ${escapeHtml(peer.connectionAddress)}</span>`
      : "";
    address = `<td>${escapeHtml(peer.address ?? "")}${via}</td>`;
  }
  const client = peer.userAgent === ""
    ? `<span class="empty">—</span>`
    : `<span class="agent">${escapeHtml(peer.userAgent)}</span>`;
  const seen = Math.max(0, Math.round(peer.secondsSinceSeen));
  return `<tr>${address}` +
    `<td class="num">${percentComplete(peer, size)}</td>` +
    `<td class="num">${bytesCell(peer.uploaded)}</td>` +
    `<td class="num">${bytesCell(peer.downloaded)}</td>` +
    `<td>${client}</td>` +
    `<td>${peer.protocol === "udp" ? "UDP" : "HTTP"} · IPv${peer.family}</td>` +
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
