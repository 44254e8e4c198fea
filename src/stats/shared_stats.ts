/**
 * /stats, /stats.json and /metrics for a shared swarm store (Redis): the same `StatsSnapshot` and
 * totals the pure renderers take, built from counts the store returns (scrape counts per torrent,
 * tracker-wide totals), so every process shows the same figures. What the memory store alone can
 * show is left out: no peer rows (peers live in Redis as endpoints only) and no per-minute history
 * (charts show the current size). A hybrid torrent's counts are its two swarms' sums.
 *
 * @module
 */
import type { Allowlist, TorrentInfo } from "../core/allowlist.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import type { ScrapeEntry, SwarmCounts } from "../protocol/messages.ts";
import type { StatsSnapshot, StatsTotals, TorrentView } from "./stats_snapshot.ts";
import { StatsCounters } from "./stats_counters.ts";
import { HISTORY_POINTS, type SwarmSeries } from "./swarm_history.ts";
import { TORRENTS_PER_PAGE } from "./stats_view.ts";

/** What a shared store gives the stats endpoints. */
export interface SharedStatsSource {
  /** The allowlist in force. */
  readonly allowlist: Allowlist;
  /** Scrape counts (as `SwarmStore.scrape`): hashes not allowed are left out. */
  scrape(infoHashes: readonly ByteString[] | null): Promise<ScrapeEntry[]>;
  /** Totals over every swarm, secret ones included, with the transport split. */
  totals(): Promise<StatsTotals>;
  /** Calls to the store that failed since start (for /metrics). */
  readonly errors: number;
}

/** Options for `takeSharedSnapshot`. */
export interface SharedSnapshotOptions {
  /** Only this torrent (secret or not); `null` for every public torrent. */
  infoHash: ByteString | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Which page of the list, from 1. @default 1 */
  page?: number;
  /** Request counters. @default counters with nothing recorded */
  counters?: StatsCounters;
  /** Leave peer addresses out (no peers are listed anyway). @default false */
  hidePeerAddresses?: boolean;
}

interface Listed {
  hashes: ByteString[];
  info: TorrentInfo | null;
  counts: SwarmCounts;
}

/** What /stats shows, from the shared store's counts. */
export async function takeSharedSnapshot(
  source: SharedStatsSource,
  options: SharedSnapshotOptions,
): Promise<StatsSnapshot> {
  const allowlist = source.allowlist;
  const perPage = TORRENTS_PER_PAGE;
  let listed: Listed[];
  if (options.infoHash !== null) {
    const info = allowlist.get(options.infoHash) ?? null;
    const hashes = info === null ? [options.infoHash] : hashesOf(info);
    const entries = await source.scrape(hashes);
    listed = entries.length === 0 && info === null
      ? []
      : [{ hashes, info, counts: sumCounts(entries) }];
  } else if (allowlist.open) {
    listed = (await source.scrape(null)).map((entry) => ({
      hashes: [entry.infoHash],
      info: null,
      counts: entry,
    }));
  } else {
    const infos = allowlist.torrents.filter((info) => !info.secret);
    const byHash = new Map<ByteString, ScrapeEntry>();
    for (const entry of await source.scrape(null)) byHash.set(entry.infoHash, entry);
    listed = infos.map((info) => {
      const hashes = hashesOf(info);
      const entries = hashes.map((hash) => byHash.get(hash)).filter((entry) => entry !== undefined);
      return { hashes, info, counts: sumCounts(entries) };
    });
  }
  const shared = await source.totals();
  const totals: StatsTotals = { ...shared, torrents: listed.length, seeders: 0, leechers: 0 };
  for (const { counts } of listed) {
    totals.seeders += counts.complete;
    totals.leechers += counts.incomplete;
  }
  const count = listed.length;
  const pages = Math.max(1, Math.ceil(count / perPage));
  const number = Math.min(pages, Math.max(1, Math.floor(options.page ?? 1)));
  const size = (item: Listed) => item.counts.complete + item.counts.incomplete;
  const order = listed.map((_, i) => i).sort((a, b) => size(listed[b]) - size(listed[a]) || a - b);
  const torrents = order.slice((number - 1) * perPage, number * perPage).map((i) =>
    viewOf(listed[i])
  );
  const counters = options.counters ?? new StatsCounters({ startedAt: options.now });
  return {
    takenAt: options.now,
    openMode: allowlist.open,
    torrents,
    totals,
    page: { number, pages, size: perPage, matching: count },
    peerAddressesHidden: options.hidePeerAddresses ?? false,
    requests: counters.snapshot(options.now),
  };
}

function viewOf(item: Listed): TorrentView {
  const { counts } = item;
  const history: SwarmSeries = {
    seeders: new Array<number | null>(HISTORY_POINTS).fill(null),
    leechers: new Array<number | null>(HISTORY_POINTS).fill(null),
  };
  history.seeders[HISTORY_POINTS - 1] = counts.complete;
  history.leechers[HISTORY_POINTS - 1] = counts.incomplete;
  return {
    infoHashes: item.hashes,
    name: item.info?.name ?? null,
    size: item.info?.size ?? null,
    counts: { ...counts },
    peers: [],
    peerCount: counts.complete + counts.incomplete,
    history,
  };
}

function hashesOf(info: TorrentInfo): ByteString[] {
  return [info.infoHashV1, info.infoHashV2].filter((hash) => hash !== null);
}

function sumCounts(entries: readonly SwarmCounts[]): SwarmCounts {
  const sum = { complete: 0, incomplete: 0, downloaders: 0, downloaded: 0 };
  for (const entry of entries) {
    sum.complete += entry.complete;
    sum.incomplete += entry.incomplete;
    sum.downloaders += entry.downloaders;
    sum.downloaded += entry.downloaded;
  }
  return sum;
}
