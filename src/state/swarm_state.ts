/**
 * The tracker's state as plain rows, for the state file, and back. Pure: no I/O, time passed in.
 * The file itself (SQLite) is `src/state/state_store.ts`; the byte layout of saved peers is
 * `src/state/saved_peers.ts`.
 *
 * - `exportSwarms` walks every swarm through the public `Tracker`/`Swarm`/`PeerTable` API and
 *   yields one row per swarm: its `downloaded` count and its peers.
 * - `importSwarms` puts rows back through `Tracker.restoreSwarm`, dropping peers silent for longer
 *   than the expiry, as a sweep would have; in open mode a count left with no live peer goes to
 *   `Tracker.restoreCount`, which keeps it without a swarm.
 * - `CountJournal` knows which `downloaded` counts changed since the last write (the state file's
 *   write-behind journal), from the tracker's completion callback.
 *
 * Not saved: user agents (restored peers show none until they announce again) and the connection
 * address of a peer listed under an `ip=` address.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import type { Tracker } from "../core/tracker.ts";

/** One peer as saved. */
export interface PeerRow {
  /** 20 raw bytes. */
  peerId: ByteString;
  /** The listed address, 4 or 16 bytes. */
  address: Uint8Array;
  port: number;
  /** Last announce, in seconds since the epoch. */
  seenAt: number;
  /** `PeerTable` flag bits, as they were. */
  flags: number;
  /** Hash of the client's `key`, 0 for none. */
  keyHash: number;
  left: number;
  uploaded: number;
  downloaded: number;
}

/** One swarm as saved. */
export interface SwarmRow {
  infoHash: ByteString;
  /** Completed downloads counted (BEP 48 `downloaded`). */
  downloaded: number;
  peers: PeerRow[];
}

/** Every swarm of `tracker` as a row, built one swarm at a time so a large tracker is not copied whole. */
export function* exportSwarms(tracker: Tracker): Generator<SwarmRow> {
  for (const infoHash of [...tracker.swarmHashes()]) {
    const swarm = tracker.swarm(infoHash);
    if (swarm === undefined) continue;
    const peers: PeerRow[] = [];
    for (const table of swarm.tables()) {
      for (let slot = 0; slot < table.count; slot++) {
        const record = table.recordOf(slot);
        peers.push({
          peerId: table.peerIdOf(slot),
          address: table.addressOf(slot),
          port: table.portOf(slot),
          seenAt: record.seenAt,
          flags: record.flags,
          keyHash: record.keyHash,
          left: record.left,
          uploaded: record.uploaded,
          downloaded: record.downloaded,
        });
      }
    }
    yield { infoHash, downloaded: swarm.downloaded, peers };
  }
}

/** How `importSwarms` puts rows back. */
export interface ImportOptions {
  /** Milliseconds since the epoch. */
  now: number;
  /** Peers last seen longer ago than this many seconds are dropped. */
  expirySeconds: number;
  /** Most peers put back into one swarm. @default Infinity */
  maxPeersPerTorrent?: number;
}

/** What `importSwarms` did. */
export interface ImportSummary {
  /** Swarms put back. */
  swarms: number;
  /** Peers put back. */
  peers: number;
  /** Peers dropped as silent for longer than the expiry. */
  expiredPeers: number;
  /** Peers dropped over `maxPeersPerTorrent`, or repeated. */
  droppedPeers: number;
  /** Rows the tracker refused: no longer allowed, or open mode full. */
  refused: number;
  /**
   * Open mode only: counts of torrents that came back with no live peer, kept by the tracker
   * without a swarm (answered by scrape, and the start of the swarm that forms again); at most
   * `maxTorrents` of them.
   */
  keptCounts: number;
}

/** Puts saved swarms back into `tracker`. */
export function importSwarms(
  tracker: Tracker,
  rows: Iterable<SwarmRow>,
  options: ImportOptions,
): ImportSummary {
  const cutoff = Math.floor(options.now / 1000) - options.expirySeconds;
  const maxPeers = options.maxPeersPerTorrent ?? Infinity;
  const summary: ImportSummary = {
    swarms: 0,
    peers: 0,
    expiredPeers: 0,
    droppedPeers: 0,
    refused: 0,
    keptCounts: 0,
  };
  for (const row of rows) {
    // The same test as `PeerTable.removeSeenBefore`, so a restart expires exactly what a sweep would.
    const live = row.peers.filter((peer) => peer.seenAt >= cutoff);
    summary.expiredPeers += row.peers.length - live.length;
    if (live.length === 0 && row.downloaded === 0) continue;
    if (live.length === 0 && tracker.allowlist.open) {
      // Open mode holds no swarm without peers (a crash saves no peers): the count alone.
      if (!tracker.restoreCount(row.infoHash, row.downloaded)) summary.refused++;
      continue;
    }
    const swarm = tracker.restoreSwarm(row.infoHash, row.downloaded);
    if (swarm === null) {
      summary.refused++;
      continue;
    }
    summary.swarms++;
    for (const peer of live) {
      const table = swarm.tableFor(peer.address.length === 4 ? 4 : 16);
      if (swarm.peerCount >= maxPeers || table.find(peer.peerId) !== -1) {
        summary.droppedPeers++;
        continue;
      }
      table.insert(peer.peerId, peer.address, peer.port, {
        seenAt: peer.seenAt,
        flags: peer.flags,
        keyHash: peer.keyHash,
        left: peer.left,
        uploaded: peer.uploaded,
        downloaded: peer.downloaded,
        agent: 0,
      });
      summary.peers++;
    }
  }
  // Counted at the end: past `maxTorrents` the oldest counts made way for later ones.
  summary.keptCounts = tracker.keptCountSize;
  return summary;
}

/** Counts to write and torrents to forget, found by `CountJournal.collect`. */
export interface CountChanges {
  /** Torrents whose count changed, with the new count. */
  upserts: [ByteString, number][];
  /**
   * Torrents to forget. The journal names none since counts without a swarm live in the tracker
   * (`kept_counts.ts`) and stay in the file; the store still honours the field.
   */
  deletes: ByteString[];
}

/**
 * Which `downloaded` counts changed since the last write: the state file's write-behind journal.
 * Wire `completed` to `TrackerOptions.onCompletion`, call `collect` periodically and write what it
 * returns; if the write fails, hand the changes to `failed` and the next `collect` returns them
 * again. Costs a set insert per completion and nothing per swarm: comparing every swarm each
 * second (the first design) took tens of milliseconds a pass at 100,000 swarms.
 */
export class CountJournal {
  #dirty = new Set<ByteString>();

  /** Notes a completion counted for `infoHash`. */
  completed(infoHash: ByteString): void {
    this.#dirty.add(infoHash);
  }

  /** The counts to write now: those of torrents with a completion since the last call. */
  collect(tracker: Tracker): CountChanges {
    const changes: CountChanges = { upserts: [], deletes: [] };
    for (const infoHash of this.#dirty) {
      // Through scrape, which also answers a count kept after its swarm was swept in open mode;
      // a torrent dropped on reload answers nothing and is left out.
      const downloaded = tracker.scrape([infoHash])[0]?.downloaded ?? 0;
      if (downloaded > 0) changes.upserts.push([infoHash, downloaded]);
    }
    this.#dirty = new Set();
    return changes;
  }

  /**
   * Takes back changes that could not be written: the next `collect` returns them again (with
   * the counts as they are by then), however many writes fail in a row.
   */
  failed(changes: CountChanges): void {
    for (const [infoHash] of changes.upserts) this.#dirty.add(infoHash);
  }
}
