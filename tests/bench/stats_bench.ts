/**
 * What stats recording costs the announce path: one whole HTTP announce through
 * `createHttpHandler(...)` (parse, core, encode, `Response`) recording into `StatsCounters`,
 * against the same handler with a recorder that does nothing; and the recording call alone.
 *
 * Two trackers get the same prefill (100 torrents × 100 peers), and the timed announces are
 * regular re-announces of known peers, built as `Request`s once, outside the timed loop, and
 * timed in batches of 64. The recording call is also timed alone, with the clock reads a timed
 * request adds: one request in 16 (`TIMING_SAMPLE`), against timing every request.
 *
 * Run: `deno bench --allow-all tests/bench/stats_bench.ts`.
 *
 * @module
 */
import { NO_STATS, StatsCounters } from "../../src/stats/stats_counters.ts";
import { Tracker } from "../../src/core/tracker.ts";
import { createHttpHandler, type HttpHandler } from "../../src/http/handler.ts";
import { createMemoryLogger } from "../../src/runtime/logger.ts";
import { seededRandom } from "../support/seeded_random.ts";

const NOW = 1_700_000_000_000;
const TORRENTS = 100;
const PEERS = 100;

function makeHandler(recording: boolean): HttpHandler {
  return createHttpHandler({
    tracker: new Tracker({ expirySeconds: 3600, random: seededRandom(1) }),
    settings: {
      interval: 1800,
      minInterval: 900,
      numwantDefault: 50,
      numwantMax: 200,
      trustIpParam: false,
      noscrape: false,
      nostats: false,
      logAnnounces: false,
    },
    logger: createMemoryLogger(),
    version: "bench",
    now: () => NOW,
    ...(recording ? { counters: new StatsCounters({ startedAt: NOW }) } : { recorder: NO_STATS }),
  });
}

function percent(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => "%" + byte.toString(16).padStart(2, "0")).join("");
}

/** The announce of peer `p` on torrent `t`; every peer is a leecher, one in ten a seeder. */
function announceTarget(t: number, p: number): string {
  const hash = new Uint8Array(20).fill(t + 1);
  const id = new TextEncoder().encode(`-BN0001-${String(t * PEERS + p).padStart(12, "0")}`);
  return `/announce?info_hash=${percent(hash)}&peer_id=${percent(id)}&port=${6881 + p}` +
    `&uploaded=0&downloaded=0&left=${p % 10 === 0 ? 0 : 1000}&compact=1&numwant=50`;
}

const headers = { "user-agent": "qBittorrent/4.6.0" };
const request = (target: string) => new Request(`http://127.0.0.1:6969${target}`, { headers });
const withStats = makeHandler(true);
const withoutStats = makeHandler(false);
// Distinct client addresses, as peers in one swarm have.
const infoOf = (p: number) => ({ remoteAddr: { hostname: `10.0.${p >> 8}.${p & 255}` } });
for (let t = 0; t < TORRENTS; t++) {
  for (let p = 0; p < PEERS; p++) {
    withStats(request(announceTarget(t, p)), infoOf(p));
    withoutStats(request(announceTarget(t, p)), infoOf(p));
  }
}
const random = seededRandom(2);
const ANNOUNCES = Array.from({ length: 1024 }, () => {
  const p = Math.floor(random() * PEERS);
  return { request: request(announceTarget(Math.floor(random() * TORRENTS), p)), info: infoOf(p) };
});

let next = 0;
let sink = 0;
/** Announces per timed iteration: batches smooth out timer overhead and GC pauses. */
const BATCH = 64;
const ITERATIONS = { n: 2000, warmup: 300 };

Deno.bench(`${BATCH} announces, stats off (no-op recorder)`, {
  group: "HTTP announce",
  baseline: true,
  ...ITERATIONS,
}, () => {
  for (let i = 0; i < BATCH; i++) {
    const { request, info } = ANNOUNCES[next++ & 1023];
    sink += withoutStats(request, info).status;
  }
});

Deno.bench(`${BATCH} announces, stats on (StatsCounters)`, {
  group: "HTTP announce",
  ...ITERATIONS,
}, () => {
  for (let i = 0; i < BATCH; i++) {
    const { request, info } = ANNOUNCES[next++ & 1023];
    sink += withStats(request, info).status;
  }
});

const counters = new StatsCounters({ startedAt: NOW });

Deno.bench("no-op recorder", { group: "record one announce", baseline: true }, () => {
  const started = NO_STATS.shouldTime() ? performance.now() : -1;
  NO_STATS.recordAnnounce("http", started < 0 ? null : performance.now() - started);
});

Deno.bench("StatsCounters, one in 16 timed", { group: "record one announce" }, () => {
  const started = counters.shouldTime() ? performance.now() : -1;
  counters.recordAnnounce("http", started < 0 ? null : performance.now() - started);
});

Deno.bench("StatsCounters, every request timed", { group: "record one announce" }, () => {
  const started = performance.now();
  counters.recordAnnounce("http", performance.now() - started);
});

// Keeps `sink` observable, so the compiler cannot drop the work; never true in practice.
globalThis.addEventListener("unload", () => {
  // deno-lint-ignore no-console
  if (sink === 0.5) console.log(sink);
});
