/**
 * The swarm store boundary: what the transports call to record an announce and to answer a scrape,
 * whatever holds the swarms. The in-memory `Tracker` is the embedded default and answers at once;
 * the Redis store (`src/redis/`) answers with a promise. A transport checks the value it gets back
 * and waits only when it is a promise, so the memory path stays synchronous.
 *
 * @module
 */
import type { Allowlist } from "./allowlist.ts";
import type { AnnounceInput } from "./announce_input.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import type { AnnounceResult, ScrapeEntry } from "../protocol/messages.ts";

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** Where swarms live: the in-memory `Tracker`, or a shared store such as Redis. */
export interface SwarmStore {
  /** The allowlist in force. */
  readonly allowlist: Allowlist;
  /** Records an announce and answers it. Rejects (or throws) `ClientError` for a refusal. */
  announce(input: AnnounceInput, now: number): MaybePromise<AnnounceResult>;
  /** Scrape counts for these hashes (those not allowed are left out), or every public torrent. */
  scrape(infoHashes: readonly ByteString[] | null): MaybePromise<ScrapeEntry[]>;
  /** Swaps in a new allowlist; swarms of hashes it no longer allows are dropped. */
  replaceAllowlist(next: Allowlist): void;
}
