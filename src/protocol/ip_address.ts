/**
 * IP address text ↔ bytes. Peers are stored and sent as 4 (IPv4) or 16 (IPv6) address bytes;
 * this module is the one place that parses and prints them, and it unmaps IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`), which is how IPv4 clients appear on a dual-stack listener.
 *
 * @module
 */
import { ByteSlab } from "./byte_slab.ts";

/** Where `parseIp` carves the IPv4 addresses of requests from (see `byte_slab.ts`). */
const ADDRESSES = new ByteSlab(4096);

/** Parses a dotted-quad IPv4 address to 4 bytes, or returns `null`. Leading zeros are refused. */
export function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return readIpv4(text, 0, out) ? out : null;
}

/**
 * Reads the dotted quad `text.slice(start)` into `out[0..4)`; false when it is not one. A char
 * loop: every HTTP and UDP request parses its peer's address, and splitting and matching a
 * regular expression per part cost more than the rest of reading the request's address.
 */
function readIpv4(text: string, start: number, out: Uint8Array): boolean {
  const length = text.length;
  if (length - start < 7 || length - start > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || part === 3) return false;
      out[part++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    const digit = code - ZERO;
    // A second digit after a leading 0 is a leading zero, refused (it reads as octal elsewhere).
    if (digit < 0 || digit > 9 || (digits === 1 && value === 0)) return false;
    value = value * 10 + digit;
    if (++digits > 3 || value > 255) return false;
  }
  if (part !== 3 || digits === 0) return false;
  out[3] = value;
  return true;
}

const DOT = 46;
const ZERO = 48;
const COLON = 58;
/** How a dual-stack listener shows an IPv4 client (lower case, as Deno and Linux print it). */
const MAPPED_PREFIX = "::ffff:";

/** Parses an IPv6 address (with `::`, an embedded IPv4 tail, an optional `%zone`) to 16 bytes. */
export function parseIpv6(text: string): Uint8Array | null {
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  if (text.length < 2 || text.length > 45) return null;
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) !== -1) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (tail === null) return null;
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const rest = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const groups = head.length + rest.length;
  if (halves.length === 1 ? groups !== 8 : groups > 7) return null;
  const words = [...head, ...new Array<string>(8 - groups).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(words[i])) return null;
    const value = parseInt(words[i], 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  }
  if (tail !== null) out.set(tail, 12);
  return out;
}

/**
 * Parses either family and unmaps `::ffff:a.b.c.d` to 4 bytes. Accepts `[v6]` brackets.
 * Returns `null` for anything that is not an IP literal (host names included).
 *
 * Runs on every request: an IPv4 address comes back as a view carved from a shared slab (see
 * `byte_slab.ts`), so whoever keeps the bytes for long keeps a copy.
 */
export function parseIp(text: string): Uint8Array | null {
  // The two forms of nearly every request's address, read without the general parsers.
  if (text.charCodeAt(0) !== COLON) {
    const out = ADDRESSES.carve(4);
    if (readIpv4(text, 0, out)) return out;
  } else if (text.startsWith(MAPPED_PREFIX)) {
    const out = ADDRESSES.carve(4);
    if (readIpv4(text, MAPPED_PREFIX.length, out)) return out;
  }
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const bytes = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  return bytes === null ? null : unmapIpv4(bytes);
}

/** Returns the 4 IPv4 bytes of an IPv4-mapped IPv6 address, or the address unchanged. */
export function unmapIpv4(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  return bytes.slice(12);
}

/** Prints 4 or 16 address bytes: dotted quad, or RFC 5952 IPv6 (longest zero run as `::`). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart === -1) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}

/** Prints an endpoint: `1.2.3.4:6881` or `[2001:db8::1]:6881`. */
export function formatEndpoint(address: Uint8Array, port: number): string {
  const ip = formatIp(address);
  return address.length === 4 ? `${ip}:${port}` : `[${ip}]:${port}`;
}
