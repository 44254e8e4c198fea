/**
 * CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning just itself) parsed to
 * bytes, and a set of them that answers "is this address inside?". Pure; used for the
 * `trusted_proxies` list. Addresses are the 4- or 16-byte values of `ip_address.ts`, IPv4-mapped
 * IPv6 already unmapped, so an IPv4 range matches IPv4 clients on a dual-stack listener too.
 *
 * @module
 */
import { formatIp, parseIpv4, parseIpv6, unmapIpv4 } from "./ip_address.ts";

/** One range: the network address (host bits cleared) and its prefix length in bits. */
export interface CidrRange {
  /** 4 or 16 bytes, host bits zero. */
  readonly network: Uint8Array;
  /** 0..32 for IPv4, 0..128 for IPv6. */
  readonly prefix: number;
}

/**
 * Parses `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128). Host bits are cleared, as Go's
 * `net.ParseCIDR` and nginx do. An IPv4-mapped IPv6 range of prefix 96 or more becomes the IPv4
 * range it names. Returns `null` for anything else (host names, brackets, a bad prefix).
 */
export function parseCidr(text: string): CidrRange | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  let address = addressText.includes(":") ? parseIpv6(addressText) : parseIpv4(addressText);
  if (address === null || addressText.includes("%")) return null;
  const bits = address.length * 8;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  const unmapped = unmapIpv4(address);
  if (unmapped.length === 4 && address.length === 16) {
    // `::ffff:10.0.0.0/104` is `10.0.0.0/8`; a shorter prefix also spans non-mapped addresses.
    if (prefix >= 96) [address, prefix] = [unmapped, prefix - 96];
  }
  return { network: masked(address, prefix), prefix };
}

/** True when `address` (4 or 16 bytes) lies in `range`; the families never match each other. */
export function cidrContains(range: CidrRange, address: Uint8Array): boolean {
  if (address.length !== range.network.length) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.network[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === range.network[whole];
}

/** Prints a range as `network/prefix`. */
export function formatCidr(range: CidrRange): string {
  return `${formatIp(range.network)}/${range.prefix}`;
}

/** An immutable list of ranges. */
export class CidrSet {
  /** The ranges, in the order given. */
  readonly ranges: readonly CidrRange[];

  constructor(ranges: readonly CidrRange[]) {
    this.ranges = Object.freeze([...ranges]);
  }

  /** Parses every entry; throws an `Error` quoting the first one that is not an address or range. */
  static parse(entries: readonly string[]): CidrSet {
    return new CidrSet(entries.map((entry) => {
      const range = parseCidr(entry);
      if (range === null) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      return range;
    }));
  }

  /** True when the set has no range (then `contains` is always false). */
  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** True when some range holds `address`. A linear scan: proxy lists are a handful of entries. */
  contains(address: Uint8Array): boolean {
    for (const range of this.ranges) if (cidrContains(range, address)) return true;
    return false;
  }
}

function masked(address: Uint8Array, prefix: number): Uint8Array {
  const out = address.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}
