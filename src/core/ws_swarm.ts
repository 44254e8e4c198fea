/**
 * One info hash's WebSocket peers (WebTorrent): who is in the swarm, on which connection, and
 * which are seeders, with the sampling that picks the peers an announce's offers go to. The
 * members sit in one array, seeders first (`[0, seeders)`), leechers after, so a seeder's offers
 * are drawn from the leechers alone and a draw is a partial Fisher–Yates shuffle in place:
 * O(offers), no allocation beyond the picks.
 *
 * Rules (who may join, caps, completions) live in `ws_swarms.ts`; this file only keeps the
 * array, the id index and the counts consistent.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import type { SwarmCounts } from "../protocol/messages.ts";

/**
 * What the core knows of one WebSocket connection: the swarms it joined (and under which peer
 * ids: a WebTorrent client shares one socket per tracker among all its torrents and clients) and
 * the offers it was sent and may answer. `handle` is the transport's socket, opaque here.
 */
export class WsConnection<T> {
  readonly handle: T;
  /** Memberships, keyed by `membershipKey(infoHash, peerId)`, each to its info hash. */
  readonly joined = new Map<string, ByteString>();
  /** Offers relayed to this connection, keyed by `offerKey(offerId, fromPeerId)`, oldest first. */
  readonly pending = new Map<string, PendingOffer<T>>();
  /** Set once the socket is gone: no more offers are sent to it. */
  closed = false;

  constructor(handle: T) {
    this.handle = handle;
  }
}

/** An offer that was relayed to a connection, which that connection may answer once. */
export interface PendingOffer<T> {
  infoHash: ByteString;
  /** The connection that made the offer, which the answer goes back to. */
  from: WsConnection<T>;
  fromPeerId: ByteString;
  /** The peer id the offer was relayed to: only it may answer. */
  toPeerId: ByteString;
  /** Seconds since the epoch, when it was relayed. */
  sentAt: number;
}

/** The key of one membership of a connection: a peer id in one swarm. */
export function membershipKey(infoHash: ByteString, peerId: ByteString): string {
  return infoHash + peerId;
}

/** The key of a pending offer: offer ids are chosen by the offerer, so its id is part of it. */
export function offerKey(offerId: ByteString, fromPeerId: ByteString): string {
  return offerId + fromPeerId;
}

/** One peer of a WebSocket swarm. */
export interface WsMember<T> {
  readonly peerId: ByteString;
  readonly connection: WsConnection<T>;
  /** Position in the swarm's array (kept up to date by the swarm). */
  index: number;
  seeder: boolean;
  /** BEP 21 partial seed: announced `paused`. */
  partial: boolean;
  /** A completion was counted for this peer already. */
  completed: boolean;
  /** Seconds since the epoch of its last announce. */
  seenAt: number;
}

/** The WebSocket peers of one info hash. */
export class WsSwarm<T> {
  readonly #members: WsMember<T>[] = [];
  readonly #byId = new Map<ByteString, WsMember<T>>();
  #seeders = 0;
  #partial = 0;
  /** Completed downloads counted over WebSocket. */
  downloaded = 0;

  /** Peers in the swarm. */
  get size(): number {
    return this.#members.length;
  }

  /** The member announced under `peerId`, if any. */
  get(peerId: ByteString): WsMember<T> | undefined {
    return this.#byId.get(peerId);
  }

  /** Seeders, leechers and partial seeds, as scrape counts them. */
  counts(): SwarmCounts {
    const leechers = this.#members.length - this.#seeders;
    return {
      complete: this.#seeders,
      incomplete: leechers,
      downloaders: leechers - this.#partial,
      downloaded: this.downloaded,
    };
  }

  /** Adds a new member (its peer id must not be in the swarm). */
  add(member: WsMember<T>): void {
    const members = this.#members;
    member.index = members.length;
    members.push(member);
    this.#byId.set(member.peerId, member);
    if (member.partial) this.#partial++;
    if (member.seeder) {
      this.#swap(member.index, this.#seeders);
      this.#seeders++;
    }
  }

  /** Removes a member (no-op when it is not this swarm's). */
  remove(member: WsMember<T>): void {
    if (this.#byId.get(member.peerId) !== member) return;
    if (member.seeder) {
      // Move it to the last seeder slot, then turn that slot into the first leecher slot.
      this.#swap(member.index, this.#seeders - 1);
      this.#seeders--;
    }
    const last = this.#members.length - 1;
    this.#swap(member.index, last);
    this.#members.pop();
    this.#byId.delete(member.peerId);
    if (member.partial) this.#partial--;
  }

  /** Sets a member's seeder and partial-seed flags, keeping the seeders-first order. */
  setState(member: WsMember<T>, seeder: boolean, partial: boolean): void {
    if (member.partial !== partial) this.#partial += partial ? 1 : -1;
    member.partial = partial;
    if (member.seeder === seeder) return;
    if (seeder) {
      this.#swap(member.index, this.#seeders);
      this.#seeders++;
    } else {
      this.#swap(member.index, this.#seeders - 1);
      this.#seeders--;
    }
    member.seeder = seeder;
  }

  /**
   * Up to `want` members other than `exclude` whose connection is open, drawn at random: from
   * the leechers alone when `exclude` is a seeder (seeders have nothing to give each other).
   * A partial Fisher–Yates shuffle run in the seeder and the leecher range side by side, each
   * draw taking a range with the odds of its remaining size, so the draw is uniform over both and
   * the seeders-first order holds.
   */
  sample(want: number, exclude: WsMember<T>, random: () => number): WsMember<T>[] {
    const members = this.#members;
    const seeders = this.#seeders;
    let nextSeeder = exclude.seeder ? seeders : 0;
    let nextLeecher = seeders;
    const picks: WsMember<T>[] = [];
    while (picks.length < want) {
      const seedersLeft = seeders - nextSeeder;
      const leechersLeft = members.length - nextLeecher;
      if (seedersLeft + leechersLeft === 0) break;
      let at: number;
      if (random() * (seedersLeft + leechersLeft) < seedersLeft) {
        at = nextSeeder++;
        this.#swap(at, at + Math.floor(random() * seedersLeft));
      } else {
        at = nextLeecher++;
        this.#swap(at, at + Math.floor(random() * leechersLeft));
      }
      const member = members[at]!;
      if (member !== exclude && !member.connection.closed) picks.push(member);
    }
    return picks;
  }

  /** Removes every member last seen before `cutoff` (seconds); calls `onRemove` for each. */
  removeSeenBefore(cutoff: number, onRemove: (member: WsMember<T>) => void): void {
    // Backwards, so a swap-remove moves only members already visited into the gap.
    for (let i = this.#members.length - 1; i >= 0; i--) {
      const member = this.#members[i];
      if (member === undefined || member.seenAt >= cutoff) continue;
      this.remove(member);
      onRemove(member);
    }
  }

  /** Every member (for stats and for dropping the swarm). */
  members(): readonly WsMember<T>[] {
    return this.#members;
  }

  #swap(a: number, b: number): void {
    if (a === b) return;
    const members = this.#members;
    const first = members[a]!;
    const second = members[b]!;
    members[a] = second;
    members[b] = first;
    second.index = a;
    first.index = b;
  }
}
