/**
 * One whole HTTP announce without a socket: `createHttpHandler(...)` called with a `Request`
 * (parse, core, encode, `Response`), against the floor's handler, which returns a fixed 50-peer
 * reply without looking at the request, as the baseline. Requests are built once, outside the
 * timed loop, because `Deno.serve` builds its own and a test-built `new Request` costs more than
 * the handler. The tracker is pre-filled with 100 torrents × 100 peers.
 *
 * Run: `deno bench --allow-all tests/bench/handler_bench.ts`.
 *
 * @module
 */
import { Tracker } from "../../src/core/tracker.ts";
import { createHttpHandler } from "../../src/http/handler.ts";
import { createMemoryLogger } from "../../src/runtime/logger.ts";
import { seededRandom } from "../support/seeded_random.ts";
import { floorReply } from "./load/floor_server.ts";
import { USER_AGENT, Workload } from "./load/workload.ts";
import { TEST_HTTP_SETTINGS } from "../support/http_settings.ts";

const INFO = { remoteAddr: { hostname: "127.0.0.1" } };
const workload = new Workload({ torrents: 100 });
const handler = createHttpHandler({
  tracker: new Tracker({ expirySeconds: 3600, random: seededRandom(1) }),
  settings: TEST_HTTP_SETTINGS,
  logger: createMemoryLogger(),
  version: "bench",
  now: () => 1_700_000_000_000,
});
const headers = { "user-agent": USER_AGENT, "accept-encoding": "gzip" };
const request = (target: string) => new Request(`http://127.0.0.1:6969${target}`, { headers });
for (let planned = workload.nextPrefill(); planned !== null; planned = workload.nextPrefill()) {
  handler(request(planned.target), INFO);
}
const ANNOUNCES = Array.from({ length: 1024 }, () => request(workload.nextAnnounce().target));
const SCRAPES = Array.from({ length: 1024 }, () => request(workload.nextScrape().target));

const FLOOR_BODY = floorReply();
const FLOOR_HEADERS = { "content-type": "text/plain" };
const floor = (_request: Request) => new Response(FLOOR_BODY, { headers: FLOOR_HEADERS });

let next = 0;
// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

Deno.bench("floor: fixed 50-peer Response", { group: "HTTP announce", baseline: true }, () => {
  sink += floor(ANNOUNCES[next++ & 1023]).status;
});

Deno.bench("createHttpHandler() announce, 88/5/2/5 mix", { group: "HTTP announce" }, () => {
  sink += handler(ANNOUNCES[next++ & 1023], INFO).status;
});

Deno.bench("floor: fixed Response", { group: "HTTP scrape", baseline: true }, () => {
  sink += floor(SCRAPES[next++ & 1023]).status;
});

Deno.bench("createHttpHandler() single-hash scrape", { group: "HTTP scrape" }, () => {
  sink += handler(SCRAPES[next++ & 1023], INFO).status;
});
