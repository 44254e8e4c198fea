/**
 * Fuzz and property tests over everything that reads bytes from strangers, with a fixed seed in
 * CI and a long run on demand (`deno task fuzz`, or `NOBRAKE_FUZZ_ITERATIONS=100000`; any seed
 * with `NOBRAKE_FUZZ_SEED=<n>`, a fresh one with `NOBRAKE_FUZZ_SEED=random`). A failure names the
 * seed and the iteration, so it replays.
 *
 * Targets: `parseAnnounceQuery` and `parseScrapeQuery` (valid queries parse to exactly what was
 * encoded; mutated ones parse or throw `ClientError`, nothing else); bencode (our encoder, then
 * our decoder, gives the value back; mutated bytes decode or throw `BencodeError`); the UDP
 * handler (never an internal error, never a reply to an unproven address); and the HTTP handler
 * called directly with random URLs, headers and peers (never a 500). The fixed-iteration
 * properties of the parsers in `announce_request_test.ts`, `bencode_*_test.ts` and
 * `udp_packet_test.ts` compare with other oracles and stay; this file is the one to run long.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { Passkeys } from "../src/core/passkeys.ts";
import { RateLimiter } from "../src/core/rate_limiter.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler } from "../src/http/handler.ts";
import { parseAnnounceQuery } from "../src/protocol/announce_request.ts";
import { BDict, BencodeError, type BValue, decodeBencode } from "../src/protocol/bencode_decode.ts";
import { encodeBencode } from "../src/protocol/bencode_encode.ts";
import { CidrSet } from "../src/protocol/cidr.ts";
import { parseIp } from "../src/protocol/ip_address.ts";
import { parseScrapeQuery } from "../src/protocol/scrape_request.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { ConnectionIds } from "../src/udp/connection_id.ts";
import { createUdpHandler } from "../src/udp/handler.ts";
import {
  escapeRandomly,
  Fuzz,
  latin1,
  mutateBytes,
  mutateText,
  randomAnnounce,
  randomBencode,
  randomScrape,
} from "./support/fuzz_inputs.ts";
import { parseResponse } from "./support/udp_tracker_client.ts";
import { randomUdpPacket } from "./support/fuzz_packets.ts";

const ITERATIONS = Number(Deno.env.get("NOBRAKE_FUZZ_ITERATIONS") ?? 2000);
const SEED_TEXT = Deno.env.get("NOBRAKE_FUZZ_SEED") ?? "1";
const SEED = SEED_TEXT === "random" ? crypto.getRandomValues(new Uint32Array(1))[0] : +SEED_TEXT;
const LIMITS = { numwantDefault: 50, numwantMax: 200 };
if (SEED_TEXT !== "1" || ITERATIONS !== 2000) {
  // deno-lint-ignore no-console
  console.log(`fuzz: ${ITERATIONS} iterations per target, NOBRAKE_FUZZ_SEED=${SEED}`);
}

/** Runs `body` ITERATIONS times with one seeded source per target; a failure names where. */
function fuzzTest(
  name: string,
  salt: number,
  body: (fuzz: Fuzz, i: number) => void | Promise<void>,
): void {
  Deno.test(`fuzz: ${name}`, async () => {
    const fuzz = new Fuzz((SEED ^ salt) >>> 0);
    for (let i = 0; i < ITERATIONS; i++) {
      try {
        await body(fuzz, i);
      } catch (error) {
        throw new Error(`NOBRAKE_FUZZ_SEED=${SEED}, iteration ${i}: ${error}`, { cause: error });
      }
    }
  });
}

/** Runs `run`; returns its value, or `null` when it threw an instance of `allowed`. */
function onlyThrows<T>(allowed: new (...args: never[]) => Error, run: () => T): T | null {
  try {
    return run();
  } catch (error) {
    if (error instanceof allowed) return null;
    throw new Error(`threw ${error}, not a ${allowed.name}`);
  }
}

fuzzTest("parseAnnounceQuery() reads a valid query to exactly its values", 0xa1, (fuzz) => {
  const { query, expected } = randomAnnounce(fuzz, LIMITS);
  assert.deepStrictEqual(parseAnnounceQuery(query, LIMITS), expected, query);
});

fuzzTest("parseAnnounceQuery() on mutated queries parses or throws ClientError", 0xa2, (fuzz) => {
  const query = mutateText(fuzz, randomAnnounce(fuzz, LIMITS).query);
  const parsed = onlyThrows(ClientError, () => parseAnnounceQuery(query, LIMITS));
  if (parsed === null) return;
  assert.equal(parsed.infoHash.length, 20);
  assert.equal(parsed.peerId.length, 20);
  assert.ok(parsed.port >= 1 && parsed.port <= 65535);
  assert.ok(parsed.numwant >= 0 && parsed.numwant <= LIMITS.numwantMax);
  for (const value of [parsed.left, parsed.uploaded, parsed.downloaded]) assert.ok(value >= 0);
});

fuzzTest("parseScrapeQuery() reads the hashes named, once each, in order", 0xb1, (fuzz) => {
  const { query, hashes } = randomScrape(fuzz);
  if (hashes.length > 256) {
    assert.throws(() => parseScrapeQuery(query), ClientError);
  } else assert.deepStrictEqual(parseScrapeQuery(query), hashes.length === 0 ? null : hashes);
});

fuzzTest("parseScrapeQuery() on mutated queries parses or throws ClientError", 0xb2, (fuzz) => {
  const query = mutateText(fuzz, randomScrape(fuzz).query);
  const hashes = onlyThrows(ClientError, () => parseScrapeQuery(query));
  for (const hash of hashes ?? []) assert.equal(hash.length, 20);
});

/** What a decoded value means, comparable with `randomBencode`'s model. */
function modelOf(value: BValue): unknown {
  if (typeof value === "number" || typeof value === "bigint") return `i${value}`;
  if (value instanceof Uint8Array) return `s${latin1(value)}`;
  if (value instanceof BDict) {
    return { dict: [...value.entries()].map(([key, child]) => [key, modelOf(child)]) };
  }
  return value.map(modelOf);
}

fuzzTest("encodeBencode() then decodeBencode() gives the value back", 0xc1, (fuzz) => {
  const { value, model } = randomBencode(fuzz);
  const encoded = encodeBencode(value);
  assert.deepStrictEqual(modelOf(decodeBencode(encoded)), model);
});

fuzzTest(
  "decodeBencode() on mutated or random bytes decodes or throws BencodeError",
  0xc2,
  (fuzz) => {
    const input = fuzz.chance(0.8)
      ? mutateBytes(fuzz, encodeBencode(randomBencode(fuzz).value))
      : fuzz.chance(0.5)
      ? fuzz.bytes(fuzz.int(64))
      : new TextEncoder().encode("l".repeat(fuzz.int(200)) + "d".repeat(fuzz.int(200)));
    const decoded = onlyThrows(BencodeError, () => decodeBencode(input));
    // What decodes is a whole value: decoding is deterministic and its model encodes back.
    if (decoded !== null) assert.deepStrictEqual(modelOf(decodeBencode(input)), modelOf(decoded));
  },
);

fuzzTest(
  "the UDP handler never fails and answers only connects and proven senders",
  0xd1,
  (fuzz) => {
    const state = udpState ??= makeUdpState();
    const remote = fuzz.pick(UDP_REMOTES);
    const address = parseIp(remote.hostname)!;
    const id = state.ids.issue(address, remote.port, state.now);
    const packet = randomUdpPacket(fuzz, fuzz.chance(0.8) ? id : null);
    const reply = state.handler(packet, remote);
    assert.deepEqual(state.logger.lines.filter((line) => / error /.test(line)), []);
    state.logger.lines.length = 0;
    if (reply === null) return;
    const response = parseResponse(reply);
    const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    const isConnect = packet.length >= 16 && view.getUint32(8) === 0;
    if (!isConnect) {
      assert.ok(state.ids.verify(view.getBigUint64(0), address, remote.port, state.now));
    }
    assert.notEqual(response.action === "error" && response.message, "internal error");
    if (++state.requests % 1000 === 0) udpState = null;
  },
);

const UDP_REMOTES = [
  { hostname: "127.0.0.1", port: 6881 },
  { hostname: "::1", port: 51413 },
  { hostname: "::ffff:192.0.2.7", port: 1 },
  { hostname: "2001:db8::7", port: 65535 },
];
let udpState: ReturnType<typeof makeUdpState> | null = null;

/** A fresh tracker and UDP handler (renewed every 1000 requests so state stays small). */
function makeUdpState() {
  const logger = createMemoryLogger({ debug: false });
  const ids = new ConnectionIds({ key: new Uint8Array(16).fill(9) });
  const now = 1_700_000_000_000;
  const handler = createUdpHandler({
    tracker: new Tracker({ expirySeconds: 3600, maxTorrents: 500 }),
    logger,
    now: () => now,
    connectionIds: ids,
    rateLimiter: new RateLimiter({ perMinute: 800 }),
    settings: {
      interval: 60,
      minInterval: 30,
      nostats: false,
      ...LIMITS,
      trustIpParam: true,
      noscrape: false,
      logAnnounces: true,
    },
  });
  return { logger, ids, now, handler, requests: 0 };
}

const HTTP_PATHS = [
  "/announce",
  "/scrape",
  "/stats",
  "/stats.json",
  "/metrics",
  "/",
  "/favicon.ico",
];
const HTTP_PEERS = ["127.0.0.1", "10.1.2.3", "::1", "2001:db8::5", "::ffff:192.0.2.1"];
let httpState: ReturnType<typeof makeHttpState> | null = null;

/** A fresh tracker and handler, with passkeys on or off (renewed every 500 requests). */
function makeHttpState(keyed: boolean) {
  const logger = createMemoryLogger({ debug: false });
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 3600, maxTorrents: 300 }),
    logger,
    version: "fuzz",
    now: () => 1_700_000_000_000,
    trustedProxies: CidrSet.parse(["10.0.0.0/8", "::1"]),
    passkeys: () => (keyed ? new Passkeys(["k3y", "sekret"]) : null),
    rateLimiter: new RateLimiter({ perMinute: 400 }),
    settings: {
      interval: 60,
      minInterval: 30,
      ...LIMITS,
      trustIpParam: true,
      noscrape: false,
      nostats: false,
      logAnnounces: true,
    },
  });
  return { logger, handler, requests: 0 };
}

fuzzTest(
  "the HTTP handler answers random URLs, headers and peers, never with a 500",
  0xe1,
  async (fuzz) => {
    const state = httpState ??= makeHttpState(fuzz.chance(0.3));
    let path = fuzz.pick(HTTP_PATHS);
    if (fuzz.chance(0.2)) {
      path = fuzz.chance(0.5) ? `${path}/${fuzz.pick(["k3y", "x"])}` : `/k3y${path}`;
    }
    if (fuzz.chance(0.1)) path = mutateText(fuzz, path).replaceAll("?", "");
    const query = fuzz.chance(0.5)
      ? randomAnnounce(fuzz, LIMITS).query
      : fuzz.chance(0.5)
      ? randomScrape(fuzz).query.slice(0, 2000)
      : `info_hash=${escapeRandomly(fuzz, fuzz.bytes(20))}&page=${fuzz.int(5)}`;
    const url = `http://tracker${path}?${fuzz.chance(0.5) ? mutateText(fuzz, query) : query}`;
    const headers = new Headers();
    const header = (name: string, value: string) => {
      try {
        headers.set(name, value);
      } catch { /* a value no client could send (a control character) */ }
    };
    if (fuzz.chance(0.3)) header("x-forwarded-for", mutateText(fuzz, "192.0.2.9, 10.0.0.1"));
    if (fuzz.chance(0.3)) header("user-agent", latin1(fuzz.bytes(fuzz.int(40))));
    let request: Request;
    try {
      request = new Request(url, {
        method: fuzz.chance(0.9) ? "GET" : fuzz.pick(["HEAD", "POST"]),
        headers,
      });
    } catch {
      return; // A URL no client could send (the URL parser refuses it).
    }
    const response = state.handler(request, { remoteAddr: { hostname: fuzz.pick(HTTP_PEERS) } });
    assert.notEqual(response.status, 500, url);
    assert.deepEqual(state.logger.lines.filter((line) => / error /.test(line)), [], url);
    state.logger.lines.length = 0;
    const body = new Uint8Array(await response.arrayBuffer());
    // An announce or scrape is answered in bencode, a refusal included.
    if (response.status === 200 && /^\/(announce|scrape)$/.test(new URL(url).pathname)) {
      assert.ok(decodeBencode(body) instanceof BDict, url);
    }
    if (++state.requests % 500 === 0) httpState = null;
  },
);
