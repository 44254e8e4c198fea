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
import { parseQuery } from "./query.ts";

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

/** The longest `key`/`trackerid` kept; real clients send 8 hex digits. */
const MAX_TOKEN_LENGTH = 64;

/** Parses the raw query string of an `/announce` request. Throws `ClientError`. */
export function parseAnnounceQuery(query: string, limits: NumwantLimits): AnnounceRequest {
  const params = parseQuery(query);
  if (params === null) throw new ClientError("malformed percent-encoding in query");
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
  const seen = new Set<string>();
  for (const { key: name, value } of params) {
    // The first occurrence wins; a repeated info_hash would be ambiguous, so it is refused.
    if (seen.has(name)) {
      if (name === "info_hash") throw new ClientError("announce takes exactly one info_hash");
      continue;
    }
    seen.add(name);
    switch (name) {
      case "info_hash":
        infoHash = twentyBytes("info_hash", value);
        break;
      case "peer_id":
        peerId = twentyBytes("peer_id", value);
        break;
      case "port":
        port = integer("port", value);
        if (port < 1 || port > 65535) throw new ClientError(`invalid port "${value}"`);
        break;
      case "uploaded":
        uploaded = integer("uploaded", value);
        break;
      case "downloaded":
        downloaded = integer("downloaded", value);
        break;
      case "left":
        left = integer("left", value);
        break;
      case "event": {
        const parsed = EVENTS[value];
        if (parsed === undefined || !Object.hasOwn(EVENTS, value)) {
          throw new ClientError(`invalid event "${printable(value)}"`);
        }
        event = parsed;
        break;
      }
      case "numwant":
        numwant = Math.min(integer("numwant", value), limits.numwantMax);
        break;
      case "compact":
        compact = flag("compact", value);
        break;
      case "no_peer_id":
        noPeerId = flag("no_peer_id", value);
        break;
      case "key":
        key = token("key", value);
        break;
      case "trackerid":
        token("trackerid", value);
        break;
      case "ip":
        claimedIp = parseIp(value);
        break;
      case "ipv4":
        claimedIpv4 = parseEndpointAddress(value, 4);
        break;
      case "ipv6":
        claimedIpv6 = parseEndpointAddress(value, 16);
        break;
    }
  }
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

/** Checks a 20-byte value (info_hash, peer_id) and says its length when wrong. */
export function twentyBytes(name: string, value: ByteString): ByteString {
  if (value.length !== 20) {
    throw new ClientError(`${name} must be 20 bytes, got ${value.length}`);
  }
  return value;
}

/** A non-negative decimal integer of at most 20 digits (values past 2^53 lose precision). */
function integer(name: string, value: string): number {
  if (!/^[0-9]{1,20}$/.test(value)) {
    throw new ClientError(`${name} must be a non-negative integer, got "${printable(value)}"`);
  }
  return Number(value);
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
