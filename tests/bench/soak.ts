/**
 * The soak run of issue 9: NoBrake as a real process (`main.ts`, open mode, loopback only) under
 * a steady mixed load of HTTP and UDP announces and scrapes for `--minutes` (10 by default),
 * with its resident memory (`VmRSS` of `/proc/<pid>/status`) sampled every `--sample` seconds.
 * At the end it prints the samples and whether RSS is flat after warm-up: the growth of the
 * mean of the last third of the samples over the mean of the middle third (the first third is
 * the warm-up), against `--flat-percent` (5 by default).
 *
 * The load churns everything a public tracker sees churn: peers start, stop, complete, vanish
 * without a word (left to expiry, which is 120 s here) and come back under new peer ids, and one
 * announce in a hundred names a hash never seen before (a swarm made and later swept). The set of
 * live peers stays bounded (`--torrents` × `--peers`), so memory must too.
 *
 * With `--heap`, the tracker runs as the heap probe (`soak_tracker.ts`: `main.ts`'s start-up plus
 * a full garbage collection before each sample), and each sample also shows the V8 heap in use
 * after that collection and the external (typed array) memory: flat heap with growing RSS is the
 * allocator or the heap's slack, not a leak.
 *
 * Not run in CI. Run: `deno task soak` or
 * `deno run --allow-all tests/bench/soak.ts --minutes 10 [--rate 1500] [--torrents 500]
 * [--peers 20] [--http-workers 8] [--udp-workers 4] [--sample 10] [--heap] [--json]`. Linux only
 * (reads `/proc`). The tracker is killed in `finally`, whatever happens.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HttpTrackerClient } from "../support/http_tracker_client.ts";
import { seededRandom } from "../support/seeded_random.ts";
import type { ClientAnnounce, TrackerClient } from "../support/tracker_client.ts";
import { UdpTrackerClient } from "../support/udp_tracker_client.ts";
import { readRssBytes } from "./load/proc_stat.ts";
import { spawnTracker } from "./soak_process.ts";
import { type SoakSample, summarise } from "./soak_summary.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string" },
    rate: { type: "string" },
    torrents: { type: "string" },
    peers: { type: "string" },
    "http-workers": { type: "string" },
    "udp-workers": { type: "string" },
    sample: { type: "string" },
    "flat-percent": { type: "string" },
    json: { type: "boolean" },
    heap: { type: "boolean" },
  },
});
const minutes = Number(args.minutes ?? 10);
const rate = Number(args.rate ?? 1500);
const torrents = Number(args.torrents ?? 500);
const peersPerTorrent = Number(args.peers ?? 20);
const httpWorkers = Number(args["http-workers"] ?? 8);
const udpWorkers = Number(args["udp-workers"] ?? 4);
const sampleSeconds = Number(args.sample ?? 10);
const flatPercent = Number(args["flat-percent"] ?? 5);

/** One slot per possible peer: its current peer-id generation and whether it is in the swarm. */
const slots = torrents * peersPerTorrent;
const generation = new Uint32Array(slots);
const live = new Uint8Array(slots);
const seeder = new Uint8Array(slots);
const random = seededRandom(9);
const hashes = Array.from({ length: torrents }, (_, t) => hashBytes(0x50a0_0000 + t));
let uniqueHash = 0;
const counts = { requests: 0, failures: 0, errors: 0 };

/** 20 bytes derived from a number (info hashes and peer ids). */
function hashBytes(n: number, salt = 0): Uint8Array {
  const r = seededRandom(n * 31 + salt);
  return Uint8Array.from({ length: 20 }, () => Math.floor(r() * 256));
}

/** The next request of the load, applied to the model as it is chosen. */
async function oneRequest(client: TrackerClient): Promise<void> {
  const roll = random();
  if (roll < 0.1) {
    const count = 1 + Math.floor(random() * 5);
    const picked = Array.from({ length: count }, () => hashes[Math.floor(random() * torrents)]);
    await client.scrape(picked);
    return;
  }
  if (roll < 0.11) {
    // A hash never seen before: a swarm of one that expiry must sweep away again.
    const reply = await client.announce({
      infoHash: hashBytes(0x7e57_0000 + uniqueHash++, 1),
      peerId: hashBytes(uniqueHash, 2),
      port: 6000,
      left: 100,
      event: "started",
    });
    if (!reply.ok) counts.failures++;
    return;
  }
  const slot = Math.floor(random() * slots);
  const t = Math.floor(slot / peersPerTorrent);
  let event: ClientAnnounce["event"] = "none";
  const action = random();
  if (live[slot] === 0) {
    event = "started";
    live[slot] = 1;
    seeder[slot] = random() < 0.3 ? 1 : 0;
  } else if (action < 0.04) {
    event = "stopped";
    live[slot] = 0;
  } else if (action < 0.06) {
    // Vanishes without `stopped`: expiry drops it; the slot comes back as a new peer.
    live[slot] = 0;
    generation[slot]++;
    return;
  } else if (action < 0.08 && seeder[slot] === 0) {
    event = "completed";
    seeder[slot] = 1;
  }
  const reply = await client.announce({
    infoHash: hashes[t],
    peerId: hashBytes(slot, generation[slot] + 3),
    port: 10_000 + (slot % 50_000),
    left: seeder[slot] === 1 ? 0 : 1000,
    event,
    numwant: 50,
  });
  if (event === "stopped") generation[slot]++;
  if (!reply.ok) counts.failures++;
}

/** Sends requests at `perSecond` until `deadline`, one at a time. */
async function worker(client: TrackerClient, perSecond: number, deadline: number): Promise<void> {
  const gap = 1000 / perSecond;
  let due = performance.now();
  while (Date.now() < deadline) {
    try {
      await oneRequest(client);
    } catch {
      counts.errors++;
    }
    counts.requests++;
    due += gap;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // Fallen far behind (the tracker or this client is saturated): do not burst to catch up.
    else if (wait < -1000) due = performance.now();
  }
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake_soak_" });
  const config = {
    ip: "127.0.0.1",
    port: 0,
    udp_port: 0,
    allowed: "*",
    interval: 60,
    expiry: 120,
    state_file: null,
  };
  await Deno.writeTextFile(join(dir, "tracker.json"), JSON.stringify(config));
  const heapFile = args.heap ? join(dir, "memory.json") : null;
  const tracker = await spawnTracker(
    join(dir, "tracker.json"),
    dir,
    heapFile === null ? null : { file: heapFile, intervalSeconds: sampleSeconds },
  );
  const clients: TrackerClient[] = [];
  const samples: SoakSample[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    const base = `http://127.0.0.1:${tracker.httpPort}`;
    for (let i = 0; i < httpWorkers; i++) clients.push(new HttpTrackerClient(base));
    for (let i = 0; i < udpWorkers; i++) {
      clients.push(new UdpTrackerClient("127.0.0.1", tracker.udpPort, { timeoutMs: 2000 }));
    }
    const started = Date.now();
    const deadline = started + minutes * 60_000;
    let lastRequests = 0;
    const sample = async () => {
      const stats = await fetch(`${base}/stats.json?per_page=1`, {
        signal: AbortSignal.timeout(10_000),
      }).then((r) => r.json()).catch(() => null);
      const requests = counts.requests - lastRequests;
      lastRequests = counts.requests;
      let heap: Deno.MemoryUsage | null = null;
      try {
        if (heapFile !== null) heap = JSON.parse(await Deno.readTextFile(heapFile));
      } catch { /* not written yet */ }
      samples.push({
        seconds: Math.round((Date.now() - started) / 1000),
        rssBytes: readRssBytes(tracker.pid),
        heapUsedBytes: heap?.heapUsed ?? null,
        heapTotalBytes: heap?.heapTotal ?? null,
        externalBytes: heap?.external ?? null,
        requestsPerSecond: Math.round(requests / sampleSeconds),
        torrents: stats?.totals?.torrents ?? null,
        peers: stats?.totals?.peers ?? null,
      });
      if (!args.json) {
        const last = samples[samples.length - 1];
        // deno-lint-ignore no-console
        console.log(
          `${String(last.seconds).padStart(5)} s  RSS ${(last.rssBytes / 2 ** 20).toFixed(1)} MiB` +
            (heap === null
              ? ""
              : `  heap after GC ${mib(heap.heapUsed)} of ${mib(heap.heapTotal)}` +
                `  external ${mib(heap.external)}`) +
            `  ${last.requestsPerSecond} req/s  torrents ${last.torrents}  peers ${last.peers}`,
        );
      }
    };
    sampler = setInterval(sample, sampleSeconds * 1000);
    const perWorker = rate / clients.length;
    await Promise.all(clients.map((client) => worker(client, perWorker, deadline)));
    clearInterval(sampler);
    await sample();
    const summary = summarise(samples, flatPercent);
    const result = { minutes, rate, torrents, peersPerTorrent, ...counts, summary, samples };
    // deno-lint-ignore no-console
    console.log(args.json ? JSON.stringify(result) : formatSummary(result.summary));
    if (!summary.flat) Deno.exitCode = 1;
  } finally {
    clearInterval(sampler);
    for (const client of clients) client.close();
    await tracker.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function formatSummary(summary: ReturnType<typeof summarise>): string {
  return [
    `requests ${counts.requests}, refused ${counts.failures}, errors ${counts.errors}`,
    `RSS min ${mib(summary.minBytes)}, max ${mib(summary.maxBytes)}`,
    `RSS mean, middle third ${mib(summary.middleMeanBytes)}, last third ${
      mib(summary.lastMeanBytes)
    }: ${summary.growthPercent.toFixed(2)} % (${
      summary.flat ? "flat" : "NOT flat"
    }, limit ${summary.limitPercent} %)`,
  ].join("\n");
}

if (import.meta.main) await main();
