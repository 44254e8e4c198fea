/**
 * The UDP tracker's per-packet costs (BEP 15): parsing a 98-byte announce (and one carrying BEP 41
 * URL data), encoding a 50-peer announce response (IPv4 and IPv6), issuing and checking connection
 * ids, and one whole announce through `createUdpHandler()` (parse, id check, core, encode) against
 * a swarm of 200 peers. No socket: these are the costs the receive loop adds per datagram.
 *
 * Run: `deno bench --allow-all tests/bench/udp_bench.ts`.
 *
 * @module
 */
import { Tracker } from "../../src/core/tracker.ts";
import { encodeAnnounceResponse, parseUdpRequest } from "../../src/protocol/udp_packet.ts";
import { createMemoryLogger } from "../../src/runtime/logger.ts";
import { ConnectionIds } from "../../src/udp/connection_id.ts";
import { createUdpHandler } from "../../src/udp/handler.ts";
import { seededRandom } from "../support/seeded_random.ts";
import {
  type AnnouncePacket,
  encodeAnnounceRequest,
  encodeConnectRequest,
  parseResponse,
  urlDataOptions,
} from "../support/udp_tracker_client.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 200 };
const NOW = 1_700_000_000_000;

function announce(overrides: Partial<AnnouncePacket> = {}): Uint8Array {
  return encodeAnnounceRequest({
    connectionId: 0x0123_4567_89ab_cdefn,
    transactionId: 42,
    infoHash: new Uint8Array(20).fill(0xab),
    peerId: new TextEncoder().encode("-qB4650-abcdefghijkl"),
    downloaded: 1000n,
    left: 5000n,
    uploaded: 0n,
    event: 0,
    ip: new Uint8Array(4),
    key: 0x1234_5678,
    numwant: 50,
    port: 6881,
    ...overrides,
  });
}

const PLAIN = announce();
const WITH_URL = announce({
  options: urlDataOptions(new TextEncoder().encode("/announce?passkey=0123456789abcdef0123456789")),
});
const PEERS4 = new Uint8Array(50 * 6).map((_, i) => (i * 37 + 11) & 0xff);
const PEERS6 = new Uint8Array(50 * 18).map((_, i) => (i * 37 + 11) & 0xff);
let sink = 0;

Deno.bench("parseUdpRequest() announce, 98 bytes", { group: "parse", baseline: true }, () => {
  sink += parseUdpRequest(PLAIN, LIMITS).transactionId;
});

Deno.bench("parseUdpRequest() announce + BEP 41 URLData", { group: "parse" }, () => {
  sink += parseUdpRequest(WITH_URL, LIMITS).transactionId;
});

Deno.bench("encodeAnnounceResponse() 50 IPv4 peers", { group: "encode", baseline: true }, () => {
  sink += encodeAnnounceResponse({
    transactionId: 42,
    interval: 1800,
    leechers: 120,
    seeders: 80,
    peers: PEERS4,
  }).length;
});

Deno.bench("encodeAnnounceResponse() 50 IPv6 peers", { group: "encode" }, () => {
  sink += encodeAnnounceResponse({
    transactionId: 42,
    interval: 1800,
    leechers: 120,
    seeders: 80,
    peers: PEERS6,
  }).length;
});

const ids = new ConnectionIds();
const CLIENT = Uint8Array.from([192, 0, 2, 10]);
const ISSUED = ids.issue(CLIENT, 6881, NOW);
let port = 0;

Deno.bench("ConnectionIds.issue()", { group: "connection id", baseline: true }, () => {
  port = (port + 1) & 0xffff;
  sink += Number(ids.issue(CLIENT, port, NOW) & 1n);
});

Deno.bench("ConnectionIds.verify() of a current id", { group: "connection id" }, () => {
  sink += ids.verify(ISSUED, CLIENT, 6881, NOW) ? 1 : 0;
});

Deno.bench("ConnectionIds.verify() of a forged id (3 MACs)", { group: "connection id" }, () => {
  sink += ids.verify(ISSUED ^ 1n, CLIENT, 6881, NOW) ? 1 : 0;
});

// A swarm of 200 leechers at distinct IPv4 addresses, then one of them announcing again.
const handler = createUdpHandler({
  tracker: new Tracker({ expirySeconds: 3600, random: seededRandom(1) }),
  settings: {
    minInterval: 900,
    nostats: false,
    interval: 1800,
    numwantDefault: 50,
    numwantMax: 200,
    trustIpParam: false,
    noscrape: false,
    logAnnounces: false,
  },
  logger: createMemoryLogger(),
  now: () => NOW,
});
function connectionIdFor(remote: { hostname: string; port: number }): bigint {
  const reply = parseResponse(handler(encodeConnectRequest(1), remote)!);
  if (reply.action !== "connect") throw new Error("connect failed");
  return reply.connectionId;
}
for (let i = 0; i < 200; i++) {
  const remote = { hostname: `10.0.${i >> 8}.${i & 255}`, port: 6881 };
  const peerId = new TextEncoder().encode(`-qB4650-${String(i).padStart(12, "0")}`);
  handler(announce({ connectionId: connectionIdFor(remote), peerId }), remote);
}
const REMOTE = { hostname: "10.0.0.7", port: 6881 };
const REPEAT = announce({
  connectionId: connectionIdFor(REMOTE),
  peerId: new TextEncoder().encode(`-qB4650-${"7".padStart(12, "0")}`),
});
if (parseResponse(handler(REPEAT, REMOTE)!).action !== "announce") throw new Error("setup failed");

Deno.bench("createUdpHandler() announce, 50 of 200 peers", { group: "handler" }, () => {
  sink += handler(REPEAT, REMOTE)!.length;
});

// Published where anyone could read it, so no benchmarked work can be optimised away.
globalThis.addEventListener("unload", () => {
  (globalThis as { udpBenchSink?: number }).udpBenchSink = sink;
});
