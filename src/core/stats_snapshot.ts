/**
 * The shape of what /stats shows: a plain, already-filtered value the tracker core produces and a
 * pure renderer turns into HTML. Secret torrents are left out before a snapshot is built, unless
 * the request named their hash.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import type { SwarmCounts } from "./types.ts";

/** One peer as the stats page shows it. Every string may come from a stranger: escape it. */
export interface PeerView {
  /** `"1.2.3.4:6881"` or `"[2001:db8::1]:6881"`: the address other peers are told to dial. */
  address: string;
  /** The address the announce came from, when it differs from `address` (`ip=` was trusted). */
  connectionAddress: string | null;
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
  peers: PeerView[];
}

/** Everything one /stats page shows. */
export interface StatsSnapshot {
  /** When the snapshot was taken, in milliseconds since the epoch. */
  takenAt: number;
  /** True when the tracker runs in open mode. */
  openMode: boolean;
  /** Torrents in display order. */
  torrents: TorrentView[];
}
