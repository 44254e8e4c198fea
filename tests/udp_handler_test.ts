/**
 * Tests for `createUdpHandler()` in `src/udp/handler.ts`, called directly with crafted packets and
 * no socket: connect then announce and scrape, the connection id gate, BEP 15 peer sizes by source
 * family, client errors as error packets, bugs logged and answered "internal error", the `ip`
 * field trust rule, stats recording, and drops.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Passkeys } from "../src/core/passkeys.ts";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import { Tracker } from "../src/core/tracker.ts";
import type { AnnounceInput } from "../src/core/announce_input.ts";
import type { AnnounceResult } from "../src/protocol/messages.ts";
import { createMemoryLogger, type MemoryLogger } from "../src/runtime/logger.ts";
import { ConnectionIds } from "../src/udp/connection_id.ts";
import { createUdpHandler, type UdpHandler } from "../src/udp/handler.ts";
import type { TransportSettings } from "../src/settings.ts";
import {
  type AnnouncePacket,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseResponse,
  type UdpResponse,
  urlDataOptions,
} from "./support/udp_tracker_client.ts";

const SETTINGS: TransportSettings = {
  interval: 1800,
  minInterval: 900,
  nostats: false,
  numwantDefault: 50,
  numwantMax: 200,
  trustIpParam: false,
  noscrape: false,
  logAnnounces: false,
};
const NOW = 1_760_000_000_000;
const V4 = { hostname: "::ffff:192.0.2.10", port: 40000 };
const V6 = { hostname: "2001:db8::7", port: 40001 };
const HASH = new Uint8Array(20).fill(0xab);

/** A core that fails the way a bug would. */
class BrokenTracker extends Tracker {
  override announce(_input: AnnounceInput, _now: number): AnnounceResult {
    throw new TypeError("simulated bug");
  }
}

interface Setup {
  handler: UdpHandler;
  logger: MemoryLogger;
  tracker: Tracker;
  counters: StatsCounters;
  clock: { now: number };
}

function setup(
  options: {
    settings?: Partial<TransportSettings>;
    tracker?: Tracker;
    debug?: boolean;
    passkeys?: Passkeys;
  } = {},
): Setup {
  const clock = { now: NOW };
  const logger = createMemoryLogger({ debug: options.debug ?? true });
  const tracker = options.tracker ?? new Tracker({ expirySeconds: 3600 });
  const counters = new StatsCounters({ startedAt: NOW });
  const handler = createUdpHandler({
    tracker,
    settings: { ...SETTINGS, ...options.settings },
    logger,
    now: () => clock.now,
    connectionIds: new ConnectionIds({ key: new Uint8Array(16).fill(7) }),
    recorder: counters,
    passkeys: () => options.passkeys ?? null,
  });
  return { handler, logger, tracker, counters, clock };
}

/** Sends `packet` and parses the reply; fails the test on a drop. */
function reply(handler: UdpHandler, packet: Uint8Array, remote = V4): UdpResponse {
  const out = handler(packet, remote);
  assert.ok(out !== null, "the packet was dropped");
  return parseResponse(out);
}

function connect(handler: UdpHandler, remote = V4): bigint {
  const response = reply(handler, encodeConnectRequest(77), remote);
  assert.equal(response.action, "connect");
  assert.equal(response.transactionId, 77);
  return response.action === "connect" ? response.connectionId : 0n;
}

function announce(connectionId: bigint, overrides: Partial<AnnouncePacket> = {}): Uint8Array {
  return encodeAnnounceRequest({
    connectionId,
    transactionId: 1234,
    infoHash: HASH,
    peerId: new Uint8Array(20).fill(0x2d),
    downloaded: 0n,
    left: 10n,
    uploaded: 0n,
    event: 2,
    ip: new Uint8Array(4),
    key: 1,
    numwant: -1,
    port: 6881,
    ...overrides,
  });
}

Deno.test("createUdpHandler() connects, then announces; the client address is unmapped", () => {
  const { handler, tracker } = setup();
  const id = connect(handler);
  assert.deepEqual(reply(handler, announce(id)), {
    action: "announce",
    transactionId: 1234,
    interval: 1800,
    leechers: 1,
    seeders: 0,
    peers: new Uint8Array(0),
  });
  const second = reply(
    handler,
    announce(id, { peerId: new Uint8Array(20).fill(0x2e), port: 7000 }),
  );
  assert.equal(second.action, "announce");
  // BEP 15: an IPv4 request gets 6-byte peers: 192.0.2.10:6881.
  assert.deepEqual(second.action === "announce" && [...second.peers], [192, 0, 2, 10, 0x1a, 0xe1]);
  assert.equal(tracker.swarmCount, 1);
});

Deno.test("createUdpHandler() gives an IPv6 request 18-byte peers, and an IPv4 one only IPv4 peers", () => {
  const { handler } = setup();
  const v4 = connect(handler, V4);
  const v6 = connect(handler, V6);
  reply(handler, announce(v4, { peerId: new Uint8Array(20).fill(1) }), V4);
  reply(handler, announce(v6, { peerId: new Uint8Array(20).fill(2), port: 7000 }), V6);
  const six = reply(handler, announce(v6, { peerId: new Uint8Array(20).fill(3) }), V6);
  assert.equal(six.action, "announce");
  if (six.action !== "announce") return;
  assert.equal(six.peers.length, 18);
  assert.deepEqual([...six.peers.subarray(0, 4)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(six.leechers, 3);
  const four = reply(handler, announce(v4, { peerId: new Uint8Array(20).fill(4) }), V4);
  assert.ok(four.action === "announce" && four.peers.length === 6);
});

Deno.test("createUdpHandler() scrapes in request order, zeros for unknown hashes", () => {
  const { handler } = setup();
  const id = connect(handler);
  reply(handler, announce(id, { left: 0n }));
  const other = new Uint8Array(20).fill(0x01);
  assert.deepEqual(reply(handler, encodeScrapeRequest(id, 5, [other, HASH, HASH])), {
    action: "scrape",
    transactionId: 5,
    counts: [
      { complete: 0, downloaded: 0, incomplete: 0 },
      { complete: 1, downloaded: 0, incomplete: 0 },
      { complete: 1, downloaded: 0, incomplete: 0 },
    ],
  });
});

Deno.test("createUdpHandler() drops announces and scrapes with a forged or expired connection id", () => {
  const { handler, clock, logger } = setup();
  const id = connect(handler);
  assert.equal(handler(announce(id ^ 1n), V4), null);
  assert.equal(handler(announce(id), { ...V4, port: V4.port + 1 }), null);
  assert.equal(handler(encodeScrapeRequest(0x41727101980n, 5, [HASH]), V4), null);
  clock.now += 2 * 60_000;
  assert.equal(reply(handler, announce(id)).action, "announce");
  clock.now += 60_000;
  assert.equal(handler(announce(id), V4), null);
  assert.ok(logger.lines.some((line) => line.includes("unknown or expired connection id")));
});

Deno.test("createUdpHandler() answers a malformed request under a valid id, drops it otherwise", () => {
  const { handler } = setup();
  const id = connect(handler);
  assert.deepEqual(reply(handler, announce(id, { event: 9 })), {
    action: "error",
    transactionId: 1234,
    message: "invalid event 9",
  });
  assert.deepEqual(reply(handler, announce(id).subarray(0, 60)), {
    action: "error",
    transactionId: 1234,
    message: "announce of 60 bytes, expected at least 98",
  });
  assert.equal(handler(announce(id ^ 1n, { event: 9 }), V4), null);
  assert.equal(handler(announce(id).subarray(0, 15), V4), null);
  assert.equal(handler(new Uint8Array(16).fill(0xff), V4), null);
});

Deno.test("createUdpHandler() turns a ClientError of the core into an error packet", () => {
  const tracker = new Tracker({ expirySeconds: 3600, maxTorrents: 1 });
  const { handler, logger } = setup({ tracker });
  const id = connect(handler);
  reply(handler, announce(id));
  const full = reply(handler, announce(id, { infoHash: new Uint8Array(20).fill(2) }));
  assert.deepEqual(full, {
    action: "error",
    transactionId: 1234,
    message: "tracker is full: too many torrents",
  });
  assert.equal(logger.lines.filter((line) => / error /.test(line)).length, 0);
});

Deno.test("createUdpHandler() refuses scrapes when scrape is disabled", () => {
  const { handler } = setup({ settings: { noscrape: true } });
  const id = connect(handler);
  assert.deepEqual(reply(handler, encodeScrapeRequest(id, 5, [HASH])), {
    action: "error",
    transactionId: 5,
    message: "scrape is disabled on this tracker",
  });
});

Deno.test("createUdpHandler() logs a bug at error and answers internal error", () => {
  const { handler, logger } = setup({ tracker: new BrokenTracker({ expirySeconds: 60 }) });
  const id = connect(handler);
  assert.deepEqual(reply(handler, announce(id)), {
    action: "error",
    transactionId: 1234,
    message: "internal error",
  });
  assert.ok(
    logger.lines.some((line) =>
      / error udp 192\.0\.2\.10:40000: TypeError: simulated bug/.test(line)
    ),
    logger.lines.join("\n"),
  );
});

Deno.test("createUdpHandler() drops a packet from an address it cannot parse, logging the bug", () => {
  const { handler, logger } = setup();
  assert.equal(handler(encodeConnectRequest(1), { hostname: "not-an-ip", port: 1 }), null);
  assert.ok(logger.lines.some((line) => line.includes('unparsable peer address "not-an-ip"')));
});

Deno.test("createUdpHandler() honours the IP field only when trusted, and only over IPv4", () => {
  const ip = Uint8Array.from([198, 51, 100, 1]);
  for (const trust of [false, true]) {
    const { handler, tracker } = setup({ settings: { trustIpParam: trust } });
    const v4 = connect(handler, V4);
    const v6 = connect(handler, V6);
    reply(handler, announce(v4, { ip, peerId: new Uint8Array(20).fill(1) }), V4);
    reply(handler, announce(v6, { ip, peerId: new Uint8Array(20).fill(2) }), V6);
    const table4 = tracker.swarm(String.fromCharCode(...HASH))!.existingTable(4)!;
    const listed = table4.hasAddress(0, ip) ? "claimed" : "source";
    assert.equal(listed, trust ? "claimed" : "source");
    // The IPv6 request stays in the IPv6 table whatever its IP field says.
    assert.equal(tracker.swarm(String.fromCharCode(...HASH))!.existingTable(16)!.count, 1);
  }
});

Deno.test("createUdpHandler() records announces, scrapes and refusals as UDP", () => {
  const { handler, counters } = setup();
  const id = connect(handler);
  reply(handler, announce(id));
  reply(handler, encodeScrapeRequest(id, 5, [HASH]));
  handler(announce(id ^ 1n), V4);
  const snapshot = counters.snapshot(NOW);
  assert.equal(snapshot.announces.udp, 1);
  assert.equal(snapshot.scrapes.udp, 1);
  assert.equal(snapshot.failures.udp.malformed, 1);
  assert.equal(snapshot.announces.http, 0);
});

Deno.test("createUdpHandler() logs client and scrape lines only when asked", () => {
  for (const logAnnounces of [false, true]) {
    const { handler, logger } = setup({ settings: { logAnnounces }, debug: false });
    const id = connect(handler);
    reply(handler, announce(id));
    reply(handler, encodeScrapeRequest(id, 5, [HASH]));
    const lines = logger.lines.filter((line) => / (client|scrape) /.test(line));
    assert.equal(lines.length, logAnnounces ? 2 : 0);
    if (logAnnounces) assert.match(lines[0], / client 192\.0\.2\.10 abab.* started .* udp$/);
  }
});

Deno.test("createUdpHandler() refuses a peer id taken from another address, key 0 being no key", () => {
  // Different keys, and key 0 on both sides: clients that send 0 have no key to prove anything.
  for (const [first, second] of [[1, 2], [0, 0]]) {
    const { handler } = setup();
    const other = { hostname: "192.0.2.99", port: 40000 };
    reply(handler, announce(connect(handler, V4), { key: first }), V4);
    assert.deepEqual(reply(handler, announce(connect(handler, other), { key: second }), other), {
      action: "error",
      transactionId: 1234,
      message: "peer_id is in use by a peer at another address",
    });
  }
  // The same non-zero key proves it is the same client, moved.
  const { handler } = setup();
  const moved = { hostname: "192.0.2.99", port: 40000 };
  reply(handler, announce(connect(handler, V4), { key: 5 }), V4);
  assert.equal(
    reply(handler, announce(connect(handler, moved), { key: 5 }), moved).action,
    "announce",
  );
});

Deno.test("createUdpHandler() with passkeys admits an announce whose BEP 41 URL data carries a listed key", () => {
  const { handler, tracker } = setup({ passkeys: new Passkeys(["member-1"]) });
  const id = connect(handler);
  const url = (text: string) => urlDataOptions(new TextEncoder().encode(text));
  for (const path of ["/announce/member-1", "/announce?passkey=member-1", "/member-1/announce"]) {
    const response = reply(handler, announce(id, { options: url(path) }));
    assert.equal(response.action, "announce", path);
  }
  for (
    const [options, message] of [
      [undefined, "this tracker needs a passkey in the announce URL"],
      [url("/announce"), "this tracker needs a passkey in the announce URL"],
      [url("/announce/stranger"), "unknown passkey"],
    ] as const
  ) {
    const response = reply(handler, announce(id, { peerId: new Uint8Array(20).fill(9), options }));
    assert.deepEqual(response, { action: "error", transactionId: 1234, message });
  }
  assert.equal(tracker.scrape(null)[0].incomplete, 1);
});

Deno.test("createUdpHandler() with passkeys refuses a scrape, which cannot carry a key", () => {
  const { handler } = setup({ passkeys: new Passkeys(["member-1"]) });
  const id = connect(handler);
  assert.deepEqual(reply(handler, encodeScrapeRequest(id, 55, [HASH])), {
    action: "error",
    transactionId: 55,
    message: "this tracker needs a passkey: scrape over HTTP",
  });
});
