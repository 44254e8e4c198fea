/**
 * The shape of what /stats and /stats.json show: a plain, already-filtered value the tracker core
 * produces (`takeStatsSnapshot`) and pure renderers turn into HTML or JSON. Secret torrents are
 * left out before a snapshot is built, unless the request named their hash.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import type { CountersSnapshot } from "./stats_counters.ts";
import type { SwarmSeries } from "./swarm_history.ts";
import type { SwarmCounts, Transport } from "../protocol/messages.ts";

/** One peer as the stats page shows it. Every string may come from a stranger: escape it. */
export interface PeerView {
  /**
   * `"1.2.3.4:6881"` or `"[2001:db8::1]:6881"`: the address other peers are told to dial; `null`
   * when the operator hides peer addresses (`stats_hide_peers`).
   */
  address: string | null;
  /** The address the announce came from, when it differs from `address` (`ip=` was trusted). */
  connectionAddress: string | null;
  /** 4 for IPv4, 6 for IPv6. */
  family: 4 | 6;
  /** The transport of the peer's last announce. */
  protocol: Transport;
  seeder: boolean;
  /** BEP 21 partial seed (announced `event=paused`). */
  partialSeed: boolean;
  /** Bytes left, uploaded and downloaded, as last announced. */
  left: number;
  uploaded: number;
  downloaded: number;
  /** The client's `User-Agent` header (may be `""`). */
  userAgent: string;
  /** Seconds since the peer's last announce. */
  secondsSinceSeen: number;
}

/** One torrent as the stats page shows it. A hybrid torrent is one entry with two hashes. */
export interface TorrentView {
  /** Its info hashes (v1 first, then v2), 20 raw bytes each. */
  infoHashes: ByteString[];
  /** From the `.torrent` file; `null` in open mode. */
  name: string | null;
  /** Total bytes; `null` in open mode. */
  size: number | null;
  /** Counts over all its hashes; a peer announcing under both hashes is counted once. */
  counts: SwarmCounts;
  /** Peers shown, at most the snapshot's per-torrent cap (seeders first). */
  peers: PeerView[];
  /** Peers in the torrent (distinct), which may be more than `peers` lists. */
  peerCount: number;
  /**
   * Swarm sizes over the last hour, one entry per minute, oldest first; `null` where no sample
   * was taken. The last entry is the size at `takenAt`.
   */
  history: SwarmSeries;
}

/** Tracker-wide counts over the torrents the page may list (secret torrents are left out). */
export interface StatsTotals {
  torrents: number;
  seeders: number;
  /** Leechers, partial seeds included. */
  leechers: number;
  /** Peers by address family and by the transport of their last announce. */
  ipv4: number;
  ipv6: number;
  http: number;
  udp: number;
  /** WebSocket (WebTorrent) peers: counted apart, as they have no address family. */
  websocket: number;
}

/** Which part of the sorted torrent list a snapshot holds. */
export interface PageInfo {
  /** 1-based page number shown. */
  number: number;
  /** Page count (at least 1). */
  pages: number;
  /** Torrents per page. */
  size: number;
  /** Torrents in the whole list (one, or none, when the request named an `info_hash`). */
  matching: number;
}

/** Everything one /stats page shows. */
export interface StatsSnapshot {
  /** When the snapshot was taken, in milliseconds since the epoch. */
  takenAt: number;
  /** True when the tracker runs in open mode. */
  openMode: boolean;
  /** The page of torrents, largest swarms first. */
  torrents: TorrentView[];
  totals: StatsTotals;
  page: PageInfo;
  /** Peer addresses left out (`stats_hide_peers`): every `PeerView.address` is `null`. */
  peerAddressesHidden: boolean;
  /** Request counters and the last hour of request rates. */
  requests: CountersSnapshot;
}
