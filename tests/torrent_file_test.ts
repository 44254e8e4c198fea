/**
 * Tests for `src/protocol/torrent_file.ts` and `src/protocol/info_hash.ts` over real fixtures
 * (made by mktorrent and libtorrent, see `tests/testdata/make_torrents.sh`) whose expected values
 * libtorrent computed, plus hand-built files for each rejection.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import bencode from "bencode";
import { byteStringToHex } from "../src/protocol/byte_string.ts";
import { infoHashesOf } from "../src/protocol/info_hash.ts";
import { parseTorrentFile, TorrentFileError } from "../src/protocol/torrent_file.ts";

const DIR = new URL("./testdata/torrents/", import.meta.url);

interface Expected {
  path: string;
  name: string;
  size: number;
  v1: string | null;
  v2: string | null;
}

/** The table in MANIFEST.md: values computed by libtorrent, not by NoBrake. */
function readManifest(): Expected[] {
  const text = Deno.readTextFileSync(new URL("MANIFEST.md", DIR));
  return text.split("\n").filter((line) => /^\| \S+\.torrent \|/.test(line)).map((line) => {
    const [path, name, size, v1, v2] = line.split(" | ").map((cell) => cell.replace(/^\| /, ""));
    return {
      path,
      name,
      size: Number(size),
      v1: v1 === "-" ? null : v1,
      v2: v2 === "-" ? null : v2,
    };
  });
}

const read = (path: string) => Deno.readFileSync(new URL(path, DIR));
const MANIFEST = readManifest();

Deno.test("MANIFEST.md lists the six good fixtures", () => {
  assert.equal(MANIFEST.length, 6);
});

for (const expected of MANIFEST) {
  Deno.test(`parseTorrentFile() and infoHashesOf() match libtorrent on ${expected.path}`, () => {
    const parsed = parseTorrentFile(read(expected.path));
    assert.equal(parsed.name, expected.name);
    assert.equal(parsed.size, expected.size);
    assert.equal(parsed.isV1, expected.v1 !== null);
    assert.equal(parsed.isV2, expected.v2 !== null);
    const hashes = infoHashesOf(parsed);
    assert.equal(hashes.v1 === null ? null : byteStringToHex(hashes.v1), expected.v1);
    assert.equal(hashes.v2 === null ? null : byteStringToHex(hashes.v2), expected.v2);
    if (hashes.v1 !== null) assert.equal(hashes.v1.length, 20);
    if (hashes.v2 !== null) assert.equal(hashes.v2.length, 20);
  });
}

Deno.test("infoHashesOf() gives a non-canonical file its true hash, not a re-encoding's", () => {
  const bytes = read("noncanonical.torrent");
  const expected = MANIFEST.find((row) => row.path === "noncanonical.torrent")!;
  const parsed = parseTorrentFile(bytes);
  assert.equal(byteStringToHex(infoHashesOf(parsed).v1!), expected.v1);

  // npm bencode sorts keys on encoding, so hashing its re-encoding gives another answer.
  const reencoded = bencode.encode(bencode.decode(bytes).info);
  const reencodedHash = createHash("sha1").update(reencoded).digest("hex");
  assert.notEqual(reencodedHash, expected.v1);
  assert.equal(reencoded.length, parsed.infoBytes.length);
  assert.notDeepEqual(reencoded, parsed.infoBytes);
});

Deno.test("parseTorrentFile() returns infoBytes as a view of the input", () => {
  const bytes = read("single_v1.torrent");
  const { infoBytes } = parseTorrentFile(bytes);
  assert.equal(infoBytes.buffer, bytes.buffer);
  assert.equal(infoBytes[0], 0x64); // "d"
});

Deno.test("parseTorrentFile() rejects the truncated fixture as not bencoded", () => {
  assert.throws(
    () => parseTorrentFile(read("corrupt.torrent")),
    (error: unknown) => error instanceof TorrentFileError && /^not bencoded: /.test(error.message),
  );
});

const PIECES = new Uint8Array(20);
const v1Info = (fields: Record<string, unknown>) => ({
  name: "x",
  "piece length": 16384,
  pieces: PIECES,
  ...fields,
});
const v2Info = (fields: Record<string, unknown>) => ({
  name: "x",
  "piece length": 16384,
  "meta version": 2,
  ...fields,
});
const leaf = (length: number) => ({ "": { length, "pieces root": new Uint8Array(32) } });

const REJECTED: [what: string, torrent: unknown, reason: RegExp][] = [
  ["a top-level list", [1, 2], /^top level is not a dictionary$/],
  ["no info", { announce: "http://t/" }, /^missing info dictionary$/],
  ["an info string", { info: "x" }, /^info is not a dictionary$/],
  ["no name", { info: v1Info({ name: undefined, length: 1 }) }, /^info.name is not a string$/],
  ["an integer name", { info: v1Info({ name: 5, length: 1 }) }, /^info.name is not a string$/],
  [
    "no piece length",
    { info: v1Info({ "piece length": undefined, length: 1 }) },
    /^info.piece length is not a positive integer$/,
  ],
  ["no pieces nor meta version", { info: { name: "x", "piece length": 1, length: 1 } }, /^neither/],
  ["meta version 3", { info: v2Info({ "meta version": 3 }) }, /^unsupported info.meta version 3$/],
  ["19-byte pieces", { info: v1Info({ pieces: new Uint8Array(19), length: 1 }) }, /info.pieces/],
  ["an empty files list", { info: v1Info({ files: [] }) }, /^no files$/],
  ["neither length nor files", { info: v1Info({}) }, /^info has neither length nor files$/],
  [
    "both length and files",
    { info: v1Info({ length: 1, files: [{ length: 1, path: ["a"] }] }) },
    /^info has both length and files$/,
  ],
  ["a negative length", { info: v1Info({ length: -1 }) }, /^info.length is not a non-negative/],
  ["a string length", { info: v1Info({ length: "1" }) }, /^info.length is not a non-negative/],
  ["a file without length", { info: v1Info({ files: [{ path: ["a"] }] }) }, /files\[\].length/],
  ["a v2 file tree string", { info: v2Info({ "file tree": "x" }) }, /^info.file tree is not a/],
  ["an empty v2 file tree", { info: v2Info({ "file tree": {} }) }, /^no files$/],
  [
    "a v2 file that is also a directory",
    { info: v2Info({ "file tree": { a: { ...leaf(1), b: leaf(1) } } }) },
    /^info.file tree file entry is malformed$/,
  ],
  [
    "a v2 leaf without length",
    { info: v2Info({ "file tree": { a: { "": {} } } }) },
    /^info.file tree length is not a non-negative integer$/,
  ],
  [
    "a hybrid whose sizes disagree",
    { info: v2Info({ pieces: PIECES, length: 5, "file tree": { x: leaf(6) } }) },
    /^v1 and v2 sizes disagree \(5 and 6\)$/,
  ],
  ["a size past 2^53", { info: v1Info({ length: 2 ** 60 }) }, /^total size is too large$/],
  [
    "sizes summing past 2^53",
    {
      info: v1Info({ files: [{ length: 2 ** 52, path: ["a"] }, { length: 2 ** 52, path: ["b"] }] }),
    },
    /^total size is too large$/,
  ],
];

for (const [what, torrent, reason] of REJECTED) {
  Deno.test(`parseTorrentFile() rejects ${what}`, () => {
    assert.throws(() => parseTorrentFile(bencode.encode(torrent)), (error: unknown) => {
      assert.ok(error instanceof TorrentFileError);
      assert.match(error.message, reason);
      return true;
    });
  });
}

Deno.test("parseTorrentFile() sums v1 files but not BEP 47 padding files", () => {
  const info = v1Info({
    files: [
      { length: 10, path: ["a"] },
      { length: 16374, path: [".pad", "16374"], attr: "p" },
      { length: 7, path: ["b"], attr: "x" },
    ],
  });
  assert.equal(parseTorrentFile(bencode.encode({ info })).size, 17);
});

Deno.test("parseTorrentFile() sums a nested v2 file tree", () => {
  const info = v2Info({ "file tree": { a: leaf(3), d: { b: leaf(4), e: { c: leaf(0) } } } });
  const parsed = parseTorrentFile(bencode.encode({ info }));
  assert.deepEqual([parsed.size, parsed.isV1, parsed.isV2], [7, false, true]);
});

Deno.test("parseTorrentFile() decodes a name with invalid UTF-8 with replacement chars", () => {
  const info = v1Info({ name: Uint8Array.of(0x61, 0xff, 0x62), length: 1 });
  assert.equal(parseTorrentFile(bencode.encode({ info })).name, "a\ufffdb");
});
