/**
 * The /stats page: a pure function from a {@linkcode StatsSnapshot} to one self-contained HTML5
 * document. It keeps what NoBrakeTracker's /stats showed (per torrent: name, size, hash, counts;
 * per peer: address, progress, traffic, client, last seen) and adds what an operator looks at
 * first: totals by address family and transport, request rates, uptime and version, and small
 * charts of the last hour. It is readable on a phone: tables scroll sideways inside their box.
 *
 * It does not choose what to show (the core filters secret torrents, applies `info_hash` and cuts
 * the page), read the clock, or set headers (the HTTP handler does). Every string that came from a
 * client or a `.torrent` file goes through {@linkcode escapeHtml}; the page has no script and
 * loads nothing, so a strict Content-Security-Policy fits it.
 *
 * @module
 */
import { RATE_SLOT_SECONDS, requestRate } from "./stats_counters.ts";
import type { StatsSnapshot } from "./stats_snapshot.ts";
import { escapeHtml } from "./html_escape.ts";
import { STATS_STYLE } from "./stats_style.ts";
import { renderTorrent } from "./stats_torrent.ts";
import { renderLineChart } from "./svg_chart.ts";

/** Options for {@linkcode renderStatsPage}. */
export interface StatsPageOptions {
  /** The tracker version, shown in the header and footer. */
  version: string;
  /** True when the request named an `info_hash`: the page then links back to the full list. */
  filtered: boolean;
}

/** Windows of the rate table, in seconds. */
const RATE_WINDOWS: readonly [string, number][] = [
  ["1 min", 60],
  ["5 min", 300],
  ["15 min", 900],
  ["1 h", 3600],
];

/** Renders the whole /stats page for `snapshot`. */
export function renderStatsPage(snapshot: StatsSnapshot, options: StatsPageOptions): string {
  const sectionOptions = {
    peerAddressesHidden: snapshot.peerAddressesHidden,
    filtered: options.filtered,
  };
  const body = snapshot.torrents.length === 0
    ? `<p class="empty">No torrents.</p>`
    : snapshot.torrents.map((torrent) => renderTorrent(torrent, sectionOptions)).join("\n");
  const pager = options.filtered ? "" : renderPager(snapshot);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>NoBrake tracker stats</title>
<style>${STATS_STYLE}</style>
</head>
<body>
${renderHeader(snapshot, options)}
<main>
${pager}${body}
${pager}</main>
<footer>NoBrake ${escapeHtml(options.version)}</footer>
</body>
</html>
`;
}

function renderHeader(snapshot: StatsSnapshot, options: StatsPageOptions): string {
  const { totals, requests } = snapshot;
  const taken = new Date(snapshot.takenAt).toISOString();
  const uptime = Math.max(0, Math.floor((snapshot.takenAt - requests.startedAt) / 1000));
  const peers = totals.ipv4 + totals.ipv6 + totals.websocket;
  const lines = [
    `<header>`,
    `<h1>NoBrake tracker stats</h1>`,
    `<p class="meta">Snapshot at <time datetime="${taken}">${taken}</time>` +
    (snapshot.openMode ? ` · open mode` : "") +
    ` · up <span title="${uptime} seconds">${formatDuration(uptime)}</span>` +
    ` · version ${escapeHtml(options.version)}</p>`,
    `<ul class="totals">`,
    `<li>Torrents: ${totals.torrents}</li>`,
    `<li>Seeders: ${totals.seeders}</li>`,
    `<li>Leechers: ${totals.leechers}</li>`,
    `<li>Peers: ${peers}</li>`,
    `<li>IPv4 ${totals.ipv4} · IPv6 ${totals.ipv6}</li>`,
    `<li>HTTP ${totals.http} · UDP ${totals.udp} · WebSocket ${totals.websocket}</li>`,
    `</ul>`,
    renderRequests(snapshot),
  ];
  if (snapshot.peerAddressesHidden) {
    lines.push(`<p class="note">Peer addresses are hidden on this tracker.</p>`);
  }
  if (options.filtered) lines.push(`<p><a href="/stats">← All torrents</a></p>`);
  lines.push(`</header>`);
  return lines.join("\n");
}

/** Requests per second over several windows, and a chart of the last hour in 10-second steps. */
function renderRequests(snapshot: StatsSnapshot): string {
  const { requests } = snapshot;
  const heads = RATE_WINDOWS.map(([name]) => `<th scope="col" class="num">${name}</th>`).join("");
  const row = (label: string, kind: "announces" | "scrapes", className: string) =>
    `<tr><th scope="row"><span class="key ${className}">${label}</span></th>` +
    RATE_WINDOWS.map(([, seconds]) =>
      `<td class="num">${formatRate(requestRate(requests, kind, seconds))}</td>`
    ).join("") + `</tr>`;
  let failures = 0;
  for (const reasons of Object.values(requests.failures)) {
    for (const count of Object.values(reasons)) failures += count;
  }
  const answered = requests.announces.http + requests.announces.udp;
  const scrapes = requests.scrapes.http + requests.scrapes.udp;
  // Slots that ended before the tracker started are no data, not zero; the current slot is
  // still filling, and drawn it would read as a drop.
  const { firstSlotStart } = requests.recent;
  const sinceStart = (values: number[]) =>
    values.map((value, i) =>
      i === values.length - 1 ||
        firstSlotStart + (i + 1) * RATE_SLOT_SECONDS * 1000 <= requests.startedAt
        ? null
        : value
    );
  const chart = renderLineChart([
    { values: sinceStart(requests.recent.scrapes), className: "scrapes" },
    { values: sinceStart(requests.recent.announces), className: "announces" },
  ], { label: "Announces and scrapes per 10 seconds over the last hour", width: 360 });
  return `<div class="requests">
<div class="scroll"><table class="rates">
<thead><tr><th scope="col">per second</th>${heads}</tr></thead>
<tbody>
${row("Announces", "announces", "announces")}
${row("Scrapes", "scrapes", "scrapes")}
</tbody>
</table></div>
<figure class="request-chart">${chart}<figcaption>Requests per 10 s, last hour · ` +
    `${answered} announces, ${scrapes} scrapes, ${failures} refused since start</figcaption>` +
    `</figure>
</div>`;
}

/** Links to the neighbouring pages of the torrent list, when it has more than one. */
function renderPager(snapshot: StatsSnapshot): string {
  const { number, pages, size, matching } = snapshot.page;
  if (pages <= 1) return "";
  const first = (number - 1) * size + 1;
  const last = Math.min(matching, number * size);
  const link = (to: number, text: string, rel: string) =>
    `<a href="/stats?page=${to}" rel="${rel}">${text}</a>`;
  return `<nav class="pager" aria-label="Pages">` +
    (number > 1 ? link(number - 1, "← Larger swarms", "prev") : `<span></span>`) +
    `<span>Torrents ${first}–${last} of ${matching} · page ${number} of ${pages}</span>` +
    (number < pages ? link(number + 1, "Smaller swarms →", "next") : `<span></span>`) +
    `</nav>\n`;
}

/** `"42 s"`, `"5 min"`, `"3 h 12 min"`, `"2 d 4 h"`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function formatRate(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond < 10) return perSecond.toFixed(2);
  if (perSecond < 100) return perSecond.toFixed(1);
  return String(Math.round(perSecond));
}
