/**
 * Tests for `src/protocol/cidr.ts`: parsing ranges and bare addresses of both families, clearing
 * host bits, refusing what is not a range, and membership at the edges of a range.
 *
 * @module
 */
import assert from "node:assert/strict";
import { cidrContains, CidrSet, formatCidr, parseCidr } from "../src/protocol/cidr.ts";
import { parseIp } from "../src/protocol/ip_address.ts";

function ip(text: string): Uint8Array {
  const bytes = parseIp(text);
  assert.ok(bytes !== null, text);
  return bytes;
}

function contains(range: string, address: string): boolean {
  const parsed = parseCidr(range);
  assert.ok(parsed !== null, range);
  return cidrContains(parsed, ip(address));
}

Deno.test("parseCidr() reads ranges and bare addresses of both families", () => {
  const cases: [string, string][] = [
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["192.0.2.1", "192.0.2.1/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["::1", "::1/128"],
    ["::/0", "::/0"],
    ["fd00::/8", "fd00::/8"],
  ];
  for (const [text, shown] of cases) assert.equal(formatCidr(parseCidr(text)!), shown, text);
});

Deno.test("parseCidr() clears host bits", () => {
  assert.equal(formatCidr(parseCidr("10.1.2.3/8")!), "10.0.0.0/8");
  assert.equal(formatCidr(parseCidr("192.0.2.255/25")!), "192.0.2.128/25");
  assert.equal(formatCidr(parseCidr("2001:db8:ffff::1/36")!), "2001:db8:f000::/36");
});

Deno.test("parseCidr() turns an IPv4-mapped range into the IPv4 range it names", () => {
  assert.equal(formatCidr(parseCidr("::ffff:10.0.0.0/104")!), "10.0.0.0/8");
  assert.equal(formatCidr(parseCidr("::ffff:192.0.2.7")!), "192.0.2.7/32");
  // Shorter than 96 bits it spans more than mapped addresses, so it stays IPv6.
  assert.equal(formatCidr(parseCidr("::ffff:0.0.0.0/80")!), "::/80");
});

Deno.test("parseCidr() refuses what is not an address or range", () => {
  for (
    const text of [
      "",
      "localhost",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "10.0.0.0/08",
      "10.0.0/8",
      "[::1]",
      "fe80::1%eth0",
      "10.0.0.0/8/8",
      " 10.0.0.1",
    ]
  ) {
    assert.equal(parseCidr(text), null, JSON.stringify(text));
  }
});

Deno.test("cidrContains() is exact at the edges of a range", () => {
  assert.ok(contains("10.0.0.0/8", "10.0.0.0"));
  assert.ok(contains("10.0.0.0/8", "10.255.255.255"));
  assert.ok(!contains("10.0.0.0/8", "11.0.0.0"));
  assert.ok(!contains("10.0.0.0/8", "9.255.255.255"));
  assert.ok(contains("192.0.2.128/25", "192.0.2.200"));
  assert.ok(!contains("192.0.2.128/25", "192.0.2.127"));
  assert.ok(contains("192.0.2.1", "192.0.2.1"));
  assert.ok(!contains("192.0.2.1", "192.0.2.2"));
  assert.ok(contains("0.0.0.0/0", "203.0.113.9"));
  assert.ok(contains("2001:db8::/32", "2001:db8:1234::5"));
  assert.ok(!contains("2001:db8::/32", "2001:db9::"));
  assert.ok(contains("2001:db8:f000::/36", "2001:db8:ffff::1"));
  assert.ok(!contains("2001:db8:f000::/36", "2001:db8:efff::1"));
  assert.ok(contains("::/0", "::1"));
});

Deno.test("cidrContains() never matches across families", () => {
  assert.ok(!contains("0.0.0.0/0", "::1"));
  assert.ok(!contains("::/0", "127.0.0.1"));
  // A client on a dual-stack listener appears as ::ffff:a.b.c.d, which parseIp unmaps.
  assert.ok(contains("127.0.0.0/8", "::ffff:127.0.0.1"));
});

Deno.test("CidrSet.parse() names the first bad entry", () => {
  assert.throws(
    () => CidrSet.parse(["10.0.0.0/8", "proxy.example", "::1"]),
    { message: '"proxy.example" is not an IP address or CIDR range' },
  );
  const set = CidrSet.parse(["10.0.0.0/8", "::1"]);
  assert.equal(set.empty, false);
  assert.ok(set.contains(ip("10.9.9.9")));
  assert.ok(set.contains(ip("::1")));
  assert.ok(!set.contains(ip("127.0.0.1")));
  assert.ok(CidrSet.parse([]).empty);
  assert.ok(!CidrSet.parse([]).contains(ip("10.0.0.1")));
});
