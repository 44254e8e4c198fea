/**
 * The WebSocket (WebTorrent) tracker's rules: swarms of WebSocket peers keyed by info hash, the
 * relaying of an announce's WebRTC offers to other peers of the swarm, and of an answer back to
 * the one peer whose offer it answers. Pure: time (milliseconds) and randomness are passed in,
 * and nothing is sent from here: an announce returns the deliveries the transport makes.
 *
 * WebSocket peers are a kind of their own: they are never listed to TCP/UDP clients (they have
 * no address to dial) nor the reverse; their counts are added to scrape by `Tracker` (as its
 * `extraCounts`). The allowlist is the tracker's, read per call so a reload applies at once.
 *
 * Bounds: at most `maxOffers` offers relayed per announce (the parser cuts), `maxTorrents`
 * swarms in open mode, `maxPeersPerTorrent` peers per swarm, `MAX_PEERS_PER_CONNECTION` peers
 * per connection, and `MAX_PENDING_OFFERS` unanswered offers held per connection (oldest go).
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import { ClientError } from "../protocol/client_error.ts";
import type { SwarmCounts } from "../protocol/messages.ts";
import type { SessionDescription, WsAnnounce } from "../protocol/ws_request.ts";
import type { Allowlist } from "./allowlist.ts";
import { membershipKey, offerKey, WsConnection, type WsMember, WsSwarm } from "./ws_swarm.ts";

export { WsConnection };

/** Peers (swarm memberships) one connection may hold; a browser shares one socket for all. */
export const MAX_PEERS_PER_CONNECTION = 256;
/** Unanswered offers held per connection; a client makes 5 per torrent per announce. */
export const MAX_PENDING_OFFERS = 100;
/** Seconds an offer may be answered in; the WebTorrent client gives up on its offers after 50. */
export const OFFER_ANSWER_SECONDS = 90;

/** Seconds a client refused for a full tracker or swarm is asked to wait (BEP 31). */
const RETRY_WHEN_FULL = 600;
/** Seconds a client announcing a torrent that is not allowed is asked to wait (BEP 31). */
const RETRY_WHEN_NOT_ALLOWED = 3600;
const ZERO_COUNTS: SwarmCounts = { complete: 0, incomplete: 0, downloaders: 0, downloaded: 0 };

/** How the WebSocket swarms are set up. */
export interface WsSwarmsOptions {
  /** The allowlist in force (the tracker's, swapped on reload). */
  allowlist: () => Allowlist;
  /** Seconds without an announce after which a peer is dropped even if its socket is open. */
  expirySeconds: number;
  /** Most WebSocket swarms at once in open mode. @default 100000 */
  maxTorrents?: number;
  /** Most WebSocket peers in one swarm. @default 50000 */
  maxPeersPerTorrent?: number;
  /** Uniform random numbers in [0, 1), for picking whom offers go to. @default Math.random */
  random?: () => number;
}

/** One relayed offer: the transport sends `offer` to `to`. */
export interface OfferDelivery<T> {
  to: T;
  offerId: ByteString;
  offer: SessionDescription;
}

/** What an announce did: the swarm's counts, and the offers to send. */
export interface WsAnnounceResult<T> {
  counts: SwarmCounts;
  deliveries: OfferDelivery<T>[];
}

/** An answer to send back to the connection that made the offer. */
export interface AnswerDelivery<T> {
  to: T;
  infoHash: ByteString;
  /** The answering peer. */
  fromPeerId: ByteString;
  offerId: ByteString;
  answer: SessionDescription;
}

/** Every WebSocket swarm, and the rules between them and their connections. */
export class WsSwarms<T> {
  readonly #swarms = new Map<ByteString, WsSwarm<T>>();
  readonly #allowlist: () => Allowlist;
  readonly #expirySeconds: number;
  readonly #maxTorrents: number;
  readonly #maxPeersPerTorrent: number;
  readonly #random: () => number;
  #sweepCursor: Iterator<[ByteString, WsSwarm<T>]> | null = null;

  constructor(options: WsSwarmsOptions) {
    this.#allowlist = options.allowlist;
    this.#expirySeconds = options.expirySeconds;
    this.#maxTorrents = options.maxTorrents ?? 100_000;
    this.#maxPeersPerTorrent = options.maxPeersPerTorrent ?? 50_000;
    this.#random = options.random ?? Math.random;
  }

  /** Number of WebSocket swarms held. */
  get swarmCount(): number {
    return this.#swarms.size;
  }

  /**
   * Records an announce from `connection` and picks whom its offers go to (never the announcer;
   * a seeder's go to leechers only). An answer is not an announce: see `answer`. Throws
   * `ClientError` for a refused announce.
   */
  announce(connection: WsConnection<T>, request: WsAnnounce, now: number): WsAnnounceResult<T> {
    const allowlist = this.#allowlist();
    if (!allowlist.allows(request.infoHash)) {
      throw new ClientError("torrent is not allowed on this tracker", {
        retryIn: RETRY_WHEN_NOT_ALLOWED,
        reason: "not_allowed",
      });
    }
    const stopped = request.event === "stopped";
    let swarm = this.#swarms.get(request.infoHash);
    if (swarm === undefined) {
      if (stopped) return { counts: ZERO_COUNTS, deliveries: [] };
      if (allowlist.open && this.#swarms.size >= this.#maxTorrents) {
        throw new ClientError("tracker is full: too many torrents", {
          retryIn: RETRY_WHEN_FULL,
          reason: "full",
        });
      }
      swarm = new WsSwarm<T>();
      this.#swarms.set(request.infoHash, swarm);
    }
    let member = swarm.get(request.peerId);
    if (member !== undefined && member.connection !== connection) {
      // Over WebSocket a peer is its socket: another socket may not speak for it.
      throw new ClientError("peer_id is in use by another connection", { reason: "hijack" });
    }
    if (stopped) {
      if (member !== undefined) this.#leaveSwarm(swarm, member, request.infoHash);
      return { counts: swarm.counts(), deliveries: [] };
    }
    const seenAt = Math.floor(now / 1000);
    const seeder = request.left === 0;
    const partial = !seeder && request.event === "paused";
    let wasLeecher = false;
    if (member === undefined) {
      member = this.#join(swarm, connection, request, seenAt);
    } else {
      wasLeecher = !member.seeder;
    }
    // A completion counts once per peer: on `completed`, or on a leecher turning seeder.
    if (seeder && !member.completed && (request.event === "completed" || wasLeecher)) {
      swarm.downloaded++;
      member.completed = true;
    }
    swarm.setState(member, seeder, partial);
    member.seenAt = seenAt;
    return { counts: swarm.counts(), deliveries: this.#relay(swarm, member, request, seenAt) };
  }

  /**
   * Checks an answer from `connection` against the offers it was sent and returns where it
   * goes: only to the peer named by `to_peer_id`, and only for an offer of that peer this
   * connection was actually sent, once. `null` when the offerer has gone meanwhile.
   */
  answer(connection: WsConnection<T>, request: WsAnnounce, now: number): AnswerDelivery<T> | null {
    const answer = request.answer;
    if (answer === null) throw new Error("answer() called for an announce without an answer");
    const key = offerKey(answer.offerId, answer.toPeerId);
    const pending = connection.pending.get(key);
    if (
      pending === undefined || pending.infoHash !== request.infoHash ||
      pending.toPeerId !== request.peerId
    ) {
      throw new ClientError("answer to an offer this peer was not sent");
    }
    connection.pending.delete(key);
    const seenAt = Math.floor(now / 1000);
    if (seenAt - pending.sentAt > OFFER_ANSWER_SECONDS) {
      throw new ClientError("answer to an offer that has expired");
    }
    const member = this.#swarms.get(request.infoHash)?.get(request.peerId);
    if (member !== undefined && member.connection === connection) member.seenAt = seenAt;
    if (pending.from.closed) return null;
    return {
      to: pending.from.handle,
      infoHash: request.infoHash,
      fromPeerId: request.peerId,
      offerId: answer.offerId,
      answer: answer.answer,
    };
  }

  /** A socket has closed: removes its peers from every swarm it joined. */
  leave(connection: WsConnection<T>): void {
    connection.closed = true;
    for (const [key, infoHash] of connection.joined) {
      const swarm = this.#swarms.get(infoHash);
      const member = swarm?.get(key.slice(infoHash.length));
      if (swarm !== undefined && member !== undefined && member.connection === connection) {
        swarm.remove(member);
        this.#dropIfEmpty(infoHash, swarm);
      }
    }
    connection.joined.clear();
    connection.pending.clear();
  }

  /** The WebSocket counts of one hash, or `null` when it has no WebSocket swarm. */
  countsOf(infoHash: ByteString): SwarmCounts | null {
    return this.#swarms.get(infoHash)?.counts() ?? null;
  }

  /** Every hash with a WebSocket swarm. */
  hashes(): IterableIterator<ByteString> {
    return this.#swarms.keys();
  }

  /** The WebSocket swarm of one hash, if any (for stats). */
  swarm(infoHash: ByteString): WsSwarm<T> | undefined {
    return this.#swarms.get(infoHash);
  }

  /**
   * Drops peers silent for longer than the expiry and swarms no longer allowed, in slices of
   * about `budget` peers; call again until it returns true (one pass complete).
   */
  sweep(now: number, budget = Infinity): boolean {
    const cutoff = Math.floor(now / 1000) - this.#expirySeconds;
    const allowlist = this.#allowlist();
    this.#sweepCursor ??= this.#swarms.entries();
    let visited = 0;
    while (visited < budget) {
      const next = this.#sweepCursor.next();
      if (next.done) {
        this.#sweepCursor = null;
        return true;
      }
      const [infoHash, swarm] = next.value;
      visited += swarm.size + 1;
      const forget = (member: WsMember<T>) =>
        member.connection.joined.delete(membershipKey(infoHash, member.peerId));
      if (!allowlist.allows(infoHash)) {
        for (const member of [...swarm.members()]) {
          swarm.remove(member);
          forget(member);
        }
      } else {
        swarm.removeSeenBefore(cutoff, forget);
      }
      this.#dropIfEmpty(infoHash, swarm);
    }
    return false;
  }

  #join(
    swarm: WsSwarm<T>,
    connection: WsConnection<T>,
    request: WsAnnounce,
    seenAt: number,
  ): WsMember<T> {
    if (connection.joined.size >= MAX_PEERS_PER_CONNECTION) {
      throw new ClientError(
        `one connection may announce at most ${MAX_PEERS_PER_CONNECTION} peers`,
        { reason: "full" },
      );
    }
    if (swarm.size >= this.#maxPeersPerTorrent) {
      throw new ClientError("swarm is full", { retryIn: RETRY_WHEN_FULL, reason: "full" });
    }
    const member: WsMember<T> = {
      peerId: request.peerId,
      connection,
      index: 0,
      seeder: false,
      partial: false,
      completed: false,
      seenAt,
    };
    swarm.add(member);
    connection.joined.set(membershipKey(request.infoHash, request.peerId), request.infoHash);
    return member;
  }

  /** Pairs each offer with one other peer, and notes on that peer's connection what it was sent. */
  #relay(
    swarm: WsSwarm<T>,
    member: WsMember<T>,
    request: WsAnnounce,
    seenAt: number,
  ): OfferDelivery<T>[] {
    const offers = request.offers;
    if (offers.length === 0) return [];
    const targets = swarm.sample(offers.length, member, this.#random);
    const deliveries: OfferDelivery<T>[] = [];
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const offer = offers[i]!;
      const pending = target.connection.pending;
      const key = offerKey(offer.offerId, request.peerId);
      pending.delete(key);
      if (pending.size >= MAX_PENDING_OFFERS) {
        pending.delete(pending.keys().next().value!);
      }
      pending.set(key, {
        infoHash: request.infoHash,
        from: member.connection,
        fromPeerId: request.peerId,
        toPeerId: target.peerId,
        sentAt: seenAt,
      });
      deliveries.push({ to: target.connection.handle, offerId: offer.offerId, offer: offer.offer });
    }
    return deliveries;
  }

  #leaveSwarm(swarm: WsSwarm<T>, member: WsMember<T>, infoHash: ByteString): void {
    swarm.remove(member);
    member.connection.joined.delete(membershipKey(infoHash, member.peerId));
    this.#dropIfEmpty(infoHash, swarm);
  }

  /** An empty swarm goes, unless it remembers completions of an allowed (listed) torrent. */
  #dropIfEmpty(infoHash: ByteString, swarm: WsSwarm<T>): void {
    if (swarm.size > 0) return;
    const allowlist = this.#allowlist();
    if (allowlist.open || swarm.downloaded === 0 || !allowlist.allows(infoHash)) {
      this.#swarms.delete(infoHash);
    }
  }
}
