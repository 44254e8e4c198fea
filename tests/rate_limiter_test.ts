/**
 * Tests for `src/core/rate_limiter.ts`: the token bucket exactly (time passed in), the refusal a
 * client sees, IPv6 keyed per /64, and the table staying within its size under a flood of
 * addresses, evicting the least recently used.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { keyOf, RateLimiter } from "../src/core/rate_limiter.ts";
import { failureReasonOf } from "../src/stats/stats_counters.ts";
import { parseIp } from "../src/protocol/ip_address.ts";

const T0 = 1_700_000_000_000;

function ip(text: string): Uint8Array {
  const address = parseIp(text);
  if (address === null) throw new Error(`bad test address ${text}`);
  return address;
}

Deno.test("RateLimiter allows a burst of perMinute, then refuses until a token is back", () => {
  const limiter = new RateLimiter({ perMinute: 6 });
  const a = ip("192.0.2.1");
  for (let i = 0; i < 6; i++) assert.equal(limiter.take(a, T0), 0, `request ${i}`);
  // 6 a minute: one token every 10 s.
  assert.equal(limiter.take(a, T0), 10_000);
  assert.equal(limiter.take(a, T0 + 4_000), 6_000);
  assert.equal(limiter.take(a, T0 + 9_999), 1);
  assert.equal(limiter.take(a, T0 + 10_000), 0);
  assert.equal(limiter.take(a, T0 + 10_000), 10_000);
});

Deno.test("RateLimiter refills at perMinute a minute, never above the bucket size", () => {
  const limiter = new RateLimiter({ perMinute: 60 });
  const a = ip("192.0.2.1");
  for (let i = 0; i < 60; i++) assert.equal(limiter.take(a, T0), 0);
  assert.ok(limiter.take(a, T0) > 0);
  // After 30 s, 30 tokens are back.
  for (let i = 0; i < 30; i++) assert.equal(limiter.take(a, T0 + 30_000), 0, `request ${i}`);
  assert.equal(limiter.take(a, T0 + 30_000), 1000);
  // An hour of silence fills the bucket to 60, not more.
  const later = T0 + 3_600_000;
  for (let i = 0; i < 60; i++) assert.equal(limiter.take(a, later), 0);
  assert.equal(limiter.take(a, later), 1000);
});

Deno.test("RateLimiter lets a hammering client through at the steady rate, no more", () => {
  const limiter = new RateLimiter({ perMinute: 120 });
  const a = ip("198.51.100.7");
  let allowed = 0;
  // 100 requests a second for 10 minutes: the burst of 120, then 2 a second over the 599.99 s
  // from the first request to the last (1,199.98 tokens), so 1,319 in all.
  for (let ms = 0; ms < 600_000; ms += 10) if (limiter.take(a, T0 + ms) === 0) allowed++;
  assert.equal(allowed, 1319);
});

Deno.test("RateLimiter keeps addresses apart and takes nothing on a clock stepping back", () => {
  const limiter = new RateLimiter({ perMinute: 1 });
  assert.equal(limiter.take(ip("192.0.2.1"), T0), 0);
  assert.equal(limiter.take(ip("192.0.2.2"), T0), 0);
  assert.equal(limiter.take(ip("192.0.2.1"), T0), 60_000);
  assert.equal(limiter.take(ip("192.0.2.1"), T0 - 30_000), 60_000);
  assert.equal(limiter.take(ip("192.0.2.1"), T0 + 30_000), 30_000);
});

Deno.test("RateLimiter counts an IPv6 /64 as one address", () => {
  const limiter = new RateLimiter({ perMinute: 2 });
  assert.equal(limiter.take(ip("2001:db8:1:2::1"), T0), 0);
  assert.equal(limiter.take(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), T0), 0);
  assert.ok(limiter.take(ip("2001:db8:1:2::abcd"), T0) > 0);
  // The next /64 is someone else.
  assert.equal(limiter.take(ip("2001:db8:1:3::1"), T0), 0);
  assert.equal(limiter.size, 2);
  // IPv4 and IPv6 keys never collide, even when their bytes would.
  assert.notEqual(keyOf(ip("0.0.0.0")), keyOf(ip("::")));
  assert.equal(keyOf(ip("::ffff:192.0.2.1")), keyOf(ip("192.0.2.1")));
});

Deno.test("RateLimiter stays within maxAddresses under a flood, never forgetting the active", () => {
  const limiter = new RateLimiter({ perMinute: 1, maxAddresses: 100 });
  const hammer = ip("203.0.113.1");
  const idle = ip("203.0.113.2");
  assert.equal(limiter.take(hammer, T0), 0);
  assert.equal(limiter.take(idle, T0), 0);
  // A flood of 100,000 distinct addresses and /64s, the hammer sending every 40 of them.
  for (let i = 0; i < 50_000; i++) {
    limiter.take(Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255), T0 + i);
    const v6 = new Uint8Array(16);
    v6.set([0x20, 0x01, 0x0d, 0xb8, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
    limiter.take(v6, T0 + i);
    if (i % 20 === 0) assert.ok(limiter.take(hammer, T0 + i) > 0, `hammer at ${i}`);
    assert.ok(limiter.size <= 100, `size ${limiter.size} at ${i}`);
  }
  // The idle address was forgotten after 50 new ones, and comes back with a full bucket.
  assert.equal(limiter.take(idle, T0 + 50_000), 0);
});

Deno.test("RateLimiter keeps an address for at least maxAddresses / 2 new ones after its last use", () => {
  const limiter = new RateLimiter({ perMinute: 1, maxAddresses: 100 });
  const a = ip("198.51.100.1");
  limiter.take(a, T0);
  for (let i = 0; i < 50; i++) limiter.take(Uint8Array.of(10, 0, 0, i), T0);
  assert.ok(limiter.take(a, T0) > 0, "still limited after 50 new addresses");
  for (let i = 0; i < 100; i++) limiter.take(Uint8Array.of(10, 0, 1, i), T0);
  assert.equal(limiter.take(a, T0), 0, "forgotten after 100 more");
});

Deno.test("RateLimiter costs about the same on a full table as on an empty one", () => {
  // A least-recently-used list on one Map (delete and set on every request) took about 100 µs
  // a request on a full table of 65,536; this guards against that coming back, loosely.
  const limiter = new RateLimiter({ perMinute: 600 });
  for (let i = 0; i < 65_536 * 2; i++) limiter.take(Uint8Array.of(10, i >> 16, i >> 8, i), T0);
  const a = ip("192.0.2.1");
  const started = performance.now();
  for (let i = 0; i < 100_000; i++) limiter.take(a, T0 + i);
  assert.ok(performance.now() - started < 2000, "100,000 takes under 2 s");
});

Deno.test("RateLimiter.admit() throws a rate_limited ClientError with retry in", () => {
  const limiter = new RateLimiter({ perMinute: 1 });
  const a = ip("192.0.2.9");
  limiter.admit(a, T0);
  let caught: unknown = null;
  try {
    limiter.admit(a, T0);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ClientError);
  assert.equal(
    caught.message,
    "too many requests from your address: at most 1 announces and scrapes a minute",
  );
  assert.equal(caught.retryIn, 60);
  assert.equal(failureReasonOf(caught), "rate_limited");
  // BEP 31 counts in minutes: a wait under a minute is still asked as a minute.
  const fast = new RateLimiter({ perMinute: 600 });
  for (let i = 0; i < 600; i++) fast.admit(a, T0);
  assert.throws(() => fast.admit(a, T0), (error: ClientError) => error.retryIn === 60);
});

Deno.test("RateLimiter rejects a limit that is not a positive integer", () => {
  for (const perMinute of [0, -1, 1.5, NaN]) {
    assert.throws(() => new RateLimiter({ perMinute }), RangeError);
  }
});
