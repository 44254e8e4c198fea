/**
 * How long one slice of the expiry sweep holds the event loop (issue 8: no request may wait
 * behind a sweep). The server runs `Tracker.sweep(now, SWEEP_SLICE)` as one macrotask per slice
 * (`src/server.ts`), so a request waits at most one slice: this fills a tracker
 * with `--peers` peers over `--torrents` swarms (1,000,000 over 10,000 by default) and times
 * every slice of full passes in three cases: no peer expired (the usual pass: every peer looked
 * at, none removed), half of them expired, and all of them expired (the largest removal work).
 *
 * Run: `deno run --v8-flags=--max-semi-space-size=4 tests/bench/sweep_pause.ts [--peers N]
 * [--torrents N] [--slice N]`. Prints one JSON line per case: slices, longest, p99 and median
 * slice in milliseconds, and the whole pass.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Tracker } from "../../src/core/tracker.ts";
import { bytesToByteString } from "../../src/protocol/byte_string.ts";
import { seededRandom } from "../support/seeded_random.ts";
import { BASE_PORT, fillPeerId, infoHashOf, startedRequest } from "./load/workload.ts";

/** What one case measured. */
export interface SweepPauseResult {
  case: "none expired" | "half expired" | "all expired";
  peers: number;
  torrents: number;
  /** Peers per slice (`Tracker.sweep`'s budget). */
  slice: number;
  slices: number;
  longestMs: number;
  p99Ms: number;
  medianMs: number;
  passMs: number;
  /** Peers left after the pass. */
  peersAfter: number;
}

const EXPIRY_SECONDS = 3600;
const NOW = 1_700_000_000_000;

/** A tracker of `peers` peers over `torrents` swarms; every other peer last seen an hour earlier. */
function filledTracker(peers: number, torrents: number): Tracker {
  const tracker = new Tracker({
    expirySeconds: EXPIRY_SECONDS,
    random: seededRandom(3),
    maxTorrents: torrents,
  });
  const hashes = Array.from({ length: torrents }, (_, t) => bytesToByteString(infoHashOf(t)));
  const address = new Uint8Array([127, 0, 0, 1]);
  const perTorrent = Math.ceil(peers / torrents);
  for (let p = 0, added = 0; p < perTorrent; p++) {
    for (let t = 0; t < torrents && added < peers; t++, added++) {
      const left = p % 10 < 3 ? 0 : 1_000_000;
      const request = startedRequest(hashes[t], fillPeerId(t, p), BASE_PORT + p, left);
      // Odd peers announced an hour before the even ones.
      const seen = p % 2 === 0 ? NOW : NOW - EXPIRY_SECONDS * 1000;
      tracker.announce({
        request,
        address,
        connectionAddress: null,
        userAgent: "libtorrent/2.0.6.0",
        wantPeerIds: false,
      }, seen);
    }
  }
  return tracker;
}

/** Runs one full sweep pass at `now`, timing each slice. */
function timePass(
  tracker: Tracker,
  now: number,
  slice: number,
): { times: number[]; passMs: number } {
  const times: number[] = [];
  const passStart = performance.now();
  for (let done = false; !done;) {
    const start = performance.now();
    done = tracker.sweep(now, slice);
    times.push(performance.now() - start);
  }
  return { times, passMs: performance.now() - passStart };
}

function peerTotal(tracker: Tracker): number {
  let total = 0;
  for (const hash of tracker.swarmHashes()) total += tracker.swarm(hash)?.peerCount ?? 0;
  return total;
}

/** Measures the three cases, each on a fresh tracker (the first and last share one). */
export function measureSweepPauses(
  peers: number,
  torrents: number,
  slice: number,
): SweepPauseResult[] {
  const results: SweepPauseResult[] = [];
  const report = (
    name: SweepPauseResult["case"],
    tracker: Tracker,
    pass: { times: number[]; passMs: number },
  ) => {
    const sorted = [...pass.times].sort((a, b) => a - b);
    results.push({
      case: name,
      peers,
      torrents,
      slice,
      slices: sorted.length,
      longestMs: sorted.at(-1) ?? 0,
      p99Ms: sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0,
      medianMs: sorted[sorted.length >> 1] ?? 0,
      passMs: pass.passMs,
      peersAfter: peerTotal(tracker),
    });
  };
  const tracker = filledTracker(peers, torrents);
  // A warm-up pass that expires nothing, so the timed passes run optimized code.
  timePass(tracker, NOW - EXPIRY_SECONDS * 1000, slice);
  report("none expired", tracker, timePass(tracker, NOW - EXPIRY_SECONDS * 1000, slice));
  // An hour and a bit after the even peers: the odd ones (seen an hour before) expire.
  report("half expired", tracker, timePass(tracker, NOW + 1000, slice));
  const full = filledTracker(peers, torrents);
  report("all expired", full, timePass(full, NOW + (EXPIRY_SECONDS + 1) * 1000, slice));
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      peers: { type: "string", default: "1000000" },
      torrents: { type: "string", default: "10000" },
      slice: { type: "string", default: "20000" },
    },
  });
  const results = measureSweepPauses(
    Number(values.peers),
    Number(values.torrents),
    Number(values.slice),
  );
  for (const result of results) {
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
  }
}
