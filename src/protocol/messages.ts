/**
 * The typed messages shared by the protocol parsers, the tracker core and the transports: what an
 * announce and a scrape ask for, and what the core answers. Nothing here does work.
 *
 * @module
 */
import type { ByteString } from "./byte_string.ts";

/** The `event` of an announce; `"none"` is a regular interval announce (BEP 3, BEP 21 `paused`). */
export type AnnounceEvent = "none" | "started" | "completed" | "stopped" | "paused";

/** An announce as parsed from the wire: every field checked, clamped and defaulted once. */
export interface AnnounceRequest {
  /** 20 raw bytes. */
  infoHash: ByteString;
  /** 20 raw bytes. */
  peerId: ByteString;
  /** 1..65535. */
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes the peer still wants; 0 means it is a seeder. */
  left: number;
  event: AnnounceEvent;
  /** Already clamped to the configured cap. */
  numwant: number;
  /** BEP 23 compact reply; only meaningful over HTTP. */
  compact: boolean;
  /** Leave `peer id` out of a non-compact reply. */
  noPeerId: boolean;
  /** The client's `key`, identifying it across address changes; `null` when absent. */
  key: string | null;
  /** `ip=`, `ipv4=` and `ipv6=` already parsed to 4 or 16 address bytes; `null` when absent or invalid. */
  claimedIp: Uint8Array | null;
  claimedIpv4: Uint8Array | null;
  claimedIpv6: Uint8Array | null;
}

/** Which transport a request arrived on (for stats); `websocket` is the WebTorrent tracker. */
export type Transport = "http" | "udp" | "websocket";

/** Swarm counts, as in a scrape (BEP 48) plus BEP 21 `downloaders`. */
export interface SwarmCounts {
  /** Seeders. */
  complete: number;
  /** Leechers, partial seeds included. */
  incomplete: number;
  /** Leechers that are not partial seeds (BEP 21). */
  downloaders: number;
  /** Completed downloads ever counted. */
  downloaded: number;
}

/** The core's answer to an announce. Peer lists are BEP 23 compact entries. */
export interface AnnounceResult extends SwarmCounts {
  /** 6 bytes per IPv4 peer: address then port, big-endian. */
  peers4: Uint8Array;
  /** 18 bytes per IPv6 peer. */
  peers6: Uint8Array;
  /** 20 bytes per entry of `peers4`, when `wantPeerIds` was set. */
  peerIds4: Uint8Array | null;
  /** 20 bytes per entry of `peers6`, when `wantPeerIds` was set. */
  peerIds6: Uint8Array | null;
}

/** One torrent in a scrape reply. */
export interface ScrapeEntry extends SwarmCounts {
  infoHash: ByteString;
}
