/**
 * One torrent's swarm under one info hash: its IPv4 and IPv6 peer tables (BEP 7) and its
 * completed-download count. Counting rules live here; peer storage lives in `PeerTable`.
 *
 * @module
 */
import { PeerTable } from "./peer_table.ts";
import type { RecordPools } from "./peer_records.ts";
import type { SwarmCounts } from "../protocol/messages.ts";

/** The peers of one info hash, by address family. */
export class Swarm {
  #v4: PeerTable | null = null;
  #v6: PeerTable | null = null;
  readonly #hashSeed: number;
  readonly #pools: RecordPools;
  /** Completed downloads counted so far (BEP 48 `downloaded`). */
  downloaded = 0;

  /** A swarm whose tables draw records from `pools` (the tracker's). */
  constructor(hashSeed: number, pools: RecordPools) {
    this.#hashSeed = hashSeed;
    this.#pools = pools;
  }

  /** The table for 4- or 16-byte addresses, created on first use. */
  tableFor(addressLength: 4 | 16): PeerTable {
    if (addressLength === 4) return this.#v4 ??= new PeerTable(4, this.#hashSeed, this.#pools);
    return this.#v6 ??= new PeerTable(16, this.#hashSeed, this.#pools);
  }

  /** Drops every peer, giving their records back to the pools: the swarm is being dropped. */
  clear(): void {
    this.#v4?.clear();
    this.#v6?.clear();
  }

  /** The table for an address length if it exists. */
  existingTable(addressLength: 4 | 16): PeerTable | null {
    return addressLength === 4 ? this.#v4 : this.#v6;
  }

  /** Both tables that exist, IPv4 first. */
  tables(): PeerTable[] {
    const tables: PeerTable[] = [];
    if (this.#v4 !== null) tables.push(this.#v4);
    if (this.#v6 !== null) tables.push(this.#v6);
    return tables;
  }

  /** Peers in both families. */
  get peerCount(): number {
    return (this.#v4?.count ?? 0) + (this.#v6?.count ?? 0);
  }

  /** Scrape counts (BEP 48, BEP 21). */
  counts(): SwarmCounts {
    // Both tables read directly: this runs on every announce and scrape, and `tables()` would
    // build an array each time.
    const v4 = this.#v4;
    const v6 = this.#v6;
    let complete = 0;
    let incomplete = 0;
    let partials = 0;
    if (v4 !== null) {
      complete += v4.seeders;
      incomplete += v4.count - v4.seeders;
      partials += v4.partialSeeds;
    }
    if (v6 !== null) {
      complete += v6.seeders;
      incomplete += v6.count - v6.seeders;
      partials += v6.partialSeeds;
    }
    return {
      complete,
      incomplete,
      downloaders: incomplete - partials,
      downloaded: this.downloaded,
    };
  }

  /** Drops peers last seen before `cutoff`; returns how many went. */
  removeSeenBefore(cutoff: number): number {
    let removed = 0;
    for (const table of this.tables()) removed += table.removeSeenBefore(cutoff);
    return removed;
  }
}
