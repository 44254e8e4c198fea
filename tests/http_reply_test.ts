/**
 * Tests for `src/protocol/http_reply.ts`: announce, scrape and failure replies, decoded with npm
 * `bencode` as an oracle and checked key by key, plus exact bytes where key order matters
 * (bencode dictionaries must be sorted, and scrape keys are raw 20-byte hashes).
 *
 * @module
 */
import assert from "node:assert/strict";
import bencode from "bencode";
import type { AnnounceResult, ScrapeEntry } from "../src/protocol/messages.ts";
import {
  type AnnounceReplyOptions,
  encodeAnnounceReply,
  encodeFailure,
  encodeScrapeReply,
} from "../src/protocol/http_reply.ts";

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const asLatin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Decodes with the npm oracle; byte strings come back as `Uint8Array`. */
function decode(bytes: Uint8Array): Record<string, unknown> {
  return bencode.decode(bytes) as Record<string, unknown>;
}

/** One BEP 23 compact entry: address bytes then the port, big-endian. */
function endpoint(address: number[], port: number): number[] {
  return [...address, port >> 8, port & 0xff];
}

const V6_A = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd];

function result(fields: Partial<AnnounceResult> = {}): AnnounceResult {
  return {
    complete: 3,
    incomplete: 2,
    downloaders: 1,
    downloaded: 7,
    peers4: new Uint8Array(),
    peers6: new Uint8Array(),
    peerIds4: null,
    peerIds6: null,
    ...fields,
  };
}

function options(fields: Partial<AnnounceReplyOptions> = {}): AnnounceReplyOptions {
  return {
    interval: 1800,
    minInterval: 900,
    compact: true,
    noPeerId: false,
    externalIp: null,
    ...fields,
  };
}

function entry(infoHash: string, n: number): ScrapeEntry {
  return { infoHash, complete: n, incomplete: n + 1, downloaders: n + 2, downloaded: n + 3 };
}

/** How the oracle names a dict key: UTF-8 text when valid, else lower-case hex of the bytes. */
function oracleKey(bytes: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(latin1(bytes));
  } catch {
    return latin1(bytes).toHex();
  }
}

Deno.test("encodeAnnounceReply() writes a compact reply with every key", () => {
  const peers4 = Uint8Array.from([
    ...endpoint([10, 0, 0, 1], 6881),
    ...endpoint([192, 168, 1, 2], 65535),
  ]);
  const reply = encodeAnnounceReply(result({ peers4 }), options());
  assert.deepEqual(decode(reply), {
    complete: 3,
    downloaded: 7,
    incomplete: 2,
    interval: 1800,
    "min interval": 900,
    peers: peers4,
  });
  assert.equal(
    asLatin1(reply),
    "d8:completei3e10:downloadedi7e10:incompletei2e8:intervali1800e12:min intervali900e" +
      "5:peers12:\x0a\x00\x00\x01\x1a\xe1\xc0\xa8\x01\x02\xff\xffe",
  );
});

Deno.test("encodeAnnounceReply() writes keys in canonical order (re-encoding is identical)", () => {
  const reply = encodeAnnounceReply(
    result({
      peers4: Uint8Array.from(endpoint([1, 2, 3, 4], 1)),
      peers6: Uint8Array.from(endpoint(V6_A, 2)),
    }),
    options({ externalIp: new Uint8Array([9, 9, 9, 9]) }),
  );
  const decoded = decode(reply);
  assert.deepEqual(Object.keys(decoded), [
    "complete",
    "downloaded",
    "external ip",
    "incomplete",
    "interval",
    "min interval",
    "peers",
    "peers6",
  ]);
  assert.equal(asLatin1(bencode.encode(decoded)), asLatin1(reply));
});

Deno.test("encodeAnnounceReply() leaves out downloaders (a scrape field)", () => {
  const decoded = decode(encodeAnnounceReply(result({ downloaders: 5 }), options()));
  assert.equal("downloaders" in decoded, false);
});

Deno.test("encodeAnnounceReply() writes a 4-byte external ip (BEP 24)", () => {
  const decoded = decode(
    encodeAnnounceReply(result(), options({ externalIp: new Uint8Array([203, 0, 113, 9]) })),
  );
  assert.deepEqual(decoded["external ip"], new Uint8Array([203, 0, 113, 9]));
});

Deno.test("encodeAnnounceReply() writes a 16-byte external ip (BEP 24)", () => {
  const decoded = decode(
    encodeAnnounceReply(result(), options({ externalIp: Uint8Array.from(V6_A) })),
  );
  assert.deepEqual(decoded["external ip"], Uint8Array.from(V6_A));
});

Deno.test("encodeAnnounceReply() leaves out external ip when it is null", () => {
  const decoded = decode(encodeAnnounceReply(result(), options({ externalIp: null })));
  assert.equal("external ip" in decoded, false);
});

Deno.test("encodeAnnounceReply() writes peers6 when there are IPv6 peers (BEP 7)", () => {
  const peers6 = Uint8Array.from([...endpoint(V6_A, 6881), ...endpoint(V6_B, 51413)]);
  const decoded = decode(encodeAnnounceReply(result({ peers6 }), options()));
  assert.deepEqual(decoded.peers6, peers6);
  assert.equal(decoded.peers6 instanceof Uint8Array && decoded.peers6.length, 36);
  assert.deepEqual(decoded.peers, new Uint8Array());
});

Deno.test("encodeAnnounceReply() leaves out peers6 when empty, but always writes peers", () => {
  const reply = encodeAnnounceReply(result(), options());
  const decoded = decode(reply);
  assert.equal("peers6" in decoded, false);
  assert.deepEqual(decoded.peers, new Uint8Array());
  assert.equal(asLatin1(reply).includes("5:peers0:e"), true);
});

Deno.test("encodeAnnounceReply() writes a non-compact list of dicts with ip, peer id, port", () => {
  const peers4 = Uint8Array.from([
    ...endpoint([10, 0, 0, 1], 6881),
    ...endpoint([255, 255, 255, 255], 1),
  ]);
  const peerIds4 = latin1("-AB0001-aaaaaaaaaaaa" + "\x00\xff-XY9999-\x80\x7fbbbbbbbb");
  const decoded = decode(
    encodeAnnounceReply(result({ peers4, peerIds4 }), options({ compact: false })),
  );
  assert.deepEqual(decoded.peers, [
    { ip: utf8("10.0.0.1"), "peer id": peerIds4.slice(0, 20), port: 6881 },
    { ip: utf8("255.255.255.255"), "peer id": peerIds4.slice(20, 40), port: 1 },
  ]);
  assert.equal("peers6" in decoded, false);
});

Deno.test("encodeAnnounceReply() writes non-compact peer dicts with keys in order", () => {
  const reply = encodeAnnounceReply(
    result({
      peers4: Uint8Array.from(endpoint([1, 2, 3, 4], 258)),
      peerIds4: latin1("p".repeat(20)),
    }),
    options({ compact: false }),
  );
  assert.equal(
    asLatin1(reply).slice(asLatin1(reply).indexOf("5:peers")),
    `5:peersld2:ip7:1.2.3.47:peer id20:${"p".repeat(20)}4:porti258eeee`,
  );
});

Deno.test("encodeAnnounceReply() leaves out peer id when noPeerId is set", () => {
  const decoded = decode(
    encodeAnnounceReply(
      result({
        peers4: Uint8Array.from(endpoint([10, 0, 0, 1], 6881)),
        peerIds4: latin1("a".repeat(20)),
        peers6: Uint8Array.from(endpoint(V6_A, 6882)),
        peerIds6: latin1("b".repeat(20)),
      }),
      options({ compact: false, noPeerId: true }),
    ),
  );
  assert.deepEqual(decoded.peers, [
    { ip: utf8("10.0.0.1"), port: 6881 },
    { ip: utf8("2001:db8::1"), port: 6882 },
  ]);
});

Deno.test("encodeAnnounceReply() leaves out peer id when the core gave none", () => {
  const decoded = decode(
    encodeAnnounceReply(
      result({ peers4: Uint8Array.from(endpoint([10, 0, 0, 1], 6881)), peerIds4: null }),
      options({ compact: false, noPeerId: false }),
    ),
  );
  assert.deepEqual(decoded.peers, [{ ip: utf8("10.0.0.1"), port: 6881 }]);
});

Deno.test("encodeAnnounceReply() lists IPv6 peers after IPv4 peers in a non-compact reply", () => {
  const decoded = decode(
    encodeAnnounceReply(
      result({
        peers4: Uint8Array.from(endpoint([10, 0, 0, 1], 1)),
        peerIds4: latin1("a".repeat(20)),
        peers6: Uint8Array.from([...endpoint(V6_A, 2), ...endpoint(V6_B, 3)]),
        peerIds6: latin1("b".repeat(20) + "c".repeat(20)),
      }),
      options({ compact: false }),
    ),
  );
  assert.deepEqual(decoded.peers, [
    { ip: utf8("10.0.0.1"), "peer id": latin1("a".repeat(20)), port: 1 },
    { ip: utf8("2001:db8::1"), "peer id": latin1("b".repeat(20)), port: 2 },
    { ip: utf8("fe80::1234:0:0:abcd"), "peer id": latin1("c".repeat(20)), port: 3 },
  ]);
  assert.equal("peers6" in decoded, false);
});

Deno.test("encodeAnnounceReply() writes an empty list for a non-compact reply without peers", () => {
  const decoded = decode(encodeAnnounceReply(result(), options({ compact: false })));
  assert.deepEqual(decoded.peers, []);
});

Deno.test("encodeAnnounceReply() returns bytes that later replies do not overwrite", () => {
  const first = encodeAnnounceReply(result({ complete: 1 }), options());
  const copy = first.slice();
  encodeAnnounceReply(result({ complete: 999, peers4: new Uint8Array(600) }), options());
  encodeFailure("x");
  assert.deepEqual(first, copy);
});

Deno.test("encodeScrapeReply() writes every count, downloaders included (BEP 21)", () => {
  const hash = "A".repeat(20);
  const decoded = decode(
    encodeScrapeReply([{
      infoHash: hash,
      complete: 5,
      incomplete: 4,
      downloaders: 3,
      downloaded: 9,
    }]),
  );
  assert.deepEqual(decoded, {
    files: { [hash]: { complete: 5, downloaded: 9, downloaders: 3, incomplete: 4 } },
  });
});

Deno.test("encodeScrapeReply() writes an empty files dict when there is nothing to report", () => {
  assert.equal(asLatin1(encodeScrapeReply([])), "d5:filesdee");
});

Deno.test("encodeScrapeReply() sorts raw 20-byte keys by bytes", () => {
  // Given out of order; several hashes are not UTF-8 and share long prefixes.
  const hashes = [
    "\xff".repeat(20),
    "\x80" + "\x00".repeat(19),
    "A" + "\xff".repeat(19),
    "\x00".repeat(20),
    "A" + "\x01" + "\xff".repeat(18),
    "\x7f".repeat(20),
    "\xfe" + "\xff".repeat(19),
    "A".repeat(20),
  ];
  const sorted = [
    "\x00".repeat(20),
    "A" + "\x01" + "\xff".repeat(18),
    "A".repeat(20),
    "A" + "\xff".repeat(19),
    "\x7f".repeat(20),
    "\x80" + "\x00".repeat(19),
    "\xfe" + "\xff".repeat(19),
    "\xff".repeat(20),
  ];
  const reply = encodeScrapeReply(hashes.map((hash, n) => entry(hash, n * 10)));
  const counts = (n: number) =>
    `d8:completei${n}e10:downloadedi${n + 3}e11:downloadersi${n + 2}e10:incompletei${n + 1}ee`;
  assert.equal(
    asLatin1(reply),
    "d5:filesd" + sorted.map((hash) => `20:${hash}${counts(hashes.indexOf(hash) * 10)}`).join("") +
      "ee",
  );
  const files = decode(reply).files as Record<string, unknown>;
  assert.deepEqual(Object.keys(files), sorted.map(oracleKey));
  for (const [n, hash] of hashes.entries()) {
    assert.deepEqual(files[oracleKey(hash)], {
      complete: n * 10,
      downloaded: n * 10 + 3,
      downloaders: n * 10 + 2,
      incomplete: n * 10 + 1,
    });
  }
});

Deno.test("encodeScrapeReply() does not reorder the caller's array", () => {
  const entries = [entry("b".repeat(20), 1), entry("a".repeat(20), 2)];
  encodeScrapeReply(entries);
  assert.deepEqual(entries.map((e) => e.infoHash), ["b".repeat(20), "a".repeat(20)]);
});

Deno.test("encodeFailure() writes a failure reason alone", () => {
  const reply = encodeFailure('invalid port "0"');
  assert.equal(asLatin1(reply), 'd14:failure reason16:invalid port "0"e');
  assert.deepEqual(decode(reply), { "failure reason": utf8('invalid port "0"') });
});

Deno.test("encodeFailure() writes a non-ASCII reason as UTF-8", () => {
  assert.equal(
    asLatin1(encodeFailure("torrent «x» refusé")),
    "d14:failure reason21:torrent \xc2\xabx\xc2\xbb refus\xc3\xa9e",
  );
});

Deno.test("encodeFailure() writes retry in as whole minutes, rounded up (BEP 31)", () => {
  const retryIn = (seconds: number) => decode(encodeFailure("busy", seconds))["retry in"];
  assert.equal(retryIn(60), 1);
  assert.equal(retryIn(61), 2);
  assert.equal(retryIn(119), 2);
  assert.equal(retryIn(120), 2);
  assert.equal(retryIn(3600), 60);
  assert.equal(retryIn(1), 1);
  assert.equal(retryIn(0.5), 1);
  assert.equal(
    asLatin1(encodeFailure("busy", 90)),
    "d14:failure reason4:busy8:retry ini2ee",
  );
});

Deno.test("encodeFailure() writes retry in of at least one minute", () => {
  assert.equal(decode(encodeFailure("busy", 0))["retry in"], 1);
  assert.equal(decode(encodeFailure("busy", -30))["retry in"], 1);
});

Deno.test('encodeFailure() writes retry in "never" for Infinity', () => {
  const reply = encodeFailure("banned", Infinity);
  assert.equal(asLatin1(reply), "d14:failure reason6:banned8:retry in5:nevere");
  assert.deepEqual(decode(reply), { "failure reason": utf8("banned"), "retry in": utf8("never") });
});

Deno.test("encodeFailure() leaves out retry in when it is null", () => {
  assert.deepEqual(decode(encodeFailure("no", null)), { "failure reason": utf8("no") });
});
