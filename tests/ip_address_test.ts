/**
 * Tests for `src/protocol/ip_address.ts`: IPv4 and IPv6 parsing (valid and invalid forms),
 * unmapping of IPv4-mapped addresses, RFC 5952 printing, and seeded round trips checked against
 * the WHATWG URL parser, which parses and prints IPv6 hosts the same way.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  formatEndpoint,
  formatIp,
  parseIp,
  parseIpv4,
  parseIpv6,
  unmapIpv4,
} from "../src/protocol/ip_address.ts";
import { seededRandom as prng } from "./support/seeded_random.ts";

/** 16 bytes from 8 groups. */
function v6(...words: number[]): Uint8Array {
  assert.equal(words.length, 8);
  return Uint8Array.from(words.flatMap((word) => [word >> 8, word & 0xff]));
}

/** How the WHATWG URL parser prints an IPv6 host (RFC 5952 form), or null if it refuses it. */
function urlIpv6(text: string): string | null {
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

Deno.test("parseIpv4() parses dotted quads", () => {
  assert.deepEqual(parseIpv4("1.2.3.4"), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseIpv4("0.0.0.0"), new Uint8Array([0, 0, 0, 0]));
  assert.deepEqual(parseIpv4("255.255.255.255"), new Uint8Array([255, 255, 255, 255]));
  assert.deepEqual(parseIpv4("192.168.100.10"), new Uint8Array([192, 168, 100, 10]));
  assert.deepEqual(parseIpv4("10.0.0.1"), new Uint8Array([10, 0, 0, 1]));
});

Deno.test("parseIpv4() refuses leading zeros", () => {
  for (const text of ["01.2.3.4", "1.02.3.4", "1.2.3.004", "00.0.0.0", "010.0.0.1"]) {
    assert.equal(parseIpv4(text), null, text);
  }
});

Deno.test("parseIpv4() refuses parts above 255", () => {
  for (const text of ["256.0.0.0", "1.2.3.256", "1.999.3.4", "1.2.3.1000"]) {
    assert.equal(parseIpv4(text), null, text);
  }
});

Deno.test("parseIpv4() refuses other than four parts", () => {
  for (const text of ["1.2.3", "1.2.3.4.5", "1", "", "1.2.3.4.", ".1.2.3.4", "1..2.3"]) {
    assert.equal(parseIpv4(text), null, text);
  }
});

Deno.test("parseIpv4() refuses anything but decimal digits", () => {
  for (
    const text of [
      "a.b.c.d",
      "0x1.2.3.4",
      "1e2.0.0.0",
      "+1.2.3.4",
      "1.2.3.-4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.4\n",
      "\uff11.2.3.4",
      "1.2.3.4:80",
    ]
  ) {
    assert.equal(parseIpv4(text), null, JSON.stringify(text));
  }
});

Deno.test("parseIpv6() parses '::' and '::1'", () => {
  assert.deepEqual(parseIpv6("::"), new Uint8Array(16));
  assert.deepEqual(parseIpv6("::1"), v6(0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIpv6("1::"), v6(1, 0, 0, 0, 0, 0, 0, 0));
});

Deno.test("parseIpv6() parses the full eight-group form", () => {
  assert.deepEqual(
    parseIpv6("2001:0db8:0000:0000:0000:ff00:0042:8329"),
    v6(0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329),
  );
  assert.deepEqual(parseIpv6("1:2:3:4:5:6:7:8"), v6(1, 2, 3, 4, 5, 6, 7, 8));
});

Deno.test("parseIpv6() parses '::' in the middle, at the start and at the end", () => {
  assert.deepEqual(
    parseIpv6("2001:db8::ff00:42:8329"),
    v6(0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329),
  );
  assert.deepEqual(parseIpv6("::2:3:4:5:6:7:8"), v6(0, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual(parseIpv6("1:2:3:4:5:6:7::"), v6(1, 2, 3, 4, 5, 6, 7, 0));
  assert.deepEqual(parseIpv6("1:2:3::6:7:8"), v6(1, 2, 3, 0, 0, 6, 7, 8));
});

Deno.test("parseIpv6() accepts upper-case hex", () => {
  assert.deepEqual(parseIpv6("2001:DB8::ABCD"), v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xabcd));
  assert.deepEqual(parseIpv6("FFFF:ffff:FfFf::"), v6(0xffff, 0xffff, 0xffff, 0, 0, 0, 0, 0));
});

Deno.test("parseIpv6() parses an embedded IPv4 tail", () => {
  assert.deepEqual(parseIpv6("::ffff:1.2.3.4"), v6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304));
  assert.deepEqual(parseIpv6("64:ff9b::192.0.2.33"), v6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221));
  assert.deepEqual(parseIpv6("1:2:3:4:5:6:7.8.9.10"), v6(1, 2, 3, 4, 5, 6, 0x0708, 0x090a));
  assert.deepEqual(parseIpv6("::1.2.3.4"), v6(0, 0, 0, 0, 0, 0, 0x0102, 0x0304));
});

Deno.test("parseIpv6() refuses a bad IPv4 tail", () => {
  for (
    const text of [
      "::ffff:1.2.3.256",
      "::ffff:1.2.3",
      "::ffff:01.2.3.4",
      "::ffff:1.2.3.4.5",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1.2.3.4::",
      "1.2.3.4::1",
      "::1.2.3.4:5",
      "1.2.3.4",
    ]
  ) {
    assert.equal(parseIpv6(text), null, text);
  }
});

Deno.test("parseIpv6() drops a %zone", () => {
  assert.deepEqual(parseIpv6("fe80::1%eth0"), v6(0xfe80, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIpv6("fe80::1%25"), v6(0xfe80, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIpv6("fe80::1%"), v6(0xfe80, 0, 0, 0, 0, 0, 0, 1));
  assert.equal(parseIpv6("%eth0"), null);
  assert.equal(parseIpv6("fe80::g%eth0"), null);
});

Deno.test("parseIpv6() refuses too many or too few groups", () => {
  for (
    const text of [
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1:2:3:4::5:6:7:8",
    ]
  ) {
    assert.equal(parseIpv6(text), null, text);
  }
});

Deno.test("parseIpv6() refuses two '::'", () => {
  for (const text of ["1::2::3", "::1::", "::::", "1::2:3::"]) {
    assert.equal(parseIpv6(text), null, text);
  }
});

Deno.test("parseIpv6() refuses stray colons, long groups and non-hex", () => {
  for (
    const text of [
      "",
      ":",
      ":::",
      ":1::",
      "1::2:",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:",
      "12345::",
      "00000::",
      "g::",
      "::-1",
      ":: 1",
      "[::1]",
      "0x1::",
    ]
  ) {
    assert.equal(parseIpv6(text), null, JSON.stringify(text));
  }
});

Deno.test("parseIpv6() accepts the longest form (45 chars) and refuses longer text", () => {
  assert.equal(parseIpv6("0".repeat(1000) + "::"), null);
  assert.equal(parseIpv6("0:".repeat(500) + ":"), null);
  // A long zone does not count: it is dropped first.
  assert.deepEqual(parseIpv6("fe80::1%" + "z".repeat(100)), v6(0xfe80, 0, 0, 0, 0, 0, 0, 1));
  const longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
  assert.equal(longest.length, 45);
  assert.deepEqual(parseIpv6(longest), new Uint8Array(16).fill(255));
});

Deno.test("parseIp() picks the family and strips brackets", () => {
  assert.deepEqual(parseIp("1.2.3.4"), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseIp("::1"), v6(0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIp("[::1]"), v6(0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIp("[2001:db8::1]"), v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
  assert.equal(parseIp("[::1"), null);
  assert.equal(parseIp("::1]"), null);
  assert.equal(parseIp("[::1]:6881"), null);
});

Deno.test("parseIp() unmaps ::ffff:1.2.3.4 to 4 bytes", () => {
  assert.deepEqual(parseIp("::ffff:1.2.3.4"), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseIp("[::ffff:1.2.3.4]"), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseIp("::FFFF:0102:0304"), new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseIp("0:0:0:0:0:ffff:a00:1"), new Uint8Array([10, 0, 0, 1]));
});

Deno.test("parseIp() keeps addresses that only look IPv4-mapped", () => {
  assert.deepEqual(parseIp("::1.2.3.4"), v6(0, 0, 0, 0, 0, 0, 0x0102, 0x0304));
  assert.deepEqual(parseIp("::fffe:1.2.3.4"), v6(0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304));
  assert.deepEqual(parseIp("::1:ffff:1.2.3.4"), v6(0, 0, 0, 0, 1, 0xffff, 0x0102, 0x0304));
  assert.deepEqual(parseIp("64:ff9b::1.2.3.4"), v6(0x64, 0xff9b, 0, 0, 0, 0, 0x0102, 0x0304));
});

Deno.test("parseIp() refuses host names and garbage", () => {
  for (const text of ["localhost", "tracker.example.com", "", "[]", "1.2.3.4.", "::g"]) {
    assert.equal(parseIp(text), null, text);
  }
});

Deno.test("unmapIpv4() returns the IPv4 bytes of a mapped address, else its input", () => {
  const mapped = v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201);
  assert.deepEqual(unmapIpv4(mapped), new Uint8Array([192, 0, 2, 1]));
  const v4 = new Uint8Array([1, 2, 3, 4]);
  assert.equal(unmapIpv4(v4), v4);
  const other = v6(0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x0201);
  assert.equal(unmapIpv4(other), other);
  const almost = v6(0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0201);
  assert.equal(unmapIpv4(almost), almost);
});

Deno.test("formatIp() prints IPv4 as a dotted quad", () => {
  assert.equal(formatIp(new Uint8Array([1, 2, 3, 4])), "1.2.3.4");
  assert.equal(formatIp(new Uint8Array([0, 0, 0, 0])), "0.0.0.0");
  assert.equal(formatIp(new Uint8Array([255, 255, 255, 255])), "255.255.255.255");
});

Deno.test("formatIp() compresses the longest zero run (RFC 5952 §4.2.1, §4.2.3)", () => {
  assert.equal(formatIp(new Uint8Array(16)), "::");
  assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0, 0, 1)), "::1");
  assert.equal(formatIp(v6(1, 0, 0, 0, 0, 0, 0, 0)), "1::");
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), "2001:db8::1");
  assert.equal(formatIp(v6(0x2001, 0, 0, 1, 0, 0, 0, 1)), "2001:0:0:1::1");
  assert.equal(formatIp(v6(0, 0, 1, 0, 0, 0, 1, 0)), "0:0:1::1:0");
  assert.equal(formatIp(v6(1, 2, 3, 4, 5, 6, 0, 0)), "1:2:3:4:5:6::");
});

Deno.test("formatIp() compresses the first of equal-length zero runs (RFC 5952 §4.2.3)", () => {
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), "2001:db8::1:0:0:1");
  assert.equal(formatIp(v6(0, 0, 1, 1, 1, 1, 0, 0)), "::1:1:1:1:0:0");
});

Deno.test("formatIp() does not compress a single zero group (RFC 5952 §4.2.2)", () => {
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatIp(v6(0, 1, 2, 3, 4, 5, 6, 7)), "0:1:2:3:4:5:6:7");
  assert.equal(formatIp(v6(1, 2, 3, 4, 5, 6, 7, 0)), "1:2:3:4:5:6:7:0");
  assert.equal(formatIp(v6(1, 2, 3, 4, 5, 6, 7, 8)), "1:2:3:4:5:6:7:8");
});

Deno.test("formatIp() prints lower case without leading zeros (RFC 5952 §4.1, §4.3)", () => {
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xabcd)), "2001:db8::abcd");
  assert.equal(formatIp(v6(0xabcd, 0x00ef, 0x000a, 0, 0, 0, 0, 0x0001)), "abcd:ef:a::1");
  assert.equal(formatIp(parseIpv6("2001:DB8:0:0:0:0:0:ABCD")!), "2001:db8::abcd");
});

Deno.test("formatIp() prints an IPv4-mapped address in hex, as the URL parser does", () => {
  const mapped = v6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304);
  assert.equal(formatIp(mapped), "::ffff:102:304");
  assert.equal(urlIpv6("::ffff:1.2.3.4"), "::ffff:102:304");
});

Deno.test("formatIp() and parseIp() round-trip random IPv4 addresses", () => {
  const rand = prng(0x1b4);
  for (let round = 0; round < 2000; round++) {
    const bytes = Uint8Array.from({ length: 4 }, () => Math.floor(rand() * 256));
    const text = formatIp(bytes);
    assert.equal(text, new URL(`http://${text}/`).hostname);
    assert.deepEqual(parseIpv4(text), bytes, text);
    assert.deepEqual(parseIp(text), bytes, text);
  }
});

Deno.test("formatIp() and parseIpv6() round-trip random IPv6 addresses, as URL prints them", () => {
  const rand = prng(0x1b6);
  const pick = (n: number) => Math.floor(rand() * n);
  for (let round = 0; round < 5000; round++) {
    // Zero groups are common so that every shape of zero run turns up.
    const words = Array.from({ length: 8 }, () => [0, 0, 1, 0xffff, pick(0x10000)][pick(5)]);
    const bytes = v6(...words);
    const text = formatIp(bytes);
    assert.equal(text, urlIpv6(text), text);
    assert.deepEqual(parseIpv6(text), bytes, text);
    assert.deepEqual(parseIp(text), unmapIpv4(bytes), text);
  }
});

Deno.test("parseIpv6() reads random spellings of random addresses", () => {
  const rand = prng(0x5ee6);
  const pick = (n: number) => Math.floor(rand() * n);
  for (let round = 0; round < 5000; round++) {
    const words = Array.from({ length: 8 }, () => [0, 0, 7, pick(0x10000)][pick(4)]);
    // Each group in upper or lower case, with or without leading zeros.
    const groups = words.map((word) => {
      const hex = rand() < 0.5 ? word.toString(16) : word.toString(16).padStart(4, "0");
      return rand() < 0.5 ? hex.toUpperCase() : hex;
    });
    // Sometimes the last two groups as an IPv4 tail; then '::' may only cover the first six.
    const tail = rand() < 0.2;
    const slots = tail
      ? [
        ...groups.slice(0, 6),
        `${words[6] >> 8}.${words[6] & 0xff}.${words[7] >> 8}.${words[7] & 0xff}`,
      ]
      : groups;
    const limit = tail ? 6 : 8;
    // Compress any run of zero groups (not necessarily the longest), or none.
    const zeroStarts = words.flatMap((word, i) => (word === 0 && i < limit ? [i] : []));
    let text = slots.join(":");
    if (zeroStarts.length > 0 && rand() < 0.7) {
      const start = zeroStarts[pick(zeroStarts.length)];
      let end = start + 1;
      while (end < limit && words[end] === 0 && rand() < 0.8) end++;
      text = slots.slice(0, start).join(":") + "::" + slots.slice(end).join(":");
    }
    const expected = v6(...words);
    assert.deepEqual(parseIpv6(text), expected, text);
    assert.equal(urlIpv6(text), formatIp(expected), text);
  }
});

Deno.test("parseIpv6() accepts and refuses exactly what the URL parser does on random text", () => {
  const rand = prng(0xbad6);
  const pick = (n: number) => Math.floor(rand() * n);
  const tokens = [
    "0",
    "1",
    "ff",
    "FFFF",
    "0000",
    "12345",
    ":",
    "::",
    "1.2.3.4",
    "01.2.3.4",
    "g",
    "",
  ];
  let accepted = 0;
  for (let round = 0; round < 20000; round++) {
    let text = "";
    for (let n = pick(12); n >= 0; n--) {
      text += tokens[pick(tokens.length)] + (rand() < 0.6 ? ":" : "");
    }
    const ours = parseIpv6(text);
    assert.equal(ours === null ? null : formatIp(ours), urlIpv6(text), text);
    if (ours !== null) accepted++;
  }
  assert.ok(accepted > 200, `only ${accepted} random texts were valid`);
});

Deno.test("formatEndpoint() prints a.b.c.d:port and [v6]:port", () => {
  assert.equal(formatEndpoint(new Uint8Array([1, 2, 3, 4]), 6881), "1.2.3.4:6881");
  assert.equal(formatEndpoint(new Uint8Array([10, 0, 0, 1]), 65535), "10.0.0.1:65535");
  assert.equal(formatEndpoint(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 6881), "[2001:db8::1]:6881");
  assert.equal(formatEndpoint(new Uint8Array(16), 1), "[::]:1");
});

Deno.test("parseIp() reads dotted quads and ::ffff: mapped ones as the general parsers do", () => {
  const random = prng(8);
  for (let i = 0; i < 2000; i++) {
    const parts = Array.from({ length: 4 }, () => Math.floor(random() * 300));
    const quad = parts.join(".");
    const expected = parts.every((part) => part < 256) ? Uint8Array.from(parts) : null;
    assert.deepEqual(parseIp(quad), expected, quad);
    assert.deepEqual(parseIp(`::ffff:${quad}`), expected, `::ffff:${quad}`);
    const general = parseIpv6(`::ffff:${quad}`);
    assert.deepEqual(parseIp(`::ffff:${quad}`), general === null ? null : unmapIpv4(general));
  }
  for (
    const text of ["::ffff:01.2.3.4", "::ffff:1.2.3", "::ffff:1.2.3.4.5", "1.2.3.4 ", ":1.2.3.4"]
  ) {
    assert.equal(parseIp(text), null, text);
  }
  assert.deepEqual(parseIp("::FFFF:1.2.3.4"), new Uint8Array([1, 2, 3, 4]));
});
