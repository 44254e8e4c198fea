/**
 * The core's share of an announce: `Tracker.announce` of a regular (`none`) announce in a
 * 100-peer swarm (100 torrents × 100 peers pre-filled), answering 50 compact peers. The baseline
 * is the design issue 8 warns about, a plain object per peer in a `Map` with peers sampled from
 * its values, doing the same work; the ratio says what packed storage costs or saves in time
 * (its purpose is memory: see `tests/bench/load/memory_fill.ts`).
 *
 * Run: `deno bench --allow-all tests/bench/announce_bench.ts`.
 *
 * @module
 */
import { Tracker } from "../../src/core/tracker.ts";
import type { AnnounceInput } from "../../src/core/announce_input.ts";
import type { AnnounceRequest } from "../../src/protocol/messages.ts";
import { benchAnnounceRequest } from "../support/announce_fixtures.ts";
import { seededRandom } from "../support/seeded_random.ts";

const TORRENTS = 100;
const PEERS = 100;
const NOW = 1_700_000_000_000;
const ADDRESS = new Uint8Array([10, 0, 0, 1]);

function input(t: number, p: number, event: AnnounceRequest["event"]): AnnounceInput {
  return {
    request: benchAnnounceRequest(t, p, event),
    address: ADDRESS,
    connectionAddress: null,
    userAgent: "libtorrent/2.0.6.0",
    wantPeerIds: false,
  };
}

const tracker = new Tracker({ expirySeconds: 3600, random: seededRandom(1) });
for (let p = 0; p < PEERS; p++) {
  for (let t = 0; t < TORRENTS; t++) tracker.announce(input(t, p, "started"), NOW);
}
const random = seededRandom(2);
const INPUTS = Array.from(
  { length: 1024 },
  () => input(Math.floor(random() * TORRENTS), Math.floor(random() * PEERS), "none"),
);

/** The naive swarm: one object per peer in a Map, sampled from `[...values()]`. */
interface NaivePeer {
  address: Uint8Array;
  port: number;
  seenAt: number;
  left: number;
  uploaded: number;
  downloaded: number;
  userAgent: string;
}
const naive = new Map<string, Map<string, NaivePeer>>();
function naiveAnnounce(input: AnnounceInput, now: number): Uint8Array {
  const { request } = input;
  let swarm = naive.get(request.infoHash);
  if (swarm === undefined) naive.set(request.infoHash, swarm = new Map());
  swarm.set(request.peerId, {
    address: input.address,
    port: request.port,
    seenAt: now,
    left: request.left,
    uploaded: request.uploaded,
    downloaded: request.downloaded,
    userAgent: typeof input.userAgent === "string" ? input.userAgent : input.userAgent(),
  });
  const all = [...swarm.values()];
  const want = Math.min(request.numwant, all.length - 1);
  const out = new Uint8Array(want * 6);
  const start = Math.floor(random() * all.length);
  for (let i = 0, n = 0; n < want; i++) {
    const peer = all[(start + i) % all.length];
    if (peer.port === request.port) continue;
    out.set(peer.address, n * 6);
    out[n * 6 + 4] = peer.port >> 8;
    out[n * 6 + 5] = peer.port & 0xff;
    n++;
  }
  return out;
}
for (let p = 0; p < PEERS; p++) {
  for (let t = 0; t < TORRENTS; t++) naiveAnnounce(input(t, p, "started"), NOW);
}

let next = 0;
// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

Deno.bench("Map of plain objects per peer", {
  group: "announce in a 100-peer swarm",
  baseline: true,
}, () => {
  sink += naiveAnnounce(INPUTS[next++ & 1023], NOW).length;
});

Deno.bench("Tracker.announce()", { group: "announce in a 100-peer swarm" }, () => {
  sink += tracker.announce(INPUTS[next++ & 1023], NOW).peers4.length;
});
