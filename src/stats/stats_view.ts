/**
 * Builds the `StatsSnapshot` that /stats and /stats.json render, from the tracker's swarms, the
 * allowlist, the request counters and the swarm history. Secret torrents are left out unless the
 * caller asks for their hash. A hybrid torrent (BEP 52) is one entry: its two swarms are shown
 * together, and a peer that announced under both hashes is listed and counted once.
 *
 * Built for 100,000 torrents: torrents are ranked by peer count (a number per swarm), and only the
 * requested page is turned into views; a torrent lists at most `maxPeers` peers.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import { formatEndpoint, formatIp } from "../protocol/ip_address.ts";
import type { TorrentInfo } from "../core/allowlist.ts";
import { PARTIAL_SEED, SEEDER, VIA_UDP } from "../core/peer_records.ts";
import type { PeerView, StatsSnapshot, StatsTotals, TorrentView } from "./stats_snapshot.ts";
import { StatsCounters } from "./stats_counters.ts";
import { addSwarm, addWebSocketCounts, emptyTotals } from "./stats_totals.ts";
import type { SwarmCounts } from "../protocol/messages.ts";
import type { Swarm } from "../core/swarm.ts";
import { HISTORY_POINTS, type SwarmHistory, type SwarmSeries } from "./swarm_history.ts";
import type { Tracker } from "../core/tracker.ts";

/** Torrents per page unless told otherwise. */
export const TORRENTS_PER_PAGE = 50;

/** Options for `takeStatsSnapshot`. */
export interface SnapshotOptions {
  /** Only this torrent (secret or not); `null` for every public torrent. */
  infoHash: ByteString | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Which page of the list (largest swarms first), from 1; clamped to the pages there are. @default 1 */
  page?: number;
  /** Torrents per page. @default TORRENTS_PER_PAGE */
  maxTorrents?: number;
  /** Most peers listed per torrent (seeders first); counts always cover every peer. @default Infinity */
  maxPeers?: number;
  /** Leave peer addresses out (`stats_hide_peers`). @default false */
  hidePeerAddresses?: boolean;
  /** Request counters. @default counters with nothing recorded */
  counters?: StatsCounters;
  /** Swarm sizes over the last hour. @default no history (charts show the current size only) */
  history?: SwarmHistory;
}

interface Group {
  hashes: ByteString[];
  info: TorrentInfo | null;
  swarms: Swarm[];
  /** Its WebSocket peers' counts, per hash that has any (they are counted, not listed). */
  webSockets: SwarmCounts[];
  /** Peers over its swarms (a hybrid's shared peers twice), for ranking. */
  size: number;
}

/** What /stats shows right now. */
export function takeStatsSnapshot(tracker: Tracker, options: SnapshotOptions): StatsSnapshot {
  const listed = listing(tracker);
  const totals = listed.totals;
  const perPage = Math.max(1, options.maxTorrents ?? TORRENTS_PER_PAGE);
  let groups: Group[];
  let page = { number: 1, pages: 1, size: perPage, matching: 0 };
  if (options.infoHash !== null) {
    const one = groupOf(tracker, options.infoHash);
    groups = one === null ? [] : [one];
    page.matching = groups.length;
  } else {
    const count = listed.sizes.length;
    const pages = Math.max(1, Math.ceil(count / perPage));
    const number = Math.min(pages, Math.max(1, Math.floor(options.page ?? 1)));
    page = { number, pages, size: perPage, matching: count };
    // Rank indices, not objects; equal sizes keep allowlist (or arrival) order.
    const { sizes } = listed;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => sizes[b] - sizes[a] || a - b);
    groups = Array.from(
      order.subarray((number - 1) * perPage, number * perPage),
      (i) => listed.groupAt(i),
    );
  }
  const context = {
    tracker,
    nowSeconds: Math.floor(options.now / 1000),
    maxPeers: options.maxPeers ?? Infinity,
    hide: options.hidePeerAddresses ?? false,
  };
  const torrents = groups.map((group) => {
    const view = viewOf(group, context);
    view.history = withCurrent(
      options.history?.seriesOf(group.hashes, options.now) ?? emptySeries(),
      view,
    );
    return view;
  });
  const counters = options.counters ?? new StatsCounters({ startedAt: options.now });
  return {
    takenAt: options.now,
    openMode: tracker.allowlist.open,
    torrents,
    totals,
    page,
    peerAddressesHidden: context.hide,
    requests: counters.snapshot(options.now),
  };
}

/** The torrents a full listing may show, their sizes for ranking, and their totals. */
interface Listing {
  /** Peers per torrent (a hybrid's shared peers twice), in listing order. */
  sizes: Float64Array;
  totals: StatsTotals;
  /** The torrent at a listing index, built only for the page shown. */
  groupAt(index: number): Group;
}

/**
 * Every swarm in open mode, every public torrent otherwise, in one pass that also sums the
 * totals. Nothing is allocated per torrent, so 100,000 torrents cost one pass over the swarms.
 */
function listing(tracker: Tracker): Listing {
  const totals = emptyTotals();
  const allowlist = tracker.allowlist;
  if (allowlist.open) {
    const hashes: ByteString[] = [];
    const swarms: (Swarm | undefined)[] = [];
    for (const hash of tracker.swarmHashes()) {
      const swarm = tracker.swarm(hash);
      if (swarm === undefined) continue;
      hashes.push(hash);
      swarms.push(swarm);
      addSwarm(totals, swarm, true);
    }
    // Torrents with WebSocket peers only come after, with no swarm of the tracker's own.
    const extra = tracker.extraCounts;
    if (extra !== null) {
      for (const hash of extra.hashes()) {
        addWebSocketCounts(totals, extra.countsOf(hash));
        if (tracker.swarm(hash) !== undefined) continue;
        hashes.push(hash);
        swarms.push(undefined);
      }
    }
    totals.torrents = hashes.length;
    const sizes = new Float64Array(hashes.length);
    for (let i = 0; i < hashes.length; i++) {
      const counts = extra?.countsOf(hashes[i]) ?? null;
      sizes[i] = (swarms[i]?.peerCount ?? 0) +
        (counts === null ? 0 : counts.complete + counts.incomplete);
    }
    return {
      sizes,
      totals,
      groupAt: (i) => groupOfSwarms(tracker, [hashes[i]], null, swarms[i]),
    };
  }
  const infos = allowlist.torrents.filter((info) => !info.secret);
  const groups = infos.map((info) => groupOfInfo(tracker, info));
  for (const group of groups) {
    for (const swarm of group.swarms) addSwarm(totals, swarm, true);
    for (const counts of group.webSockets) addWebSocketCounts(totals, counts);
  }
  totals.torrents = groups.length;
  return {
    sizes: Float64Array.from(groups, (group) => group.size),
    totals,
    groupAt: (i) => groups[i],
  };
}

/** The torrent one hash names, secret or not, or `null` when it has nothing to show. */
function groupOf(tracker: Tracker, infoHash: ByteString): Group | null {
  const info = tracker.allowlist.get(infoHash);
  if (info !== undefined) return groupOfInfo(tracker, info);
  if (!tracker.allowlist.open) return null;
  const group = groupOfSwarms(tracker, [infoHash], null, tracker.swarm(infoHash));
  return group.swarms.length === 0 && group.webSockets.length === 0 ? null : group;
}

function groupOfInfo(tracker: Tracker, info: TorrentInfo): Group {
  const hashes = [info.infoHashV1, info.infoHashV2].filter((hash) => hash !== null);
  return groupOfSwarms(tracker, hashes, info, undefined);
}

/** A torrent's group: its swarms (`known` when the caller has the one already) and WebSocket counts. */
function groupOfSwarms(
  tracker: Tracker,
  hashes: ByteString[],
  info: TorrentInfo | null,
  known: Swarm | undefined,
): Group {
  const swarms = known !== undefined
    ? [known]
    : hashes.map((hash) => tracker.swarm(hash)).filter((swarm) => swarm !== undefined);
  const webSockets: SwarmCounts[] = [];
  let size = 0;
  for (const swarm of swarms) size += swarm.peerCount;
  const extra = tracker.extraCounts;
  if (extra !== null) {
    for (const hash of hashes) {
      const counts = extra.countsOf(hash);
      if (counts === null) continue;
      webSockets.push(counts);
      size += counts.complete + counts.incomplete;
    }
  }
  return { hashes, info, swarms, webSockets, size };
}

function viewOf(
  group: Group,
  context: { tracker: Tracker; nowSeconds: number; maxPeers: number; hide: boolean },
): TorrentView {
  const { tracker, nowSeconds, maxPeers, hide } = context;
  const peers: PeerView[] = [];
  // Only a hybrid torrent can hold the same client twice; a single swarm needs no set.
  const seen = group.swarms.length > 1 ? new Set<string>() : null;
  let downloaded = 0;
  let count = 0;
  let complete = 0;
  let partials = 0;
  for (const swarm of group.swarms) {
    downloaded += swarm.downloaded;
    for (const table of swarm.tables()) {
      for (let slot = 0; slot < table.count; slot++) {
        if (seen !== null) {
          const identity = `${table.addressLength}:${table.peerIdOf(slot)}`;
          if (seen.has(identity)) continue;
          seen.add(identity);
        }
        const flags = table.flagsOf(slot);
        count++;
        if (flags & SEEDER) complete++;
        if (flags & PARTIAL_SEED) partials++;
        if (peers.length >= maxPeers) continue;
        const record = table.recordOf(slot);
        const connection = hide ? null : table.connectionAddressOf(table.peerIdOf(slot));
        peers.push({
          address: hide ? null : formatEndpoint(table.addressOf(slot), table.portOf(slot)),
          connectionAddress: connection === null ? null : formatIp(connection),
          family: table.addressLength === 4 ? 4 : 6,
          protocol: (flags & VIA_UDP) !== 0 ? "udp" : "http",
          seeder: (flags & SEEDER) !== 0,
          partialSeed: (flags & PARTIAL_SEED) !== 0,
          left: record.left,
          uploaded: record.uploaded,
          downloaded: record.downloaded,
          userAgent: tracker.userAgent(record.agent),
          secondsSinceSeen: Math.max(0, nowSeconds - record.seenAt),
        });
      }
    }
  }
  // WebSocket peers have no address to show: they are counted, and named in the peer count.
  for (const counts of group.webSockets) {
    downloaded += counts.downloaded;
    count += counts.complete + counts.incomplete;
    complete += counts.complete;
    partials += counts.incomplete - counts.downloaders;
  }
  const incomplete = count - complete;
  return {
    infoHashes: group.hashes,
    name: group.info?.name ?? null,
    size: group.info?.size ?? null,
    counts: { complete, incomplete, downloaders: incomplete - partials, downloaded },
    peers,
    peerCount: count,
    history: emptySeries(),
  };
}

function emptySeries(): SwarmSeries {
  return {
    seeders: new Array<number | null>(HISTORY_POINTS).fill(null),
    leechers: new Array<number | null>(HISTORY_POINTS).fill(null),
  };
}

/** The series with its last point set to the live counts, so a chart always ends at "now". */
function withCurrent(series: SwarmSeries, view: TorrentView): SwarmSeries {
  series.seeders[series.seeders.length - 1] = view.counts.complete;
  series.leechers[series.leechers.length - 1] = view.counts.incomplete;
  return series;
}
