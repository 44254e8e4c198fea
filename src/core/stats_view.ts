/**
 * Builds the `StatsSnapshot` that /stats renders, from the tracker's swarms and allowlist.
 * Secret torrents are left out unless the caller asks for their hash. A hybrid torrent (BEP 52)
 * is one entry: its two swarms are shown together, and a peer that announced under both hashes
 * is listed and counted once.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import { formatEndpoint, formatIp } from "../protocol/ip_address.ts";
import type { TorrentInfo } from "./allowlist.ts";
import { PARTIAL_SEED, SEEDER } from "./peer_table.ts";
import type { PeerView, StatsSnapshot, TorrentView } from "./stats_snapshot.ts";
import type { Swarm } from "./swarm.ts";
import type { Tracker } from "./tracker.ts";

/** Options for `takeStatsSnapshot`. */
export interface SnapshotOptions {
  /** Only this torrent (secret or not); `null` for every public torrent. */
  infoHash: ByteString | null;
  /** Milliseconds since the epoch. */
  now: number;
  /** Most torrents listed (largest swarms first). @default Infinity */
  maxTorrents?: number;
}

/** What /stats shows right now. */
export function takeStatsSnapshot(tracker: Tracker, options: SnapshotOptions): StatsSnapshot {
  const allowlist = tracker.allowlist;
  const groups: { hashes: ByteString[]; info: TorrentInfo | null }[] = [];
  if (options.infoHash !== null) {
    const info = allowlist.get(options.infoHash) ?? null;
    if (info !== null) groups.push({ hashes: hashesOf(info), info });
    else if (allowlist.open && tracker.swarm(options.infoHash)) {
      groups.push({ hashes: [options.infoHash], info: null });
    }
  } else if (allowlist.open) {
    for (const hash of tracker.swarmHashes()) groups.push({ hashes: [hash], info: null });
  } else {
    for (const info of allowlist.torrents) {
      if (!info.secret) groups.push({ hashes: hashesOf(info), info });
    }
  }
  const nowSeconds = Math.floor(options.now / 1000);
  const torrents = groups.map(({ hashes, info }) => {
    const swarms = hashes.map((hash) => tracker.swarm(hash)).filter((swarm) => swarm !== undefined);
    return viewOf(tracker, hashes, info, swarms, nowSeconds);
  });
  torrents.sort((a, b) => b.peers.length - a.peers.length);
  const limit = options.maxTorrents ?? Infinity;
  return {
    takenAt: options.now,
    openMode: allowlist.open,
    torrents: torrents.length > limit ? torrents.slice(0, limit) : torrents,
  };
}

function hashesOf(info: TorrentInfo): ByteString[] {
  return [info.infoHashV1, info.infoHashV2].filter((hash) => hash !== null);
}

function viewOf(
  tracker: Tracker,
  infoHashes: ByteString[],
  info: TorrentInfo | null,
  swarms: Swarm[],
  nowSeconds: number,
): TorrentView {
  const peers: PeerView[] = [];
  const seen = new Set<string>();
  let downloaded = 0;
  for (const swarm of swarms) {
    downloaded += swarm.downloaded;
    for (const table of swarm.tables()) {
      for (let slot = 0; slot < table.count; slot++) {
        const peerId = table.peerIdOf(slot);
        // The same client under both hashes of a hybrid torrent is one peer.
        const identity = `${table.addressLength}:${peerId}`;
        if (seen.has(identity)) continue;
        seen.add(identity);
        const record = table.recordOf(slot);
        const connection = table.connectionAddressOf(peerId);
        peers.push({
          address: formatEndpoint(table.addressOf(slot), table.portOf(slot)),
          connectionAddress: connection === null ? null : formatIp(connection),
          seeder: (record.flags & SEEDER) !== 0,
          partialSeed: (record.flags & PARTIAL_SEED) !== 0,
          left: record.left,
          uploaded: record.uploaded,
          downloaded: record.downloaded,
          userAgent: tracker.userAgent(record.agent),
          secondsSinceSeen: Math.max(0, nowSeconds - record.seenAt),
        });
      }
    }
  }
  const complete = peers.filter((peer) => peer.seeder).length;
  const partials = peers.filter((peer) => peer.partialSeed).length;
  const incomplete = peers.length - complete;
  return {
    infoHashes,
    name: info?.name ?? null,
    size: info?.size ?? null,
    counts: { complete, incomplete, downloaders: incomplete - partials, downloaded },
    peers,
  };
}
