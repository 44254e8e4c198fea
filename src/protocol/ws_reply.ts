/**
 * Encodes what the WebSocket tracker sends a WebTorrent client, as JSON text: the announce reply,
 * a relayed offer or answer, the scrape reply and a failure. Ids stay binary strings (one code
 * point per byte), which is how the client compares them.
 *
 * @module
 */
import type { ByteString } from "./byte_string.ts";
import type { ScrapeEntry, SwarmCounts } from "./messages.ts";
import type { SessionDescription } from "./ws_request.ts";

/** The reply to an announce: the swarm's counts and when to announce next. */
export function encodeWsAnnounceReply(
  infoHash: ByteString,
  counts: SwarmCounts,
  interval: number,
): string {
  return JSON.stringify({
    action: "announce",
    interval,
    info_hash: infoHash,
    complete: counts.complete,
    incomplete: counts.incomplete,
  });
}

/** An offer relayed from `fromPeerId` to another peer of the swarm. */
export function encodeWsOffer(
  infoHash: ByteString,
  fromPeerId: ByteString,
  relayed: { offerId: ByteString; offer: SessionDescription },
): string {
  return JSON.stringify({
    action: "announce",
    info_hash: infoHash,
    peer_id: fromPeerId,
    offer_id: relayed.offerId,
    offer: relayed.offer,
  });
}

/** An answer relayed back from `fromPeerId` to the peer whose offer it answers. */
export function encodeWsAnswer(
  infoHash: ByteString,
  fromPeerId: ByteString,
  relayed: { offerId: ByteString; answer: SessionDescription },
): string {
  return JSON.stringify({
    action: "announce",
    info_hash: infoHash,
    peer_id: fromPeerId,
    offer_id: relayed.offerId,
    answer: relayed.answer,
  });
}

/** The reply to a scrape: `files` keyed by binary info hash. */
export function encodeWsScrapeReply(entries: readonly ScrapeEntry[]): string {
  const files: Record<string, { complete: number; incomplete: number; downloaded: number }> = {};
  for (const entry of entries) {
    files[entry.infoHash] = {
      complete: entry.complete,
      incomplete: entry.incomplete,
      downloaded: entry.downloaded,
    };
  }
  return JSON.stringify({ action: "scrape", files });
}

/**
 * A refusal. The client reads `failure reason` only from a message whose `info_hash` is one of its
 * torrents, so it is included when known; `retry in` as in BEP 31.
 */
export function encodeWsFailure(
  reason: string,
  options: {
    action?: "announce" | "scrape";
    infoHash?: ByteString | null;
    retryIn?: number | null;
  },
): string {
  const message: Record<string, unknown> = { action: options.action ?? "announce" };
  if (options.infoHash != null) message.info_hash = options.infoHash;
  message["failure reason"] = reason;
  if (options.retryIn != null) message["retry in"] = options.retryIn;
  return JSON.stringify(message);
}
