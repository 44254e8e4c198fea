/**
 * Parses an HTTP scrape query (BEP 48): zero or more `info_hash` values, each 20 raw bytes.
 * No `info_hash` means a full scrape. Other keys are ignored.
 *
 * @module
 */
import { ClientError } from "./client_error.ts";
import type { ByteString } from "./byte_string.ts";
import { twentyBytes } from "./announce_request.ts";
import {
  decodedString,
  isWellEscaped,
  matchesAt,
  pairBounds,
  queryBytes,
  rawQueryEnd,
  rawQueryStart,
  scanPair,
} from "./query.ts";

/** Most hashes one scrape may name; more is refused rather than silently cut. */
export const MAX_SCRAPE_HASHES = 256;

const INFO_HASH = "info_hash";

/** Bounds of the pair being read; reused, as parsing is synchronous. */
const scratchBounds = pairBounds();

/** The hashes asked for, deduplicated in request order; `null` for a full scrape. */
export function parseScrapeQuery(query: string): ByteString[] | null {
  return parseScrapeRange(query, 0, query.length);
}

/**
 * Parses the query of a `/scrape` request URL in place, as `parseScrapeQuery` parses
 * `rawQueryOf(url)` (see `rawQueryStart` for why in place).
 */
export function parseScrapeUrl(url: string): ByteString[] | null {
  const end = rawQueryEnd(url);
  return parseScrapeRange(url, rawQueryStart(url, end), end);
}

/** Parses `text[from, end)`. */
function parseScrapeRange(text: string, from: number, end: number): ByteString[] | null {
  const query = queryBytes(text, from, end);
  if (query === null) throw malformed();
  // A malformed escape anywhere outranks a bad hash, so the values are checked in query order
  // only once every escape of the query has proved sound.
  const values: ByteString[] = [];
  const pair = scratchBounds;
  for (let start = from; start <= end; start = pair.next) {
    scanPair(query, start, pair, end);
    const { keyStart, keyEnd, valueStart, valueEnd } = pair;
    if (keyEnd === keyStart && valueStart === -1) continue;
    let isHash: boolean;
    if (pair.keyEscaped) {
      const key = decodedString(query, keyStart, keyEnd, true);
      if (key === null) throw malformed();
      isHash = key === INFO_HASH;
    } else isHash = keyEnd - keyStart === INFO_HASH.length && matchesAt(query, keyStart, INFO_HASH);
    if (!isHash) {
      if (pair.valueEscaped && !isWellEscaped(query, valueStart, valueEnd)) throw malformed();
      continue;
    }
    const value = valueStart === -1
      ? ""
      : decodedString(query, valueStart, valueEnd, pair.valueEscaped);
    if (value === null) throw malformed();
    values.push(value);
  }
  // One hash, as clients send it: no set needed to deduplicate.
  if (values.length === 1) return [twentyBytes("info_hash", values[0])];
  const hashes = new Set<ByteString>();
  for (const value of values) {
    hashes.add(twentyBytes("info_hash", value));
    if (hashes.size > MAX_SCRAPE_HASHES) {
      throw new ClientError(`scrape takes at most ${MAX_SCRAPE_HASHES} info_hash values`);
    }
  }
  return hashes.size === 0 ? null : [...hashes];
}

function malformed(): ClientError {
  return new ClientError("malformed percent-encoding in query");
}
