/**
 * The Redis swarm store: the same `SwarmStore` as the in-memory `Tracker`, with the swarms in
 * Redis so that any number of NoBrake processes serve the same swarms. Each announce is one
 * `FCALL` of `ANNOUNCE_SCRIPT` (update the peer, expire that torrent's stale peers, sample up to
 * `numwant` peers, return the counts, atomically). Expiry runs in bounded batches from the
 * torrents' expiry index (`SWEEP_SCRIPT`); completed counts live in Redis.
 *
 * The allowlist stays in the process (each loads the directory and reloads on SIGHUP) and is
 * checked here before Redis is asked. The caps, the hijack check, BEP 21 and the family-first
 * sampling are the scripts' (see `lua_scripts.ts`); a refusal is the same `ClientError` the memory
 * store throws (`core/refusals.ts`). While Redis is away every call is refused with BEP 31
 * `retry in` (`storeUnavailable`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Allowlist, diffAllowlists } from "../core/allowlist.ts";
import type { AnnounceInput } from "../core/announce_input.ts";
import {
  notAllowed,
  peerIdInUse,
  storeUnavailable,
  swarmFull,
  tooManyTorrents,
} from "../core/refusals.ts";
import type { SwarmStore } from "../core/swarm_store.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import { messageOf } from "../protocol/error_message.ts";
import type { AnnounceResult, ScrapeEntry } from "../protocol/messages.ts";
import type { Logger } from "../runtime/logger.ts";
import type { SharedStatsSource } from "../stats/shared_stats.ts";
import type { StatsTotals } from "../stats/stats_snapshot.ts";
import { buildScriptLibrary, type ScriptName } from "./lua_library.ts";
import { packAnnounce } from "./announce_arguments.ts";
import {
  RedisConnection,
  type ScriptArgument,
  type ScriptReply,
  StoreUnavailableError,
} from "./redis_connection.ts";

/** Options for `RedisSwarmStore.open`. */
export interface RedisStoreOptions {
  /** `redis://…` or `rediss://…`, with the database number as the path. */
  url: string;
  logger: Logger;
  /** Which torrents are served. @default open mode */
  allowlist?: Allowlist;
  /** Seconds of silence after which a peer is dropped. */
  expirySeconds: number;
  /** Most swarms at once in open mode, across every process. @default 100000 */
  maxTorrents?: number;
  /** Most peers in one swarm, across every process. @default 50000 */
  maxPeersPerTorrent?: number;
  /** Prefix of every key, so several trackers (or tests) share one database. @default "nobrake:" */
  keyPrefix?: string;
  /** Uniform random numbers in [0, 1), seeding the scripts' sampling. @default Math.random */
  random?: () => number;
  /** Milliseconds a Redis call may take before the request is refused. @default 2000 */
  callTimeoutMs?: number;
}

const STATUS_HIJACK = 1;
const STATUS_TOO_MANY_TORRENTS = 2;
const STATUS_SWARM_FULL = 3;
/** Torrents one sweep call expires at most: a call holds Redis for about this many swarms. */
const SWEEP_BATCH = 200;

/** Swarms in Redis. */
export class RedisSwarmStore implements SwarmStore, SharedStatsSource {
  readonly #connection: RedisConnection;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #expirySeconds: number;
  readonly #maxTorrents: number;
  readonly #maxPeers: number;
  readonly #random: () => number;
  #allowlist: Allowlist;

  private constructor(connection: RedisConnection, options: RedisStoreOptions) {
    this.#connection = connection;
    this.#logger = options.logger;
    this.#allowlist = options.allowlist ?? Allowlist.openMode();
    this.#prefix = options.keyPrefix ?? "nobrake:";
    this.#expirySeconds = options.expirySeconds;
    this.#maxTorrents = options.maxTorrents ?? 100_000;
    this.#maxPeers = options.maxPeersPerTorrent ?? 50_000;
    this.#random = options.random ?? Math.random;
  }

  /** Connects to Redis and loads the scripts; throws when Redis cannot be reached now. */
  static async open(options: RedisStoreOptions): Promise<RedisSwarmStore> {
    const connection = await RedisConnection.open({
      url: options.url,
      logger: options.logger,
      callTimeoutMs: options.callTimeoutMs,
      library: buildScriptLibrary(),
    });
    return new RedisSwarmStore(connection, options);
  }

  /** The allowlist in force. */
  get allowlist(): Allowlist {
    return this.#allowlist;
  }

  /** Redis calls that failed since start (for /metrics). */
  get errors(): number {
    return this.#connection.errors;
  }

  /** Records an announce in Redis and answers it. Throws or rejects `ClientError` on refusal. */
  announce(input: AnnounceInput, now: number): Promise<AnnounceResult> {
    const request = input.request;
    if (!this.#allowlist.allows(request.infoHash)) throw notAllowed();
    const seconds = Math.floor(now / 1000);
    const args: ScriptArgument[] = [
      this.#prefix,
      packAnnounce(input, {
        now: seconds,
        cutoff: seconds - this.#expirySeconds,
        open: this.#allowlist.open,
        maxTorrents: this.#maxTorrents,
        maxPeers: this.#maxPeers,
        seed: Math.floor(this.#random() * 0x7fff_ffff),
      }),
    ];
    // One step from the reply to the result (or to the refusal a Redis fault stands for).
    return this.#connection.run("announce", args).then(
      (reply) => announceResult(reply, input.wantPeerIds),
      unavailable,
    );
  }

  /** Scrape counts for these hashes (those not allowed are left out), or every public torrent. */
  async scrape(infoHashes: readonly ByteString[] | null): Promise<ScrapeEntry[]> {
    const allowlist = this.#allowlist;
    let hashes: ByteString[] | null;
    if (infoHashes !== null) hashes = infoHashes.filter((hash) => allowlist.allows(hash));
    else hashes = allowlist.open ? null : publicHashes(allowlist);
    if (hashes !== null && hashes.length === 0) return [];
    const args: ScriptArgument[] = [this.#prefix];
    for (const hash of hashes ?? []) args.push(Buffer.from(hash, "latin1"));
    const reply = await this.#call("scrape", args) as ScriptReply[];
    const entries: ScrapeEntry[] = [];
    for (let i = 0; i + 4 < reply.length; i += 5) {
      entries.push({
        infoHash: (reply[i] as Buffer).toString("latin1"),
        complete: reply[i + 1] as number,
        incomplete: reply[i + 2] as number,
        downloaders: reply[i + 3] as number,
        downloaded: reply[i + 4] as number,
      });
    }
    return entries;
  }

  /**
   * Expires silent peers across every torrent, a batch of torrents per call, oldest first. Any
   * process may run it; Redis runs each batch atomically, so several processes sweeping at once
   * only share the work.
   */
  async sweep(now: number): Promise<void> {
    const cutoff = String(Math.floor(now / 1000) - this.#expirySeconds);
    const open = this.#allowlist.open ? "1" : "0";
    while (true) {
      const visited = await this.#call("sweep", [this.#prefix, cutoff, open, String(SWEEP_BATCH)]);
      if ((visited as number) < SWEEP_BATCH) return;
    }
  }

  /**
   * Tracker-wide totals over every swarm, as every process sees them: `torrents` is the allowed
   * torrents in allowlist mode and the swarms with peers in open mode (as `trackerTotals`).
   */
  async totals(): Promise<StatsTotals> {
    const reply = await this.#call("totals", [this.#prefix]) as number[];
    const [torrents, seeders4, leechers4, seeders6, leechers6, , udp] = reply;
    const peers = seeders4 + leechers4 + seeders6 + leechers6;
    return {
      torrents: this.#allowlist.open ? torrents : this.#allowlist.size,
      seeders: seeders4 + seeders6,
      leechers: leechers4 + leechers6,
      ipv4: seeders4 + leechers4,
      ipv6: seeders6 + leechers6,
      http: peers - udp,
      udp,
      // WebSocket (WebTorrent) peers stay in each process's memory: none are in Redis.
      websocket: 0,
    };
  }

  /**
   * Swaps in a new allowlist in one step, and drops from Redis the swarms of hashes it no longer
   * allows (every process does the same on its reload; dropping twice is harmless).
   */
  replaceAllowlist(next: Allowlist): void {
    const { removed } = diffAllowlists(this.#allowlist, next);
    this.#allowlist = next;
    if (next.open || removed.length === 0) return;
    const args: ScriptArgument[] = [this.#prefix];
    for (const hash of removed) args.push(Buffer.from(hash, "latin1"));
    this.#call("drop", args).catch((error) => {
      this.#logger.log("error", `dropping removed torrents from Redis failed: ${messageOf(error)}`);
    });
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /** Runs a script; a Redis fault becomes the client-facing refusal. */
  #call(name: ScriptName, args: ScriptArgument[]): Promise<ScriptReply> {
    return this.#connection.run(name, args).catch(unavailable);
  }
}

/** A Redis fault as the refusal a client gets; anything else as it is. */
function unavailable(error: unknown): never {
  if (error instanceof StoreUnavailableError) throw storeUnavailable();
  throw error;
}

/** The announce script's reply as the core's result, or the refusal it stands for. */
function announceResult(reply: ScriptReply, wantIds: boolean): AnnounceResult {
  const fields = reply as ScriptReply[];
  switch (fields[0]) {
    case 0:
      break;
    case STATUS_HIJACK:
      throw peerIdInUse();
    case STATUS_TOO_MANY_TORRENTS:
      throw tooManyTorrents();
    case STATUS_SWARM_FULL:
      throw swarmFull();
    default:
      throw new Error(`unexpected announce script status ${String(fields[0])}`);
  }
  return {
    complete: fields[1] as number,
    incomplete: fields[2] as number,
    downloaders: fields[3] as number,
    downloaded: fields[4] as number,
    peers4: fields[5] as Buffer,
    peers6: fields[6] as Buffer,
    peerIds4: wantIds ? fields[7] as Buffer : null,
    peerIds6: wantIds ? fields[8] as Buffer : null,
  };
}

/** The hashes a full scrape lists in allowlist mode: every torrent that is not secret. */
function publicHashes(allowlist: Allowlist): ByteString[] {
  const hashes: ByteString[] = [];
  for (const torrent of allowlist.torrents) {
    if (torrent.secret) continue;
    if (torrent.infoHashV1 !== null) hashes.push(torrent.infoHashV1);
    if (torrent.infoHashV2 !== null) hashes.push(torrent.infoHashV2);
  }
  return hashes;
}
