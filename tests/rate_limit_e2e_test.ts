/**
 * The per-address rate limit (`rate_limit`) end to end: one address hammering a real tracker over
 * HTTP and over UDP is refused with a clear failure reason (and BEP 31 `retry in` over HTTP) while
 * another address goes on unaffected; both transports draw on one allowance; behind a trusted proxy
 * the forwarded client is limited and the proxy itself is not. Also the HTTP handler called
 * directly, with connection addresses no socket test can make.
 *
 * @module
 */
import assert from "node:assert/strict";
import { RateLimiter } from "../src/core/rate_limiter.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler } from "../src/http/handler.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { peerId } from "./support/behaviour_suite.ts";
import { decodeDict, HttpTrackerClient, textOf } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";
import type { ClientAnnounce } from "./support/tracker_client.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

const LIMIT = 5;
const REFUSAL =
  `too many requests from your address: at most ${LIMIT} announces and scrapes a minute`;
const HASH = new Uint8Array(20).fill(7);

function announceOf(label: string): ClientAnnounce {
  return { infoHash: HASH, peerId: peerId(label), port: 6881, left: 10, event: "started" };
}

/** The raw announce query for `label`, for requests that need headers. */
function query(label: string): string {
  return `/announce?${HttpTrackerClient.announceQuery(announceOf(label))}`;
}

Deno.test("rate_limit refuses one address hammering over HTTP with retry in, not another", async () => {
  // A trusted proxy on loopback lets one socket speak for several client addresses.
  const target = await startTestServer({
    config: { rate_limit: LIMIT, trusted_proxies: ["127.0.0.1"] },
  });
  const client = new HttpTrackerClient(target.baseUrl);
  const from = (address: string) => ({ headers: { "x-forwarded-for": address } });
  try {
    for (let i = 0; i < LIMIT; i++) {
      const { body } = await client.get(query(`a${i}`), from("198.51.100.1"));
      assert.equal(textOf(decodeDict(body), "failure reason"), undefined, `request ${i}`);
    }
    // The sixth, an announce or a scrape, is refused with the limit and BEP 31 `retry in`.
    for (const path of [query("a9"), `/scrape?info_hash=${"%07".repeat(20)}`]) {
      const reply = decodeDict((await client.get(path, from("198.51.100.1"))).body);
      assert.equal(textOf(reply, "failure reason"), REFUSAL);
      assert.equal(reply.get("retry in"), 1);
    }
    // Another client behind the same proxy is unaffected.
    const other = decodeDict((await client.get(query("b"), from("203.0.113.5"))).body);
    assert.equal(textOf(other, "failure reason"), undefined);
    assert.equal(other.get("incomplete"), LIMIT + 1);
    // The proxy's own requests (no forwarding header) are never limited.
    for (let i = 0; i < LIMIT * 3; i++) assert.ok((await client.announce(announceOf("p"))).ok);
    const stats = await (await fetch(`${target.baseUrl}/stats.json`)).json();
    assert.equal(stats.requests.failures.http.rate_limited, 2);
    assert.equal(stats.requests.announces.http, LIMIT + 1 + LIMIT * 3);
  } finally {
    client.close();
    await target.close();
  }
});

Deno.test("rate_limit refuses one address hammering over UDP, not another", async () => {
  const target = await startTestServer({ config: { rate_limit: LIMIT } });
  const port = target.server.udpAddress!.port;
  const hammer = new UdpTrackerClient("127.0.0.1", port, { localHostname: "127.0.0.2" });
  const other = new UdpTrackerClient("127.0.0.1", port, { localHostname: "127.0.0.3" });
  try {
    // Connects are not counted: the hammer connects before each announce.
    for (let i = 0; i < LIMIT; i++) assert.ok((await hammer.announce(announceOf(`u${i}`))).ok);
    const refused = await hammer.announce(announceOf("u9"));
    assert.deepEqual(refused, { ok: false, failure: REFUSAL });
    await assert.rejects(hammer.scrape([HASH]), new RegExp(`scrape refused: ${REFUSAL}`));
    const fine = await other.announce(announceOf("v"));
    assert.ok(fine.ok);
    assert.equal(fine.incomplete, LIMIT + 1);
    assert.deepEqual(await other.scrape([HASH]), [{ complete: 0, downloaded: 0, incomplete: 6 }]);
    const failures = target.server.counters.snapshot(Date.now()).failures;
    assert.equal(failures.udp.rate_limited, 2);
    assert.equal(failures.http.rate_limited, 0);
  } finally {
    hammer.close();
    other.close();
    await target.close();
  }
});

Deno.test("rate_limit is one allowance over HTTP and UDP together", async () => {
  const target = await startTestServer({ config: { rate_limit: LIMIT } });
  const http = new HttpTrackerClient(target.baseUrl);
  const udp = new UdpTrackerClient("127.0.0.1", target.server.udpAddress!.port);
  try {
    for (let i = 0; i < LIMIT; i++) {
      const client = i % 2 === 0 ? http : udp;
      assert.ok((await client.announce(announceOf(`m${i}`))).ok, `${client.protocol} ${i}`);
    }
    assert.deepEqual(await udp.announce(announceOf("m8")), { ok: false, failure: REFUSAL });
    assert.deepEqual(await http.announce(announceOf("m9")), { ok: false, failure: REFUSAL });
  } finally {
    http.close();
    udp.close();
    await target.close();
  }
});

Deno.test("the HTTP handler limits each connection address apart, and nothing at rate_limit 0", async () => {
  const tracker = new Tracker({ expirySeconds: 3600 });
  const settings = {
    interval: 60,
    minInterval: 30,
    numwantDefault: 50,
    numwantMax: 200,
    trustIpParam: false,
    noscrape: false,
    nostats: false,
    logAnnounces: false,
  };
  const logger = createMemoryLogger();
  let clock = 1_700_000_000_000;
  const limited = createHttpHandler({
    tracker,
    settings,
    logger,
    version: "test",
    now: () => clock,
    rateLimiter: new RateLimiter({ perMinute: 2 }),
  });
  const open = createHttpHandler({ tracker, settings, logger, version: "test" });
  const failureOf = async (handler: typeof open, label: string, hostname: string) => {
    const response = handler(new Request(`http://t${query(label)}`), { remoteAddr: { hostname } });
    assert.equal(response.status, 200);
    return textOf(decodeDict(new Uint8Array(await response.arrayBuffer())), "failure reason");
  };
  assert.equal(await failureOf(limited, "x1", "192.0.2.1"), undefined);
  assert.equal(await failureOf(limited, "x2", "192.0.2.1"), undefined);
  assert.match((await failureOf(limited, "x3", "192.0.2.1"))!, /^too many requests/);
  // The same /64 is the same client; the next one is not.
  assert.equal(await failureOf(limited, "y1", "2001:db8::1"), undefined);
  assert.equal(await failureOf(limited, "y2", "2001:db8::ffff"), undefined);
  assert.match((await failureOf(limited, "y3", "2001:db8::2"))!, /^too many requests/);
  assert.equal(await failureOf(limited, "z1", "2001:db8:0:1::1"), undefined);
  // 30 s later one token is back (2 a minute).
  clock += 30_000;
  assert.equal(await failureOf(limited, "x4", "::ffff:192.0.2.1"), undefined);
  assert.match((await failureOf(limited, "x5", "192.0.2.1"))!, /^too many requests/);
  for (let i = 0; i < 20; i++) {
    assert.equal(await failureOf(open, `o${i}`, "192.0.2.1"), undefined);
  }
});
