/**
 * The per-address rate limit on announces and scrapes (config `rate_limit`): a token bucket per
 * client address, in a table of fixed size. Pure: no clock (`now` is passed in, milliseconds), no
 * I/O, and no knowledge of transports; HTTP and UDP share one instance, so a client cannot double
 * its allowance by switching protocol.
 *
 * The bucket holds at most `perMinute` tokens and refills at `perMinute` a minute; a request takes
 * one token or is refused. A client may so send a burst of `perMinute` requests (a client starting
 * with many torrents announces them all at once), then `perMinute` a minute on average. A refused
 * request takes nothing, so a client that keeps hammering still gets its steady share through.
 *
 * Addresses are keyed as a network sees them: an IPv4 address alone, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, and would otherwise have 2^64 fresh buckets).
 *
 * Memory is bounded: buckets live in two generations of at most `maxAddresses / 2` each. New
 * addresses go into the current one; when it is full it becomes the previous one and the old
 * previous one is dropped whole. An address found in the previous generation moves to the current
 * one, so an address that keeps sending is never forgotten; an address is forgotten only after
 * `maxAddresses / 2` new ones arrived since its last request, and comes back with a full bucket.
 * So one who sends from that many addresses (or /64s) within a minute can escape the limit; no
 * bounded table can do better, and an announce needs a real round trip (TCP, or a BEP 15
 * connection id), so the addresses cannot be spoofed.
 *
 * Why generations and not a least-recently-used list on one `Map` (delete, then set again, on
 * every request): V8's `Map` leaves a hole per delete, and a table near its capacity rehashes all
 * of its entries every few requests; measured on a full table of 65,536, about 100 µs a request.
 *
 * It does not decide which address a request comes from (trusted proxies are the transport's
 * business) and does not count connects, stats pages or anything but what the transports pass in.
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";

/** How the limiter is set up. */
export interface RateLimiterOptions {
  /** Announces and scrapes per address per minute (the bucket size too); at least 1. */
  perMinute: number;
  /**
   * Most buckets held at once (IPv4 addresses and IPv6 /64s), in two generations of half each.
   * @default 65536
   */
  maxAddresses?: number;
}

/** Shortest BEP 31 `retry in` for a refusal, in seconds: BEP 31 counts in whole minutes. */
const MIN_RETRY_SECONDS = 60;
const MINUTE_MS = 60_000;

/** One address's bucket. */
interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, milliseconds. */
  updatedAt: number;
}

/** Token buckets per address, in two generations. */
export class RateLimiter {
  readonly perMinute: number;
  readonly maxAddresses: number;
  readonly #generationSize: number;
  #current = new Map<number | string, Bucket>();
  #previous = new Map<number | string, Bucket>();
  /** Tokens gained per millisecond. */
  readonly #refill: number;
  readonly #message: string;

  constructor(options: RateLimiterOptions) {
    if (!(Number.isSafeInteger(options.perMinute) && options.perMinute >= 1)) {
      throw new RangeError(`perMinute must be a positive integer, got ${options.perMinute}`);
    }
    this.perMinute = options.perMinute;
    this.maxAddresses = Math.max(2, options.maxAddresses ?? 65_536);
    this.#generationSize = Math.floor(this.maxAddresses / 2);
    this.#refill = this.perMinute / MINUTE_MS;
    this.#message = `too many requests from your address: at most ${this.perMinute} ` +
      "announces and scrapes a minute";
  }

  /** Buckets held: at most `maxAddresses` (an address moved on to the newer one counts twice). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /**
   * Takes a token for `address` (4 or 16 bytes) at `now`. Returns 0 if the request may go on, or
   * the milliseconds until the address has a token again.
   */
  take(address: Uint8Array, now: number): number {
    const key = keyOf(address);
    let bucket = this.#current.get(key);
    if (bucket === undefined) {
      bucket = this.#previous.get(key) ?? { tokens: this.perMinute, updatedAt: now };
      if (this.#current.size >= this.#generationSize) {
        this.#previous = this.#current;
        this.#current = new Map();
      }
      this.#current.set(key, bucket);
    }
    // A clock stepping back refills nothing until it has caught up again.
    const elapsed = now - bucket.updatedAt;
    if (elapsed > 0) {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + elapsed * this.#refill);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#refill);
  }

  /**
   * Takes a token, or throws the `ClientError` a refused client sees: what the limit is, and BEP 31
   * `retry in` (at least a minute, the smallest step BEP 31 has).
   */
  admit(address: Uint8Array, now: number): void {
    const waitMs = this.take(address, now);
    if (waitMs === 0) return;
    throw new ClientError(this.#message, {
      retryIn: Math.max(MIN_RETRY_SECONDS, Math.ceil(waitMs / 1000)),
      reason: "rate_limited",
    });
  }
}

/**
 * The bucket key of an address: an IPv4 address as a number, an IPv6 address by its first 64 bits
 * as a 4-character string (two key types, so the two families can never collide).
 */
export function keyOf(address: Uint8Array): number | string {
  if (address.length === 4) {
    return ((address[0] << 24) | (address[1] << 16) | (address[2] << 8) | address[3]) >>> 0;
  }
  return String.fromCharCode(
    (address[0] << 8) | address[1],
    (address[2] << 8) | address[3],
    (address[4] << 8) | address[5],
    (address[6] << 8) | address[7],
  );
}
