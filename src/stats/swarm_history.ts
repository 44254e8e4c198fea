/**
 * Swarm sizes over the last hour, for the per-torrent charts on /stats: once a minute (a timer in
 * the runtime calls `sample`) the seeders and leechers of the largest swarms are written into a
 * small per-swarm ring of 60 minutes.
 *
 * Bounded by design: a tracker may hold 100,000 swarms, and a ring for each would cost more than
 * the swarms. Only the `maxTorrents` largest swarms (by peers) are sampled each minute; a swarm
 * that drops out of that set keeps its ring until its last sample is an hour old, and at most
 * twice `maxTorrents` rings are kept (the least recently sampled go first). A swarm without a
 * ring has no history; the page still draws its current size.
 *
 * Pure: time is passed in, nothing is rendered. Samples are per info hash; a hybrid torrent's
 * chart (BEP 52, two hashes) shows the larger of its two swarms, since a client usually announces
 * under both.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import type { Tracker } from "../core/tracker.ts";

/** Seconds between samples. */
export const HISTORY_STEP_SECONDS = 60;
/** Samples kept per swarm: one hour. */
export const HISTORY_POINTS = 60;

/** One torrent's sizes over the last hour, one entry per minute, oldest first; `null` = no sample. */
export interface SwarmSeries {
  seeders: (number | null)[];
  leechers: (number | null)[];
}

/** Options for `SwarmHistory`. */
export interface SwarmHistoryOptions {
  /** How many of the largest swarms are sampled each minute. @default 1000 */
  maxTorrents?: number;
}

const STEP_MS = HISTORY_STEP_SECONDS * 1000;

interface Ring {
  seeders: Uint32Array;
  leechers: Uint32Array;
  /** The minute (`floor(now / 60 s)`) each cell was written in; -1 = never. */
  minutes: Float64Array;
  /** The newest minute written. */
  last: number;
}

/** Per-swarm rings of sizes, for the largest swarms. */
export class SwarmHistory {
  readonly #maxTorrents: number;
  readonly #rings = new Map<ByteString, Ring>();

  constructor(options: SwarmHistoryOptions = {}) {
    this.#maxTorrents = Math.max(1, options.maxTorrents ?? 1000);
  }

  /** Number of swarms with a ring. */
  get size(): number {
    return this.#rings.size;
  }

  /** Records the sizes of the largest swarms now, and forgets rings too old or too many. */
  sample(tracker: Tracker, now: number): void {
    const minute = Math.floor(now / STEP_MS);
    const cell = mod(minute, HISTORY_POINTS);
    for (const hash of largestSwarms(tracker, this.#maxTorrents)) {
      const counts = tracker.swarm(hash)?.counts();
      if (counts === undefined) continue;
      let ring = this.#rings.get(hash);
      if (ring === undefined) {
        ring = {
          seeders: new Uint32Array(HISTORY_POINTS),
          leechers: new Uint32Array(HISTORY_POINTS),
          minutes: new Float64Array(HISTORY_POINTS).fill(-1),
          last: minute,
        };
        this.#rings.set(hash, ring);
      }
      ring.seeders[cell] = counts.complete;
      ring.leechers[cell] = counts.incomplete;
      ring.minutes[cell] = minute;
      ring.last = Math.max(ring.last, minute);
    }
    const stale: [ByteString, number][] = [];
    for (const [hash, ring] of this.#rings) {
      if (ring.last <= minute - HISTORY_POINTS) this.#rings.delete(hash);
      else if (ring.last !== minute) stale.push([hash, ring.last]);
    }
    const excess = this.#rings.size - 2 * this.#maxTorrents;
    if (excess > 0) {
      stale.sort((a, b) => a[1] - b[1]);
      for (const [hash] of stale.slice(0, excess)) this.#rings.delete(hash);
    }
  }

  /** The last hour of one torrent (both hashes of a hybrid: the larger swarm at each minute). */
  seriesOf(infoHashes: readonly ByteString[], now: number): SwarmSeries {
    const rings = infoHashes.map((hash) => this.#rings.get(hash)).filter((ring) =>
      ring !== undefined
    );
    const minute = Math.floor(now / STEP_MS);
    const seeders: (number | null)[] = [];
    const leechers: (number | null)[] = [];
    for (let m = minute - HISTORY_POINTS + 1; m <= minute; m++) {
      let s: number | null = null;
      let l: number | null = null;
      const cell = mod(m, HISTORY_POINTS);
      for (const ring of rings) {
        if (ring.minutes[cell] !== m) continue;
        s = Math.max(s ?? 0, ring.seeders[cell]);
        l = Math.max(l ?? 0, ring.leechers[cell]);
      }
      seeders.push(s);
      leechers.push(l);
    }
    return { seeders, leechers };
  }
}

/** The hashes of the `limit` swarms with the most peers, via a min-heap of size `limit`. */
function largestSwarms(tracker: Tracker, limit: number): ByteString[] {
  const hashes: ByteString[] = [];
  const sizes: number[] = [];
  const swap = (a: number, b: number) => {
    [hashes[a], hashes[b]] = [hashes[b], hashes[a]];
    [sizes[a], sizes[b]] = [sizes[b], sizes[a]];
  };
  const siftDown = (from: number) => {
    for (let i = from;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < sizes.length && sizes[left] < sizes[least]) least = left;
      if (right < sizes.length && sizes[right] < sizes[least]) least = right;
      if (least === i) return;
      swap(i, least);
      i = least;
    }
  };
  for (const hash of tracker.swarmHashes()) {
    const size = tracker.swarm(hash)?.peerCount ?? 0;
    if (sizes.length < limit) {
      hashes.push(hash);
      sizes.push(size);
      for (let i = sizes.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (sizes[parent] <= sizes[i]) break;
        swap(i, parent);
        i = parent;
      }
    } else if (size > sizes[0]) {
      hashes[0] = hash;
      sizes[0] = size;
      siftDown(0);
    }
  }
  return hashes;
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}
