/**
 * Parses what a WebTorrent client sends a WebSocket tracker: one JSON text per message, an
 * `announce` (possibly with WebRTC `offers`, or an `answer` to one offer) or a `scrape`. Every
 * field is checked once here, so the core and the transport trust the typed result.
 *
 * The ids (`info_hash`, `peer_id`, `offer_id`, `to_peer_id`) are "binary strings" on this wire:
 * 20 JSON characters whose code points are 0–255, one per byte. They are kept as such (they are
 * the tracker's `ByteString`s already). Offers and answers are WebRTC session descriptions; only
 * their `type` and `sdp` are relayed, so a client cannot make the tracker carry other fields.
 *
 * Does not: decide what is allowed (core), hold any state, or encode replies (`ws_reply.ts`).
 *
 * @module
 */
import type { ByteString } from "./byte_string.ts";
import { ClientError } from "./client_error.ts";
import type { AnnounceEvent } from "./messages.ts";
import { MAX_SCRAPE_HASHES } from "./scrape_request.ts";

/** A WebRTC session description as relayed: `type` is `"offer"` or `"answer"`. */
export interface SessionDescription {
  type: string;
  sdp: string;
}

/** One offer of an announce: who it is for is the tracker's choice. */
export interface WsOffer {
  offerId: ByteString;
  offer: SessionDescription;
}

/** An announce over WebSocket, checked, with `numwant` clamped. */
export interface WsAnnounce {
  action: "announce";
  infoHash: ByteString;
  peerId: ByteString;
  event: AnnounceEvent;
  /** Bytes left; `null` when the client does not know yet (a magnet link without metadata). */
  left: number | null;
  uploaded: number;
  downloaded: number;
  /** Offers to relay: at most `numwant`, at most the tracker's cap. */
  offers: WsOffer[];
  /** The answer to one offer this peer was sent, or `null` for a plain announce. */
  answer: WsAnswer | null;
}

/** An answer: for `offerId`, sent by `toPeerId`. */
export interface WsAnswer {
  toPeerId: ByteString;
  offerId: ByteString;
  answer: SessionDescription;
}

/** A scrape: the hashes asked for, deduplicated, or `null` for every public torrent. */
export interface WsScrape {
  action: "scrape";
  infoHashes: ByteString[] | null;
}

/** Any request the WebSocket tracker answers. */
export type WsRequest = WsAnnounce | WsScrape;

/** How offers are capped. */
export interface WsLimits {
  /** The most offers relayed for one announce, whatever `numwant` says. */
  maxOffers: number;
}

/** Most characters of an SDP relayed (a browser's data-channel offer is 300–1,500). */
export const MAX_SDP_LENGTH = 16 * 1024;

const EVENTS: Readonly<Record<string, AnnounceEvent>> = {
  started: "started",
  stopped: "stopped",
  completed: "completed",
  paused: "paused",
  update: "none",
  empty: "none",
  "": "none",
};

/** Parses one text message. Throws `ClientError` for anything malformed. */
export function parseWsRequest(text: string, limits: WsLimits): WsRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ClientError("message is not JSON");
  }
  if (!isObject(value)) throw new ClientError("message must be a JSON object");
  switch (value.action) {
    case "announce":
      return parseAnnounce(value, limits);
    case "scrape":
      return parseScrape(value);
    default:
      throw new ClientError('action must be "announce" or "scrape"');
  }
}

function parseAnnounce(value: Record<string, unknown>, limits: WsLimits): WsAnnounce {
  const infoHash = twentyByteString(value.info_hash, "info_hash");
  const peerId = twentyByteString(value.peer_id, "peer_id");
  const rawEvent = value.event ?? "";
  if (typeof rawEvent !== "string" || !Object.hasOwn(EVENTS, rawEvent)) {
    throw new ClientError("event must be started, stopped, completed, paused or update");
  }
  const event = EVENTS[rawEvent]!;
  const answer = value.answer === undefined || value.answer === null ? null : {
    toPeerId: twentyByteString(value.to_peer_id, "to_peer_id"),
    offerId: twentyByteString(value.offer_id, "offer_id"),
    answer: sessionDescription(value.answer, "answer"),
  };
  return {
    action: "announce",
    infoHash,
    peerId,
    event,
    left: optionalCount(value.left, "left", null),
    uploaded: optionalCount(value.uploaded, "uploaded", 0) ?? 0,
    downloaded: optionalCount(value.downloaded, "downloaded", 0) ?? 0,
    offers: answer === null ? parseOffers(value, limits) : [],
    answer,
  };
}

/** The offers to relay: the first `min(numwant, maxOffers)` of them, each checked. */
function parseOffers(value: Record<string, unknown>, limits: WsLimits): WsOffer[] {
  const offers = value.offers;
  if (offers === undefined || offers === null) return [];
  if (!Array.isArray(offers)) throw new ClientError("offers must be an array");
  // Without numwant the client wants every offer it sent relayed, up to the cap.
  let want = offers.length;
  if (value.numwant !== undefined && value.numwant !== null) {
    if (
      typeof value.numwant !== "number" || !Number.isInteger(value.numwant) || value.numwant < 0
    ) {
      throw new ClientError("numwant must be a non-negative integer");
    }
    want = value.numwant;
  }
  const count = Math.min(offers.length, want, limits.maxOffers);
  const checked: WsOffer[] = [];
  for (let i = 0; i < count; i++) {
    const offer = offers[i];
    if (!isObject(offer)) throw new ClientError("each offer must be an object");
    checked.push({
      offerId: twentyByteString(offer.offer_id, "offer_id"),
      offer: sessionDescription(offer.offer, "offer"),
    });
  }
  return checked;
}

function parseScrape(value: Record<string, unknown>): WsScrape {
  const raw = value.info_hash;
  if (raw === undefined || raw === null) return { action: "scrape", infoHashes: null };
  const list = Array.isArray(raw) ? raw : [raw];
  // An empty list is what a client sends for "all" when it has no hash to name.
  if (list.length === 0) return { action: "scrape", infoHashes: null };
  if (list.length > MAX_SCRAPE_HASHES) {
    throw new ClientError(`a scrape may name at most ${MAX_SCRAPE_HASHES} info_hash values`);
  }
  const seen = new Set<ByteString>();
  for (const hash of list) seen.add(twentyByteString(hash, "info_hash"));
  return { action: "scrape", infoHashes: [...seen] };
}

/** A 20-character string of code points 0–255, or a `ClientError` naming the field. */
export function twentyByteString(value: unknown, field: string): ByteString {
  if (typeof value !== "string") throw new ClientError(`${field} must be a string`);
  if (value.length !== 20) {
    throw new ClientError(`${field} must be 20 bytes, got ${value.length}`);
  }
  for (let i = 0; i < 20; i++) {
    if (value.charCodeAt(i) > 0xff) {
      throw new ClientError(`${field} must be a binary string (code points 0-255)`);
    }
  }
  return value;
}

function sessionDescription(value: unknown, field: "offer" | "answer"): SessionDescription {
  if (!isObject(value) || typeof value.sdp !== "string") {
    throw new ClientError(`${field} must be an object with an sdp string`);
  }
  if (value.type !== field) throw new ClientError(`${field} type must be "${field}"`);
  if (value.sdp.length > MAX_SDP_LENGTH) {
    throw new ClientError(`${field} sdp is longer than ${MAX_SDP_LENGTH} characters`);
  }
  return { type: field, sdp: value.sdp };
}

/**
 * A byte count: a non-negative safe integer (or its decimal string, as some clients send);
 * `fallback` when absent or `null` (JSON's spelling of the `Infinity` a client sends for
 * "unknown").
 */
function optionalCount(value: unknown, field: string, fallback: number | null): number | null {
  if (value === undefined || value === null) return fallback;
  const number = typeof value === "string" && /^[0-9]{1,16}$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw new ClientError(`${field} must be a non-negative integer`);
  }
  return number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
