import assert from "node:assert/strict";
import { Tracker } from "../src/core/tracker.ts";
import type { AnnounceInput } from "../src/core/announce_input.ts";
import type { AnnounceResult } from "../src/protocol/messages.ts";
import { createHttpHandler, pathOf } from "../src/http/handler.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { decodeDict, percentEncodeAll, textOf } from "./support/http_tracker_client.ts";
import { TEST_HTTP_SETTINGS } from "./support/http_settings.ts";

const SETTINGS = TEST_HTTP_SETTINGS;
const INFO = { remoteAddr: { hostname: "::ffff:192.0.2.10" } };
const QUERY = `info_hash=${percentEncodeAll(new Uint8Array(20).fill(0xab))}` +
  `&peer_id=${percentEncodeAll(new Uint8Array(20).fill(0x2d))}&port=6881&left=0`;

/** A core that fails the way a bug would. */
class BrokenTracker extends Tracker {
  override announce(_input: AnnounceInput, _now: number): AnnounceResult {
    throw new TypeError("simulated bug");
  }
}

Deno.test("createHttpHandler() answers an announce without a socket, unmapping the client address", async () => {
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger: createMemoryLogger(),
    version: "test",
    now: () => 1_000_000,
  });
  const response = handler(new Request(`http://tracker/announce?${QUERY}`), INFO);
  assert.equal(response.status, 200);
  const reply = decodeDict(new Uint8Array(await response.arrayBuffer()));
  assert.deepEqual(reply.get("external ip"), new Uint8Array([192, 0, 2, 10]));
  assert.equal(reply.get("complete"), 1);
});

Deno.test("createHttpHandler() sends every bencoded reply as text/plain, failures and scrapes too", async () => {
  // Exactly `text/plain` (opentracker's): Deno sends that value on its static response path.
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger: createMemoryLogger(),
    version: "test",
  });
  for (const target of [`/announce?${QUERY}`, "/announce?port=1", `/scrape?${QUERY}`]) {
    const response = handler(new Request(`http://tracker${target}`), INFO);
    assert.equal(response.headers.get("content-type"), "text/plain", target);
    assert.equal(response.status, 200, target);
    await response.arrayBuffer();
  }
});

Deno.test("createHttpHandler() logs a bug and answers 500 with a bencoded internal error", async () => {
  const logger = createMemoryLogger();
  const handler = createHttpHandler({
    tracker: new BrokenTracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger,
    version: "test",
  });
  const response = handler(new Request(`http://tracker/announce?${QUERY}`), INFO);
  assert.equal(response.status, 500);
  assert.equal(
    textOf(decodeDict(new Uint8Array(await response.arrayBuffer())), "failure reason"),
    "internal error",
  );
  assert.equal(
    logger.lines.filter((line) => / error GET \/announce: TypeError: simulated bug/.test(line))
      .length,
    1,
  );
});

Deno.test("createHttpHandler() logs a client error only at debug", async () => {
  const logger = createMemoryLogger({ debug: false });
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger,
    version: "t",
  });
  const response = handler(new Request("http://tracker/announce?port=1"), INFO);
  assert.match(
    textOf(decodeDict(new Uint8Array(await response.arrayBuffer())), "failure reason") ?? "",
    /missing/,
  );
  assert.deepEqual(logger.lines, []);
});

Deno.test("pathOf() takes the path of an absolute URL without its query", () => {
  assert.equal(pathOf("http://h:1/announce?x=1"), "/announce");
  assert.equal(pathOf("http://h/scrape"), "/scrape");
  assert.equal(pathOf("http://h"), "/");
  assert.equal(pathOf("http://[::1]:80/stats?info_hash=%2F"), "/stats");
});
