/**
 * Tests for `src/protocol/bencode_decode.ts`: a round trip against npm `bencode` as an oracle,
 * every kind of malformed input, and exact raw spans of dictionary values.
 *
 * @module
 */
import assert from "node:assert/strict";
import bencode from "bencode";
import { BDict, BencodeError, type BValue, decodeBencode } from "../src/protocol/bencode_decode.ts";
import { bytesToByteString } from "../src/protocol/byte_string.ts";
import { seededRandom as prng } from "./support/seeded_random.ts";

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** A decoded value with every `BDict` turned into a `Map`, for deep comparison. */
type Model = number | bigint | Uint8Array | Model[] | Map<string, Model>;

function toModel(value: BValue): Model {
  if (value instanceof BDict) {
    return new Map([...value.entries()].map(([key, v]) => [key, toModel(v)]));
  }
  return Array.isArray(value) ? value.map(toModel) : value;
}

/** A random value to give the oracle encoder (`input`) and what decoding must yield (`expected`). */
function randomValue(rand: () => number, depth: number): { input: unknown; expected: Model } {
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = () => Uint8Array.from({ length: int(24) }, () => int(256));
  switch (int(depth > 0 ? 7 : 4)) {
    case 0: {
      const n = int(2001) - 1000;
      return { input: n, expected: n };
    }
    case 1: {
      // Past 2^53 the decoder must answer with an exact bigint.
      const n = Math.floor((rand() * 2 - 1) * 2 ** (int(64) + 1));
      return { input: n, expected: Number.isSafeInteger(n) ? n : BigInt(n) };
    }
    case 2: {
      const b = bytes();
      return { input: b, expected: b };
    }
    case 3: {
      const text = String.fromCodePoint(...Array.from({ length: int(8) }, () => int(0x2000)));
      return { input: text, expected: new TextEncoder().encode(text) };
    }
    case 4: {
      const items = Array.from({ length: int(5) }, () => randomValue(rand, depth - 1));
      return { input: items.map((i) => i.input), expected: items.map((i) => i.expected) };
    }
    case 5: {
      // Map with byte-string keys: any bytes, in whatever order the oracle emits them.
      const input = new Map<Uint8Array, unknown>();
      const expected = new Map<string, Model>();
      for (let i = int(5); i > 0; i--) {
        const key = bytes();
        if (expected.has(bytesToByteString(key))) continue;
        const value = randomValue(rand, depth - 1);
        input.set(key, value.input);
        expected.set(bytesToByteString(key), value.expected);
      }
      return { input, expected };
    }
    default: {
      const input: Record<string, unknown> = {};
      const expected = new Map<string, Model>();
      for (let i = int(5); i > 0; i--) {
        const key = `k${int(1000)}`;
        const value = randomValue(rand, depth - 1);
        input[key] = value.input;
        expected.set(key, value.expected);
      }
      return { input, expected };
    }
  }
}

/** Every dict value's raw span must decode, on its own, to that very value. */
function assertSpansExact(value: BValue): void {
  if (Array.isArray(value)) return value.forEach(assertSpansExact);
  if (!(value instanceof BDict)) return;
  for (const [key, child] of value.entries()) {
    assert.deepStrictEqual(toModel(decodeBencode(value.rawOf(key)!)), toModel(child));
    assertSpansExact(child);
  }
}

Deno.test("decodeBencode() round-trips 2000 random values encoded by npm bencode", () => {
  const rand = prng(0x5eed);
  for (let i = 0; i < 2000; i++) {
    const { input, expected } = randomValue(rand, 4);
    const encoded = bencode.encode(input);
    const decoded = decodeBencode(encoded);
    assert.deepStrictEqual(toModel(decoded), expected, `case ${i}`);
    assertSpansExact(decoded);
  }
});

Deno.test("decodeBencode() decodes edge values", () => {
  assert.equal(decodeBencode(latin1("i0e")), 0);
  assert.equal(decodeBencode(latin1("i-1e")), -1);
  assert.equal(decodeBencode(latin1("i9007199254740991e")), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeBencode(latin1("i-9007199254740991e")), -Number.MAX_SAFE_INTEGER);
  assert.equal(decodeBencode(latin1("i9007199254740992e")), 9007199254740992n);
  assert.equal(decodeBencode(latin1("i-9007199254740992e")), -9007199254740992n);
  assert.equal(
    decodeBencode(latin1("i123456789012345678901234567890e")),
    123456789012345678901234567890n,
  );
  assert.deepStrictEqual(decodeBencode(latin1("0:")), new Uint8Array());
  assert.deepStrictEqual(decodeBencode(latin1("le")), []);
  assert.equal((decodeBencode(latin1("de")) as BDict).size, 0);
});

Deno.test("decodeBencode() returns strings as views of the input, not copies", () => {
  const input = latin1("l4:spame");
  const [spam] = decodeBencode(input) as Uint8Array[];
  assert.equal(spam.buffer, input.buffer);
  assert.equal(spam.byteOffset, 3);
});

Deno.test("decodeBencode() keeps keys out of canonical order, in input order", () => {
  const dict = decodeBencode(latin1("d1:bi1e1:ai2ee")) as BDict;
  assert.deepStrictEqual([...dict.keys()], ["b", "a"]);
  assert.equal(dict.get("a"), 2);
});

Deno.test("decodeBencode() keys dictionaries by raw bytes (latin1 byte strings)", () => {
  const dict = decodeBencode(latin1("d2:\xff\x00i1e2:\xc3\xa9i2ee")) as BDict;
  assert.equal(dict.get("\xff\x00"), 1);
  assert.equal(dict.get("\xc3\xa9"), 2); // "é" in UTF-8, read one char per byte
  assert.equal(dict.has("é"), false);
});

Deno.test("BDict.spanOf() gives the exact span of a nested dictionary value", () => {
  //                    0         1         2         3
  //                    0123456789012345678901234567890123456789
  const input = latin1("d4:infod4:name1:x5:filesli1ei2eee1:zi0ee");
  const root = decodeBencode(input) as BDict;
  assert.deepStrictEqual(root.spanOf("info"), { start: 7, end: 33 });
  assert.equal(bytesToByteString(root.rawOf("info")!), "d4:name1:x5:filesli1ei2eee");
  const info = root.get("info") as BDict;
  assert.deepStrictEqual(info.spanOf("files"), { start: 24, end: 32 });
  assert.equal(bytesToByteString(info.rawOf("files")!), "li1ei2ee");
  assert.deepStrictEqual(root.spanOf("z"), { start: 36, end: 39 });
  assert.equal(root.spanOf("missing"), undefined);
  assert.equal(root.rawOf("missing"), undefined);
  assert.equal(root.rawOf("info")!.buffer, input.buffer);
});

const MALFORMED: [input: string, offset: number, message: RegExp][] = [
  ["", 0, /^Unexpected end of input/],
  ["i", 1, /^Unexpected end of input/],
  ["i1", 2, /^Unexpected end of input/],
  ["ie", 1, /^Expected a digit in integer, got "e"/],
  ["i-e", 2, /^Expected a digit in integer/],
  ["i+1e", 1, /^Expected a digit in integer, got "\+"/],
  ["i01e", 1, /^Integer has a leading zero/],
  ["i-01e", 2, /^Integer has a leading zero/],
  ["i-0e", 1, /^Integer is "-0"/],
  ["i1.5e", 2, /^Unexpected byte "\." in integer/],
  ["i 1e", 1, /^Expected a digit in integer, got " "/],
  ["01:a", 0, /^String length has a leading zero/],
  ["5:abc", 0, /^String length 5 exceeds the 3 bytes left/],
  ["99999999999999999999:", 0, /^String length .* exceeds the 0 bytes left/],
  ["3abc", 1, /^Expected ":" after string length, got "a"/],
  ["3", 1, /^Unexpected end of input/],
  [":abc", 0, /^Unexpected byte ":"/],
  ["-1:a", 0, /^Unexpected byte "-"/],
  ["l", 1, /^Unexpected end of input/],
  ["li1e", 4, /^Unexpected end of input/],
  ["d", 1, /^Unexpected end of input/],
  ["di1ei2ee", 1, /^Dictionary key is not a string/],
  ["dlei1ee", 1, /^Dictionary key is not a string/],
  ["d1:ae", 4, /^Dictionary key "a" has no value/],
  ["d1:a", 4, /^Unexpected end of input/],
  ["d1:ai1e1:ai2ee", 7, /^Duplicate dictionary key "a"/],
  ["i1ei2e", 3, /^Trailing data after the value/],
  ["4:spam ", 6, /^Trailing data after the value/],
  ["lee", 2, /^Trailing data after the value/],
  ["x", 0, /^Unexpected byte "x"/],
  ["e", 0, /^Unexpected byte "e"/],
  ["\x00", 0, /^Unexpected byte 0x00/],
  ["l".repeat(65) + "e".repeat(65), 64, /^Nesting deeper than 64/],
];

for (const [input, offset, message] of MALFORMED) {
  Deno.test(`decodeBencode() rejects ${JSON.stringify(input.slice(0, 24))}`, () => {
    assert.throws(() => decodeBencode(latin1(input)), (error: unknown) => {
      assert.ok(error instanceof BencodeError);
      assert.match(error.message, message);
      assert.equal(error.offset, offset);
      assert.ok(error.message.endsWith(` at byte ${offset}`));
      return true;
    });
  });
}

Deno.test("decodeBencode() nests up to maxDepth and no deeper", () => {
  const nested = (n: number) => latin1("l".repeat(n) + "e".repeat(n));
  assert.doesNotThrow(() => decodeBencode(nested(64)));
  assert.doesNotThrow(() => decodeBencode(nested(3), { maxDepth: 3 }));
  assert.throws(() => decodeBencode(nested(4), { maxDepth: 3 }), /Nesting deeper than 3 at byte 3/);
  assert.throws(
    () => decodeBencode(latin1("d1:ad1:ad1:adeeee"), { maxDepth: 3 }),
    /Nesting deeper than 3/,
  );
});
