/**
 * Raw query-string decoding, to the byte. `info_hash` and `peer_id` are 20 arbitrary bytes,
 * percent-encoded; `URLSearchParams` and `decodeURIComponent` decode UTF-8 and so corrupt any byte
 * above 0x7f. Here every `%XX` becomes exactly one byte of a byte string, and `+` stays `+`
 * (BitTorrent clients percent-encode every reserved byte; treating `+` as a space would corrupt
 * a hash that some client left unencoded).
 *
 * The parsers read a query as bytes, not chars: `queryBytes` copies the URL into a reused byte
 * buffer in one native call (`TextEncoder.encodeInto`), and the scan, the escapes and the numbers
 * are read from there. Reading a 250-char announce URL char by char with `charCodeAt` took about
 * four times as long as that copy, and a whole announce parses in about 0.7 of the time it took as
 * chars (`tests/bench/README.md`, "Parsing bytes; sampling endpoints").
 *
 * @module
 */
import { bytesToByteString, type ByteString, byteString20 } from "./byte_string.ts";

/** One `key=value` pair, both percent-decoded to byte strings. */
export interface QueryParam {
  key: ByteString;
  value: ByteString;
}

const AMPERSAND = 38;
const EQUALS = 61;
const PERCENT = 37;

/** Longest value `byteStringOf` builds a char at a time. */
const SHORT_STRING = 16;
/** Bytes of the reused buffers; a longer query gets buffers of its own, which are not kept. */
const KEPT_CAPACITY = 8 * 1024;
const encoder = new TextEncoder();
const keptQuery = new Uint8Array(KEPT_CAPACITY);
const keptDecoded = new Uint8Array(KEPT_CAPACITY);

/**
 * The chars of `text` as bytes at the same indexes, in a buffer reused by the next call (parsing
 * is synchronous); `null` when a char of `text[start, end)` is above 0xff, which no escape can
 * come from. Only `[start, end)` is meaningful.
 */
export function queryBytes(text: string, start = 0, end = text.length): Uint8Array | null {
  const bytes = text.length <= KEPT_CAPACITY ? keptQuery : new Uint8Array(text.length);
  // ASCII, as every URL `Deno.serve` hands over is, is copied by UTF-8 encoding byte for byte.
  const { read, written } = encoder.encodeInto(text, bytes);
  if (read === text.length && written === text.length) return bytes;
  // Chars 0x80-0xff took two bytes each: copy the range char by char instead.
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return null;
    bytes[i] = code;
  }
  return bytes;
}

/**
 * A buffer for the decoded bytes of `bytes[start, end)`: decoding never lengthens, and the reused
 * one is only handed out once per value read.
 */
export function decodeBuffer(length: number): Uint8Array {
  return length <= KEPT_CAPACITY ? keptDecoded : new Uint8Array(length);
}

/**
 * Decodes the `%XX` escapes of `bytes[start, end)` into `out` from index 0; returns the decoded
 * length, or -1 on a bad or truncated escape.
 */
export function decodeEscapes(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let code = bytes[i];
    if (code === PERCENT) {
      if (i + 2 >= end) return -1;
      const high = hexValue(bytes[i + 1]);
      const low = hexValue(bytes[i + 2]);
      if (high < 0 || low < 0) return -1;
      code = (high << 4) | low;
      i += 2;
    }
    out[n++] = code;
  }
  return n;
}

/**
 * `bytes[start, end)` as a byte string. Twenty bytes (a hash, a peer id) take one call, and short
 * values (a client's `key`, eight hex digits from libtorrent) a char at a time: the general path's
 * view and `apply` cost more than the string itself.
 */
export function byteStringOf(bytes: Uint8Array, start: number, end: number): ByteString {
  const length = end - start;
  if (length === 20) return byteString20(bytes, start);
  if (length > SHORT_STRING) return bytesToByteString(bytes, start, end);
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/**
 * The decoded bytes of `bytes[start, end)` as a byte string, or `null` on a bad escape; `escaped`
 * says whether the range holds a `%` at all (`PairBounds`), as most parts need no decoding.
 */
export function decodedString(
  bytes: Uint8Array,
  start: number,
  end: number,
  escaped: boolean,
): ByteString | null {
  if (!escaped) return byteStringOf(bytes, start, end);
  const out = decodeBuffer(end - start);
  const length = decodeEscapes(bytes, start, end, out);
  return length < 0 ? null : byteStringOf(out, 0, length);
}

/** Decodes `%XX` escapes of `text[start, end)`; returns `null` on a bad or truncated escape. */
export function percentDecode(text: string, start = 0, end = text.length): ByteString | null {
  const bytes = queryBytes(text, start, end);
  return bytes === null ? null : decodedString(bytes, start, end, true);
}

/**
 * True when `decodeEscapes(bytes, start, end, …)` would succeed: every `%` starts two hex
 * digits. Checks without decoding.
 */
export function isWellEscaped(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (bytes[i] === PERCENT) {
      if (i + 2 >= end || hexValue(bytes[i + 1]) < 0 || hexValue(bytes[i + 2]) < 0) return false;
      i += 2;
    }
  }
  return true;
}

/** True when the ASCII `name` is written in `bytes` (a raw query) at `start`. */
export function matchesAt(bytes: Uint8Array, start: number, name: string): boolean {
  let i = 0;
  while (i < name.length && bytes[start + i] === name.charCodeAt(i)) i++;
  return i === name.length;
}

/** Where one `key=value` pair lies in a raw query, and whether its parts need decoding. */
export interface PairBounds {
  keyStart: number;
  keyEnd: number;
  /** -1 when the pair has no `=` (its value is then empty). */
  valueStart: number;
  valueEnd: number;
  /** The part holds a `%`: it must be decoded. */
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
 * Finds the bounds of the pair of a raw query (`queryBytes`) that starts at `start` (call while
 * `start <= end`, then go on from `into.next`); the query ends at `end`. An empty pair ("a&&b",
 * a trailing `&`) has `keyStart === keyEnd` and no value, and is no pair.
 */
export function scanPair(bytes: Uint8Array, start: number, into: PairBounds, end: number): void {
  // One pass over the bytes: it finds the `&` and `=` bounds and notes whether a part needs
  // decoding at all, so most parts are read in place.
  let i = start;
  let code = 0;
  let keyEscaped = false;
  for (; i < end; i++) {
    code = bytes[i];
    if (code === AMPERSAND || code === EQUALS) break;
    if (code === PERCENT) keyEscaped = true;
  }
  into.keyStart = start;
  into.keyEnd = i;
  into.keyEscaped = keyEscaped;
  into.valueStart = -1;
  let valueEscaped = false;
  if (i < end && code === EQUALS) {
    into.valueStart = i + 1;
    for (i = i + 1; i < end; i++) {
      code = bytes[i];
      if (code === AMPERSAND) break;
      if (code === PERCENT) valueEscaped = true;
    }
  }
  into.valueEscaped = valueEscaped;
  into.valueEnd = i;
  into.next = i + 1;
}

/** Bounds for `parseQuery`; reused, as parsing is synchronous. */
const scratchBounds = pairBounds();

/**
 * Splits a raw query (the part after `?`, without it) into decoded pairs, in order, duplicates
 * kept. A pair without `=` has an empty value. Returns `null` if any escape is malformed or any
 * char is above 0xff.
 */
export function parseQuery(query: string): QueryParam[] | null {
  const bytes = queryBytes(query);
  if (bytes === null) return null;
  const params: QueryParam[] = [];
  const pair = scratchBounds;
  for (let start = 0; start <= query.length; start = pair.next) {
    scanPair(bytes, start, pair, query.length);
    if (pair.keyEnd === pair.keyStart && pair.valueStart === -1) continue;
    const key = decodedString(bytes, pair.keyStart, pair.keyEnd, pair.keyEscaped);
    const value = pair.valueStart === -1
      ? ""
      : decodedString(bytes, pair.valueStart, pair.valueEnd, pair.valueEscaped);
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
 * query in place, without a copy of it.
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
