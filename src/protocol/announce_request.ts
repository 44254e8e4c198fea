/**
 * Parses an HTTP announce query (BEP 3, BEP 7, BEP 21, BEP 23) into a typed `AnnounceRequest`,
 * once, at the edge: every value checked, `numwant` defaulted and clamped. Nothing downstream
 * re-checks. A malformed request throws a `ClientError` whose message says what is wrong.
 *
 * @module
 */
import { ClientError } from "./client_error.ts";
import type { AnnounceEvent, AnnounceRequest } from "./messages.ts";
import { type ByteString, byteString20 } from "./byte_string.ts";
import { parseIp } from "./ip_address.ts";
import {
  byteStringOf,
  decodeBuffer,
  decodedString,
  decodeEscapes,
  isWellEscaped,
  matchesAt,
  pairBounds,
  queryBytes,
  rawQueryEnd,
  rawQueryStart,
  scanPair,
} from "./query.ts";

/** How `numwant` is defaulted and capped. */
export interface NumwantLimits {
  /** Peers returned when the client does not say. @default 50 */
  numwantDefault: number;
  /** Most peers ever returned. @default 200 */
  numwantMax: number;
}

/**
 * The fields an announce reads, by name. Each id is also the field's bit in `seen`, so ids are
 * distinct and below 31; their order means nothing, and neither does the order of `FIELD_KEYS`.
 */
const Field = {
  InfoHash: 0,
  PeerId: 1,
  Port: 2,
  Uploaded: 3,
  Downloaded: 4,
  Left: 5,
  Event: 6,
  Numwant: 7,
  Compact: 8,
  NoPeerId: 9,
  Key: 10,
  TrackerId: 11,
  Ip: 12,
  Ipv4: 13,
  Ipv6: 14,
} as const;
type FieldId = typeof Field[keyof typeof Field];

/** The query key of each field. */
const FIELD_KEYS: { readonly [key: string]: FieldId } = {
  info_hash: Field.InfoHash,
  peer_id: Field.PeerId,
  port: Field.Port,
  uploaded: Field.Uploaded,
  downloaded: Field.Downloaded,
  left: Field.Left,
  event: Field.Event,
  numwant: Field.Numwant,
  compact: Field.Compact,
  no_peer_id: Field.NoPeerId,
  key: Field.Key,
  trackerid: Field.TrackerId,
  ip: Field.Ip,
  ipv4: Field.Ipv4,
  ipv6: Field.Ipv6,
};

/** The query keys an announce reads (others are skipped). */
export const ANNOUNCE_KEYS: readonly string[] = Object.freeze(Object.keys(FIELD_KEYS));
const FIELD_IDS: ReadonlyMap<string, number> = new Map(Object.entries(FIELD_KEYS));
/** The key of each field id, to compare a plain key in the query with. */
const KEY_OF_FIELD: string[] = [];
/** Field ids by key length, to recognise a plain key in the query without slicing it. */
const FIELDS_BY_LENGTH: number[][] = [];
for (const [name, id] of Object.entries(FIELD_KEYS)) {
  if (KEY_OF_FIELD[id] !== undefined || id > 30) throw new Error(`announce field id ${id} reused`);
  KEY_OF_FIELD[id] = name;
  (FIELDS_BY_LENGTH[name.length] ??= []).push(id);
}

/** Bounds of the pair being read; reused, as parsing is synchronous. */
const scratchBounds = pairBounds();

/** The longest `key`/`trackerid` kept; real clients send 8 hex digits. */
const MAX_TOKEN_LENGTH = 64;

/** Parses the raw query string of an `/announce` request. Throws `ClientError`. */
export function parseAnnounceQuery(query: string, limits: NumwantLimits): AnnounceRequest {
  return parseAnnounceRange(query, 0, query.length, limits);
}

/**
 * Parses the query of an `/announce` request URL in place, as `parseAnnounceQuery` parses
 * `rawQueryOf(url)`, without slicing it out first.
 */
export function parseAnnounceUrl(url: string, limits: NumwantLimits): AnnounceRequest {
  const end = rawQueryEnd(url);
  return parseAnnounceRange(url, rawQueryStart(url, end), end, limits);
}

/** Parses `text[from, end)`. */
function parseAnnounceRange(
  text: string,
  from: number,
  end: number,
  limits: NumwantLimits,
): AnnounceRequest {
  const query = queryBytes(text, from, end);
  if (query === null) throw malformedEscape();
  let infoHash: ByteString | null = null;
  let peerId: ByteString | null = null;
  let port: number | null = null;
  let left: number | null = null;
  let uploaded = 0;
  let downloaded = 0;
  let event: AnnounceEvent = "none";
  let numwant = limits.numwantDefault;
  let compact = true;
  let noPeerId = false;
  let key: string | null = null;
  let claimedIp: Uint8Array | null = null;
  let claimedIpv4: Uint8Array | null = null;
  let claimedIpv6: Uint8Array | null = null;
  // Pairs are found as `parseQuery` finds them, but a plain key is recognised in place and only
  // the values of known keys are read. A malformed escape anywhere outranks every other error,
  // and otherwise the first bad field in query order is reported: so a field error is kept, not
  // thrown, while the rest of the query is checked for bad escapes.
  let malformed = false;
  let firstError: ClientError | null = null;
  // Which known keys were seen, one bit per field id: the first occurrence wins, and a
  // repeated info_hash would be ambiguous, so it is refused. Unknown keys are skipped.
  let seen = 0;
  const pair = scratchBounds;
  for (let start = from; start <= end && !malformed; start = pair.next) {
    scanPair(query, start, pair, end);
    const { keyStart, keyEnd, valueStart, valueEnd } = pair;
    if (keyEnd === keyStart && valueStart === -1) continue;
    let field: number;
    if (pair.keyEscaped) {
      const name = decodedString(query, keyStart, keyEnd, true);
      if (name === null) {
        malformed = true;
        break;
      }
      field = FIELD_IDS.get(name) ?? -1;
    } else field = fieldAt(query, keyStart, keyEnd);
    if (field === -1) {
      // Unknown keys are not read, but their escapes must still be sound.
      if (pair.valueEscaped && !isWellEscaped(query, valueStart, valueEnd)) malformed = true;
      continue;
    }
    // The value is `bytes[at, to)`: the query itself unless it had to be decoded. Numbers, flags
    // and the event are read there in place; only the fields kept as strings become strings.
    let bytes = query;
    let at = valueStart;
    let to = valueEnd;
    if (valueStart === -1) at = to = 0;
    else if (pair.valueEscaped) {
      bytes = decodeBuffer(valueEnd - valueStart);
      at = 0;
      to = decodeEscapes(query, valueStart, valueEnd, bytes);
      if (to < 0) {
        malformed = true;
        break;
      }
    }
    if (firstError !== null) continue;
    const bit = 1 << field;
    if (seen & bit) {
      if (field === Field.InfoHash) {
        firstError = new ClientError("announce takes exactly one info_hash");
      }
      continue;
    }
    seen |= bit;
    try {
      switch (field) {
        case Field.InfoHash:
          infoHash = twentyBytesAt("info_hash", bytes, at, to);
          break;
        case Field.PeerId:
          peerId = twentyBytesAt("peer_id", bytes, at, to);
          break;
        case Field.Port:
          port = integerAt("port", bytes, at, to);
          if (port < 1 || port > 65535) {
            throw new ClientError(`invalid port "${byteStringOf(bytes, at, to)}"`);
          }
          break;
        case Field.Uploaded:
          uploaded = integerAt("uploaded", bytes, at, to);
          break;
        case Field.Downloaded:
          downloaded = integerAt("downloaded", bytes, at, to);
          break;
        case Field.Left:
          left = integerAt("left", bytes, at, to);
          break;
        case Field.Event:
          event = eventAt(bytes, at, to);
          break;
        case Field.Numwant:
          numwant = Math.min(integerAt("numwant", bytes, at, to), limits.numwantMax);
          break;
        case Field.Compact:
          compact = flagAt("compact", bytes, at, to);
          break;
        case Field.NoPeerId:
          noPeerId = flagAt("no_peer_id", bytes, at, to);
          break;
        case Field.Key:
          checkTokenLength("key", at, to);
          key = byteStringOf(bytes, at, to);
          break;
        case Field.TrackerId:
          checkTokenLength("trackerid", at, to);
          break;
        case Field.Ip:
          claimedIp = parseIp(byteStringOf(bytes, at, to));
          break;
        case Field.Ipv4:
          claimedIpv4 = parseEndpointAddress(byteStringOf(bytes, at, to), 4);
          break;
        case Field.Ipv6:
          claimedIpv6 = parseEndpointAddress(byteStringOf(bytes, at, to), 16);
          break;
      }
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      firstError = error;
    }
  }
  if (malformed) throw malformedEscape();
  if (firstError !== null) throw firstError;
  if (infoHash === null) throw new ClientError("missing info_hash");
  if (peerId === null) throw new ClientError("missing peer_id");
  if (port === null) throw new ClientError("missing port");
  if (left === null) throw new ClientError("missing left");
  return {
    infoHash,
    peerId,
    port,
    uploaded,
    downloaded,
    left,
    event,
    numwant,
    compact,
    noPeerId,
    key,
    claimedIp,
    claimedIpv4,
    claimedIpv6,
  };
}

function malformedEscape(): ClientError {
  return new ClientError("malformed percent-encoding in query");
}

/** The field id of the plain (unescaped) key `query[start, end)`, or -1. */
function fieldAt(query: Uint8Array, start: number, end: number): number {
  const candidates = FIELDS_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (let c = 0; c < candidates.length; c++) {
    if (matchesAt(query, start, KEY_OF_FIELD[candidates[c]])) return candidates[c];
  }
  return -1;
}

/** The event written in `bytes[start, end)` (BEP 3; `paused` is BEP 21, `empty` means none). */
function eventAt(bytes: Uint8Array, start: number, end: number): AnnounceEvent {
  switch (end - start) {
    case 0:
      return "none";
    case 5:
      if (matchesAt(bytes, start, "empty")) return "none";
      break;
    case 6:
      if (matchesAt(bytes, start, "paused")) return "paused";
      break;
    case 7:
      if (matchesAt(bytes, start, "started")) return "started";
      if (matchesAt(bytes, start, "stopped")) return "stopped";
      break;
    case 9:
      if (matchesAt(bytes, start, "completed")) return "completed";
      break;
  }
  throw new ClientError(`invalid event "${printable(byteStringOf(bytes, start, end))}"`);
}

/** The 20 bytes `bytes[start, end)` (info_hash, peer_id) as a byte string; says when not 20. */
function twentyBytesAt(name: string, bytes: Uint8Array, start: number, end: number): ByteString {
  if (end - start !== 20) throw wrongLength(name, end - start);
  return byteString20(bytes, start);
}

/** Checks a 20-byte value (info_hash, peer_id) and says its length when wrong. */
export function twentyBytes(name: string, value: ByteString): ByteString {
  if (value.length !== 20) throw wrongLength(name, value.length);
  return value;
}

function wrongLength(name: string, length: number): ClientError {
  return new ClientError(`${name} must be 20 bytes, got ${length}`);
}

/**
 * The non-negative decimal integer of at most 20 digits written in `bytes[start, end)` (values
 * past 2^53 lose precision).
 */
function integerAt(name: string, bytes: Uint8Array, start: number, end: number): number {
  // A byte loop instead of a regular expression: this runs five times per announce.
  const length = end - start;
  let ok = length >= 1 && length <= 20;
  let small = 0;
  for (let i = start; ok && i < end; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) ok = false;
    else small = small * 10 + digit;
  }
  if (!ok) {
    const value = printable(byteStringOf(bytes, start, end));
    throw new ClientError(`${name} must be a non-negative integer, got "${value}"`);
  }
  // Up to 15 digits the running sum is exact; longer ones round as Number() rounds them.
  return length <= 15 ? small : Number(byteStringOf(bytes, start, end));
}

/** The `0` or `1` written in `bytes[start, end)`. */
function flagAt(name: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start === 1) {
    const code = bytes[start];
    if (code === 49) return true;
    if (code === 48) return false;
  }
  const value = printable(byteStringOf(bytes, start, end));
  throw new ClientError(`${name} must be 0 or 1, got "${value}"`);
}

function checkTokenLength(name: string, start: number, end: number): void {
  if (end - start > MAX_TOKEN_LENGTH) {
    throw new ClientError(`${name} is longer than ${MAX_TOKEN_LENGTH} bytes`);
  }
}

/** BEP 7 allows `ipv4=`/`ipv6=` as a bare address or an endpoint (`a.b.c.d:p`, `[v6]:p`). */
function parseEndpointAddress(value: string, length: 4 | 16): Uint8Array | null {
  let text = value;
  if (text.startsWith("[")) text = text.slice(1, text.indexOf("]") === -1 ? 1 : text.indexOf("]"));
  else if (length === 4 && text.includes(":")) text = text.slice(0, text.indexOf(":"));
  const bytes = parseIp(text);
  return bytes !== null && bytes.length === length ? bytes : null;
}

/** A client-supplied value made safe to quote in a failure reason: short, printable ASCII. */
export function printable(value: ByteString): string {
  const clipped = value.length > 40 ? value.slice(0, 40) + "…" : value;
  return clipped.replace(/[^\x20-\x7e…]/g, (char) => {
    return "\\x" + char.charCodeAt(0).toString(16).padStart(2, "0");
  });
}
