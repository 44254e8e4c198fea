/**
 * /stats.json: the data of the /stats page as JSON, a pure function of a {@linkcode StatsSnapshot}.
 * The shape is documented in `docs/stats-api.md` and its keys are stable: every key is present
 * in every reply (`null` where a value is unknown or hidden), snake_case, hashes in lowercase hex,
 * times as ISO 8601 UTC strings, series oldest first.
 *
 * Strings from clients and `.torrent` files are JSON-escaped, and `<` is written `\u003c`, so
 * the body stays inert even if something renders it as HTML.
 *
 * @module
 */
import { FAILURE_REASONS, PROTOCOLS, RATE_SLOT_SECONDS, requestRate } from "./stats_counters.ts";
import type { PeerView, StatsSnapshot, TorrentView } from "./stats_snapshot.ts";
import { HISTORY_STEP_SECONDS } from "./swarm_history.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";

/** Windows of `requests.per_second`, by key. */
const WINDOWS: readonly [string, number][] = [
  ["1m", 60],
  ["5m", 300],
  ["15m", 900],
  ["1h", 3600],
];

/** Renders `snapshot` as the /stats.json body. */
export function renderStatsJson(snapshot: StatsSnapshot, options: { version: string }): string {
  const { totals, requests, page } = snapshot;
  const perProtocol = (values: Record<string, number>) =>
    Object.fromEntries(PROTOCOLS.map((protocol) => [protocol, values[protocol]]));
  const rates = (kind: "announces" | "scrapes") =>
    Object.fromEntries(
      WINDOWS.map(([key, seconds]) => [key, round3(requestRate(requests, kind, seconds))]),
    );
  const value = {
    version: options.version,
    generated_at: iso(snapshot.takenAt),
    started_at: iso(requests.startedAt),
    uptime_seconds: Math.max(0, Math.floor((snapshot.takenAt - requests.startedAt) / 1000)),
    open_mode: snapshot.openMode,
    peer_addresses_hidden: snapshot.peerAddressesHidden,
    totals: {
      torrents: totals.torrents,
      seeders: totals.seeders,
      leechers: totals.leechers,
      peers: totals.ipv4 + totals.ipv6 + totals.websocket,
      peers_ipv4: totals.ipv4,
      peers_ipv6: totals.ipv6,
      peers_http: totals.http,
      peers_udp: totals.udp,
      peers_websocket: totals.websocket,
    },
    requests: {
      announces: perProtocol(requests.announces),
      scrapes: perProtocol(requests.scrapes),
      failures: Object.fromEntries(PROTOCOLS.map((protocol) => [
        protocol,
        Object.fromEntries(
          FAILURE_REASONS.map((reason) => [reason, requests.failures[protocol][reason]]),
        ),
      ])),
      per_second: { announces: rates("announces"), scrapes: rates("scrapes") },
      last_hour: {
        step_seconds: RATE_SLOT_SECONDS,
        start: iso(requests.recent.firstSlotStart),
        announces: requests.recent.announces,
        scrapes: requests.recent.scrapes,
      },
    },
    page: {
      number: page.number,
      pages: page.pages,
      per_page: page.size,
      torrents: page.matching,
    },
    torrents: snapshot.torrents.map(torrentJson),
  };
  return JSON.stringify(value).replaceAll("<", "\\u003c") + "\n";
}

function torrentJson(torrent: TorrentView) {
  return {
    info_hashes: torrent.infoHashes.map(byteStringToHex),
    name: torrent.name,
    size: torrent.size,
    complete: torrent.counts.complete,
    incomplete: torrent.counts.incomplete,
    downloaders: torrent.counts.downloaders,
    downloaded: torrent.counts.downloaded,
    peer_count: torrent.peerCount,
    last_hour: {
      step_seconds: HISTORY_STEP_SECONDS,
      seeders: torrent.history.seeders,
      leechers: torrent.history.leechers,
    },
    peers: torrent.peers.map(peerJson),
  };
}

function peerJson(peer: PeerView) {
  return {
    address: peer.address,
    connection_address: peer.connectionAddress,
    family: peer.family === 4 ? "ipv4" : "ipv6",
    protocol: peer.protocol,
    seeder: peer.seeder,
    partial_seed: peer.partialSeed,
    left: peer.left,
    uploaded: peer.uploaded,
    downloaded: peer.downloaded,
    user_agent: peer.userAgent,
    seconds_since_seen: peer.secondsSinceSeen,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
