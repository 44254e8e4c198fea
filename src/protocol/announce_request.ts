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

const EVENTS: Readonly<Record<string, AnnounceEvent>> = {
  "": "none",
  empty: "none",
  started: "started",
  completed: "completed",
  stopped: "stopped",
  paused: "paused",
};

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
    const value = valueStart === -1
      ? ""
      : pair.valueEscaped
      ? percentDecode(query, valueStart, valueEnd)
      : query.slice(valueStart, valueEnd);
    if (value === null) {
      malformed = true;
      break;
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
          infoHash = twentyBytes("info_hash", value);
          break;
        case 1:
          peerId = twentyBytes("peer_id", value);
          break;
        case 2:
          port = integer("port", value);
          if (port < 1 || port > 65535) throw new ClientError(`invalid port "${value}"`);
          break;
        case 3:
          uploaded = integer("uploaded", value);
          break;
        case 4:
          downloaded = integer("downloaded", value);
          break;
        case 5:
          left = integer("left", value);
          break;
        case 6: {
          const parsed = EVENTS[value];
          if (parsed === undefined || !Object.hasOwn(EVENTS, value)) {
            throw new ClientError(`invalid event "${printable(value)}"`);
          }
          event = parsed;
          break;
        }
        case 7:
          numwant = Math.min(integer("numwant", value), limits.numwantMax);
          break;
        case 8:
          compact = flag("compact", value);
          break;
        case 9:
          noPeerId = flag("no_peer_id", value);
          break;
        case 10:
          key = token("key", value);
          break;
        case 11:
          token("trackerid", value);
          break;
        case 12:
          claimedIp = parseIp(value);
          break;
        case 13:
          claimedIpv4 = parseEndpointAddress(value, 4);
          break;
        case 14:
          claimedIpv6 = parseEndpointAddress(value, 16);
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
  // Char by char rather than `startsWith`: a builtin call per candidate cost more than the
  // compare, and an announce has a dozen keys.
  for (let c = 0; c < candidates.length; c++) {
    const name = FIELDS[candidates[c]];
    let i = 0;
    while (i < name.length && query.charCodeAt(start + i) === name.charCodeAt(i)) i++;
    if (i === name.length) return candidates[c];
  }
  return -1;
}

/** Checks a 20-byte value (info_hash, peer_id) and says its length when wrong. */
export function twentyBytes(name: string, value: ByteString): ByteString {
  if (value.length !== 20) {
    throw new ClientError(`${name} must be 20 bytes, got ${value.length}`);
  }
  return value;
}

/** A non-negative decimal integer of at most 20 digits (values past 2^53 lose precision). */
function integer(name: string, value: string): number {
  // A char loop instead of a regular expression: this runs four times per announce.
  const length = value.length;
  let ok = length >= 1 && length <= 20;
  let small = 0;
  for (let i = 0; ok && i < length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) ok = false;
    else small = small * 10 + digit;
  }
  if (!ok) {
    throw new ClientError(`${name} must be a non-negative integer, got "${printable(value)}"`);
  }
  // Up to 15 digits the running sum is exact; longer ones round as Number() rounds them.
  return length <= 15 ? small : Number(value);
}

function flag(name: string, value: string): boolean {
  if (value === "1") return true;
  if (value === "0") return false;
  throw new ClientError(`${name} must be 0 or 1, got "${printable(value)}"`);
}

function token(name: string, value: string): string {
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new ClientError(`${name} is longer than ${MAX_TOKEN_LENGTH} bytes`);
  }
  return value;
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
