/**
 * The load of issue 8, as data: which torrents and peers exist, and the next request a
 * libtorrent-like client would send. Deterministic (seeded), so every server in one sitting sees
 * the same sequence, and free of I/O, so the generator, the opentracker whitelist writer and the
 * memory fill share one definition of "the generator's hashes".
 *
 * The swarm model: `torrents × peersPerTorrent` peers, all announced `started` by the pre-fill.
 * Then each announce is `none` (88 %), `started` (5 %), `completed` (2 %) or `stopped` (5 %).
 * A `stopped` peer leaves and a `started` one comes back (a stopped peer when there is one), so
 * swarms stay near their full size and a reply to `numwant=50` holds 50 peers.
 *
 * @module
 */
import type { AnnounceRequest } from "../../../src/protocol/messages.ts";
import { type ByteString, byteString20 } from "../../../src/protocol/byte_string.ts";
import { seededRandom } from "../../support/seeded_random.ts";

/** What the generator asks for and how big the pre-filled state is. */
export interface WorkloadOptions {
  /** Torrents in the pre-filled state. @default 1000 */
  torrents: number;
  /** Peers per torrent. @default 100 */
  peersPerTorrent: number;
  /** Peers asked for per announce. @default 50 */
  numwant: number;
  /** Seed of the request sequence. @default 1 */
  seed: number;
}

/** The defaults of issue 8. */
export const DEFAULT_WORKLOAD: Readonly<WorkloadOptions> = Object.freeze({
  torrents: 1000,
  peersPerTorrent: 100,
  numwant: 50,
  seed: 1,
});

/** Peer `p` of every torrent listens on `BASE_PORT + p`, so a reply's ports can be checked. */
export const BASE_PORT = 10_000;

/** The user agent libtorrent 2.0.6 sends. */
export const USER_AGENT = "libtorrent/2.0.6.0";

/** One request to send, with what the reply must look like. */
export interface PlannedRequest {
  /** Path and query, e.g. `/announce?info_hash=...`. */
  target: string;
  kind: "announce" | "scrape";
  torrent: number;
  event: "none" | "started" | "completed" | "stopped";
  /**
   * What the announce says, for clients that build their own packets (the UDP generator):
   * the peer (`torrent * peersPerTorrent + p`, listening on `BASE_PORT + p`), its counters and
   * its `key` as a number (the HTTP query spells it `%08X`). Absent for scrapes.
   */
  announce?: { peer: number; left: number; uploaded: number; downloaded: number; key: number };
}

/** The 20-byte info hash of torrent `t`: random-looking bytes, its index in the last four. */
export function infoHashOf(t: number): Uint8Array {
  const random = seededRandom(0x5eed0000 + t);
  const bytes = new Uint8Array(20);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256);
  new DataView(bytes.buffer).setUint32(16, t);
  return bytes;
}

/** The peer id of peer `p` of torrent `t`: libtorrent's `-LT2060-` and 12 URL-safe chars. */
export function peerIdOf(t: number, p: number): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const random = seededRandom(0x1d000000 + t * 4099 + p);
  let id = "-LT2060-";
  for (let i = 0; i < 12; i++) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}

/** Bytes of `fillPeerId`: `-LT2060-`, four zero bytes, then two big-endian numbers. */
const fillId = new Uint8Array(20);
fillId.set(new TextEncoder().encode("-LT2060-"));
const fillIdView = new DataView(fillId.buffer);

/**
 * The peer id the in-process fills give peer `p` of torrent `t` (`-LT2060-`, four zero bytes,
 * then `t` and `p` big-endian): unique for any count, and cheap enough for a million peers.
 */
export function fillPeerId(t: number, p: number): ByteString {
  fillIdView.setUint32(12, t);
  fillIdView.setUint32(16, p);
  return byteString20(fillId, 0);
}

/** A `started` announce as the in-process fills make it: compact, no peer ids, no key. */
export function startedRequest(
  infoHash: ByteString,
  peerId: ByteString,
  port: number,
  left: number,
  numwant = 0,
): AnnounceRequest {
  return {
    infoHash,
    peerId,
    port,
    uploaded: 0,
    downloaded: 0,
    left,
    event: "started",
    numwant,
    compact: true,
    noPeerId: true,
    key: null,
    claimedIp: null,
    claimedIpv4: null,
    claimedIpv6: null,
  };
}

/** Percent-encodes bytes as libtorrent does: unreserved chars stay, every other byte is `%XX`. */
export function escapeBytes(bytes: Uint8Array | string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const code = typeof bytes === "string" ? bytes.charCodeAt(i) : bytes[i];
    const char = String.fromCharCode(code);
    out += /[A-Za-z0-9\-_.!~*()]/.test(char)
      ? char
      : "%" + code.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** The whole swarm state the generator keeps, and the request sequence it draws from it. */
export class Workload {
  readonly options: WorkloadOptions;
  readonly #hashParams: string[];
  readonly #peerParams: string[];
  readonly #keys: string[];
  readonly #active: Uint8Array;
  readonly #left: Float64Array;
  readonly #uploaded: Float64Array;
  /** Stopped peers (`t * peersPerTorrent + p`), so `started` brings one of them back. */
  readonly #stopped: number[] = [];
  readonly #random: () => number;
  #prefillNext = 0;
  #prefillEnd: number;

  constructor(options: Partial<WorkloadOptions> = {}) {
    this.options = { ...DEFAULT_WORKLOAD, ...options };
    const { torrents, peersPerTorrent, seed } = this.options;
    const peers = torrents * peersPerTorrent;
    this.#random = seededRandom(seed);
    this.#prefillEnd = peers;
    this.#hashParams = Array.from({ length: torrents }, (_, t) => escapeBytes(infoHashOf(t)));
    this.#peerParams = new Array<string>(peers);
    this.#keys = new Array<string>(peers);
    this.#active = new Uint8Array(peers);
    this.#left = new Float64Array(peers);
    this.#uploaded = new Float64Array(peers);
    for (let t = 0; t < torrents; t++) {
      for (let p = 0; p < peersPerTorrent; p++) {
        const peer = t * peersPerTorrent + p;
        this.#peerParams[peer] = escapeBytes(peerIdOf(t, p));
        this.#keys[peer] = ((peer * 2654435761) >>> 0).toString(16).toUpperCase().padStart(8, "0");
        // Three in ten peers seed, as in a swarm some days old.
        this.#left[peer] = p % 10 < 3 ? 0 : 734_003_200 - p * 16_384;
      }
    }
  }

  /** Peers in the pre-filled state. */
  get peerCount(): number {
    return this.options.torrents * this.options.peersPerTorrent;
  }

  /** The hex info hashes of every torrent (for opentracker's whitelist). */
  hexHashes(): string[] {
    return Array.from({ length: this.options.torrents }, (_, t) => infoHashOf(t).toHex());
  }

  /**
   * Makes the pre-fill announce only peers `[from, to)` of every torrent (peer `p` of each torrent
   * before peer `p + 1`), as if those before `from` had announced already: a fill in two halves.
   */
  limitPrefill(from: number, to: number): void {
    const { torrents, peersPerTorrent } = this.options;
    for (let t = 0; t < torrents; t++) {
      for (let p = 0; p < from; p++) this.#active[t * peersPerTorrent + p] = 1;
    }
    this.#prefillNext = from * torrents;
    this.#prefillEnd = Math.min(to, peersPerTorrent) * torrents;
  }

  /** Announces the pre-fill sends (all peers, or those `limitPrefill` left). */
  get prefillCount(): number {
    return this.#prefillEnd - this.#prefillNext;
  }

  /**
   * The next pre-fill announce (`started`, peer by peer, round-robin over torrents so swarms grow
   * evenly), or `null` when every peer has announced.
   */
  nextPrefill(): PlannedRequest | null {
    const { torrents, peersPerTorrent } = this.options;
    if (this.#prefillNext >= this.#prefillEnd) return null;
    const t = this.#prefillNext % torrents;
    const p = Math.floor(this.#prefillNext / torrents);
    this.#prefillNext++;
    const peer = t * peersPerTorrent + p;
    this.#active[peer] = 1;
    return this.#announce(peer, "started");
  }

  /** The next announce of the 88/5/2/5 none/started/completed/stopped mix. */
  nextAnnounce(): PlannedRequest {
    const r = this.#random();
    if (r < 0.05) {
      const peer = this.#activePeer();
      this.#active[peer] = 0;
      this.#stopped.push(peer);
      return this.#announce(peer, "stopped");
    }
    if (r < 0.10) {
      let peer: number;
      if (this.#stopped.length > 0) {
        // Swap-remove a random stopped peer.
        const at = Math.floor(this.#random() * this.#stopped.length);
        peer = this.#stopped[at];
        this.#stopped[at] = this.#stopped[this.#stopped.length - 1];
        this.#stopped.pop();
      } else peer = this.#activePeer();
      this.#active[peer] = 1;
      return this.#announce(peer, "started");
    }
    const peer = this.#activePeer();
    if (r < 0.12) {
      this.#left[peer] = 0;
      return this.#announce(peer, "completed");
    }
    return this.#announce(peer, "none");
  }

  /** A regular (`none`) announce of a random peer: it leaves the swarm state as it was. */
  nextRegularAnnounce(): PlannedRequest {
    return this.#announce(this.#activePeer(), "none");
  }

  /** `started` announces of every peer stopped so far, so a replayed sequence ends as it began. */
  restartStopped(): PlannedRequest[] {
    const restarts = this.#stopped.map((peer) => {
      this.#active[peer] = 1;
      return this.#announce(peer, "started");
    });
    this.#stopped.length = 0;
    return restarts;
  }

  /** A single-hash scrape of a random torrent, as libtorrent sends it. */
  nextScrape(): PlannedRequest {
    const t = Math.floor(this.#random() * this.options.torrents);
    return {
      target: `/scrape?info_hash=${this.#hashParams[t]}`,
      kind: "scrape",
      torrent: t,
      event: "none",
    };
  }

  #activePeer(): number {
    // Few peers are stopped at any time, so a handful of draws finds an active one.
    for (let attempt = 0; attempt < 64; attempt++) {
      const peer = Math.floor(this.#random() * this.peerCount);
      if (this.#active[peer] === 1) return peer;
    }
    return 0;
  }

  #announce(peer: number, event: PlannedRequest["event"]): PlannedRequest {
    const { peersPerTorrent, numwant } = this.options;
    const t = Math.floor(peer / peersPerTorrent);
    const p = peer % peersPerTorrent;
    const uploaded = (this.#uploaded[peer] += 16_384);
    const left = this.#left[peer];
    // libtorrent's parameter order; it leaves `event` out of a regular announce.
    const target = `/announce?info_hash=${this.#hashParams[t]}&peer_id=${this.#peerParams[peer]}` +
      `&port=${BASE_PORT + p}&uploaded=${uploaded}&downloaded=${left === 0 ? 0 : uploaded}` +
      `&left=${left}&corrupt=0&key=${this.#keys[peer]}` +
      (event === "none" ? "" : `&event=${event}`) +
      `&numwant=${numwant}&compact=1&no_peer_id=1&supportcrypto=1&redundant=0`;
    const downloaded = left === 0 ? 0 : uploaded;
    const key = (peer * 2654435761) >>> 0;
    return {
      target,
      kind: "announce",
      torrent: t,
      event,
      announce: { peer, left, uploaded, downloaded, key },
    };
  }
}
