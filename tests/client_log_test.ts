/**
 * Tests for `src/transport/client_log.ts`: the `client`, `scrape` and refusal lines, the same for
 * every transport but for the `udp` mark, and the refusal line only at debug.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { parseAnnounceUrl } from "../src/protocol/announce_request.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { logAnnounce, logRefusal, logScrape } from "../src/transport/client_log.ts";

const now = () => Date.UTC(2026, 10, 26, 13, 45);
const HASH = "%AA".repeat(20);
const PEER = "-XX0001-" + "a".repeat(12);
const REQUEST = parseAnnounceUrl(
  `http://t/announce?info_hash=${HASH}&peer_id=${PEER}&port=6881&left=7&event=started`,
  { numwantDefault: 50, numwantMax: 200 },
);
const FROM = new Uint8Array([192, 0, 2, 1]);
const LISTED = new Uint8Array([198, 51, 100, 2]);

Deno.test("logAnnounce() writes the original's client line, marked udp over UDP", () => {
  const logger = createMemoryLogger({ now });
  const line = { connection: FROM, address: LISTED, request: REQUEST };
  logAnnounce(logger, { transport: "http", ...line });
  logAnnounce(logger, { transport: "udp", ...line });
  const peerHex = new TextEncoder().encode(PEER).toHex();
  const body = `192.0.2.1 ${"aa".repeat(20)} started ${peerHex} 198.51.100.2:6881 left=7`;
  assert.deepEqual(logger.lines, [
    `2026-11-26T13:45:00Z client ${body}`,
    `2026-11-26T13:45:00Z client ${body} udp`,
  ]);
});

Deno.test("logScrape() writes the address and the count, or all", () => {
  const logger = createMemoryLogger({ now });
  logScrape(logger, { transport: "http", connection: FROM, count: "all" });
  logScrape(logger, { transport: "udp", connection: FROM, count: 3 });
  assert.deepEqual(logger.lines, [
    "2026-11-26T13:45:00Z scrape 192.0.2.1 all",
    "2026-11-26T13:45:00Z scrape 192.0.2.1 3 udp",
  ]);
});

Deno.test("logRefusal() names transport, address and reason, at debug only", () => {
  const error = new ClientError("unknown passkey");
  const verbose = createMemoryLogger({ now, level: "debug" });
  logRefusal(verbose, { transport: "udp", from: "192.0.2.1:6881", error });
  assert.deepEqual(verbose.lines, [
    "2026-11-26T13:45:00Z debug refused udp 192.0.2.1:6881: unknown passkey",
  ]);
  const quiet = createMemoryLogger({ now, level: "info" });
  logRefusal(quiet, { transport: "http", from: "192.0.2.1", error });
  assert.deepEqual(quiet.lines, []);
});
