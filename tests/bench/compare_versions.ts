/**
 * Two hot paths of an announce, this checkout against another one in the same process and
 * sitting: the announce query parse (`parseAnnounceUrl` on libtorrent URLs built the way
 * `Deno.serve` builds `request.url`, scheme + host + path joined per request) and peer sampling
 * (`PeerTable.sample` of 50 peers from 100-peer tables, 1,000 tables: 5 MB of records, more than a
 * core's cache, as in the load runner's state), and the core's whole share of an announce
 * (`Tracker.announce` of a `none` announce in one of 100 swarms of 100 peers, answering 50, as
 * `announce_bench.ts` measures it). Each round times both versions one after the
 * other; the best round of each is printed with the ratio. `deno bench` is not used: it cannot
 * load the other checkout's modules under a path given at run time.
 *
 * Run (the other checkout's `src/` extracted from git):
 *
 * ```sh
 * mkdir -p /tmp/base && git archive <commit> src | tar -x -C /tmp/base
 * taskset -c 0 deno run --allow-read tests/bench/compare_versions.ts --base /tmp/base [--rounds 8]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { benchAnnounceRequest } from "../support/announce_fixtures.ts";
import { seededRandom } from "../support/seeded_random.ts";
import { Workload } from "./load/workload.ts";

type ParseModule = typeof import("../../src/protocol/announce_request.ts");
type TableModule = typeof import("../../src/core/peer_table.ts");
type TrackerModule = typeof import("../../src/core/tracker.ts");
type RecordsModule = Pick<
  typeof import("../../src/core/peer_records.ts"),
  "createRecordPools" | "SEEDER"
>;

interface Version {
  name: string;
  parse: ParseModule;
  table: TableModule;
  tracker: TrackerModule;
  /** Where the version defines the pools and flags (older ones exported them from peer_table.ts). */
  records: RecordsModule;
}

const LIMITS = { numwantDefault: 50, numwantMax: 200 };
const TABLES = 1000;
const PEERS = 100;

/** Round-tripped through bytes, so each piece is one flat string, as Deno's ops return them. */
const flat = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text));

async function loadVersion(name: string, root: string): Promise<Version> {
  const base = new URL(`file://${resolve(root)}/src/`);
  const table = await import(new URL("core/peer_table.ts", base).href);
  return {
    name,
    parse: await import(new URL("protocol/announce_request.ts", base).href),
    table,
    tracker: await import(new URL("core/tracker.ts", base).href),
    records: await import(new URL("core/peer_records.ts", base).href).catch(() => table),
  };
}

/** Nanoseconds per parse, over `iterations` URLs joined as `Deno.serve` joins them. */
function timeParse(version: Version, paths: string[], iterations: number): number {
  const scheme = flat("http://");
  const host = flat("127.0.0.1:6969");
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    sink += version.parse.parseAnnounceUrl(scheme + host + paths[i & 1023], LIMITS).port;
  }
  const elapsed = performance.now() - started;
  if (sink === 0) throw new Error("no work done");
  return elapsed / iterations * 1e6;
}

/** Builds 1,000 tables of 100 IPv4 peers (30 % seeders) in one pool set of `version`. */
function fillTables(version: Version) {
  const pools = version.records.createRecordPools();
  const tables = Array.from({ length: TABLES }, () => new version.table.PeerTable(4, 7, pools));
  const address = new Uint8Array([127, 0, 0, 1]);
  for (let p = 0; p < PEERS; p++) {
    for (let t = 0; t < TABLES; t++) {
      tables[t].insert(`-LT2060-${p}-${t}`.padEnd(20, "x"), address, 10_000 + p, {
        seenAt: 1,
        flags: p % 10 < 3 ? version.records.SEEDER : 0,
        keyHash: 0,
        left: 1,
        uploaded: 0,
        downloaded: 0,
        agent: 0,
      });
    }
  }
  return tables;
}

/** Nanoseconds per 50-peer sample from a random table. */
function timeSample(
  tables: ReturnType<typeof fillTables>,
  iterations: number,
  random: () => number,
): number {
  const out = new Uint8Array(64 * 1024);
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const table = tables[Math.floor(random() * TABLES)];
    const offset = (i * 304) % 65_000;
    sink += table.sample(
      { from: 0, to: table.count, want: 50, exclude: 5, random },
      out,
      offset,
      null,
    );
  }
  const elapsed = performance.now() - started;
  if (sink === 0) throw new Error("no work done");
  return elapsed / iterations * 1e6;
}

/** A tracker of `version` with 100 swarms of 100 IPv4 peers, and 1,024 `none` announces to time. */
function fillTracker(version: Version) {
  const input = (t: number, p: number, event: "started" | "none") => ({
    request: benchAnnounceRequest(t, p, event),
    address: new Uint8Array([10, 0, 0, 1]),
    connectionAddress: null,
    userAgent: "libtorrent/2.0.6.0",
    wantPeerIds: false,
  });
  const tracker = new version.tracker.Tracker({ expirySeconds: 3600, random: seededRandom(1) });
  for (let p = 0; p < PEERS; p++) {
    for (let t = 0; t < 100; t++) tracker.announce(input(t, p, "started"), ANNOUNCE_NOW);
  }
  const random = seededRandom(2);
  const inputs = Array.from(
    { length: 1024 },
    () => input(Math.floor(random() * 100), Math.floor(random() * PEERS), "none"),
  );
  return { tracker, inputs };
}

/** Nanoseconds per announce. */
function timeAnnounce(filled: ReturnType<typeof fillTracker>, iterations: number): number {
  const { tracker, inputs } = filled;
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    sink += tracker.announce(inputs[i & 1023], ANNOUNCE_NOW).peers4.length;
  }
  const elapsed = performance.now() - started;
  if (sink === 0) throw new Error("no work done");
  return elapsed / iterations * 1e6;
}

const ANNOUNCE_NOW = 1_700_000_000_000;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      base: { type: "string" },
      rounds: { type: "string", default: "8" },
      iterations: { type: "string", default: "300000" },
    },
  });
  if (values.base === undefined) throw new Error("--base DIR (another checkout) is required");
  const rounds = Number(values.rounds);
  const iterations = Number(values.iterations);
  const here = new URL("../..", import.meta.url).pathname;
  const versions = [await loadVersion("base", values.base), await loadVersion("this", here)];
  const workload = new Workload({ torrents: 100 });
  const paths = Array.from({ length: 1024 }, () => flat(workload.nextAnnounce().target));
  const tables = versions.map(fillTables);
  const trackers = versions.map(fillTracker);
  const best = versions.map(() => ({ parse: Infinity, sample: Infinity, announce: Infinity }));
  for (let round = 0; round < rounds; round++) {
    versions.forEach((version, v) => {
      best[v].parse = Math.min(best[v].parse, timeParse(version, paths, iterations));
      best[v].sample = Math.min(
        best[v].sample,
        timeSample(tables[v], iterations, seededRandom(round + 1)),
      );
      best[v].announce = Math.min(best[v].announce, timeAnnounce(trackers[v], iterations));
    });
  }
  const line = (label: string, key: "parse" | "sample" | "announce") =>
    `${label}: base ${best[0][key].toFixed(0)} ns, this ${best[1][key].toFixed(0)} ns ` +
    `(${(best[1][key] / best[0][key]).toFixed(2)}×)`;
  // deno-lint-ignore no-console
  console.log(
    `best of ${rounds} rounds of ${iterations}\n` +
      line("parseAnnounceUrl", "parse") + "\n" + line("PeerTable.sample, 50 of 100", "sample") +
      "\n" + line("Tracker.announce, 100-peer swarm", "announce"),
  );
}
