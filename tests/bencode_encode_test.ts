/**
 * Tests for `src/protocol/bencode_encode.ts`: `encodeBencode` against npm `bencode` as an oracle
 * on seeded random nested values, exact bytes for the edge cases, key order by UTF-8 bytes,
 * refused non-integers, and `BencodeWriter` growing past its initial capacity.
 *
 * @module
 */
import assert from "node:assert/strict";
import bencode from "bencode";
import { type BencodeValue, BencodeWriter, encodeBencode } from "../src/protocol/bencode_encode.ts";
import { seededRandom as prng } from "./support/seeded_random.ts";

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const asLatin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** A random value that both encoders accept and must encode identically. */
function randomValue(rand: () => number, depth: number): BencodeValue {
  const pick = (n: number) => Math.floor(rand() * n);
  switch (pick(depth > 0 ? 7 : 4)) {
    case 0:
      return [0, -1, 1, pick(2001) - 1000][pick(4)];
    case 1:
      // Any safe integer, both signs, every magnitude up to 2^53.
      return Math.floor((rand() * 2 - 1) * 2 ** (pick(53) + 1));
    case 2:
      return Uint8Array.from({ length: pick(24) }, () => pick(256));
    case 3:
      return randomText(rand, pick(10));
    case 4:
      return Array.from({ length: pick(5) }, () => randomValue(rand, depth - 1));
    default: {
      const dict: Record<string, BencodeValue> = {};
      for (let n = pick(6); n > 0; n--) dict[randomKey(rand)] = randomValue(rand, depth - 1);
      return dict;
    }
  }
}

/** Text from ASCII, Latin-1, other BMP letters, CJK and astral emoji. */
function randomText(rand: () => number, length: number): string {
  const pick = (n: number) => Math.floor(rand() * n);
  const ranges: [number, number][] = [
    [0x20, 0x7f],
    [0, 0x20],
    [0x80, 0x100],
    [0x370, 0x400],
    [
      0x4e00,
      0x4e80,
    ],
    [0xe000, 0xe010],
    [0x1f600, 0x1f650],
  ];
  return String.fromCodePoint(
    ...Array.from({ length }, () => {
      const [low, high] = ranges[pick(ranges.length)];
      return low + pick(high - low);
    }),
  );
}

/**
 * A dictionary key: short, with shared prefixes, cases and digits so that sorting matters.
 * Non-ASCII keys stay below U+D800, where the oracle's UTF-16 sort equals a UTF-8 byte sort.
 */
function randomKey(rand: () => number): string {
  const pick = (n: number) => Math.floor(rand() * n);
  const alphabet = ["a", "b", "A", "Z", "0", "9", "_", " ", "é", "ÿ", "Ω", "中", "~"];
  return Array.from({ length: pick(4) }, () => alphabet[pick(alphabet.length)]).join("");
}

Deno.test("encodeBencode() equals npm bencode byte for byte on random nested values", () => {
  const rand = prng(0xbe0c0de);
  for (let round = 0; round < 3000; round++) {
    const value = randomValue(rand, 3);
    const expected = bencode.encode(value);
    const actual = encodeBencode(value);
    assert.equal(asLatin1(actual), asLatin1(expected), `round ${round}`);
  }
});

Deno.test("encodeBencode() encodes integers, including 0, -0 and negatives", () => {
  assert.equal(asLatin1(encodeBencode(0)), "i0e");
  assert.equal(asLatin1(encodeBencode(-0)), "i0e");
  assert.equal(asLatin1(encodeBencode(42)), "i42e");
  assert.equal(asLatin1(encodeBencode(-42)), "i-42e");
  assert.equal(asLatin1(encodeBencode(Number.MAX_SAFE_INTEGER)), "i9007199254740991e");
  assert.equal(asLatin1(encodeBencode(Number.MIN_SAFE_INTEGER)), "i-9007199254740991e");
  assert.equal(asLatin1(encodeBencode(1e20)), "i100000000000000000000e");
});

Deno.test("encodeBencode() encodes bigints exactly", () => {
  assert.equal(asLatin1(encodeBencode(2n ** 64n)), "i18446744073709551616e");
  assert.equal(asLatin1(encodeBencode(-(2n ** 70n))), "i-1180591620717411303424e");
  assert.equal(asLatin1(encodeBencode(0n)), "i0e");
});

Deno.test({
  // Regression: `integer()` printed numbers from 1e21 on in exponent form ("i1e+21e"), which is
  // not bencode; npm bencode gives "i1000000000000000000000e".
  name: "encodeBencode() writes integers of 1e21 and above in plain digits (bug fixed)",
  fn: () => {
    assert.equal(asLatin1(encodeBencode(1e21)), "i1000000000000000000000e");
    assert.equal(asLatin1(encodeBencode(-1e21)), "i-1000000000000000000000e");
    assert.equal(asLatin1(encodeBencode(1e21)), asLatin1(bencode.encode(1e21)));
  },
});

Deno.test("encodeBencode() throws on non-integer numbers", () => {
  for (const value of [1.5, -0.1, Number.EPSILON, NaN, Infinity, -Infinity]) {
    assert.throws(() => encodeBencode(value), {
      name: "TypeError",
      message: `bencode integers must be whole numbers, got ${value}`,
    });
  }
});

Deno.test("encodeBencode() throws on a non-integer nested in a list or dict", () => {
  assert.throws(() => encodeBencode([1, [2, 2.5]]), {
    name: "TypeError",
    message: "bencode integers must be whole numbers, got 2.5",
  });
  assert.throws(() => encodeBencode({ a: { b: NaN } }), {
    name: "TypeError",
    message: "bencode integers must be whole numbers, got NaN",
  });
});

Deno.test("encodeBencode() encodes text as UTF-8 with its byte length", () => {
  assert.equal(asLatin1(encodeBencode("")), "0:");
  assert.equal(asLatin1(encodeBencode("spam")), "4:spam");
  assert.equal(asLatin1(encodeBencode("é")), "2:\xc3\xa9");
  assert.equal(asLatin1(encodeBencode("中文")), "6:\xe4\xb8\xad\xe6\x96\x87");
  assert.equal(asLatin1(encodeBencode("\u{1f600}")), "4:\xf0\x9f\x98\x80");
  assert.equal(asLatin1(encodeBencode("a\x00\x7f")), "3:a\x00\x7f");
});

Deno.test("encodeBencode() encodes a Uint8Array as raw bytes", () => {
  assert.equal(asLatin1(encodeBencode(new Uint8Array())), "0:");
  assert.equal(asLatin1(encodeBencode(latin1("\x00\xff\x80"))), "3:\x00\xff\x80");
  // A view encodes only its own bytes.
  const view = latin1("xxABCxx").subarray(2, 5);
  assert.equal(asLatin1(encodeBencode(view)), "3:ABC");
});

Deno.test("encodeBencode() encodes lists and dicts, empty and nested", () => {
  assert.equal(asLatin1(encodeBencode([])), "le");
  assert.equal(asLatin1(encodeBencode({})), "de");
  assert.equal(asLatin1(encodeBencode([1, "a", [[]], {}])), "li1e1:alleedee");
  assert.equal(
    asLatin1(encodeBencode({ info: { length: 3, name: "x" }, list: [1] })),
    "d4:infod6:lengthi3e4:name1:xe4:listli1eee",
  );
});

Deno.test("encodeBencode() sorts dict keys by bytes, whatever the insertion order", () => {
  assert.equal(asLatin1(encodeBencode({ b: 1, a: 2 })), "d1:ai2e1:bi1ee");
  assert.equal(asLatin1(encodeBencode({ b: 1, aa: 2, a: 3, "": 4 })), "d0:i4e1:ai3e2:aai2e1:bi1ee");
  // Upper case sorts before lower case; "10" before "9" (bytes, not numbers).
  assert.equal(asLatin1(encodeBencode({ a: 1, B: 2 })), "d1:Bi2e1:ai1ee");
  assert.equal(asLatin1(encodeBencode({ 9: 1, 10: 2 })), "d2:10i2e1:9i1ee");
  assert.equal(
    asLatin1(encodeBencode({ "min interval": 1, interval: 2, "external ip": "x" })),
    "d11:external ip1:x8:intervali2e12:min intervali1ee",
  );
});

Deno.test("encodeBencode() sorts keys by UTF-8 bytes where a UTF-16 sort differs", () => {
  // U+FFFF is EF BF BF and U+10000 is F0 90 80 80 in UTF-8, but U+10000 is the surrogate pair
  // D800 DC00 in UTF-16, so a plain `sort()` (as the npm oracle does) puts it first. BEP 3 says
  // keys are sorted as raw strings, so U+FFFF comes first.
  const value = { "\u{10000}": 1, "\uffff": 2 };
  assert.equal(
    asLatin1(encodeBencode(value)),
    "d3:\xef\xbf\xbfi2e4:\xf0\x90\x80\x80i1ee",
  );
  assert.equal(asLatin1(bencode.encode(value)), "d4:\xf0\x90\x80\x80i1e3:\xef\xbf\xbfi2ee");
});

Deno.test("encodeBencode() skips undefined dict values", () => {
  assert.equal(asLatin1(encodeBencode({ a: undefined, b: 1 })), "d1:bi1ee");
  assert.equal(asLatin1(encodeBencode({ a: undefined })), "de");
});

Deno.test("BencodeWriter grows past its initial capacity, keeping what was written", () => {
  const rand = prng(0x96);
  const values = Array.from({ length: 500 }, () => randomValue(rand, 2));
  const writer = new BencodeWriter(1);
  writer.raw("l");
  for (const value of values) writer.bytes(encodeBencode(value));
  writer.raw("e");
  const expected = bencode.encode(values.map((value) => bencode.encode(value)));
  assert.ok(expected.length > 10_000, `only ${expected.length} bytes`);
  assert.equal(asLatin1(writer.finish()), asLatin1(expected));
});

Deno.test("BencodeWriter grows for a single write many times its capacity", () => {
  const rand = prng(0x97);
  const big = Uint8Array.from({ length: 100_000 }, () => Math.floor(rand() * 256));
  const writer = new BencodeWriter(3);
  const out = writer.raw("d").byteString("k").bytes(big).raw("e").finish();
  assert.equal(out.length, 1 + 3 + 7 + 100_000 + 1);
  assert.equal(asLatin1(out.subarray(0, 11)), "d1:k100000:");
  assert.deepEqual(out.subarray(11, 11 + 100_000), big);
  assert.equal(out[out.length - 1], 0x65);
});

Deno.test("BencodeWriter grows for long text and long byte strings", () => {
  const text = "é".repeat(3000);
  assert.equal(
    asLatin1(new BencodeWriter(2).text(text).finish()),
    "6000:" + "\xc3\xa9".repeat(3000),
  );
  const bytes = "\xff".repeat(5000);
  assert.equal(asLatin1(new BencodeWriter(2).byteString(bytes).finish()), "5000:" + bytes);
});

Deno.test("BencodeWriter.finish() returns a copy, and reset() starts over", () => {
  const writer = new BencodeWriter(8);
  const first = writer.raw("d").text("a").integer(1).raw("e").finish();
  assert.equal(asLatin1(first), "d1:ai1ee");
  first[0] = 0;
  assert.equal(asLatin1(writer.finish()), "d1:ai1ee");
  assert.equal(asLatin1(writer.reset().integer(2).finish()), "i2e");
  assert.equal(asLatin1(first), "\x001:ai1ee");
  assert.equal(writer.reset().finish().length, 0);
});

Deno.test("BencodeWriter.byteString() writes one byte per char", () => {
  assert.deepEqual(new BencodeWriter().byteString("\xff\x00").finish(), latin1("2:\xff\x00"));
  assert.deepEqual(new BencodeWriter().byteString("").finish(), latin1("0:"));
});

Deno.test("BencodeWriter.text() writes ASCII as is and other text as UTF-8", () => {
  assert.deepEqual(new BencodeWriter().text("a\x7f").finish(), latin1("2:a\x7f"));
  assert.deepEqual(new BencodeWriter().text("\x80").finish(), latin1("2:\xc2\x80"));
  assert.deepEqual(new BencodeWriter().text("ÿ").finish(), latin1("2:\xc3\xbf"));
});

Deno.test("BencodeWriter.integer() takes numbers and bigints, and refuses fractions", () => {
  assert.equal(asLatin1(new BencodeWriter().integer(-7).integer(7n).finish()), "i-7ei7e");
  assert.throws(() => new BencodeWriter().integer(0.5), {
    name: "TypeError",
    message: "bencode integers must be whole numbers, got 0.5",
  });
});
