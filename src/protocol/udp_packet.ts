/**
 * BEP 15 UDP tracker packets, the tracker's side: parses connect, announce (with BEP 41 options)
 * and scrape requests into typed values, and encodes connect, announce, scrape and error
 * responses. Pure: bytes in, typed values out, and back. It does not check connection ids (that
 * needs a secret and the clock: `src/udp/connection_id.ts`) and does not build requests (only
 * clients do; the test client has its own encoder).
 *
 * A bad request throws a `UdpParseError`, classified as aquatic does: "sendable" when the
 * transaction id is known, so the client can be answered with an error packet, or "unsendable"
 * (too short to carry one, not BEP 15 at all, or oversized), to be dropped silently.
 *
 * All integers are big-endian (BEP 15: "network byte order").
 *
 * @module
 */
import { ClientError } from "./client_error.ts";
import type { AnnounceEvent, AnnounceRequest } from "./messages.ts";
import type { NumwantLimits } from "./announce_request.ts";
import { ByteSlab } from "./byte_slab.ts";
import { bytesToByteString, type ByteString, byteString20 } from "./byte_string.ts";

/** The magic `protocol_id` a connect request carries in place of a connection id (BEP 15). */
export const PROTOCOL_ID = 0x41727101980n;

/** BEP 15 `action` values. */
export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;

/** BEP 15: "Up to about 74 torrents can be scraped at once" (a request of 1496 bytes). */
export const MAX_UDP_SCRAPE_HASHES = 74;

/**
 * Longest request accepted. A connect is 16 bytes, a full scrape 1496, an announce 98 plus BEP 41
 * options; nothing legitimate comes near this, so anything longer is dropped unread. The server
 * reads into a buffer one byte longer, so a longer datagram shows up as this length plus one.
 */
export const MAX_REQUEST_BYTES = 4096;

/** Fixed part of an announce request (BEP 15); BEP 41 options may follow. */
export const ANNOUNCE_REQUEST_BYTES = 98;

/** A connect request: the client asks for a connection id. */
export interface UdpConnectRequest {
  action: "connect";
  transactionId: number;
}

/** An announce request, parsed to the same `AnnounceRequest` the HTTP parser produces. */
export interface UdpAnnounceRequest {
  action: "announce";
  transactionId: number;
  connectionId: bigint;
  announce: AnnounceRequest;
  /**
   * BEP 41 URLData: the path and query of the tracker URL (`/announce?passkey=…` for
   * `udp://host:port/announce?passkey=…`), every URLData option concatenated, one char per byte;
   * `null` when the client sent none.
   */
  urlData: ByteString | null;
}

/** A scrape request: 1..74 info hashes, in request order, duplicates kept (replies are positional). */
export interface UdpScrapeRequest {
  action: "scrape";
  transactionId: number;
  connectionId: bigint;
  infoHashes: ByteString[];
}

/** Any request a tracker understands. */
export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

/**
 * A request that cannot be served. Sendable (`transactionId` known) errors are answered with an
 * error packet carrying `message`; unsendable ones are dropped. It is a `ClientError` (reason
 * `malformed`), so stats count it as a refusal, not a bug.
 */
export class UdpParseError extends ClientError {
  /** The request's transaction id, or `null` when the packet does not carry a usable one. */
  readonly transactionId: number | null;
  /** The connection id the packet claims, for the transport to check before answering. */
  readonly connectionId: bigint | null;

  constructor(
    message: string,
    ids: { transactionId?: number; connectionId?: bigint } = {},
  ) {
    super(message, { reason: "malformed" });
    this.name = "UdpParseError";
    this.transactionId = ids.transactionId ?? null;
    this.connectionId = ids.connectionId ?? null;
  }

  /** Whether the client can be told, with an error packet. */
  get sendable(): boolean {
    return this.transactionId !== null;
  }
}

/** BEP 15 announce `event`: 0 none, 1 completed, 2 started, 3 stopped. */
const EVENTS: readonly AnnounceEvent[] = ["none", "completed", "started", "stopped"];

/** BEP 41 option types. */
const OPTION_END = 0x0;
const OPTION_NOP = 0x1;
const OPTION_URL_DATA = 0x2;

/** Parses one datagram. Throws `UdpParseError` (and nothing else) for any packet it refuses. */
export function parseUdpRequest(packet: Uint8Array, limits: NumwantLimits): UdpRequest {
  // Under 16 bytes there is no transaction id to answer to; over the cap it is not a tracker client.
  if (packet.length < 16) throw new UdpParseError(`packet of ${packet.length} bytes is too short`);
  if (packet.length > MAX_REQUEST_BYTES) {
    throw new UdpParseError(`packet of more than ${MAX_REQUEST_BYTES} bytes`);
  }
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const connectionId = view.getBigUint64(0);
  const action = view.getUint32(8);
  const transactionId = view.getUint32(12);
  switch (action) {
    case ACTION_CONNECT:
      // Without the magic it is not a BEP 15 client; answering would make us a reflector.
      if (connectionId !== PROTOCOL_ID) throw new UdpParseError("connect without the protocol id");
      // BEP 15: "Clients and trackers should not assume packets to be of a certain size".
      return { action: "connect", transactionId };
    case ACTION_ANNOUNCE:
      return parseAnnounce(packet, { view, transactionId, connectionId }, limits);
    case ACTION_SCRAPE:
      return parseScrape(packet, { view, transactionId, connectionId });
    default:
      // Unknown actions are dropped rather than answered: a reply to arbitrary datagrams would
      // let anyone aim our packets at a spoofed source.
      throw new UdpParseError(`unknown action ${action}`);
  }
}

/** The 16 bytes every announce and scrape starts with, read. */
interface Header {
  view: DataView;
  transactionId: number;
  connectionId: bigint;
}

function parseAnnounce(
  packet: Uint8Array,
  header: Header,
  limits: NumwantLimits,
): UdpAnnounceRequest {
  const { view, transactionId, connectionId } = header;
  if (packet.length < ANNOUNCE_REQUEST_BYTES) {
    throw new UdpParseError(
      `announce of ${packet.length} bytes, expected at least ${ANNOUNCE_REQUEST_BYTES}`,
      header,
    );
  }
  const eventCode = view.getUint32(80);
  const event = EVENTS[eventCode];
  if (event === undefined) throw new UdpParseError(`invalid event ${eventCode}`, header);
  const port = view.getUint16(96);
  if (port === 0) throw new UdpParseError('invalid port "0"', header);
  const numwant = view.getInt32(92);
  const ip = packet.subarray(84, 88);
  const announce: AnnounceRequest = {
    infoHash: byteString20(packet, 16),
    peerId: byteString20(packet, 36),
    port,
    downloaded: counter(view, 56),
    // A negative `left` is how some clients say "size unknown" (a magnet link without its
    // metadata): still a leecher, never a seeder.
    left: view.getInt32(64) < 0 ? Number.MAX_SAFE_INTEGER : counter(view, 64),
    uploaded: counter(view, 72),
    event,
    // BEP 15: num_want -1 means "default"; other negative values mean nothing better.
    numwant: numwant < 0 ? limits.numwantDefault : Math.min(numwant, limits.numwantMax),
    compact: true,
    noPeerId: true,
    key: keyOf(view.getUint32(88)),
    // BEP 15: IP address 0 means "use the sender's address".
    claimedIp: ip[0] | ip[1] | ip[2] | ip[3] ? ip.slice() : null,
    claimedIpv4: null,
    claimedIpv6: null,
  };
  return {
    action: "announce",
    transactionId,
    connectionId,
    announce,
    urlData: parseUrlData(packet, ANNOUNCE_REQUEST_BYTES),
  };
}

/**
 * The client's `key` as text, spelled as libtorrent sends it over HTTP (`%08X`), so one client's
 * key reads alike on both. 0 is no key: clients that do not implement it send 0, and a key shared
 * by all of them would let any one take over another's peer id from a new address.
 */
function keyOf(key: number): string | null {
  return key === 0 ? null : key.toString(16).toUpperCase().padStart(8, "0");
}

/** A non-negative 64-bit counter; negative values (nonsense) count as 0. Past 2^53 it rounds. */
function counter(view: DataView, offset: number): number {
  const high = view.getInt32(offset);
  return high < 0 ? 0 : high * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/**
 * BEP 41 options after the announce: EndOfOptions (0x0) and NOP (0x1) are one byte; every other
 * type is followed by a length byte and that many bytes. URLData (0x2) options are concatenated;
 * other types are skipped. A truncated option ends the list: what came before it stands.
 */
function parseUrlData(packet: Uint8Array, start: number): ByteString | null {
  let urlData: ByteString | null = null;
  let offset = start;
  while (offset < packet.length) {
    const type = packet[offset++];
    if (type === OPTION_END) break;
    if (type === OPTION_NOP) continue;
    if (offset >= packet.length) break;
    const length = packet[offset++];
    if (offset + length > packet.length) break;
    if (type === OPTION_URL_DATA) {
      urlData = (urlData ?? "") + bytesToByteString(packet, offset, offset + length);
    }
    offset += length;
  }
  return urlData;
}

function parseScrape(packet: Uint8Array, header: Header): UdpScrapeRequest {
  const { transactionId, connectionId } = header;
  const hashBytes = packet.length - 16;
  if (hashBytes === 0) {
    // BEP 15 has no full scrape.
    throw new UdpParseError("scrape names no info hash", header);
  }
  if (hashBytes % 20 !== 0) {
    throw new UdpParseError(`scrape of ${packet.length} bytes is not 16 + 20·n`, header);
  }
  const count = hashBytes / 20;
  if (count > MAX_UDP_SCRAPE_HASHES) {
    throw new UdpParseError(`scrape takes at most ${MAX_UDP_SCRAPE_HASHES} info hashes`, header);
  }
  const infoHashes: ByteString[] = new Array(count);
  for (let i = 0; i < count; i++) {
    infoHashes[i] = byteString20(packet, 16 + i * 20);
  }
  return { action: "scrape", transactionId, connectionId, infoHashes };
}

/**
 * Where connect and announce responses are carved from: one `ArrayBuffer` per packet cost more
 * than encoding it (see `byte_slab.ts`). A response is sent and dropped, never kept.
 */
const RESPONSES = new ByteSlab(64 * 1024);

/** A connect response: the connection id the client uses for the next two minutes. */
export function encodeConnectResponse(transactionId: number, connectionId: bigint): Uint8Array {
  const out = RESPONSES.carve(16);
  writeUint32(out, 0, ACTION_CONNECT);
  writeUint32(out, 4, transactionId);
  writeUint32(out, 8, Number(connectionId >> 32n));
  writeUint32(out, 12, Number(connectionId & 0xffff_ffffn));
  return out;
}

/** What an announce response carries. */
export interface UdpAnnounceResponse {
  transactionId: number;
  /** Seconds until the next regular announce. */
  interval: number;
  leechers: number;
  seeders: number;
  /**
   * Compact peers of one family: 6 bytes each (IPv4) or 18 (IPv6). BEP 15: the family is the one
   * the request came from; the reply has no field saying which.
   */
  peers: Uint8Array;
}

/** An announce response: 20 bytes of header, then the peers as they are. */
export function encodeAnnounceResponse(response: UdpAnnounceResponse): Uint8Array {
  const peers = response.peers;
  const out = RESPONSES.carve(20 + peers.length);
  writeUint32(out, 0, ACTION_ANNOUNCE);
  writeUint32(out, 4, response.transactionId);
  writeUint32(out, 8, uint32(response.interval));
  writeUint32(out, 12, uint32(response.leechers));
  writeUint32(out, 16, uint32(response.seeders));
  // A loop: for a few hundred bytes, `set` costs more than the copy.
  for (let i = 0; i < peers.length; i++) out[20 + i] = peers[i];
  return out;
}

/** Writes a big-endian 32-bit unsigned integer (BEP 15: "network byte order"). */
function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Counts for one scraped hash. */
export interface UdpScrapeCounts {
  /** Seeders. */
  complete: number;
  /** Completed downloads counted. */
  downloaded: number;
  /** Leechers. */
  incomplete: number;
}

/** A scrape response: seeders, completed, leechers per hash, in the order the request named them. */
export function encodeScrapeResponse(
  transactionId: number,
  entries: readonly UdpScrapeCounts[],
): Uint8Array {
  const out = new Uint8Array(8 + entries.length * 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, ACTION_SCRAPE);
  view.setUint32(4, transactionId);
  for (let i = 0; i < entries.length; i++) {
    const offset = 8 + i * 12;
    view.setUint32(offset, uint32(entries[i].complete));
    view.setUint32(offset + 4, uint32(entries[i].downloaded));
    view.setUint32(offset + 8, uint32(entries[i].incomplete));
  }
  return out;
}

const ENCODER = new TextEncoder();

/** An error response: the rest of the packet is the message, with no length or terminator. */
export function encodeErrorResponse(transactionId: number, message: string): Uint8Array {
  const text = ENCODER.encode(message);
  const out = new Uint8Array(8 + text.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, ACTION_ERROR);
  view.setUint32(4, transactionId);
  out.set(text, 8);
  return out;
}

/** A count as a BEP 15 32-bit field: saturates rather than wraps. */
function uint32(value: number): number {
  return value > 0xffff_ffff ? 0xffff_ffff : value < 0 ? 0 : value;
}
