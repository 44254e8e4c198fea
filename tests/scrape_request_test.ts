/**
 * Tests for `parseScrapeQuery()` in `src/protocol/scrape_request.ts`: a full scrape, binary
 * hashes deduplicated in request order, bad lengths, and the cap on hashes per scrape.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { rawQueryOf } from "../src/protocol/query.ts";
import {
  MAX_SCRAPE_HASHES,
  parseScrapeQuery,
  parseScrapeUrl,
} from "../src/protocol/scrape_request.ts";

/** libtorrent's encoding of 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a. */
const HASH_QUERY = "%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a";
const HASH = "\x124Vx\x9a\xbc\xde\xf1\x23Eg\x89\xab\xcd\xef\x124Vx\x9a";

/** A distinct 20-byte hash for `n` (0 ≤ n < 65536), high bytes included. */
function hashOf(n: number): string {
  return String.fromCharCode(n >> 8, n & 0xff, 0xff, 0x80, ...new Array(16).fill(n % 251));
}

const escapeBytes = (value: string): string =>
  Array.from(value, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("");

/** Asserts that parsing `text` throws a `ClientError` with exactly `message`. */
function assertRefused(text: string, message: string): void {
  let caught: unknown = null;
  try {
    parseScrapeQuery(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ClientError, `expected a ClientError for ${JSON.stringify(text)}`);
  assert.equal(caught.message, message);
}

Deno.test("parseScrapeQuery() returns null when no info_hash is given (full scrape)", () => {
  assert.equal(parseScrapeQuery(""), null);
  assert.equal(parseScrapeQuery("&&"), null);
  assert.equal(parseScrapeQuery("peer_id=x&infohash=y&INFO_HASH=z"), null);
});

Deno.test("parseScrapeQuery() decodes one binary info_hash as libtorrent sends it", () => {
  assert.deepEqual(parseScrapeQuery(`info_hash=${HASH_QUERY}`), [HASH]);
});

Deno.test("parseScrapeQuery() keeps several hashes in request order and ignores other keys", () => {
  const [a, b, c] = [hashOf(3), hashOf(1), hashOf(2)];
  const query = `info_hash=${escapeBytes(a)}&x=1&info_hash=${escapeBytes(b)}` +
    `&info_hash=${escapeBytes(c)}&peer_id=short`;
  assert.deepEqual(parseScrapeQuery(query), [a, b, c]);
});

Deno.test("parseScrapeQuery() drops repeated hashes, keeping the first position", () => {
  const [a, b, c] = [hashOf(10), hashOf(20), hashOf(30)];
  const query = [a, b, a, c, b, a].map((hash) => `info_hash=${escapeBytes(hash)}`).join("&");
  assert.deepEqual(parseScrapeQuery(query), [a, b, c]);
});

Deno.test("parseScrapeQuery() treats the same bytes spelled differently as one hash", () => {
  const query = `info_hash=${HASH_QUERY}&info_hash=${escapeBytes(HASH).toUpperCase()}`;
  assert.deepEqual(parseScrapeQuery(query), [HASH]);
});

Deno.test("parseScrapeQuery() rejects an info_hash that is not 20 bytes", () => {
  assertRefused("info_hash=", "info_hash must be 20 bytes, got 0");
  assertRefused("info_hash", "info_hash must be 20 bytes, got 0");
  assertRefused(`info_hash=${HASH_QUERY.slice(0, -3)}`, "info_hash must be 20 bytes, got 19");
  assertRefused(`info_hash=${HASH_QUERY}%00`, "info_hash must be 20 bytes, got 21");
  assertRefused(
    "info_hash=123456789abcdef123456789abcdef123456789a",
    "info_hash must be 20 bytes, got 40",
  );
});

Deno.test("parseScrapeQuery() rejects a bad hash even after good ones", () => {
  assertRefused(`info_hash=${HASH_QUERY}&info_hash=abc`, "info_hash must be 20 bytes, got 3");
});

Deno.test("parseScrapeQuery() refuses malformed percent-encoding", () => {
  assertRefused(`info_hash=${HASH_QUERY}&x=%zz`, "malformed percent-encoding in query");
  assertRefused("info_hash=%1", "malformed percent-encoding in query");
});

Deno.test("parseScrapeQuery() caps a scrape at 256 hashes", () => {
  assert.equal(MAX_SCRAPE_HASHES, 256);
});

Deno.test("parseScrapeQuery() accepts exactly MAX_SCRAPE_HASHES distinct hashes", () => {
  const hashes = Array.from({ length: MAX_SCRAPE_HASHES }, (_, n) => hashOf(n));
  const query = hashes.map((hash) => `info_hash=${escapeBytes(hash)}`).join("&");
  assert.deepEqual(parseScrapeQuery(query), hashes);
});

Deno.test("parseScrapeQuery() refuses one more than MAX_SCRAPE_HASHES distinct hashes", () => {
  const hashes = Array.from({ length: MAX_SCRAPE_HASHES + 1 }, (_, n) => hashOf(n));
  const query = hashes.map((hash) => `info_hash=${escapeBytes(hash)}`).join("&");
  assertRefused(query, "scrape takes at most 256 info_hash values");
});

Deno.test("parseScrapeQuery() counts distinct hashes against the cap, not repeats", () => {
  const query = new Array(MAX_SCRAPE_HASHES + 50).fill(`info_hash=${HASH_QUERY}`).join("&");
  assert.deepEqual(parseScrapeQuery(query), [HASH]);
});

Deno.test("parseScrapeUrl() reads a URL's query in place as parseScrapeQuery(rawQueryOf()) does", () => {
  const outcome = (run: () => string[] | null) => {
    try {
      return run();
    } catch (error) {
      assert.ok(error instanceof ClientError);
      return `ClientError: ${error.message}`;
    }
  };
  const urls = [
    `http://t/scrape?info_hash=${HASH_QUERY}`,
    `http://t/scrape?info_hash=${HASH_QUERY}&x=1&info%5Fhash=${HASH_QUERY}#frag`,
    `http://t/scrape?info_hash=abc&x=%zz`,
    `http://t/scrape?info_hash=abc`,
    `http://t/scrape#?info_hash=${HASH_QUERY}`,
    "http://t/scrape",
    "http://t/scrape?&&=&info_hash",
  ];
  for (const url of urls) {
    assert.deepEqual(
      outcome(() => parseScrapeUrl(url)),
      outcome(() => parseScrapeQuery(rawQueryOf(url))),
      url,
    );
  }
});
