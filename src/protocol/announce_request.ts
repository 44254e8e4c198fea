/**
 * Parses an HTTP announce query (BEP 3, BEP 7, BEP 21, BEP 23) into a typed `AnnounceRequest`,
 * once, at the edge: every value checked, `numwant` defaulted and clamped. Nothing downstream
 * re-checks. A malformed request throws a `ClientError` whose message says what is wrong.
 *
 * @module
 */
import { ClientError } from "../core/client_error.ts";
import type { AnnounceEvent, AnnounceRequest } from "../core/types.ts";
import type { ByteString } from "./byte_string.ts";
import { parseIp } from "./ip_address.ts";
import {
  isWellEscaped,
  pairBounds,
  percentDecode,
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

/** The keys an announce reads; a key's index is its field number and its bit in `seen`. */
const FIELDS = [
  "info_hash",
  "peer_id",
  "port",
  "uploaded",
  "downloaded",
  "left",
  "event",
  "numwant",
  "compact",
  "no_peer_id",
  "key",
  "trackerid",
  "ip",
  "ipv4",
  "ipv6",
] as const;
const FIELD_IDS: ReadonlyMap<string, number> = new Map(FIELDS.map((name, id) => [name, id]));
/** Field numbers by key length, to recognise a plain key in the query without slicing it. */
const FIELDS_BY_LENGTH: number[][] = [];
for (const [id, name] of FIELDS.entries()) (FIELDS_BY_LENGTH[name.length] ??= []).push(id);

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
 * `rawQueryOf(url)`: without slicing it out first, which halves the cost of reading its chars.
 */
export function parseAnnounceUrl(url: string, limits: NumwantLimits): AnnounceRequest {
  const end = rawQueryEnd(url);
  return parseAnnounceRange(url, rawQueryStart(url, end), end, limits);
}

/** Parses `query[from, end)`. */
function parseAnnounceRange(
  query: string,
  from: number,
  end: number,
  limits: NumwantLimits,
): AnnounceRequest {
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
  // the values of known keys become strings. A malformed escape anywhere outranks every other
  // error, and otherwise the first bad field in query order is reported: so a field error is
  // kept, not thrown, while the rest of the query is checked for bad escapes.
  let malformed = false;
  let firstError: ClientError | null = null;
  // Which known keys were seen, one bit per field number: the first occurrence wins, and a
  // repeated info_hash would be ambiguous, so it is refused. Unknown keys are skipped.
  let seen = 0;
  const pair = scratchBounds;
  for (let start = from; start <= end && !malformed; start = pair.next) {
    scanPair(query, start, pair, end);
    const { keyStart, keyEnd, valueStart, valueEnd } = pair;
    if (keyEnd === keyStart && valueStart === -1) continue;
    let field: number;
    if (pair.keyEscaped) {
      const name = percentDecode(query, keyStart, keyEnd);
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
    // The value is `text[from, to)`: the query itself unless it had to be decoded. Numbers, flags
    // and the event are read there in place; only the fields kept as strings are sliced out.
    let text = query;
    let at = valueStart;
    let to = valueEnd;
    if (valueStart === -1) at = to = 0;
    else if (pair.valueEscaped) {
      const decoded = percentDecode(query, valueStart, valueEnd);
      if (decoded === null) {
        malformed = true;
        break;
      }
      text = decoded;
      at = 0;
      to = decoded.length;
    }
    if (firstError !== null) continue;
    const bit = 1 << field;
    if (seen & bit) {
      if (field === 0) firstError = new ClientError("announce takes exactly one info_hash");
      continue;
    }
    seen |= bit;
    try {
      switch (field) {
        case 0:
          infoHash = twentyBytes("info_hash", text.slice(at, to));
          break;
        case 1:
          peerId = twentyBytes("peer_id", text.slice(at, to));
          break;
        case 2:
          port = integerAt("port", text, at, to);
          if (port < 1 || port > 65535) {
            throw new ClientError(`invalid port "${text.slice(at, to)}"`);
          }
          break;
        case 3:
          uploaded = integerAt("uploaded", text, at, to);
          break;
        case 4:
          downloaded = integerAt("downloaded", text, at, to);
          break;
        case 5:
          left = integerAt("left", text, at, to);
          break;
        case 6:
          event = eventAt(text, at, to);
          break;
        case 7:
          numwant = Math.min(integerAt("numwant", text, at, to), limits.numwantMax);
          break;
        case 8:
          compact = flagAt("compact", text, at, to);
          break;
        case 9:
          noPeerId = flagAt("no_peer_id", text, at, to);
          break;
        case 10:
          checkTokenLength("key", at, to);
          key = text.slice(at, to);
          break;
        case 11:
          checkTokenLength("trackerid", at, to);
          break;
        case 12:
          claimedIp = parseIp(text.slice(at, to));
          break;
        case 13:
          claimedIpv4 = parseEndpointAddress(text.slice(at, to), 4);
          break;
        case 14:
          claimedIpv6 = parseEndpointAddress(text.slice(at, to), 16);
          break;
      }
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      firstError = error;
    }
  }
  if (malformed) throw new ClientError("malformed percent-encoding in query");
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

/** The field number of the plain (unescaped) key `query[start, end)`, or -1. */
function fieldAt(query: string, start: number, end: number): number {
  const candidates = FIELDS_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (let c = 0; c < candidates.length; c++) {
    if (matchesAt(query, start, FIELDS[candidates[c]])) return candidates[c];
  }
  return -1;
}

/**
 * True when `name` is written in `text` at `start`. Char by char rather than `startsWith`: a
 * builtin call per candidate cost more than the compare, and an announce has a dozen keys.
 */
function matchesAt(text: string, start: number, name: string): boolean {
  let i = 0;
  while (i < name.length && text.charCodeAt(start + i) === name.charCodeAt(i)) i++;
  return i === name.length;
}

/** The event written in `text[start, end)` (BEP 3; `paused` is BEP 21, `empty` means none). */
function eventAt(text: string, start: number, end: number): AnnounceEvent {
  switch (end - start) {
    case 0:
      return "none";
    case 5:
      if (matchesAt(text, start, "empty")) return "none";
      break;
    case 6:
      if (matchesAt(text, start, "paused")) return "paused";
      break;
    case 7:
      if (matchesAt(text, start, "started")) return "started";
      if (matchesAt(text, start, "stopped")) return "stopped";
      break;
    case 9:
      if (matchesAt(text, start, "completed")) return "completed";
      break;
  }
  throw new ClientError(`invalid event "${printable(text.slice(start, end))}"`);
}

/** Checks a 20-byte value (info_hash, peer_id) and says its length when wrong. */
export function twentyBytes(name: string, value: ByteString): ByteString {
  if (value.length !== 20) {
    throw new ClientError(`${name} must be 20 bytes, got ${value.length}`);
  }
  return value;
}

/**
 * The non-negative decimal integer of at most 20 digits written in `text[start, end)` (values
 * past 2^53 lose precision).
 */
function integerAt(name: string, text: string, start: number, end: number): number {
  // A char loop instead of a regular expression: this runs five times per announce.
  const length = end - start;
  let ok = length >= 1 && length <= 20;
  let small = 0;
  for (let i = start; ok && i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) ok = false;
    else small = small * 10 + digit;
  }
  if (!ok) {
    const value = printable(text.slice(start, end));
    throw new ClientError(`${name} must be a non-negative integer, got "${value}"`);
  }
  // Up to 15 digits the running sum is exact; longer ones round as Number() rounds them.
  return length <= 15 ? small : Number(text.slice(start, end));
}

/** The `0` or `1` written in `text[start, end)`. */
function flagAt(name: string, text: string, start: number, end: number): boolean {
  if (end - start === 1) {
    const code = text.charCodeAt(start);
    if (code === 49) return true;
    if (code === 48) return false;
  }
  throw new ClientError(`${name} must be 0 or 1, got "${printable(text.slice(start, end))}"`);
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
