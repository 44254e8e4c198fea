/**
 * Completed counts (BEP 48 `downloaded`) of torrents that have no swarm, in open mode. Open mode
 * forgets a swarm once its last peer is gone (so a flood of made-up hashes leaves nothing
 * behind), but a torrent's count must outlive its peers: a scrape by hash still answers it, and
 * the swarm that forms again starts from it. The counts come from the sweep (a swarm whose peers
 * all expired) and from the state file at start (a crash saves no peers).
 *
 * Bounded: at most `maxEntries` counts, the one kept longest going first when a new one comes in.
 * A count costs about a hundred bytes against a swarm's kilobytes, and the bound is the open-mode
 * torrent cap, so made-up hashes cannot grow it without end. This file owns only the map and its
 * bound; the tracker decides when a count moves in or out.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";

/** Counts of torrents without a swarm, oldest first. */
export class KeptCounts {
  readonly #counts = new Map<ByteString, number>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** Number of counts kept. */
  get size(): number {
    return this.#counts.size;
  }

  /** The count kept for `infoHash`, 0 when none. */
  get(infoHash: ByteString): number {
    return this.#counts.get(infoHash) ?? 0;
  }

  /**
   * Keeps `count` for `infoHash` (the larger of it and one already kept), as the newest entry;
   * drops the oldest when over the bound. A zero count is not kept.
   */
  keep(infoHash: ByteString, count: number): void {
    if (count <= 0 || this.#maxEntries <= 0) return;
    const kept = Math.max(count, this.get(infoHash));
    // Delete first so the entry moves to the newest end of the Map's insertion order.
    this.#counts.delete(infoHash);
    this.#counts.set(infoHash, kept);
    if (this.#counts.size > this.#maxEntries) {
      this.#counts.delete(this.#counts.keys().next().value!);
    }
  }

  /** Removes and returns the count for `infoHash` (0 when none): its swarm is back. */
  take(infoHash: ByteString): number {
    const count = this.get(infoHash);
    this.#counts.delete(infoHash);
    return count;
  }

  /** Drops the counts of hashes `keep` refuses (an allowlist swap). */
  retain(keep: (infoHash: ByteString) => boolean): void {
    for (const infoHash of this.#counts.keys()) {
      if (!keep(infoHash)) this.#counts.delete(infoHash);
    }
  }

  /** Every count kept, oldest first (for the state file's full save). */
  entries(): IterableIterator<[ByteString, number]> {
    return this.#counts.entries();
  }
}
