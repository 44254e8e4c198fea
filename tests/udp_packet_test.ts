/**
 * Tests for `src/protocol/udp_packet.ts`: every BEP 15 packet round-trips between the tracker's
 * codec and the test client's (`tests/support/udp_tracker_client.ts`), BEP 41 URLData reaches the
 * parsed value, fields map as BEP 15 says, and no input at all (truncated, oversized, wrong
 * action, random bytes) throws anything but a classified `UdpParseError`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { bytesToByteString } from "../src/protocol/byte_string.ts";
import {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  MAX_REQUEST_BYTES,
  MAX_UDP_SCRAPE_HASHES,
  parseUdpRequest,
  type UdpAnnounceRequest,
  UdpParseError,
  type UdpRequest,
} from "../src/protocol/udp_packet.ts";
import { seededRandom } from "./support/seeded_random.ts";
import {
  type AnnouncePacket,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseResponse,
  urlDataOptions,
} from "./support/udp_tracker_client.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 200 };
const CONNECTION_ID = 0x0123_4567_89ab_cdefn;

/** 20 bytes counting up from `start`, high bytes included. */
function bytes20(start: number): Uint8Array {
  return Uint8Array.from({ length: 20 }, (_, i) => (start + i * 13) & 0xff);
}

function announcePacket(overrides: Partial<AnnouncePacket> = {}): AnnouncePacket {
  return {
    connectionId: CONNECTION_ID,
    transactionId: 0xdead_beef,
    infoHash: bytes20(0xf0),
    peerId: bytes20(0x2d),
    downloaded: 1234n,
    left: 5678n,
    uploaded: 91011n,
    event: 2,
    ip: new Uint8Array(4),
    key: 0x00ab_cdef,
    numwant: 30,
    port: 6881,
    ...overrides,
  };
}

function parseAnnounce(packet: Uint8Array): UdpAnnounceRequest {
  const parsed = parseUdpRequest(packet, LIMITS);
  assert.equal(parsed.action, "announce");
  return parsed as UdpAnnounceRequest;
}

/** The `UdpParseError` that parsing `packet` throws. */
function refusal(packet: Uint8Array): UdpParseError {
  try {
    parseUdpRequest(packet, LIMITS);
  } catch (error) {
    assert.ok(error instanceof UdpParseError, `expected a UdpParseError, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: "the packet was accepted" });
}

Deno.test("parseUdpRequest() reads a connect request, and the connect response round-trips", () => {
  assert.deepEqual(parseUdpRequest(encodeConnectRequest(0xffff_fffe), LIMITS), {
    action: "connect",
    transactionId: 0xffff_fffe,
  });
  assert.deepEqual(parseResponse(encodeConnectResponse(7, 0xffff_ffff_ffff_ffffn)), {
    action: "connect",
    transactionId: 7,
    connectionId: 0xffff_ffff_ffff_ffffn,
  });
});

Deno.test("parseUdpRequest() maps every announce field as BEP 15 lays it out", () => {
  const parsed = parseAnnounce(encodeAnnounceRequest(announcePacket()));
  assert.equal(parsed.transactionId, 0xdead_beef);
  assert.equal(parsed.connectionId, CONNECTION_ID);
  assert.equal(parsed.urlData, null);
  assert.deepEqual(parsed.announce, {
    infoHash: bytesToByteString(bytes20(0xf0)),
    peerId: bytesToByteString(bytes20(0x2d)),
    port: 6881,
    uploaded: 91011,
    downloaded: 1234,
    left: 5678,
    event: "started",
    numwant: 30,
    compact: true,
    noPeerId: true,
    key: "00ABCDEF",
    claimedIp: null,
    claimedIpv4: null,
    claimedIpv6: null,
  });
});

Deno.test("parseUdpRequest() maps events 0..3 and refuses others as sendable", () => {
  const events = ["none", "completed", "started", "stopped"];
  for (let code = 0; code < 4; code++) {
    assert.equal(
      parseAnnounce(encodeAnnounceRequest(announcePacket({ event: code }))).announce.event,
      events[code],
    );
  }
  const error = refusal(encodeAnnounceRequest(announcePacket({ event: 4 })));
  assert.equal(error.message, "invalid event 4");
  assert.ok(error.sendable);
  assert.equal(error.transactionId, 0xdead_beef);
  assert.equal(error.connectionId, CONNECTION_ID);
  assert.ok(error instanceof ClientError);
});

Deno.test("parseUdpRequest() defaults num_want -1 and clamps it to the cap", () => {
  const numwant = (value: number) =>
    parseAnnounce(encodeAnnounceRequest(announcePacket({ numwant: value }))).announce.numwant;
  assert.equal(numwant(-1), 50);
  assert.equal(numwant(-7), 50);
  assert.equal(numwant(0), 0);
  assert.equal(numwant(200), 200);
  assert.equal(numwant(201), 200);
  assert.equal(numwant(0x7fff_ffff), 200);
});

Deno.test("parseUdpRequest() reads the IP field: 0 is none, anything else a claimed IPv4", () => {
  const ip = (bytes: number[]) =>
    parseAnnounce(encodeAnnounceRequest(announcePacket({ ip: Uint8Array.from(bytes) }))).announce
      .claimedIp;
  assert.equal(ip([0, 0, 0, 0]), null);
  assert.deepEqual(ip([192, 0, 2, 7]), Uint8Array.from([192, 0, 2, 7]));
  assert.deepEqual(ip([0, 0, 0, 1]), Uint8Array.from([0, 0, 0, 1]));
});

Deno.test("parseUdpRequest() reads 64-bit counters; negative left means unknown, not seeder", () => {
  const parsed = parseAnnounce(encodeAnnounceRequest(announcePacket({
    downloaded: 2n ** 40n + 5n,
    left: -1n,
    uploaded: -3n,
  }))).announce;
  assert.equal(parsed.downloaded, 2 ** 40 + 5);
  assert.equal(parsed.left, Number.MAX_SAFE_INTEGER);
  assert.equal(parsed.uploaded, 0);
  const seeder = parseAnnounce(encodeAnnounceRequest(announcePacket({ left: 0n })));
  assert.equal(seeder.announce.left, 0);
});

Deno.test("parseUdpRequest() refuses port 0, reads key 0 as none and others as 8 hex digits", () => {
  assert.equal(
    refusal(encodeAnnounceRequest(announcePacket({ port: 0 }))).message,
    'invalid port "0"',
  );
  const key = (value: number) =>
    parseAnnounce(encodeAnnounceRequest(announcePacket({ key: value }))).announce.key;
  assert.equal(key(0), null);
  assert.equal(key(1), "00000001");
  assert.equal(key(0xffff_ffff), "FFFFFFFF");
});

Deno.test("parseUdpRequest() joins BEP 41 URLData options into the path and query", () => {
  const url = new TextEncoder().encode("/announce?passkey=" + "k".repeat(300) + "&x=%ff");
  const parsed = parseAnnounce(
    encodeAnnounceRequest(announcePacket({ options: urlDataOptions(url) })),
  );
  assert.equal(parsed.urlData, bytesToByteString(url));
  // NOPs, an unknown type with a length, and nothing after EndOfOptions.
  const options = Uint8Array.from([
    0x1,
    0x2,
    3,
    0x2f,
    0x61,
    0x3f,
    0x1,
    0x7,
    2,
    9,
    9,
    0x2,
    2,
    0x62,
    0x3d,
    0x0,
    0x2,
    1,
    0x7a,
  ]);
  assert.equal(parseAnnounce(encodeAnnounceRequest(announcePacket({ options }))).urlData, "/a?b=");
  // A truncated option ends the list; what came before stands.
  const truncated = Uint8Array.from([0x2, 2, 0x2f, 0x61, 0x2, 9, 0x62]);
  assert.equal(
    parseAnnounce(encodeAnnounceRequest(announcePacket({ options: truncated }))).urlData,
    "/a",
  );
  // Only EndOfOptions: no URL data at all.
  assert.equal(
    parseAnnounce(encodeAnnounceRequest(announcePacket({ options: Uint8Array.from([0]) }))).urlData,
    null,
  );
});

Deno.test("parseUdpRequest() reads a scrape in request order, duplicates kept", () => {
  const hashes = [bytes20(1), bytes20(2), bytes20(1)];
  assert.deepEqual(parseUdpRequest(encodeScrapeRequest(CONNECTION_ID, 9, hashes), LIMITS), {
    action: "scrape",
    transactionId: 9,
    connectionId: CONNECTION_ID,
    infoHashes: hashes.map((hash) => bytesToByteString(hash)),
  });
  const most = Array.from({ length: MAX_UDP_SCRAPE_HASHES }, (_, i) => bytes20(i));
  const parsed = parseUdpRequest(encodeScrapeRequest(CONNECTION_ID, 9, most), LIMITS);
  assert.equal(parsed.action === "scrape" && parsed.infoHashes.length, MAX_UDP_SCRAPE_HASHES);
});

Deno.test("parseUdpRequest() refuses empty, ragged and oversized scrapes as sendable", () => {
  const cases: [Uint8Array, string][] = [
    [encodeScrapeRequest(CONNECTION_ID, 9, []), "scrape names no info hash"],
    [
      encodeScrapeRequest(CONNECTION_ID, 9, [bytes20(1)]).slice(0, 35),
      "scrape of 35 bytes is not 16 + 20·n",
    ],
    [
      encodeScrapeRequest(CONNECTION_ID, 9, Array.from({ length: 75 }, (_, i) => bytes20(i))),
      "scrape takes at most 74 info hashes",
    ],
  ];
  for (const [packet, message] of cases) {
    const error = refusal(packet);
    assert.equal(error.message, message);
    assert.equal(error.transactionId, 9);
    assert.equal(error.connectionId, CONNECTION_ID);
  }
});

Deno.test("parseUdpRequest() classifies what it cannot answer as unsendable", () => {
  const connect = encodeConnectRequest(5);
  const badMagic = connect.slice();
  badMagic[0] = 1;
  const wrongAction = connect.slice();
  wrongAction[11] = 3;
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "packet of 0 bytes is too short"],
    [connect.subarray(0, 15), "packet of 15 bytes is too short"],
    [badMagic, "connect without the protocol id"],
    [wrongAction, "unknown action 3"],
    [new Uint8Array(MAX_REQUEST_BYTES + 1), `packet of more than ${MAX_REQUEST_BYTES} bytes`],
  ];
  for (const [packet, message] of cases) {
    const error = refusal(packet);
    assert.equal(error.message, message);
    assert.equal(error.sendable, false);
  }
  // A truncated announce still carries its transaction id: the client can be told.
  const short = refusal(encodeAnnounceRequest(announcePacket()).subarray(0, 97));
  assert.equal(short.message, "announce of 97 bytes, expected at least 98");
  assert.ok(short.sendable);
});

Deno.test("parseUdpRequest() accepts a connect with extra bytes (BEP 15: sizes may grow)", () => {
  const long = new Uint8Array(40);
  long.set(encodeConnectRequest(3));
  assert.deepEqual(parseUdpRequest(long, LIMITS), { action: "connect", transactionId: 3 });
});

Deno.test("parseUdpRequest() reads a packet at an offset inside a larger buffer", () => {
  const buffer = new Uint8Array(200).fill(0xee);
  const packet = encodeAnnounceRequest(announcePacket());
  buffer.set(packet, 7);
  const parsed = parseAnnounce(buffer.subarray(7, 7 + packet.length));
  assert.equal(parsed.announce.port, 6881);
  assert.equal(parsed.transactionId, 0xdead_beef);
});

Deno.test("encodeAnnounceResponse() round-trips, IPv4 and IPv6 peers alike", () => {
  for (const size of [6, 18]) {
    const peers = Uint8Array.from({ length: size * 3 }, (_, i) => (i * 7) & 0xff);
    const packet = encodeAnnounceResponse({
      transactionId: 0x8000_0001,
      interval: 1800,
      leechers: 4,
      seeders: 2 ** 33,
      peers,
    });
    assert.equal(packet.length, 20 + size * 3);
    assert.deepEqual(parseResponse(packet), {
      action: "announce",
      transactionId: 0x8000_0001,
      interval: 1800,
      leechers: 4,
      seeders: 0xffff_ffff, // saturated, not wrapped
      peers,
    });
  }
});

Deno.test("encodeScrapeResponse() round-trips in order: seeders, completed, leechers", () => {
  const counts = [
    { complete: 1, downloaded: 2, incomplete: 3 },
    { complete: 0, downloaded: 0, incomplete: 0 },
    { complete: 70000, downloaded: 5, incomplete: 1 },
  ];
  assert.deepEqual(parseResponse(encodeScrapeResponse(11, counts)), {
    action: "scrape",
    transactionId: 11,
    counts,
  });
  assert.deepEqual([...encodeScrapeResponse(11, counts.slice(0, 1))], [
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    11,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    3,
  ]);
});

Deno.test("encodeErrorResponse() round-trips the message with no terminator", () => {
  const packet = encodeErrorResponse(12, "torrent is not allowed on this tracker");
  assert.equal(packet.length, 8 + 38);
  assert.deepEqual(parseResponse(packet), {
    action: "error",
    transactionId: 12,
    message: "torrent is not allowed on this tracker",
  });
});

Deno.test("parseUdpRequest() never throws anything but a UdpParseError on random input", () => {
  const random = seededRandom(0x15_0015);
  const byte = () => Math.floor(random() * 256);
  const valid = [
    encodeConnectRequest(1),
    encodeAnnounceRequest(announcePacket({ options: urlDataOptions(new Uint8Array(40)) })),
    encodeScrapeRequest(CONNECTION_ID, 2, [bytes20(1), bytes20(2)]),
  ];
  const outcomes = { accepted: 0, sendable: 0, unsendable: 0 };
  for (let i = 0; i < 5000; i++) {
    let packet: Uint8Array;
    const kind = i % 4;
    if (kind === 0) {
      // Pure noise, sometimes long.
      packet = Uint8Array.from({ length: Math.floor(random() * 130) }, byte);
    } else {
      // A valid packet, truncated, extended or with a few bytes flipped: the parser's corners.
      const base = valid[Math.floor(random() * valid.length)];
      const length = kind === 1
        ? Math.floor(random() * base.length)
        : kind === 2
        ? base.length + Math.floor(random() * 64)
        : base.length;
      packet = new Uint8Array(length);
      packet.set(base.subarray(0, length));
      for (let j = base.length; j < length; j++) packet[j] = byte();
      for (let flips = Math.floor(random() * 4); flips > 0; flips--) {
        packet[Math.floor(random() * length)] = byte();
      }
      // Keep the action field in range often enough to reach the deeper parsers.
      if (length >= 12 && random() < 0.7) packet[11] = Math.floor(random() * 3);
    }
    let parsed: UdpRequest | null = null;
    try {
      parsed = parseUdpRequest(packet, LIMITS);
    } catch (error) {
      assert.ok(error instanceof UdpParseError, `packet ${i} threw ${error}`);
      outcomes[error.sendable ? "sendable" : "unsendable"]++;
      continue;
    }
    outcomes.accepted++;
    if (parsed.action === "announce") {
      assert.equal(parsed.announce.infoHash.length, 20);
      assert.ok(parsed.announce.port >= 1 && parsed.announce.port <= 65535);
      assert.ok(parsed.announce.numwant >= 0 && parsed.announce.numwant <= LIMITS.numwantMax);
    }
  }
  // The loop really reached every outcome.
  assert.ok(outcomes.accepted > 100, JSON.stringify(outcomes));
  assert.ok(outcomes.sendable > 100, JSON.stringify(outcomes));
  assert.ok(outcomes.unsendable > 100, JSON.stringify(outcomes));
});
