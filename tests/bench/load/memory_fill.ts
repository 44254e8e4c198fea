/**
 * Memory per peer (issue 8: at most 100 bytes at 1,000,000 peers over 10,000 torrents, aim 64),
 * measured in one process that calls the tracker core directly: announcing a million peers over
 * HTTP takes a minute or more per server, calling `Tracker.announce` takes seconds, and the
 * peer storage is the same either way. What HTTP adds per request is garbage, not state.
 *
 * Reports the growth of RSS, V8 heap and external (typed array) memory between an empty tracker
 * and a full one, each read after a full garbage collection (run with `--v8-flags=--expose-gc`),
 * and the marginal RSS per peer between half full and full, which leaves out what the process
 * grows by once whatever the number of peers (the V8 heap's room for garbage, code).
 *
 * Run: `deno run --v8-flags=--expose-gc tests/bench/load/memory_fill.ts [--peers N] [--torrents N]
 * [--warm]` prints one JSON line (`MemoryResult`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Tracker } from "../../../src/core/tracker.ts";
import { parseAnnounceQuery } from "../../../src/protocol/announce_request.ts";
import { bytesToByteString } from "../../../src/protocol/byte_string.ts";
import { seededRandom } from "../../support/seeded_random.ts";
import { BASE_PORT, fillPeerId, infoHashOf, startedRequest } from "./workload.ts";

/** What the fill measured. */
export interface MemoryResult {
  method: "in-process core";
  /** The V8 heap was warmed with request garbage before the empty reading (see `churn`). */
  warmed: boolean;
  peers: number;
  torrents: number;
  seconds: number;
  rssBytesPerPeer: number;
  heapBytesPerPeer: number;
  externalBytesPerPeer: number;
  rssGrowthBytes: number;
  /** V8 heap reserved (not only used) per peer: the room the collector keeps. */
  heapTotalBytesPerPeer: number;
  /** RSS growth per peer from half full to full. */
  marginalRssBytesPerPeer: number;
}

/** Fills a fresh tracker with `peers` peers spread evenly over `torrents` swarms. */
export function fillTracker(peers: number, torrents: number, warm = false): MemoryResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  if (warm) churn(peers);
  const perTorrent = Math.ceil(peers / torrents);
  // As many swarms as asked for, also past the open-mode default of 100,000 (small swarms).
  const tracker = new Tracker({
    expirySeconds: 3600,
    random: seededRandom(7),
    maxTorrents: torrents,
  });
  const hashes = Array.from({ length: torrents }, (_, t) => bytesToByteString(infoHashOf(t)));
  const address = new Uint8Array([127, 0, 0, 1]);
  gc();
  const before = Deno.memoryUsage();
  const start = performance.now();
  const now = Date.now();
  let added = 0;
  let half: Deno.MemoryUsage | null = null;
  let halfAdded = 0;
  for (let p = 0; p < perTorrent && added < peers; p++) {
    if (half === null && added >= peers / 2) {
      gc();
      half = Deno.memoryUsage();
      halfAdded = added;
    }
    for (let t = 0; t < torrents && added < peers; t++, added++) {
      const left = p % 10 < 3 ? 0 : 1_000_000;
      const request = startedRequest(hashes[t], fillPeerId(t, p), BASE_PORT + p, left, 50);
      tracker.announce({
        request,
        address,
        connectionAddress: null,
        userAgent: "libtorrent/2.0.6.0",
        wantPeerIds: false,
      }, now);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  gc();
  const after = Deno.memoryUsage();
  // Keep the tracker alive until after the reading.
  if (tracker.swarmCount !== torrents) throw new Error(`${tracker.swarmCount} swarms`);
  return {
    method: "in-process core",
    warmed: warm,
    peers: added,
    torrents,
    seconds,
    rssBytesPerPeer: (after.rss - before.rss) / added,
    heapBytesPerPeer: (after.heapUsed - before.heapUsed) / added,
    externalBytesPerPeer: (after.external - before.external) / added,
    rssGrowthBytes: after.rss - before.rss,
    heapTotalBytesPerPeer: (after.heapTotal - before.heapTotal) / added,
    marginalRssBytesPerPeer: half === null ? NaN : (after.rss - half.rss) / (added - halfAdded),
  };
}

/**
 * Makes the garbage that parsing `count` announces makes, and keeps none of it. V8 grows its
 * young generation under such churn (by some 70 MB here) and keeps it; a server that has run a
 * while has done so already, so a reading taken after this leaves that one-off growth out of the
 * per-peer figure. No peer table is touched, so no peer storage is made ready in advance.
 */
function churn(count: number): void {
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const id = `-LT2060-${i.toString(36).padStart(12, "0")}`;
    const query = `info_hash=${"%AB".repeat(12)}${i.toString(16).padStart(8, "0")}` +
      `&peer_id=${id}&port=${10_000 + (i % 100)}&uploaded=${i}&downloaded=0&left=${i}` +
      `&corrupt=0&key=${i.toString(16)}&numwant=50&compact=1&no_peer_id=1`;
    sink += parseAnnounceQuery(query, { numwantDefault: 50, numwantMax: 200 }).port;
  }
  if (sink < 0) throw new Error("unreachable");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      peers: { type: "string", default: "1000000" },
      torrents: { type: "string", default: "10000" },
      warm: { type: "boolean", default: false },
    },
  });
  const result = fillTracker(Number(values.peers), Number(values.torrents), values.warm);
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
}
