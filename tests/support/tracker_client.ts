/**
 * A protocol-neutral tracker client for tests: the behaviour suite (`behaviour_suite.ts`) talks
 * to NoBrake through this interface, so the same cases run over HTTP and over UDP.
 *
 * @module
 */

/** One announce, in the terms both protocols share. */
export interface ClientAnnounce {
  /** 20 raw bytes. */
  infoHash: Uint8Array;
  /** 20 raw bytes. */
  peerId: Uint8Array;
  port: number;
  left: number;
  uploaded?: number;
  downloaded?: number;
  event?: "none" | "started" | "completed" | "stopped" | "paused";
  numwant?: number;
  key?: number;
}

/** A peer in a reply. */
export interface ClientPeer {
  ip: string;
  port: number;
}

/** A successful announce reply, or a refusal. */
export type ClientAnnounceReply =
  | {
    ok: true;
    interval: number;
    complete: number;
    incomplete: number;
    peers: ClientPeer[];
  }
  | { ok: false; failure: string };

/** Counts for one hash in a scrape reply. */
export interface ClientScrapeCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/** A tracker client bound to one tracker address. */
export interface TrackerClient {
  /** "http" or "udp", for test names. */
  readonly protocol: string;
  announce(request: ClientAnnounce): Promise<ClientAnnounceReply>;
  /** Counts per requested hash, in request order. */
  scrape(infoHashes: Uint8Array[]): Promise<ClientScrapeCounts[]>;
  close(): void;
}
