/**
 * The address an HTTP request comes from, behind trusted reverse proxies. Pure.
 *
 * Only a connection from an address in `trusted_proxies` may name the client, through
 * `X-Forwarded-For` (each proxy appends the address it saw, so the list is read from the right and
 * the first entry that is not itself a trusted proxy is the client; everything left of it was
 * written by the client and proves nothing) or, without that header, `X-Real-IP`. From any other
 * address both headers are ignored: otherwise anyone could announce a third party's address. A
 * header a trusted proxy sent that cannot be read is ignored too, as nginx's realip module does.
 * RFC 7239 `Forwarded` is not read: the common proxies send `X-Forwarded-For`.
 *
 * @module
 */
import type { CidrSet } from "../protocol/cidr.ts";
import { parseIp } from "../protocol/ip_address.ts";

/** The request headers this reads (a `Headers` fits). */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * The client's address: `connection` (4 or 16 bytes, the TCP peer), or, when that is a trusted
 * proxy, the address its forwarding headers name.
 */
export function clientAddress(
  connection: Uint8Array,
  headers: HeaderSource,
  trusted: CidrSet,
): Uint8Array {
  if (trusted.empty || !trusted.contains(connection)) return connection;
  // `Headers.get` joins repeated header lines with ", ", which keeps their order.
  const forwarded = headers.get("x-forwarded-for");
  if (forwarded !== null) return fromForwardedFor(forwarded, trusted) ?? connection;
  const real = headers.get("x-real-ip");
  return real === null ? connection : (parseForwardedAddress(real) ?? connection);
}

/** The rightmost address of an `X-Forwarded-For` value that is not a trusted proxy. */
function fromForwardedFor(value: string, trusted: CidrSet): Uint8Array | null {
  const entries = value.split(",");
  let leftmost: Uint8Array | null = null;
  // A bound on the work a long header can cause: real chains are a few hops.
  const stop = Math.max(0, entries.length - 32);
  for (let i = entries.length - 1; i >= stop; i--) {
    const address = parseForwardedAddress(entries[i]);
    // What a trusted proxy wrote cannot be read: nothing to its left can be trusted either.
    if (address === null) return null;
    if (!trusted.contains(address)) return address;
    leftmost = address;
  }
  // Every entry is a trusted proxy: the leftmost is as near the client as anyone knows.
  return leftmost;
}

/**
 * One address as proxies write it: `1.2.3.4`, `2001:db8::1`, and the forms with a port some add
 * (`1.2.3.4:5678`, `[2001:db8::1]:5678`). Returns `null` for anything else, `unknown` included.
 */
export function parseForwardedAddress(text: string): Uint8Array | null {
  text = text.trim();
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return null;
    const after = text.slice(close + 1);
    if (after !== "" && !/^:[0-9]{1,5}$/.test(after)) return null;
    return parseIp(text.slice(1, close));
  }
  const colon = text.indexOf(":");
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  if (colon !== -1 && colon === text.lastIndexOf(":")) {
    if (!/^[0-9]{1,5}$/.test(text.slice(colon + 1))) return null;
    text = text.slice(0, colon);
  }
  return parseIp(text);
}
