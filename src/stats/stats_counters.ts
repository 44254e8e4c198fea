/**
 * The one stats event sink every transport feeds (as opentracker's `stats_issue_event`): answered
 * announces and scrapes and refused requests, by protocol and by a small fixed set of reason
 * labels, a histogram of request handling time, and a ring of 10-second slots over the last hour
 * for request rates.
 *
 * Recording is on the announce path, so it reads no clock and only increments typed-array cells:
 * no allocation, no string, no map. A clock read costs more than all of that (about 0.1 µs for
 * `performance.now()` on a small VM), so:
 * - the ring is moved on by `advance(now)`, which the runtime calls once a second (and `snapshot`
 *   calls too); a request counts in the slot current at the last advance, at most a second late;
 * - only one request in `TIMING_SAMPLE` is timed (`shouldTime()`): the duration histogram is of
 *   that sample, while the request counters count every request.
 *
 * Every total, rate and chart is computed when a page asks (`snapshot`, `requestRate`). Time is
 * passed in (milliseconds since the epoch), so tests are exact.
 *
 * It does not hold swarm sizes (`SwarmHistory` samples those) and renders nothing.
 *
 * @module
 */
import { ClientError, type RefusalReason } from "../protocol/client_error.ts";
import type { Transport } from "../protocol/messages.ts";

/** Why a request failed: a client refusal class, or `internal` for a bug. Never client text. */
export type FailureReason = RefusalReason | "internal";

/** Every protocol, in the order stats list them. */
export const PROTOCOLS: readonly Transport[] = ["http", "udp", "websocket"];

/** Every failure reason, in the order stats list them. */
export const FAILURE_REASONS: readonly FailureReason[] = [
  "malformed",
  "not_allowed",
  "full",
  "hijack",
  "rate_limited",
  "internal",
];

/** Upper bounds of the request-duration histogram buckets, in seconds; `+Inf` follows them. */
export const DURATION_BUCKETS: readonly number[] = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

/** One request in this many is timed for the duration histogram (the first one included). */
export const TIMING_SAMPLE = 16;

/** Seconds per slot of the request-rate ring. */
export const RATE_SLOT_SECONDS = 10;
/** Slots in the request-rate ring: one hour. */
export const RATE_SLOTS = 360;

/**
 * What a transport calls once per request it answers: exactly one of the three record calls. A
 * refused announce or scrape is a failure, not an announce. The duration is in milliseconds (a
 * `performance.now()` difference) for a request `shouldTime()` picked, and `null` otherwise:
 *
 * ```ts
 * const started = recorder.shouldTime() ? performance.now() : -1;
 * // ... answer the request ...
 * recorder.recordAnnounce("udp", started < 0 ? null : performance.now() - started);
 * ```
 */
export interface StatsRecorder {
  /** Whether to time the request about to be handled (one in `TIMING_SAMPLE`). */
  shouldTime(): boolean;
  /** An announce answered with peers. */
  recordAnnounce(protocol: Transport, durationMs: number | null): void;
  /** A scrape answered with counts. */
  recordScrape(protocol: Transport, durationMs: number | null): void;
  /** A request refused (`ClientError`) or failed (a bug); see `failureReasonOf`. */
  recordFailure(protocol: Transport, reason: FailureReason, durationMs: number | null): void;
}

/**
 * A recorder that records nothing and times nothing (for benchmarks and tests). Frozen: one object
 * is shared by every handler built without counters.
 */
export const NO_STATS: StatsRecorder = Object.freeze({
  shouldTime: () => false,
  recordAnnounce() {},
  recordScrape() {},
  recordFailure() {},
});

/** The failure reason of an error a request handler caught: its refusal class, or `internal`. */
export function failureReasonOf(error: unknown): FailureReason {
  return error instanceof ClientError ? error.reason : "internal";
}

/** One protocol's request-duration histogram, as Prometheus wants it. */
export interface DurationHistogram {
  /** Cumulative counts: `cumulative[i]` requests took at most `DURATION_BUCKETS[i]` seconds; the last entry is `+Inf`. */
  cumulative: number[];
  /** Total seconds over all requests. */
  sumSeconds: number;
  /** Requests observed (equals the last cumulative count). */
  count: number;
}

/** Request counts per 10-second slot over the last hour, oldest first. */
export interface RecentRequests {
  /** Start of the first slot, milliseconds since the epoch. The last slot is the current one. */
  firstSlotStart: number;
  /** `RATE_SLOTS` entries each. */
  announces: number[];
  scrapes: number[];
}

/** Everything the counters hold, at one instant. */
export interface CountersSnapshot {
  /** When counting began, milliseconds since the epoch. */
  startedAt: number;
  /** When the snapshot was taken. */
  takenAt: number;
  announces: Record<Transport, number>;
  scrapes: Record<Transport, number>;
  failures: Record<Transport, Record<FailureReason, number>>;
  durations: Record<Transport, DurationHistogram>;
  recent: RecentRequests;
}

const SLOT_MS = RATE_SLOT_SECONDS * 1000;
const PROTOCOL_COUNT = 3;
const BUCKETS_MS = Float64Array.from(DURATION_BUCKETS, (seconds) => seconds * 1000);
const BUCKET_CELLS = DURATION_BUCKETS.length + 1;
const REASON_INDEX: Readonly<Record<FailureReason, number>> = {
  malformed: 0,
  not_allowed: 1,
  full: 2,
  hijack: 3,
  rate_limited: 4,
  internal: 5,
};

/** The counters; one per tracker process, shared by every transport. */
export class StatsCounters implements StatsRecorder {
  /** When counting began, milliseconds since the epoch. */
  readonly startedAt: number;
  // Index 0 is HTTP, 1 is UDP, 2 is WebSocket. Float64 cells count exactly up to 2^53.
  readonly #announces = new Float64Array(PROTOCOL_COUNT);
  readonly #scrapes = new Float64Array(PROTOCOL_COUNT);
  readonly #failures = new Float64Array(PROTOCOL_COUNT * FAILURE_REASONS.length);
  readonly #buckets = new Float64Array(PROTOCOL_COUNT * BUCKET_CELLS);
  readonly #durationSumMs = new Float64Array(PROTOCOL_COUNT);
  readonly #announceSlots = new Float64Array(RATE_SLOTS);
  readonly #scrapeSlots = new Float64Array(RATE_SLOTS);
  /** The 10-second tick (`floor(now / 10 s)`) of the newest slot. */
  #tick: number;
  /** The ring index of that slot. */
  #slot: number;
  #timingCountdown = 0;

  constructor(options: { startedAt: number }) {
    this.startedAt = options.startedAt;
    this.#tick = Math.floor(options.startedAt / SLOT_MS);
    this.#slot = mod(this.#tick, RATE_SLOTS);
  }

  shouldTime(): boolean {
    if (this.#timingCountdown > 0) {
      this.#timingCountdown--;
      return false;
    }
    this.#timingCountdown = TIMING_SAMPLE - 1;
    return true;
  }

  recordAnnounce(protocol: Transport, durationMs: number | null): void {
    const p = protocolIndex(protocol);
    this.#announces[p]++;
    this.#announceSlots[this.#slot]++;
    if (durationMs !== null) this.#observe(p, durationMs);
  }

  recordScrape(protocol: Transport, durationMs: number | null): void {
    const p = protocolIndex(protocol);
    this.#scrapes[p]++;
    this.#scrapeSlots[this.#slot]++;
    if (durationMs !== null) this.#observe(p, durationMs);
  }

  recordFailure(protocol: Transport, reason: FailureReason, durationMs: number | null): void {
    const p = protocolIndex(protocol);
    this.#failures[p * FAILURE_REASONS.length + (REASON_INDEX[reason] ?? REASON_INDEX.internal)]++;
    if (durationMs !== null) this.#observe(p, durationMs);
  }

  /**
   * Moves the ring on to the slot of `now`, emptying the slots passed over; requests recorded
   * from now on count in that slot. A clock stepping back leaves the ring where it is.
   */
  advance(now: number): void {
    const tick = Math.floor(now / SLOT_MS);
    if (tick <= this.#tick) return;
    const skipped = Math.min(tick - this.#tick, RATE_SLOTS);
    for (let t = tick - skipped + 1; t <= tick; t++) {
      this.#announceSlots[mod(t, RATE_SLOTS)] = 0;
      this.#scrapeSlots[mod(t, RATE_SLOTS)] = 0;
    }
    this.#tick = tick;
    this.#slot = mod(tick, RATE_SLOTS);
  }

  /** Advances to `now`, then copies every counter out, and the last hour of slots in time order. */
  snapshot(now: number): CountersSnapshot {
    this.advance(now);
    const byProtocol = <T>(make: (p: number) => T): Record<Transport, T> => ({
      http: make(0),
      udp: make(1),
      websocket: make(2),
    });
    const failures = byProtocol((p) => {
      const out = {} as Record<FailureReason, number>;
      for (const [i, reason] of FAILURE_REASONS.entries()) {
        out[reason] = this.#failures[p * FAILURE_REASONS.length + i];
      }
      return out;
    });
    const durations = byProtocol((p) => {
      const cumulative: number[] = [];
      let running = 0;
      for (let i = 0; i < BUCKET_CELLS; i++) {
        cumulative.push(running += this.#buckets[p * BUCKET_CELLS + i]);
      }
      return { cumulative, sumSeconds: this.#durationSumMs[p] / 1000, count: running };
    });
    // After a clock step back, slots newer than the ring's are empty; so are slots out of the hour.
    const nowTick = Math.max(Math.floor(now / SLOT_MS), this.#tick);
    const announces: number[] = [];
    const scrapes: number[] = [];
    for (let tick = nowTick - RATE_SLOTS + 1; tick <= nowTick; tick++) {
      const live = tick <= this.#tick && tick > this.#tick - RATE_SLOTS;
      announces.push(live ? this.#announceSlots[mod(tick, RATE_SLOTS)] : 0);
      scrapes.push(live ? this.#scrapeSlots[mod(tick, RATE_SLOTS)] : 0);
    }
    return {
      startedAt: this.startedAt,
      takenAt: now,
      announces: byProtocol((p) => this.#announces[p]),
      scrapes: byProtocol((p) => this.#scrapes[p]),
      failures,
      durations,
      recent: { firstSlotStart: (nowTick - RATE_SLOTS + 1) * SLOT_MS, announces, scrapes },
    };
  }

  #observe(p: number, durationMs: number): void {
    let bucket = 0;
    while (bucket < BUCKETS_MS.length && durationMs > BUCKETS_MS[bucket]) bucket++;
    this.#buckets[p * BUCKET_CELLS + bucket]++;
    this.#durationSumMs[p] += durationMs;
  }
}

/**
 * Requests per second over the last `windowSeconds` (at most an hour): the current partial slot,
 * the whole slots before it, and the share of the oldest slot that falls inside the window,
 * divided by the time covered (never more than the uptime).
 */
export function requestRate(
  snapshot: CountersSnapshot,
  kind: "announces" | "scrapes",
  windowSeconds: number,
): number {
  const slots = snapshot.recent[kind];
  const windowMs = Math.min(windowSeconds * 1000, slots.length * SLOT_MS);
  const currentStart = snapshot.recent.firstSlotStart + (slots.length - 1) * SLOT_MS;
  let coveredMs = 0;
  let count = 0;
  for (let i = slots.length - 1; i >= 0 && coveredMs < windowMs; i--) {
    const slotMs = i === slots.length - 1
      ? Math.min(SLOT_MS, Math.max(0, snapshot.takenAt - currentStart))
      : SLOT_MS;
    const share = Math.min(slotMs, windowMs - coveredMs);
    // The current slot is wholly inside the window, even in its first millisecond.
    count += slotMs > 0 ? slots[i] * (share / slotMs) : slots[i];
    coveredMs += share;
  }
  const seconds = Math.min(coveredMs, snapshot.takenAt - snapshot.startedAt) / 1000;
  return seconds > 0 ? count / seconds : 0;
}

/** The cell of a protocol: HTTP and UDP as before WebSocket came, so their order is kept. */
function protocolIndex(protocol: Transport): number {
  return protocol === "http" ? 0 : protocol === "udp" ? 1 : 2;
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}
