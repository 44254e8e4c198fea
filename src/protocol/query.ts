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

/** Decodes `%XX` escapes of `text[start, end)`; returns `null` on a bad or truncated escape. */
export function percentDecode(text: string, start = 0, end = text.length): ByteString | null {
  let escape = text.indexOf("%", start);
  if (escape === -1 || escape >= end) return checkBytes(text.slice(start, end));
  let out = "";
  let from = start;
  while (escape !== -1 && escape < end) {
    if (escape + 2 >= end) return null;
    const high = hexValue(text.charCodeAt(escape + 1));
    const low = hexValue(text.charCodeAt(escape + 2));
    if (high < 0 || low < 0) return null;
    const plain = checkBytes(text.slice(from, escape));
    if (plain === null) return null;
    out += plain + String.fromCharCode((high << 4) | low);
    from = escape + 3;
    escape = text.indexOf("%", from);
  }
  const rest = checkBytes(text.slice(from, end));
  return rest === null ? null : out + rest;
}

/**
 * Splits a raw query (the part after `?`, without it) into decoded pairs, in order, duplicates
 * kept. A pair without `=` has an empty value. Returns `null` if any escape is malformed.
 */
export function parseQuery(query: string): QueryParam[] | null {
  const params: QueryParam[] = [];
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end === -1) end = query.length;
    if (end > start) {
      let equals = query.indexOf("=", start);
      if (equals === -1 || equals > end) equals = end;
      const key = percentDecode(query, start, equals);
      const value = equals < end ? percentDecode(query, equals + 1, end) : "";
      if (key === null || value === null) return null;
      params.push({ key, value });
    }
    start = end + 1;
  }
  return params;
}

/** The raw query of a request URL: what follows the first `?`, up to any `#`, or `""`. */
export function rawQueryOf(url: string): string {
  // A `?` inside the fragment does not start a query (RFC 3986 section 3.5).
  const hash = url.indexOf("#");
  const end = hash === -1 ? url.length : hash;
  const question = url.indexOf("?");
  return question === -1 || question > end ? "" : url.slice(question + 1, end);
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
