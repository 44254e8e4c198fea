/**
 * Tracker-wide counts for /stats, /stats.json and /metrics, computed when asked (never kept up to
 * date on the announce path): seeders, leechers and peers by address family, and for the pages
 * also by transport, which takes one pass over the peers' flag bytes.
 *
 * What to count is the caller's choice: the pages count only the torrents they may list (secret
 * ones left out); the metrics are aggregates and count every swarm.
 *
 * @module
 */
import type { PeerTable } from "../core/peer_table.ts";
import { VIA_UDP } from "../core/peer_records.ts";
import type { StatsTotals } from "./stats_snapshot.ts";
import type { Swarm } from "../core/swarm.ts";
import type { Tracker } from "../core/tracker.ts";
import type { SwarmCounts } from "../protocol/messages.ts";

/** Counts with every field 0. */
export function emptyTotals(): StatsTotals {
  return { torrents: 0, seeders: 0, leechers: 0, ipv4: 0, ipv6: 0, http: 0, udp: 0, websocket: 0 };
}

/** Adds one torrent's WebSocket peers (counts from `Tracker.extraCounts`) to `totals`. */
export function addWebSocketCounts(totals: StatsTotals, counts: SwarmCounts | null): void {
  if (counts === null) return;
  totals.seeders += counts.complete;
  totals.leechers += counts.incomplete;
  totals.websocket += counts.complete + counts.incomplete;
}

/**
 * Adds one swarm's peers to `totals` (not `torrents`, which counts torrents, not swarms). With
 * `byTransport`, splits them into HTTP and UDP by their flag bit; otherwise those stay as they are.
 */
export function addSwarm(totals: StatsTotals, swarm: Swarm, byTransport: boolean): void {
  // `existingTable`, not `tables()`: no array per swarm on a pass over 100,000 of them.
  addTable(totals, swarm.existingTable(4), byTransport);
  addTable(totals, swarm.existingTable(16), byTransport);
}

function addTable(totals: StatsTotals, table: PeerTable | null, byTransport: boolean): void {
  if (table === null) return;
  totals.seeders += table.seeders;
  totals.leechers += table.count - table.seeders;
  if (table.addressLength === 4) totals.ipv4 += table.count;
  else totals.ipv6 += table.count;
  if (!byTransport) return;
  let udp = 0;
  for (let slot = 0; slot < table.count; slot++) {
    if (table.flagsOf(slot) & VIA_UDP) udp++;
  }
  totals.udp += udp;
  totals.http += table.count - udp;
}

/**
 * Every swarm, secret ones included, without the HTTP/UDP split: what /metrics exports.
 * `torrents` is the allowed torrents in allowlist mode and the swarms held in open mode (a
 * torrent with WebSocket peers only counts too). WebSocket peers count in `websocket`.
 */
export function trackerTotals(tracker: Tracker): StatsTotals {
  const totals = emptyTotals();
  for (const hash of tracker.swarmHashes()) {
    const swarm = tracker.swarm(hash);
    if (swarm !== undefined) addSwarm(totals, swarm, false);
  }
  const extra = tracker.extraCounts;
  if (extra !== null) {
    for (const hash of extra.hashes()) addWebSocketCounts(totals, extra.countsOf(hash));
  }
  const wsOnly = tracker.allowlist.open && extra !== null
    ? countMissing(tracker, extra.hashes())
    : 0;
  totals.torrents = tracker.allowlist.open ? tracker.swarmCount + wsOnly : tracker.allowlist.size;
  return totals;
}

/** How many of `hashes` have no swarm in the tracker's tables (WebSocket-only torrents). */
function countMissing(tracker: Tracker, hashes: Iterable<string>): number {
  let missing = 0;
  for (const hash of hashes) if (tracker.swarm(hash) === undefined) missing++;
  return missing;
}
