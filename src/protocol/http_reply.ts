/**
 * Bencoded HTTP tracker replies: announce (BEP 3, 7, 23, 24), scrape (BEP 48, BEP 21
 * `downloaders`) and failure (BEP 3, BEP 31 `retry in`). Pure: typed values in, bytes out.
 * Dictionary keys are written in sorted order by hand, as bencode requires.
 *
 * @module
 */
import type { AnnounceResult, ScrapeEntry } from "../core/types.ts";
import { BencodeWriter } from "./bencode_encode.ts";
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

/** Encodes an announce reply. */
export function encodeAnnounceReply(
  result: AnnounceResult,
  options: AnnounceReplyOptions,
): Uint8Array<ArrayBuffer> {
  writer.reset().raw("d");
  writer.raw("8:complete").integer(result.complete);
  writer.raw("10:downloaded").integer(result.downloaded);
  if (options.externalIp !== null) writer.raw("11:external ip").bytes(options.externalIp);
  writer.raw("10:incomplete").integer(result.incomplete);
  writer.raw("8:interval").integer(options.interval);
  writer.raw("12:min interval").integer(options.minInterval);
  if (options.compact) {
    writer.raw("5:peers").bytes(result.peers4);
    if (result.peers6.length > 0) writer.raw("6:peers6").bytes(result.peers6);
  } else {
    writer.raw("5:peersl");
    writePeerDicts(result.peers4, 4, result.peerIds4, options.noPeerId);
    writePeerDicts(result.peers6, 16, result.peerIds6, options.noPeerId);
    writer.raw("e");
  }
  return writer.raw("e").finish();
}

/** Encodes a scrape reply; `entries` may be in any order (bencode needs keys sorted). */
export function encodeScrapeReply(entries: readonly ScrapeEntry[]): Uint8Array<ArrayBuffer> {
  // Byte strings compare like their bytes: every char code is below 256.
  const sorted = [...entries].sort((a, b) => (a.infoHash < b.infoHash ? -1 : 1));
  writer.reset().raw("d5:filesd");
  for (const entry of sorted) {
    writer.byteString(entry.infoHash).raw("d");
    writer.raw("8:complete").integer(entry.complete);
    writer.raw("10:downloaded").integer(entry.downloaded);
    writer.raw("11:downloaders").integer(entry.downloaders);
    writer.raw("10:incomplete").integer(entry.incomplete);
    writer.raw("e");
  }
  return writer.raw("ee").finish();
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
