/**
 * Tests for `src/protocol/query.ts`: percent-decoding to raw bytes (every byte, both hex cases),
 * `+` kept, malformed escapes refused, pair splitting, `rawQueryOf`, and a pinned binary
 * `info_hash` as libtorrent sends it, contrasted with `URLSearchParams`, which corrupts it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseQuery, percentDecode, type QueryParam, rawQueryOf } from "../src/protocol/query.ts";
import { seededRandom as prng } from "./support/seeded_random.ts";

const hex2 = (byte: number): string => byte.toString(16).padStart(2, "0");

/** The byte string of the given bytes (one char per byte). */
const bytes = (...values: number[]): string => String.fromCharCode(...values);

/** libtorrent's encoding of the info hash 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a. */
const LIBTORRENT_HASH = "%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a";
const LIBTORRENT_HASH_BYTES = [...Uint8Array.fromHex("123456789abcdef123456789abcdef123456789a")];

Deno.test("percentDecode() round-trips every byte 0x00-0xff through upper-case %XX", () => {
  for (let byte = 0; byte < 256; byte++) {
    const escaped = "%" + hex2(byte).toUpperCase();
    assert.equal(percentDecode(escaped), bytes(byte), escaped);
  }
});

Deno.test("percentDecode() round-trips every byte 0x00-0xff through lower-case %xx", () => {
  for (let byte = 0; byte < 256; byte++) {
    const escaped = "%" + hex2(byte);
    assert.equal(percentDecode(escaped), bytes(byte), escaped);
  }
});

Deno.test("percentDecode() decodes all 256 bytes in one string, in order", () => {
  const all = Array.from({ length: 256 }, (_, byte) => byte);
  const escaped = all.map((byte) => "%" + hex2(byte)).join("");
  const decoded = percentDecode(escaped);
  assert.equal(decoded?.length, 256);
  assert.deepEqual(Array.from(decoded!, (c) => c.charCodeAt(0)), all);
});

Deno.test("percentDecode() accepts mixed-case hex digits in one escape", () => {
  assert.equal(percentDecode("%aB%Cd%eF"), bytes(0xab, 0xcd, 0xef));
});

Deno.test("percentDecode() keeps unescaped text around escapes", () => {
  assert.equal(percentDecode("a%41b%42"), "aAbB");
  assert.equal(percentDecode("plain"), "plain");
  assert.equal(percentDecode(""), "");
});

Deno.test("percentDecode() keeps '+' as '+', not a space", () => {
  assert.equal(percentDecode("+"), "+");
  assert.equal(percentDecode("a+b"), "a+b");
  assert.equal(percentDecode("%2B+%20"), "++ ");
});

Deno.test("percentDecode() returns null for malformed escapes", () => {
  for (
    const bad of [
      "%",
      "%4",
      "%zz",
      "%%",
      "%g0",
      "%0g",
      "ab%",
      "ab%4",
      "%41%",
      "%41%4",
      "%-1",
      "% 1",
    ]
  ) {
    assert.equal(percentDecode(bad), null, JSON.stringify(bad));
  }
});

Deno.test("percentDecode() decodes only text[start, end)", () => {
  assert.equal(percentDecode("x%41y", 1, 4), "A");
  assert.equal(percentDecode("xx%41", 2), "A");
  assert.equal(percentDecode("%41%4", 0, 3), "A");
  // An escape that runs past `end` is truncated, even if the text goes on.
  assert.equal(percentDecode("%414", 0, 2), null);
  assert.equal(percentDecode("ab%41", 0, 4), null);
  assert.equal(percentDecode("%41", 1, 3), "41");
});

Deno.test("percentDecode() rejects a char above 0xff anywhere, and keeps 0x80-0xff chars", () => {
  assert.equal(percentDecode("\u0100"), null);
  assert.equal(percentDecode("€"), null);
  assert.equal(percentDecode("%41€"), null);
  assert.equal(percentDecode("\u{1f600}"), null);
  // Latin-1 chars are already one byte each.
  assert.equal(percentDecode("\xe9\xff%41"), bytes(0xe9, 0xff, 0x41));
});

Deno.test({
  // Regression: only the text after the last escape used to be checked for chars above 0xff,
  // so percentDecode("€%41") returned "€A", a value that is not a byte string.
  name: "percentDecode() rejects a char above 0xff before or between escapes (bug fixed)",
  fn: () => {
    assert.equal(percentDecode("€%41"), null);
    assert.equal(percentDecode("%41€%42"), null);
    assert.equal(parseQuery("a=€%41"), null);
  },
});

Deno.test("percentDecode() round-trips random bytes, each byte escaped or left as is", () => {
  const rand = prng(0x5eed0001);
  const safe = /[A-Za-z0-9\-._~]/;
  for (let round = 0; round < 2000; round++) {
    const length = Math.floor(rand() * 40);
    const values = Array.from({ length }, () => Math.floor(rand() * 256));
    const escaped = values.map((byte) => {
      const char = String.fromCharCode(byte);
      if (safe.test(char) && rand() < 0.5) return char;
      const digits = hex2(byte);
      return "%" + (rand() < 0.5 ? digits : digits.toUpperCase());
    }).join("");
    assert.equal(percentDecode(escaped), bytes(...values), escaped);
  }
});

Deno.test("parseQuery() splits pairs in order", () => {
  assert.deepEqual(parseQuery("a=1&b=2&c=3"), [
    { key: "a", value: "1" },
    { key: "b", value: "2" },
    { key: "c", value: "3" },
  ]);
});

Deno.test("parseQuery() keeps duplicate keys, in order", () => {
  assert.deepEqual(parseQuery("k=1&x=0&k=2&k=1"), [
    { key: "k", value: "1" },
    { key: "x", value: "0" },
    { key: "k", value: "2" },
    { key: "k", value: "1" },
  ]);
});

Deno.test("parseQuery() skips empty pairs", () => {
  assert.deepEqual(parseQuery(""), []);
  assert.deepEqual(parseQuery("&"), []);
  assert.deepEqual(parseQuery("&&a=1&&b=2&"), [
    { key: "a", value: "1" },
    { key: "b", value: "2" },
  ]);
});

Deno.test("parseQuery() gives a key without '=' an empty value", () => {
  assert.deepEqual(parseQuery("a&b=2&c"), [
    { key: "a", value: "" },
    { key: "b", value: "2" },
    { key: "c", value: "" },
  ]);
  assert.deepEqual(parseQuery("a="), [{ key: "a", value: "" }]);
  assert.deepEqual(parseQuery("=x"), [{ key: "", value: "x" }]);
  assert.deepEqual(parseQuery("="), [{ key: "", value: "" }]);
});

Deno.test("parseQuery() splits a pair at its first '=' only", () => {
  assert.deepEqual(parseQuery("a=b=c&d==e"), [
    { key: "a", value: "b=c" },
    { key: "d", value: "=e" },
  ]);
});

Deno.test("parseQuery() decodes keys as well as values, and escaped separators are data", () => {
  assert.deepEqual(parseQuery("info%5Fhash=%26%3D&x%3Dy=1"), [
    { key: "info_hash", value: "&=" },
    { key: "x=y", value: "1" },
  ]);
});

Deno.test("parseQuery() keeps '+' as '+' in keys and values", () => {
  assert.deepEqual(parseQuery("a+b=c+d"), [{ key: "a+b", value: "c+d" }]);
});

Deno.test("parseQuery() returns null when any key or value has a malformed escape", () => {
  for (const bad of ["a=1&b=%zz", "%zz=1", "a=%", "a=1&%4", "a=%4&b=2", "a=%%", "€=1", "a=€"]) {
    assert.equal(parseQuery(bad), null, JSON.stringify(bad));
  }
});

Deno.test("parseQuery() pins a binary info_hash exactly as libtorrent sends it", () => {
  const params = parseQuery(`info_hash=${LIBTORRENT_HASH}&port=6881`);
  assert.notEqual(params, null);
  const [hash, port] = params!;
  assert.equal(hash.key, "info_hash");
  assert.equal(hash.value.length, 20);
  assert.deepEqual(Array.from(hash.value, (c) => c.charCodeAt(0)), LIBTORRENT_HASH_BYTES);
  assert.deepEqual(port, { key: "port", value: "6881" });
});

Deno.test("URLSearchParams corrupts the libtorrent info_hash (why we parse by hand)", () => {
  const value = new URLSearchParams(`info_hash=${LIBTORRENT_HASH}`).get("info_hash")!;
  // It decodes UTF-8: every byte that is not part of a valid sequence becomes U+FFFD. The result
  // even has length 20, so a length check alone would not catch the corruption.
  assert.equal(value.length, 20);
  const bad = "\ufffd";
  assert.equal(value, `\x124Vx${bad}${bad}${bad}${bad}#Eg${bad}${bad}${bad}${bad}\x124Vx${bad}`);
  assert.notEqual(value, bytes(...LIBTORRENT_HASH_BYTES));
});

Deno.test("URLSearchParams turns '+' into a space, parseQuery() does not", () => {
  assert.equal(new URLSearchParams("a=x+y").get("a"), "x y");
  assert.deepEqual(parseQuery("a=x+y"), [{ key: "a", value: "x+y" }]);
});

Deno.test("parseQuery() agrees with URLSearchParams on random ASCII queries without '+'", () => {
  const rand = prng(0x5eed0002);
  const alphabet = "abcXYZ019_-.~=&";
  const pick = (n: number) => Math.floor(rand() * n);
  for (let round = 0; round < 2000; round++) {
    let query = "";
    const length = pick(30);
    for (let i = 0; i < length; i++) {
      // Escapes of bytes below 0x80 decode the same under UTF-8 and to the byte.
      query += rand() < 0.3 ? "%" + hex2(pick(0x80)) : alphabet[pick(alphabet.length)];
    }
    const expected: QueryParam[] = [...new URLSearchParams(query)].map(([key, value]) => ({
      key,
      value,
    }));
    assert.deepEqual(parseQuery(query), expected, query);
  }
});

Deno.test("rawQueryOf() returns what follows '?', or '' without one", () => {
  assert.equal(rawQueryOf("http://t.example:6969/announce?a=1&b=2"), "a=1&b=2");
  assert.equal(rawQueryOf("/announce?info_hash=%12%34"), "info_hash=%12%34");
  assert.equal(rawQueryOf("http://t.example/announce"), "");
  assert.equal(rawQueryOf("http://t.example/announce?"), "");
  assert.equal(rawQueryOf(""), "");
});

Deno.test("rawQueryOf() splits at the first '?' only", () => {
  assert.equal(rawQueryOf("/announce?a=?&b=c?d"), "a=?&b=c?d");
});

Deno.test("rawQueryOf() stops at '#'", () => {
  assert.equal(rawQueryOf("http://t.example/announce?a=1#frag"), "a=1");
  assert.equal(rawQueryOf("/announce?a=1#"), "a=1");
  assert.equal(rawQueryOf("/announce?#a=1"), "");
  assert.equal(rawQueryOf("/announce#frag"), "");
});

Deno.test({
  // Regression: rawQueryOf("http://t.example/announce#frag?a=1") used to return "a=1"; a '?'
  // after '#' is part of the fragment (RFC 3986 §3.5), and `new Request(url).url` keeps fragments.
  name: "rawQueryOf() ignores a '?' inside the fragment (bug fixed)",
  fn: () => {
    const url = "http://t.example/announce#frag?a=1";
    assert.equal(new URL(url).search, "");
    assert.equal(rawQueryOf(url), "");
  },
});

Deno.test("parseQuery() reads a 0x80-0xff char where UTF-8 would overflow the reused buffer", () => {
  // Queries are copied to bytes by UTF-8 encoding; a char from 0x80 to 0xff takes two bytes there,
  // so a query of exactly the buffer's size (8 KiB) ending in one did not fit: it must still be
  // read char by char as bytes, not cut or mistaken for ASCII.
  for (const length of [8 * 1024 - 1, 8 * 1024, 8 * 1024 + 1, 70_000]) {
    const query = "a=" + "x".repeat(length - 6) + "\xe9%41";
    assert.equal(query.length, length);
    const params = parseQuery(query);
    assert.notEqual(params, null, `length ${length}`);
    assert.equal(params![0].value, "x".repeat(length - 6) + "\xe9A", `length ${length}`);
  }
});

Deno.test("parseQuery() is unaffected by a longer query parsed before it", () => {
  // A query past the reused buffer gets buffers of its own; the next short one uses the reused
  // buffer again and must not see bytes left from earlier queries.
  assert.equal(parseQuery("k=" + "%41".repeat(20_000))![0].value, "A".repeat(20_000));
  assert.deepEqual(parseQuery("k=%42"), [{ key: "k", value: "B" }]);
  assert.deepEqual(parseQuery("a=1&b"), [{ key: "a", value: "1" }, { key: "b", value: "" }]);
  assert.equal(parseQuery("k=%4"), null);
});
