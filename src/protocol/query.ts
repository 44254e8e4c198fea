/**
 * Raw query-string decoding, to the byte. `info_hash` and `peer_id` are 20 arbitrary bytes,
 * percent-encoded; `URLSearchParams` and `decodeURIComponent` decode UTF-8 and so corrupt any byte
 * above 0x7f. Here every `%XX` becomes exactly one byte of a byte string, and `+` stays `+`
 * (BitTorrent clients percent-encode every reserved byte; treating `+` as a space would corrupt
 * a hash that some client left unencoded).
 *
 * @module
 */
import type { ByteString } from "./byte_string.ts";

/** One `key=value` pair, both percent-decoded to byte strings. */
export interface QueryParam {
  key: ByteString;
  value: ByteString;
}

const AMPERSAND = 38;
const EQUALS = 61;
const PERCENT = 37;

/** Most arguments passed to one `String.fromCharCode` call. */
const MAX_APPLY = 4096;

/** Decoded bytes of the escaped value being built; reused, as decoding is synchronous. */
const scratchCodes: number[] = [];

/** Decodes `%XX` escapes of `text[start, end)`; returns `null` on a bad or truncated escape. */
export function percentDecode(text: string, start = 0, end = text.length): ByteString | null {
  const escape = text.indexOf("%", start);
  if (escape === -1 || escape >= end) return checkBytes(text.slice(start, end));
  // One char code per byte into a reused array, then one string: concatenating 20 one-char
  // strings for a hash cost three times as much.
  let n = 0;
  for (let i = start; i < end; i++) {
    let code = text.charCodeAt(i);
    if (code === PERCENT) {
      if (i + 2 >= end) return null;
      const high = hexValue(text.charCodeAt(i + 1));
      const low = hexValue(text.charCodeAt(i + 2));
      if (high < 0 || low < 0) return null;
      code = (high << 4) | low;
      i += 2;
    } else if (code > 0xff) return null;
    scratchCodes[n++] = code;
  }
  // Twenty bytes (an info hash, a peer id) in one call of twenty arguments: a quarter of the
  // time of `apply` over the array.
  if (n === 20) {
    const c = scratchCodes;
    return String.fromCharCode(
      c[0],
      c[1],
      c[2],
      c[3],
      c[4],
      c[5],
      c[6],
      c[7],
      c[8],
      c[9],
      c[10],
      c[11],
      c[12],
      c[13],
      c[14],
      c[15],
      c[16],
      c[17],
      c[18],
      c[19],
    );
  }
  scratchCodes.length = n;
  if (n <= MAX_APPLY) return String.fromCharCode.apply(null, scratchCodes);
  // A long value in chunks, so that no call exceeds the engine's argument limit.
  let out = "";
  for (let i = 0; i < n; i += MAX_APPLY) {
    out += String.fromCharCode.apply(null, scratchCodes.slice(i, i + MAX_APPLY));
  }
  return out;
}

/**
 * True when `percentDecode(text, start, end)` would succeed: every `%` starts two hex digits and
 * no char is above 0xff. Checks without building the string.
 */
export function isWellEscaped(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === PERCENT) {
      if (i + 2 >= end || hexValue(text.charCodeAt(i + 1)) < 0) return false;
      if (hexValue(text.charCodeAt(i + 2)) < 0) return false;
      i += 2;
    } else if (code > 0xff) return false;
  }
  return true;
}

/** Where one `key=value` pair lies in a raw query, and whether its parts need decoding. */
export interface PairBounds {
  keyStart: number;
  keyEnd: number;
  /** -1 when the pair has no `=` (its value is then empty). */
  valueStart: number;
  valueEnd: number;
  /** The part holds a `%` or a char above 0xff: it must go through `percentDecode`. */
  keyEscaped: boolean;
  valueEscaped: boolean;
  /** Where the next pair starts (past the `&`). */
  next: number;
}

/** A `PairBounds` to fill with `scanPair`. */
export function pairBounds(): PairBounds {
  return {
    keyStart: 0,
    keyEnd: 0,
    valueStart: -1,
    valueEnd: 0,
    keyEscaped: false,
    valueEscaped: false,
    next: 0,
  };
}

/**
 * Finds the bounds of the pair of a raw query that starts at `start` (call while
 * `start <= end`, then go on from `into.next`); the query ends at `end`, by default the end of
 * `query`. An empty pair ("a&&b", a trailing `&`) has `keyStart === keyEnd` and no value, and
 * is no pair.
 */
export function scanPair(
  query: string,
  start: number,
  into: PairBounds,
  end: number = query.length,
): void {
  // One pass over the chars: it finds the `&` and `=` bounds and notes whether a part needs
  // decoding at all, so most parts become one `slice` or are recognised in place.
  const length = end;
  let i = start;
  let code = 0;
  let keyEscaped = false;
  for (; i < length; i++) {
    code = query.charCodeAt(i);
    if (code === AMPERSAND || code === EQUALS) break;
    if (code === PERCENT || code > 0xff) keyEscaped = true;
  }
  into.keyStart = start;
  into.keyEnd = i;
  into.keyEscaped = keyEscaped;
  into.valueStart = -1;
  into.valueEscaped = false;
  if (i < length && code === EQUALS) {
    into.valueStart = i + 1;
    for (i = i + 1; i < length; i++) {
      code = query.charCodeAt(i);
      if (code === AMPERSAND) break;
      if (code === PERCENT || code > 0xff) into.valueEscaped = true;
    }
  }
  into.valueEnd = i;
  into.next = i + 1;
}

/** Bounds for `parseQuery`; reused, as parsing is synchronous. */
const scratchBounds = pairBounds();

/**
 * Splits a raw query (the part after `?`, without it) into decoded pairs, in order, duplicates
 * kept. A pair without `=` has an empty value. Returns `null` if any escape is malformed.
 */
export function parseQuery(query: string): QueryParam[] | null {
  const params: QueryParam[] = [];
  const pair = scratchBounds;
  for (let start = 0; start <= query.length; start = pair.next) {
    scanPair(query, start, pair);
    if (pair.keyEnd === pair.keyStart && pair.valueStart === -1) continue;
    const key = pair.keyEscaped
      ? percentDecode(query, pair.keyStart, pair.keyEnd)
      : query.slice(pair.keyStart, pair.keyEnd);
    const value = pair.valueStart === -1
      ? ""
      : pair.valueEscaped
      ? percentDecode(query, pair.valueStart, pair.valueEnd)
      : query.slice(pair.valueStart, pair.valueEnd);
    if (key === null || value === null) return null;
    params.push({ key, value });
  }
  return params;
}

/** The raw query of a request URL: what follows the first `?`, up to any `#`, or `""`. */
export function rawQueryOf(url: string): string {
  const end = rawQueryEnd(url);
  return url.slice(rawQueryStart(url, end), end);
}

/** Where the raw query of `url` ends: at the first `#`, or at the end. */
export function rawQueryEnd(url: string): number {
  const hash = url.indexOf("#");
  return hash === -1 ? url.length : hash;
}

/**
 * Where the raw query of `url` starts (after the first `?`), or `end` when it has none.
 * `url.slice(rawQueryStart(url, end), end)` is `rawQueryOf(url)`, but a parser may read the
 * query in place: V8 reads the chars of a sliced string at about half the speed of a flat one.
 */
export function rawQueryStart(url: string, end: number): number {
  // A `?` inside the fragment does not start a query (RFC 3986 section 3.5).
  const question = url.indexOf("?");
  return question === -1 || question > end ? end : question + 1;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Unescaped text must already be bytes: a char above 0xff cannot come from a byte. */
function checkBytes(text: string): ByteString | null {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return null;
  return text;
}
