/**
 * Tests for `parseAnnounceQuery()` in `src/protocol/announce_request.ts`: every field, the
 * defaults and the numwant cap, every client error with its exact message, the claimed
 * `ip`/`ipv4`/`ipv6` addresses, and a seeded property test that garbage only ever raises
 * `ClientError`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import type { AnnounceRequest } from "../src/protocol/messages.ts";
import {
  ANNOUNCE_KEYS,
  type NumwantLimits,
  parseAnnounceQuery,
  parseAnnounceUrl,
} from "../src/protocol/announce_request.ts";
import { rawQueryOf } from "../src/protocol/query.ts";
import { seededRandom as prng } from "./support/seeded_random.ts";

const LIMITS: NumwantLimits = { numwantDefault: 50, numwantMax: 200 };

/** libtorrent's encoding of 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a. */
const HASH_QUERY = "%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a";
const HASH = "\x124Vx\x9a\xbc\xde\xf1\x23Eg\x89\xab\xcd\xef\x124Vx\x9a";
const PEER_ID = "-LT2090-abcdefghijkl";

/** The four required fields, valid, then `extra`. */
function query(extra = ""): string {
  const base = `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=6881&left=0`;
  return extra === "" ? base : `${base}&${extra}`;
}

function parse(text: string, limits: NumwantLimits = LIMITS): AnnounceRequest {
  return parseAnnounceQuery(text, limits);
}

/** Asserts that parsing `text` throws a `ClientError` with exactly `message`. */
function assertRefused(text: string, message: string): void {
  let caught: unknown = null;
  try {
    parse(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ClientError, `expected a ClientError for ${JSON.stringify(text)}`);
  assert.equal(caught.message, message, JSON.stringify(text));
  assert.equal(caught.retryIn, null);
}

const escapeBytes = (value: string): string =>
  Array.from(value, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("");

Deno.test("parseAnnounceQuery() parses every field", () => {
  const request = parse(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=51413&uploaded=1024&downloaded=2048` +
      "&left=4096&event=started&numwant=25&compact=0&no_peer_id=1&key=1a2b3c4d&trackerid=t1" +
      "&ip=10.0.0.2&ipv4=192.0.2.7:6881&ipv6=%5B2001:db8::1%5D:6881",
  );
  assert.deepEqual(
    request,
    {
      infoHash: HASH,
      peerId: PEER_ID,
      port: 51413,
      uploaded: 1024,
      downloaded: 2048,
      left: 4096,
      event: "started",
      numwant: 25,
      compact: false,
      noPeerId: true,
      key: "1a2b3c4d",
      claimedIp: new Uint8Array([10, 0, 0, 2]),
      claimedIpv4: new Uint8Array([192, 0, 2, 7]),
      claimedIpv6: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    } satisfies AnnounceRequest,
  );
});

Deno.test("parseAnnounceQuery() defaults every optional field", () => {
  assert.deepEqual(
    parse(query()),
    {
      infoHash: HASH,
      peerId: PEER_ID,
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: "none",
      numwant: 50,
      compact: true,
      noPeerId: false,
      key: null,
      claimedIp: null,
      claimedIpv4: null,
      claimedIpv6: null,
    } satisfies AnnounceRequest,
  );
});

Deno.test("parseAnnounceQuery() accepts fields in any order, with a binary peer_id", () => {
  const peerId = "\x00\xff-qB4650-\x80\x7f\x01\x02\x03\x04\x05\x06\x07\x08";
  const request = parse(`left=7&port=1&peer_id=${escapeBytes(peerId)}&info_hash=${HASH_QUERY}`);
  assert.equal(request.infoHash, HASH);
  assert.equal(request.peerId, peerId);
  assert.equal(request.port, 1);
  assert.equal(request.left, 7);
});

Deno.test("parseAnnounceQuery() takes the numwant default from the limits", () => {
  assert.equal(parse(query(), { numwantDefault: 7, numwantMax: 9 }).numwant, 7);
});

Deno.test("parseAnnounceQuery() caps numwant at numwantMax", () => {
  assert.equal(parse(query("numwant=1000")).numwant, 200);
  assert.equal(parse(query("numwant=201")).numwant, 200);
  assert.equal(parse(query("numwant=200")).numwant, 200);
  assert.equal(parse(query("numwant=199")).numwant, 199);
  assert.equal(parse(query("numwant=99999999999999999999")).numwant, 200);
  assert.equal(parse(query("numwant=0")).numwant, 0);
});

Deno.test("parseAnnounceQuery() reads compact=1 and compact=0", () => {
  assert.equal(parse(query("compact=1")).compact, true);
  assert.equal(parse(query("compact=0")).compact, false);
  assert.equal(parse(query("no_peer_id=0")).noPeerId, false);
  assert.equal(parse(query("no_peer_id=1")).noPeerId, true);
});

Deno.test("parseAnnounceQuery() refuses a query without info_hash", () => {
  assertRefused(`peer_id=${PEER_ID}&port=6881&left=0`, "missing info_hash");
  assertRefused("", "missing info_hash");
});

Deno.test("parseAnnounceQuery() refuses a query without peer_id", () => {
  assertRefused(`info_hash=${HASH_QUERY}&port=6881&left=0`, "missing peer_id");
});

Deno.test("parseAnnounceQuery() refuses a query without port", () => {
  assertRefused(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&left=0`, "missing port");
});

Deno.test("parseAnnounceQuery() refuses a query without left", () => {
  assertRefused(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=6881`, "missing left");
});

Deno.test("parseAnnounceQuery() rejects a 19-byte info_hash", () => {
  assertRefused(
    `info_hash=${escapeBytes(HASH.slice(0, 19))}&peer_id=${PEER_ID}&port=1&left=0`,
    "info_hash must be 20 bytes, got 19",
  );
});

Deno.test("parseAnnounceQuery() rejects a 21-byte info_hash", () => {
  assertRefused(
    `info_hash=${HASH_QUERY}%00&peer_id=${PEER_ID}&port=1&left=0`,
    "info_hash must be 20 bytes, got 21",
  );
});

Deno.test("parseAnnounceQuery() rejects an empty info_hash and a hex-encoded one", () => {
  assertRefused(`info_hash=&peer_id=${PEER_ID}&port=1&left=0`, "info_hash must be 20 bytes, got 0");
  assertRefused(
    `info_hash=123456789abcdef123456789abcdef123456789a&peer_id=${PEER_ID}&port=1&left=0`,
    "info_hash must be 20 bytes, got 40",
  );
});

Deno.test("parseAnnounceQuery() rejects a 19- and a 21-byte peer_id", () => {
  assertRefused(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID.slice(0, 19)}&port=1&left=0`,
    "peer_id must be 20 bytes, got 19",
  );
  assertRefused(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}x&port=1&left=0`,
    "peer_id must be 20 bytes, got 21",
  );
});

Deno.test("parseAnnounceQuery() rejects port 0 and port 65536", () => {
  assertRefused(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=0&left=0`, 'invalid port "0"');
  assertRefused(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=65536&left=0`,
    'invalid port "65536"',
  );
});

Deno.test("parseAnnounceQuery() accepts port 1 and port 65535", () => {
  assert.equal(parse(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=1&left=0`).port, 1);
  assert.equal(parse(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=65535&left=0`).port, 65535);
  assert.equal(parse(`info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=00080&left=0`).port, 80);
});

Deno.test("parseAnnounceQuery() rejects a port that is not a decimal integer", () => {
  const head = `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&left=0&port=`;
  assertRefused(head + "-1", 'port must be a non-negative integer, got "-1"');
  assertRefused(head + "6881.5", 'port must be a non-negative integer, got "6881.5"');
  assertRefused(head + "1e3", 'port must be a non-negative integer, got "1e3"');
  assertRefused(head + "0x1ae1", 'port must be a non-negative integer, got "0x1ae1"');
  assertRefused(head + "+6881", 'port must be a non-negative integer, got "+6881"');
  assertRefused(head + "%206881", 'port must be a non-negative integer, got " 6881"');
  assertRefused(head, 'port must be a non-negative integer, got ""');
  assertRefused(head + "99999999999999999999", 'invalid port "99999999999999999999"');
});

Deno.test("parseAnnounceQuery() rejects negative counters", () => {
  assertRefused(query("uploaded=-1"), 'uploaded must be a non-negative integer, got "-1"');
  assertRefused(query("downloaded=-5"), 'downloaded must be a non-negative integer, got "-5"');
  assertRefused(query("numwant=-1"), 'numwant must be a non-negative integer, got "-1"');
});

Deno.test("parseAnnounceQuery() rejects fractional counters", () => {
  assertRefused(query("uploaded=1.5"), 'uploaded must be a non-negative integer, got "1.5"');
  assertRefused(query("numwant=10.0"), 'numwant must be a non-negative integer, got "10.0"');
  assertRefused(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=1&left=0.5`,
    'left must be a non-negative integer, got "0.5"',
  );
});

Deno.test("parseAnnounceQuery() rejects exponent notation like 1e5", () => {
  assertRefused(query("downloaded=1e5"), 'downloaded must be a non-negative integer, got "1e5"');
  assertRefused(query("uploaded=1E5"), 'uploaded must be a non-negative integer, got "1E5"');
});

Deno.test("parseAnnounceQuery() rejects a 21-digit number and accepts 20 digits", () => {
  assertRefused(
    query("uploaded=123456789012345678901"),
    'uploaded must be a non-negative integer, got "123456789012345678901"',
  );
  assertRefused(
    `info_hash=${HASH_QUERY}&peer_id=${PEER_ID}&port=1&left=000000000000000000001`,
    'left must be a non-negative integer, got "000000000000000000001"',
  );
  assert.equal(parse(query("uploaded=12345678901234567890")).uploaded, 12345678901234567890);
  assert.equal(parse(query("downloaded=00000000000000000007")).downloaded, 7);
});

Deno.test("parseAnnounceQuery() parses every event", () => {
  assert.equal(parse(query("event=started")).event, "started");
  assert.equal(parse(query("event=completed")).event, "completed");
  assert.equal(parse(query("event=stopped")).event, "stopped");
  assert.equal(parse(query("event=paused")).event, "paused");
});

Deno.test("parseAnnounceQuery() reads event= and event=empty as none", () => {
  assert.equal(parse(query("event=")).event, "none");
  assert.equal(parse(query("event")).event, "none");
  assert.equal(parse(query("event=empty")).event, "none");
});

Deno.test("parseAnnounceQuery() rejects an unknown event", () => {
  assertRefused(query("event=start"), 'invalid event "start"');
  assertRefused(query("event=Started"), 'invalid event "Started"');
  assertRefused(query("event=none"), 'invalid event "none"');
  // Names inherited from Object.prototype are not events.
  assertRefused(query("event=constructor"), 'invalid event "constructor"');
  assertRefused(query("event=__proto__"), 'invalid event "__proto__"');
  assertRefused(query("event=toString"), 'invalid event "toString"');
});

Deno.test("parseAnnounceQuery() quotes a bad value printably, clipped to 40 bytes", () => {
  assertRefused(query("event=%ff%00%0a%22"), 'invalid event "\\xff\\x00\\x0a""');
  assertRefused(query(`event=${"a".repeat(41)}`), `invalid event "${"a".repeat(40)}…"`);
  assertRefused(query(`event=${"a".repeat(40)}`), `invalid event "${"a".repeat(40)}"`);
});

Deno.test("parseAnnounceQuery() rejects compact=2 and other non-flags", () => {
  assertRefused(query("compact=2"), 'compact must be 0 or 1, got "2"');
  assertRefused(query("compact="), 'compact must be 0 or 1, got ""');
  assertRefused(query("compact=true"), 'compact must be 0 or 1, got "true"');
  assertRefused(query("no_peer_id=yes"), 'no_peer_id must be 0 or 1, got "yes"');
});

Deno.test("parseAnnounceQuery() refuses a repeated info_hash, even an identical one", () => {
  assertRefused(query(`info_hash=${HASH_QUERY}`), "announce takes exactly one info_hash");
  assertRefused(
    query(`info_hash=${escapeBytes("b".repeat(20))}`),
    "announce takes exactly one info_hash",
  );
});

Deno.test("parseAnnounceQuery() keeps the first of other repeated keys", () => {
  const request = parse(
    query(
      "port=1&left=9&event=started&event=stopped&numwant=5&numwant=6&compact=0&compact=1" +
        `&peer_id=${"z".repeat(20)}&key=first&key=second&uploaded=3&uploaded=4`,
    ),
  );
  assert.equal(request.port, 6881);
  assert.equal(request.left, 0);
  assert.equal(request.peerId, PEER_ID);
  assert.equal(request.event, "started");
  assert.equal(request.numwant, 5);
  assert.equal(request.compact, false);
  assert.equal(request.key, "first");
  assert.equal(request.uploaded, 3);
});

Deno.test("parseAnnounceQuery() does not check later repeats of a key", () => {
  const request = parse(query("port=0&left=x&event=&event=bogus&compact=1&compact=7"));
  assert.equal(request.port, 6881);
  assert.equal(request.left, 0);
  assert.equal(request.event, "none");
  assert.equal(request.compact, true);
});

Deno.test("parseAnnounceQuery() keeps key and trackerid of up to 64 bytes", () => {
  const key = "k".repeat(64);
  assert.equal(parse(query(`key=${key}&trackerid=${"t".repeat(64)}`)).key, key);
  assert.equal(parse(query("key=%ff%00ab")).key, "\xff\x00ab");
  assert.equal(parse(query("key=")).key, "");
});

Deno.test("parseAnnounceQuery() reads a key of every length to 64 bytes, plain and escaped", () => {
  // Short keys are built a char at a time and 20-byte ones in one call: each length must agree.
  for (let length = 1; length <= 64; length++) {
    const key = Array.from({ length }, (_, i) => String.fromCharCode(0x30 + ((i * 7) % 75))).join(
      "",
    );
    const escaped = [...key].map((char) => "%" + char.charCodeAt(0).toString(16)).join("");
    assert.equal(parse(query(`key=${encodeURIComponent(key)}`)).key, key, `length ${length}`);
    assert.equal(parse(query(`key=${escaped}`)).key, key, `length ${length}, escaped`);
  }
});

Deno.test("parseAnnounceQuery() rejects a key longer than 64 bytes", () => {
  assertRefused(query(`key=${"k".repeat(65)}`), "key is longer than 64 bytes");
  // Length counts decoded bytes: 33 escapes are 99 chars of query but 33 bytes.
  assert.equal(parse(query(`key=${"%41".repeat(33)}`)).key, "A".repeat(33));
  assertRefused(query(`key=${"%41".repeat(65)}`), "key is longer than 64 bytes");
});

Deno.test("parseAnnounceQuery() rejects a trackerid longer than 64 bytes", () => {
  assertRefused(query(`trackerid=${"t".repeat(65)}`), "trackerid is longer than 64 bytes");
});

Deno.test("parseAnnounceQuery() refuses malformed percent-encoding anywhere", () => {
  assertRefused(query("x=%zz"), "malformed percent-encoding in query");
  assertRefused(`info_hash=%1${HASH_QUERY}`, "malformed percent-encoding in query");
  assertRefused(query("%"), "malformed percent-encoding in query");
});

Deno.test("parseAnnounceQuery() ignores unknown keys, whatever their value", () => {
  const request = parse(
    query("supportcrypto=1&requirecrypto=0&corrupt=0&redundant=0&x=%ff&port2=abc&Port=0"),
  );
  assert.equal(request.port, 6881);
  assert.equal(request.infoHash, HASH);
});

Deno.test("parseAnnounceQuery() parses ip= as an IPv4 or IPv6 literal", () => {
  assert.deepEqual(parse(query("ip=10.0.0.2")).claimedIp, new Uint8Array([10, 0, 0, 2]));
  assert.deepEqual(
    parse(query("ip=2001:db8::ff")).claimedIp,
    new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]),
  );
  assert.deepEqual(
    parse(query("ip=%5B2001%3Adb8%3A%3A1%5D")).claimedIp,
    new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
});

Deno.test("parseAnnounceQuery() unmaps an IPv4-mapped ip=", () => {
  assert.deepEqual(parse(query("ip=::ffff:10.0.0.2")).claimedIp, new Uint8Array([10, 0, 0, 2]));
});

Deno.test("parseAnnounceQuery() sets ip= to null for host names, endpoints and garbage", () => {
  for (
    const value of ["tracker.example.com", "10.0.0.256", "1.2.3.4:6881", "[::1]:6881", "%ff", "x"]
  ) {
    assert.equal(parse(query(`ip=${value}`)).claimedIp, null, value);
  }
  assert.equal(parse(query("ip=")).claimedIp, null);
});

Deno.test("parseAnnounceQuery() parses ipv4= as an address or an a.b.c.d:port endpoint", () => {
  assert.deepEqual(parse(query("ipv4=192.0.2.7")).claimedIpv4, new Uint8Array([192, 0, 2, 7]));
  assert.deepEqual(
    parse(query("ipv4=192.0.2.7:6881")).claimedIpv4,
    new Uint8Array([192, 0, 2, 7]),
  );
  assert.deepEqual(
    parse(query("ipv4=192.0.2.7%3A6881")).claimedIpv4,
    new Uint8Array([192, 0, 2, 7]),
  );
});

Deno.test("parseAnnounceQuery() sets ipv4= to null for IPv6 and garbage", () => {
  for (
    const value of [
      "2001:db8::1",
      "[2001:db8::1]:6881",
      "::ffff:1.2.3.4",
      "256.1.1.1",
      "1.2.3",
      "host:80",
      "",
      "[",
    ]
  ) {
    assert.equal(parse(query(`ipv4=${value}`)).claimedIpv4, null, value);
  }
});

Deno.test("parseAnnounceQuery() parses ipv6= as an address or a [v6]:port endpoint", () => {
  const v6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(parse(query("ipv6=2001:db8::1")).claimedIpv6, v6);
  assert.deepEqual(parse(query("ipv6=%5B2001:db8::1%5D:6881")).claimedIpv6, v6);
  assert.deepEqual(parse(query("ipv6=%5B2001:db8::1%5D")).claimedIpv6, v6);
  assert.deepEqual(parse(query("ipv6=2001%3Adb8%3A%3A1")).claimedIpv6, v6);
  assert.deepEqual(
    parse(query("ipv6=fe80::1%25eth0")).claimedIpv6,
    new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
});

Deno.test("parseAnnounceQuery() sets ipv6= to null for IPv4, mapped IPv4 and garbage", () => {
  for (
    const value of [
      "1.2.3.4",
      "1.2.3.4:6881",
      "::ffff:1.2.3.4",
      "%5B::ffff:1.2.3.4%5D:6881",
      "%5B2001:db8::1",
      "%5B%5D:6881",
      "2001:db8::1::2",
      "2001:db8:::1",
      "host",
      "",
    ]
  ) {
    assert.equal(parse(query(`ipv6=${value}`)).claimedIpv6, null, value);
  }
});

Deno.test("parseAnnounceQuery() only ever throws ClientError on random byte strings", () => {
  const rand = prng(0xa11ce);
  const pick = (n: number) => Math.floor(rand() * n);
  let accepted = 0;
  for (let round = 0; round < 4000; round++) {
    const length = pick(200);
    // Mostly bytes, sometimes a char above 0xff: a query string may hold anything.
    const text = String.fromCharCode(
      ...Array.from({ length }, () => (rand() < 0.02 ? 0x100 + pick(0xfeff) : pick(256))),
    );
    try {
      parse(text);
      accepted++;
    } catch (error) {
      assert.ok(error instanceof ClientError, `${error} for ${JSON.stringify(text)}`);
    }
  }
  assert.equal(accepted, 0);
});

Deno.test("parseAnnounceQuery() only ever throws ClientError on random well-formed-ish queries", () => {
  const rand = prng(0xb0b);
  const pick = (n: number) => Math.floor(rand() * n);
  const keys = [
    "info_hash",
    "peer_id",
    "port",
    "left",
    "uploaded",
    "downloaded",
    "event",
    "numwant",
    "compact",
    "no_peer_id",
    "key",
    "trackerid",
    "ip",
    "ipv4",
    "ipv6",
    "x",
  ];
  const fragments = [
    "",
    "0",
    "1",
    "65535",
    "65536",
    "-1",
    "1e5",
    "99999999999999999999",
    "started",
    "empty",
    "::",
    "::ffff:1.2.3.4",
    "[",
    "]",
    ":",
    ".",
    "%5B",
    "%25",
    "%",
    "%4",
    "1.2.3.4",
    "fe80::1%25z",
    HASH_QUERY,
    PEER_ID,
  ];
  const value = (): string => {
    let out = "";
    for (let n = pick(4); n >= 0; n--) {
      out += rand() < 0.2
        ? "%" + pick(256).toString(16).padStart(2, "0")
        : fragments[pick(fragments.length)];
    }
    return out;
  };
  let accepted = 0;
  for (let round = 0; round < 4000; round++) {
    const pairs = [`info_hash=${HASH_QUERY}`, `peer_id=${PEER_ID}`, "port=6881", "left=0"].filter(
      () => rand() < 0.9,
    );
    for (let n = pick(8); n > 0; n--) {
      pairs.splice(pick(pairs.length + 1), 0, `${keys[pick(keys.length)]}=${value()}`);
    }
    const text = pairs.join("&");
    try {
      const request = parse(text);
      accepted++;
      assert.equal(request.infoHash.length, 20);
      assert.equal(request.peerId.length, 20);
      assert.ok(request.port >= 1 && request.port <= 65535, text);
      assert.ok(request.numwant >= 0 && request.numwant <= LIMITS.numwantMax, text);
      for (const address of [request.claimedIp, request.claimedIpv4, request.claimedIpv6]) {
        assert.ok(address === null || address.length === 4 || address.length === 16, text);
      }
      assert.ok(request.claimedIpv4 === null || request.claimedIpv4.length === 4, text);
      assert.ok(request.claimedIpv6 === null || request.claimedIpv6.length === 16, text);
    } catch (error) {
      assert.ok(error instanceof ClientError, `${error} for ${JSON.stringify(text)}`);
    }
  }
  // The generator must exercise both outcomes, or the test proves little.
  assert.ok(accepted > 400 && accepted < 3600, `accepted ${accepted} of 4000`);
});

Deno.test("parseAnnounceUrl() reads a URL's query in place as parseAnnounceQuery(rawQueryOf()) does", () => {
  const outcome = (run: () => AnnounceRequest) => {
    try {
      return run();
    } catch (error) {
      assert.ok(error instanceof ClientError);
      return `ClientError: ${error.message}`;
    }
  };
  const urls = [
    `http://t/announce?${query()}`,
    `http://t/announce?${query("event=started&numwant=10")}#frag`,
    `http://t/announce?${query("ip=1.2.3.4")}#?port=1`,
    `http://t/announce#?${query()}`,
    "http://t/announce",
    "http://t/announce?",
    `http://t/announce?${query("key=%zz")}`,
    `http://t/announce?${query("port=0")}`,
    `http://t/announce?info_hash=${HASH_QUERY}&info_hash=${HASH_QUERY}`,
  ];
  for (const url of urls) {
    assert.deepEqual(
      outcome(() => parseAnnounceUrl(url, LIMITS)),
      outcome(() => parseAnnounceQuery(rawQueryOf(url), LIMITS)),
      url,
    );
  }
});

Deno.test("ANNOUNCE_KEYS lists each key the announce parser reads, once", () => {
  assert.deepEqual([...ANNOUNCE_KEYS].sort(), [
    "compact",
    "downloaded",
    "event",
    "info_hash",
    "ip",
    "ipv4",
    "ipv6",
    "key",
    "left",
    "no_peer_id",
    "numwant",
    "peer_id",
    "port",
    "trackerid",
    "uploaded",
  ]);
});

Deno.test("parseAnnounceQuery() reads every field under its own key, escaped or plain", () => {
  const base = "info_hash=" + "%01".repeat(20) + "&peer_id=" + "b".repeat(20) + "&port=6881";
  const query = `${base}&left=5&uploaded=6&downloaded=7&event=completed&numwant=9&compact=0` +
    "&no_peer_id=1&key=k1&trackerid=t&ip=192.0.2.1&ipv4=192.0.2.2&ipv6=2001:db8::3";
  const plain = parseAnnounceQuery(query, LIMITS);
  // The same keys percent-encoded take the other path (a decoded name looked up by name).
  const escaped = parseAnnounceQuery(
    query.replace(
      /(^|&)([a-z_0-9]+)=/g,
      (_, lead: string, name: string) =>
        `${lead}${[...name].map((c) => "%" + c.charCodeAt(0).toString(16)).join("")}=`,
    ),
    LIMITS,
  );
  for (const parsed of [plain, escaped]) {
    assert.equal(parsed.port, 6881);
    assert.equal(parsed.left, 5);
    assert.equal(parsed.uploaded, 6);
    assert.equal(parsed.downloaded, 7);
    assert.equal(parsed.event, "completed");
    assert.equal(parsed.numwant, 9);
    assert.equal(parsed.compact, false);
    assert.equal(parsed.noPeerId, true);
    assert.equal(parsed.key, "k1");
    assert.deepEqual(parsed.claimedIp, new Uint8Array([192, 0, 2, 1]));
    assert.deepEqual(parsed.claimedIpv4, new Uint8Array([192, 0, 2, 2]));
    assert.equal(parsed.claimedIpv6?.length, 16);
  }
});
