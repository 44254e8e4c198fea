/**
 * What `log_announces` costs an announce: the whole HTTP handler with the log off (baseline) and
 * on, writing through the real buffered file logger into a temporary file. Both handlers share
 * one workload (100 torrents × 100 peers, the 88/5/2/5 event mix), in one process.
 *
 * Run: `deno bench --allow-all tests/bench/log_announces_bench.ts`.
 *
 * @module
 */
import { Tracker } from "../../src/core/tracker.ts";
import { createHttpHandler } from "../../src/http/handler.ts";
import type { TransportSettings } from "../../src/settings.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { seededRandom } from "../support/seeded_random.ts";
import { USER_AGENT, Workload } from "./load/workload.ts";

const INFO = { remoteAddr: { hostname: "127.0.0.1" } };
const SETTINGS: TransportSettings = {
  interval: 1800,
  minInterval: 900,
  numwantDefault: 50,
  numwantMax: 200,
  trustIpParam: false,
  noscrape: false,
  nostats: false,
  logAnnounces: false,
};
const logPath = await Deno.makeTempFile({ prefix: "nobrake-log-bench-", suffix: ".log" });
const logger = createLogger({ path: logPath });
addEventListener("unload", () => {
  logger.close();
  Deno.removeSync(logPath);
});

function makeHandler(logAnnounces: boolean) {
  return createHttpHandler({
    tracker: new Tracker({ expirySeconds: 3600, random: seededRandom(1) }),
    settings: { ...SETTINGS, logAnnounces },
    logger,
    version: "bench",
    now: () => 1_700_000_000_000,
  });
}

const quiet = makeHandler(false);
const logging = makeHandler(true);
const workload = new Workload({ torrents: 100 });
const headers = { "user-agent": USER_AGENT };
const request = (target: string) => new Request(`http://127.0.0.1:6969${target}`, { headers });
for (let planned = workload.nextPrefill(); planned !== null; planned = workload.nextPrefill()) {
  quiet(request(planned.target), INFO);
  logging(request(planned.target), INFO);
}
const ANNOUNCES = Array.from({ length: 1024 }, () => request(workload.nextAnnounce().target));

let next = 0;
// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

// The first bench of a file runs while the engine is still warming up; this one takes that cost.
Deno.bench("warm-up (not compared)", () => {
  sink += quiet(ANNOUNCES[next++ & 1023], INFO).status;
  sink += logging(ANNOUNCES[next++ & 1023], INFO).status;
});

Deno.bench("announce, log_announces off", { group: "log", baseline: true }, () => {
  sink += quiet(ANNOUNCES[next++ & 1023], INFO).status;
});

Deno.bench("announce, log_announces on (buffered file)", { group: "log" }, () => {
  sink += logging(ANNOUNCES[next++ & 1023], INFO).status;
});

addEventListener("unload", () => {
  if (sink === 0) throw new Error("no announce was answered");
});
