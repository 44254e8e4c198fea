/**
 * The tracker core: swarms keyed by info hash, the allowlist, announce and scrape rules, expiry.
 * No I/O and no clock: every call that depends on time takes `now` (milliseconds), and peer
 * sampling takes its randomness from an injected source, so the rules are tested exactly.
 *
 * @module
 */
import { ByteSlab } from "../protocol/byte_slab.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import { Allowlist } from "./allowlist.ts";
import { hashKey, notAllowed, peerIdInUse, swarmFull, tooManyTorrents } from "./refusals.ts";
import {
  COMPLETION_COUNTED,
  createRecordPools,
  PARTIAL_SEED,
  SEEDER,
  VIA_UDP,
} from "./peer_records.ts";
import type { PeerTable } from "./peer_table.ts";
import { KeptCounts } from "./kept_counts.ts";
import { StringPool } from "./string_pool.ts";
import { Swarm } from "./swarm.ts";
import type { AnnounceInput } from "./announce_input.ts";
import type { AnnounceResult, ScrapeEntry, SwarmCounts } from "../protocol/messages.ts";
import type { SwarmStore } from "./swarm_store.ts";

/** How the core is set up. */
export interface TrackerOptions {
  /** Which torrents are served. @default open mode */
  allowlist?: Allowlist;
  /** Seconds of silence after which a peer is dropped. */
  expirySeconds: number;
  /**
   * Most swarms at once in open mode; also the most completed counts kept for torrents without a
   * swarm (`kept_counts.ts`). @default 100000
   */
  maxTorrents?: number;
  /** Most peers in one swarm (both families). @default 50000 */
  maxPeersPerTorrent?: number;
  /** Uniform random numbers in [0, 1), for sampling peers and seeding hashes. @default Math.random */
  random?: () => number;
  /** Called with the hash each time a completion is counted (the state file's journal). */
  onCompletion?: (infoHash: ByteString) => void;
  /** Peers held elsewhere that scrape counts too (the WebSocket swarms). @default none */
  extraCounts?: ExtraCounts;
}

/** Swarm counts kept outside the tracker's tables, added to its scrape answers. */
export interface ExtraCounts {
  /** The counts of one hash, or `null` when there are none. */
  countsOf(infoHash: ByteString): SwarmCounts | null;
  /** Every hash that has counts (for a full scrape in open mode). */
  hashes(): Iterable<ByteString>;
}

const ZERO_COUNTS: SwarmCounts = { complete: 0, incomplete: 0, downloaders: 0, downloaded: 0 };
const NO_BYTES = new Uint8Array(0);
/** Bytes per slab that reply peer lists are carved from (see `byte_slab.ts`). */
const SLAB_SIZE = 64 * 1024;

/** Swarms, allowlist and the rules that tie them together: the in-memory swarm store. */
export class Tracker implements SwarmStore {
  readonly #swarms = new Map<ByteString, Swarm>();
  /** Open mode: counts of torrents whose swarm is gone, answered by scrape until it is back. */
  readonly #keptCounts: KeptCounts;
  readonly #agents = new StringPool({ maxEntries: 4096, maxLength: 200 });
  readonly #expirySeconds: number;
  readonly #maxTorrents: number;
  readonly #maxPeersPerTorrent: number;
  readonly #random: () => number;
  readonly #onCompletion: ((infoHash: ByteString) => void) | null;
  readonly #extraCounts: ExtraCounts | null;
  readonly #hashSeed: number;
  /** Where this tracker's peer records live; they go when the tracker goes. */
  readonly #pools = createRecordPools();
  #allowlist: Allowlist;
  #sweepCursor: Iterator<[ByteString, Swarm]> | null = null;
  /** Reply peer lists: allocating an ArrayBuffer per reply cost more than sampling the peers. */
  readonly #replies = new ByteSlab(SLAB_SIZE);

  constructor(options: TrackerOptions) {
    this.#allowlist = options.allowlist ?? Allowlist.openMode();
    this.#expirySeconds = options.expirySeconds;
    this.#maxTorrents = options.maxTorrents ?? 100_000;
    this.#keptCounts = new KeptCounts(this.#maxTorrents);
    this.#maxPeersPerTorrent = options.maxPeersPerTorrent ?? 50_000;
    this.#random = options.random ?? Math.random;
    this.#onCompletion = options.onCompletion ?? null;
    this.#extraCounts = options.extraCounts ?? null;
    this.#hashSeed = Math.floor(this.#random() * 0x1_0000_0000);
  }

  /** The allowlist in force. */
  get allowlist(): Allowlist {
    return this.#allowlist;
  }

  /** Counts kept outside the tracker's tables (the WebSocket swarms), if any. */
  get extraCounts(): ExtraCounts | null {
    return this.#extraCounts;
  }

  /** Number of swarms held (including empty swarms kept for their `downloaded` count). */
  get swarmCount(): number {
    return this.#swarms.size;
  }

  /** Number of completed counts kept for torrents without a swarm (open mode). */
  get keptCountSize(): number {
    return this.#keptCounts.size;
  }

  /** Records an announce and answers it. Throws `ClientError` for a refused announce. */
  announce(input: AnnounceInput, now: number): AnnounceResult {
    const request = input.request;
    if (!this.#allowlist.allows(request.infoHash)) {
      throw notAllowed();
    }
    let swarm = this.#swarms.get(request.infoHash);
    const stopped = request.event === "stopped";
    if (swarm === undefined) {
      if (stopped) return emptyResult(this.#countsWithoutSwarm(request.infoHash));
      if (this.#allowlist.open && this.#swarms.size >= this.#maxTorrents) {
        throw tooManyTorrents();
      }
      swarm = new Swarm(this.#hashSeed, this.#pools);
      // A swarm forming again starts from the count its torrent had.
      swarm.downloaded = this.#keptCounts.take(request.infoHash);
      this.#swarms.set(request.infoHash, swarm);
    }
    const addressLength = input.address.length === 4 ? 4 : 16;
    const table = swarm.tableFor(addressLength);
    let slot = table.find(request.peerId);
    const keyHash = request.key === null ? 0 : hashKey(request.key);
    if (slot >= 0 && !table.hasAddress(slot, input.address)) {
      // Another address may take over a peer id only by proving it is the same client.
      if (keyHash === 0 || table.keyHashOf(slot) !== keyHash) {
        throw peerIdInUse();
      }
    }
    if (stopped) {
      if (slot >= 0) table.remove(slot);
      return emptyResult(swarm.counts());
    }
    const seeder = request.left === 0;
    const previous = slot >= 0 ? table.flagsOf(slot) : 0;
    let flags = seeder ? SEEDER : request.event === "paused" ? PARTIAL_SEED : 0;
    if (input.transport === "udp") flags |= VIA_UDP;
    // A completion counts once per peer: on `completed`, or on a leecher turning seeder.
    const completes = seeder && (previous & COMPLETION_COUNTED) === 0 &&
      (request.event === "completed" || (slot >= 0 && (previous & SEEDER) === 0));
    if (completes) {
      swarm.downloaded++;
      this.#onCompletion?.(request.infoHash);
    }
    flags |= completes ? COMPLETION_COUNTED : previous & COMPLETION_COUNTED;
    const record = {
      seenAt: Math.floor(now / 1000),
      flags,
      keyHash,
      left: request.left,
      uploaded: request.uploaded,
      downloaded: request.downloaded,
      agent: this.#agentOf(input, slot >= 0 ? table.agentOf(slot) : -1),
    };
    if (slot >= 0) slot = table.update(slot, input.address, request.port, record);
    else {
      if (swarm.peerCount >= this.#maxPeersPerTorrent) {
        throw swarmFull();
      }
      slot = table.insert(request.peerId, input.address, request.port, record);
    }
    table.setConnectionAddress(request.peerId, input.connectionAddress);
    return this.#pickPeers(swarm, table, slot, input);
  }

  /** Scrape counts for these hashes (those not allowed are left out), or every public torrent. */
  scrape(infoHashes: readonly ByteString[] | null): ScrapeEntry[] {
    const hashes = infoHashes ?? this.#publicHashes();
    const entries: ScrapeEntry[] = [];
    for (const infoHash of hashes) {
      if (!this.#allowlist.allows(infoHash)) continue;
      const counts = this.#swarms.get(infoHash)?.counts() ?? this.#countsWithoutSwarm(infoHash);
      const extra = this.#extraCounts?.countsOf(infoHash) ?? ZERO_COUNTS;
      entries.push({
        infoHash,
        complete: counts.complete + extra.complete,
        incomplete: counts.incomplete + extra.incomplete,
        downloaders: counts.downloaders + extra.downloaders,
        downloaded: counts.downloaded + extra.downloaded,
      });
    }
    return entries;
  }

  /** The swarm of one hash, if it has one (for stats). */
  swarm(infoHash: ByteString): Swarm | undefined {
    return this.#swarms.get(infoHash);
  }

  /** Every hash that has a swarm. */
  swarmHashes(): IterableIterator<ByteString> {
    return this.#swarms.keys();
  }

  /** Open mode: the completed counts of torrents without a swarm (for the state file). */
  keptCounts(): IterableIterator<[ByteString, number]> {
    return this.#keptCounts.entries();
  }

  /**
   * Takes back a saved count of a torrent that has no live peer, in open mode (see
   * `swarm_state.ts`; an allowlist keeps an empty swarm instead, `restoreSwarm`): kept without a
   * swarm, bounded (`kept_counts.ts`). Returns false when the hash is not allowed.
   */
  restoreCount(infoHash: ByteString, downloaded: number): boolean {
    if (!this.#allowlist.allows(infoHash)) return false;
    const swarm = this.#swarms.get(infoHash);
    if (swarm !== undefined) swarm.downloaded = Math.max(swarm.downloaded, downloaded);
    else this.#keptCounts.keep(infoHash, downloaded);
    return true;
  }

  /**
   * Takes back a saved swarm (see `swarm_state.ts`): returns it, created if needed, with at least
   * `downloaded` completions, for its peers to be put back; `null` when the allowlist no longer
   * allows the hash or open mode is at `maxTorrents`.
   */
  restoreSwarm(infoHash: ByteString, downloaded: number): Swarm | null {
    if (!this.#allowlist.allows(infoHash)) return null;
    let swarm = this.#swarms.get(infoHash);
    if (swarm === undefined) {
      if (this.#allowlist.open && this.#swarms.size >= this.#maxTorrents) return null;
      swarm = new Swarm(this.#hashSeed, this.#pools);
      swarm.downloaded = this.#keptCounts.take(infoHash);
      this.#swarms.set(infoHash, swarm);
    }
    swarm.downloaded = Math.max(swarm.downloaded, downloaded);
    return swarm;
  }

  /** The user agent behind an interned id (for stats). */
  userAgent(id: number): string {
    return this.#agents.lookup(id);
  }

  /**
   * Drops peers silent for longer than the expiry, and swarms left with nothing worth keeping.
   * Works through swarms in slices of about `budget` peers, so no request waits behind a full
   * pass; call again until it returns true (one pass complete).
   */
  sweep(now: number, budget = Infinity): boolean {
    const cutoff = Math.floor(now / 1000) - this.#expirySeconds;
    this.#sweepCursor ??= this.#swarms.entries();
    let visited = 0;
    while (visited < budget) {
      const next = this.#sweepCursor.next();
      if (next.done) {
        this.#sweepCursor = null;
        return true;
      }
      const [infoHash, swarm] = next.value;
      visited += swarm.peerCount + 1;
      swarm.removeSeenBefore(cutoff);
      // An allowed torrent keeps its empty swarm only to remember its completed count; open
      // mode lets the swarm go and keeps the count alone.
      if (swarm.peerCount === 0 && (this.#allowlist.open || swarm.downloaded === 0)) {
        this.#swarms.delete(infoHash);
        if (this.#allowlist.open) this.#keptCounts.keep(infoHash, swarm.downloaded);
      }
    }
    return false;
  }

  /**
   * Swaps in a new allowlist in one step. Swarms of hashes it no longer allows are dropped;
   * every other swarm is kept as it is.
   */
  replaceAllowlist(next: Allowlist): void {
    this.#allowlist = next;
    for (const [infoHash, swarm] of this.#swarms) {
      if (next.allows(infoHash)) continue;
      swarm.clear();
      this.#swarms.delete(infoHash);
    }
    this.#keptCounts.retain((infoHash) => next.allows(infoHash));
  }

  /** What a hash without a swarm answers: no peers, and the count kept for it if any. */
  #countsWithoutSwarm(infoHash: ByteString): SwarmCounts {
    const downloaded = this.#keptCounts.get(infoHash);
    return downloaded === 0 ? ZERO_COUNTS : { ...ZERO_COUNTS, downloaded };
  }

  #publicHashes(): ByteString[] {
    if (this.#allowlist.open) {
      if (this.#extraCounts === null) return [...this.#swarms.keys()];
      return [...new Set([...this.#swarms.keys(), ...this.#extraCounts.hashes()])];
    }
    const hashes: ByteString[] = [];
    for (const torrent of this.#allowlist.torrents) {
      if (torrent.secret) continue;
      if (torrent.infoHashV1 !== null) hashes.push(torrent.infoHashV1);
      if (torrent.infoHashV2 !== null) hashes.push(torrent.infoHashV2);
    }
    return hashes;
  }

  /**
   * The agent id to record: `userAgent` as given when it is a string; when it is a function, read
   * for a new peer (`known` -1), on `started`, or while the agent is unknown (0), else `known`.
   */
  #agentOf(input: AnnounceInput, known: number): number {
    const agent = input.userAgent;
    if (typeof agent === "string") return this.#agents.intern(agent);
    if (known > 0 && input.request.event !== "started") return known;
    return this.#agents.intern(agent());
  }

  /** Up to numwant peers: the requester's family first, then the other; never the requester. */
  #pickPeers(swarm: Swarm, own: PeerTable, slot: number, input: AnnounceInput): AnnounceResult {
    const { numwant } = input.request;
    const other = swarm.existingTable(own.addressLength === 4 ? 16 : 4);
    const fromOwn = Math.min(numwant, own.count - 1);
    const fromOther = Math.min(numwant - fromOwn, other?.count ?? 0);
    const seeder = slot < own.seeders;
    const ownPicks = this.#fill(own, fromOwn, seeder, slot, input.wantPeerIds);
    const otherPicks = other === null
      ? { peers: NO_BYTES, ids: null }
      : this.#fill(other, fromOther, seeder, -1, input.wantPeerIds);
    const v4 = own.addressLength === 4;
    const four = v4 ? ownPicks : otherPicks;
    const six = v4 ? otherPicks : ownPicks;
    const counts = swarm.counts();
    // Field by field rather than a spread of `counts` and array destructuring: one announce
    // builds this once, and the shorter form cost two more allocations.
    return {
      complete: counts.complete,
      incomplete: counts.incomplete,
      downloaders: counts.downloaders,
      downloaded: counts.downloaded,
      peers4: four.peers,
      peers6: six.peers,
      peerIds4: input.wantPeerIds ? four.ids ?? NO_BYTES : null,
      peerIds6: input.wantPeerIds ? six.ids ?? NO_BYTES : null,
    };
  }

  /** Samples `want` peers of one table; a seeder is given leechers before other seeders. */
  #fill(table: PeerTable, want: number, seeder: boolean, exclude: number, wantIds: boolean) {
    if (want <= 0) return { peers: NO_BYTES, ids: wantIds ? NO_BYTES : null };
    const peers = this.#replies.carve(want * table.endpointSize);
    const ids = wantIds ? this.#replies.carve(want * 20) : null;
    const random = this.#random;
    let got = 0;
    if (seeder) {
      got = table.sample(
        { from: table.seeders, to: table.count, want, exclude, random },
        peers,
        0,
        ids,
      );
      got += table.sample(
        { from: 0, to: table.seeders, want: want - got, exclude, random },
        peers,
        got * table.endpointSize,
        ids,
      );
    } else {
      got = table.sample({ from: 0, to: table.count, want, exclude, random }, peers, 0, ids);
    }
    // Nearly every reply gets all it asked for: then the carved views are already the right size.
    if (got === want) return { peers, ids };
    return {
      peers: peers.subarray(0, got * table.endpointSize),
      ids: ids?.subarray(0, got * 20) ?? null,
    };
  }
}

function emptyResult(counts: SwarmCounts): AnnounceResult {
  return { ...counts, peers4: NO_BYTES, peers6: NO_BYTES, peerIds4: null, peerIds6: null };
}
