/**
 * Bencoded HTTP tracker replies: announce (BEP 3, 7, 23, 24), scrape (BEP 48, BEP 21
 * `downloaders`) and failure (BEP 3, BEP 31 `retry in`). Pure: typed values in, bytes out.
 * Dictionary keys are written in sorted order by hand, as bencode requires.
 *
 * @module
 */
import type { AnnounceResult, ScrapeEntry } from "./messages.ts";
import { asciiBytes, BencodeWriter } from "./bencode_encode.ts";
import { formatIp } from "./ip_address.ts";

/** What the transport adds to the core's answer. */
export interface AnnounceReplyOptions {
  interval: number;
  minInterval: number;
  /** BEP 23: peers as one compact string; otherwise a list of dictionaries. */
  compact: boolean;
  /** Leave `peer id` out of non-compact entries. */
  noPeerId: boolean;
  /** BEP 24: the requester's address as seen by the tracker (4 or 16 bytes). */
  externalIp: Uint8Array | null;
}

// One writer reused by every reply: encoding is synchronous, and `finish()` copies out.
const writer = new BencodeWriter(16 * 1024);

// The keys of an announce reply, encoded once: copying bytes beats a char loop per key.
const OPEN_COMPLETE = asciiBytes("d8:complete");
const DOWNLOADED = asciiBytes("10:downloaded");
const EXTERNAL_IP = asciiBytes("11:external ip");
const INCOMPLETE = asciiBytes("10:incomplete");
const INTERVAL = asciiBytes("8:interval");
const MIN_INTERVAL = asciiBytes("12:min interval");
const PEERS = asciiBytes("5:peers");
const PEERS6 = asciiBytes("6:peers6");
const OPEN_FILES = asciiBytes("d5:filesd");
const DOWNLOADERS = asciiBytes("11:downloaders");
const END = asciiBytes("e");
const END_END = asciiBytes("ee");

/** Encodes an announce reply. */
export function encodeAnnounceReply(
  result: AnnounceResult,
  options: AnnounceReplyOptions,
): Uint8Array<ArrayBuffer> {
  return encodeAnnounceReplyView(result, options).slice();
}

/**
 * Encodes an announce reply into the shared writer and returns a view of it, valid only until
 * the next encode. `new Response(view)` copies it at once (Fetch "extract a body"), so the HTTP
 * handler passes the view and saves a copy and an allocation per announce.
 */
export function encodeAnnounceReplyView(
  result: AnnounceResult,
  options: AnnounceReplyOptions,
): Uint8Array<ArrayBuffer> {
  writer.reset().rawBytes(OPEN_COMPLETE).integer(result.complete);
  writer.rawBytes(DOWNLOADED).integer(result.downloaded);
  if (options.externalIp !== null) writer.rawBytes(EXTERNAL_IP).bytes(options.externalIp);
  writer.rawBytes(INCOMPLETE).integer(result.incomplete);
  writer.rawBytes(INTERVAL).integer(options.interval);
  writer.rawBytes(MIN_INTERVAL).integer(options.minInterval);
  if (options.compact) {
    writer.rawBytes(PEERS).bytes(result.peers4);
    if (result.peers6.length > 0) writer.rawBytes(PEERS6).bytes(result.peers6);
  } else {
    writer.raw("5:peersl");
    writePeerDicts(result.peers4, 4, result.peerIds4, options.noPeerId);
    writePeerDicts(result.peers6, 16, result.peerIds6, options.noPeerId);
    writer.raw("e");
  }
  return writer.raw("e").view();
}

/** Encodes a scrape reply; `entries` may be in any order (bencode needs keys sorted). */
export function encodeScrapeReply(entries: readonly ScrapeEntry[]): Uint8Array<ArrayBuffer> {
  return encodeScrapeReplyView(entries).slice();
}

/** Like `encodeScrapeReply`, as a view valid until the next encode (see `encodeAnnounceReplyView`). */
export function encodeScrapeReplyView(entries: readonly ScrapeEntry[]): Uint8Array<ArrayBuffer> {
  // Byte strings compare like their bytes: every char code is below 256. One entry (the usual
  // scrape) needs no sorted copy.
  const sorted = entries.length < 2
    ? entries
    : [...entries].sort((a, b) => (a.infoHash < b.infoHash ? -1 : 1));
  writer.reset().rawBytes(OPEN_FILES);
  for (const entry of sorted) {
    writer.byteString(entry.infoHash).rawBytes(OPEN_COMPLETE).integer(entry.complete);
    writer.rawBytes(DOWNLOADED).integer(entry.downloaded);
    writer.rawBytes(DOWNLOADERS).integer(entry.downloaders);
    writer.rawBytes(INCOMPLETE).integer(entry.incomplete);
    writer.rawBytes(END);
  }
  return writer.rawBytes(END_END).view();
}

/** Encodes `failure reason`, with BEP 31 `retry in` (minutes, or `"never"`) when given. */
export function encodeFailure(
  reason: string,
  retryInSeconds: number | null = null,
): Uint8Array<ArrayBuffer> {
  writer.reset().raw("d14:failure reason").text(reason);
  if (retryInSeconds !== null) {
    if (Number.isFinite(retryInSeconds)) {
      writer.raw("8:retry in").integer(Math.max(1, Math.ceil(retryInSeconds / 60)));
    } else writer.raw("8:retry in").text("never");
  }
  return writer.raw("e").finish();
}

function writePeerDicts(
  compact: Uint8Array,
  addressLength: 4 | 16,
  peerIds: Uint8Array | null,
  noPeerId: boolean,
): void {
  const entrySize = addressLength + 2;
  for (let i = 0, n = 0; i < compact.length; i += entrySize, n++) {
    const port = (compact[i + addressLength] << 8) | compact[i + addressLength + 1];
    writer.raw("d2:ip").text(formatIp(compact.subarray(i, i + addressLength)));
    if (!noPeerId && peerIds !== null) {
      writer.raw("7:peer id").bytes(peerIds.subarray(n * 20, n * 20 + 20));
    }
    writer.raw("4:port").integer(port).raw("e");
  }
}
