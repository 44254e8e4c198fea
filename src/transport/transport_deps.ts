/**
 * The one shape of what a transport's handler factory is given: `createHttpHandler` and
 * `createUdpHandler` both take a `TransportDeps` (plus the few things only one of them has), so the
 * composition root builds one set of dependencies and hands it to each.
 *
 * @module
 */
import type { Passkeys } from "../core/passkeys.ts";
import type { RateLimiter } from "../core/rate_limiter.ts";
import type { Tracker } from "../core/tracker.ts";
import type { TransportSettings } from "../settings.ts";
import type { StatsRecorder } from "../stats/stats_counters.ts";
import type { Logger } from "../runtime/logger.ts";

/** What every transport's handler needs. */
export interface TransportDeps {
  tracker: Tracker;
  settings: TransportSettings;
  logger: Logger;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Where each announce, scrape and refusal is recorded. @default per transport */
  recorder?: StatsRecorder;
  /** The passkey list in force, read per request as reloads swap it. @default () => null */
  passkeys?: () => Passkeys | null;
  /** True once the tracker is stopping. @default () => false */
  shuttingDown?: () => boolean;
  /** The per-address limit on announces and scrapes, shared by the transports. @default none */
  rateLimiter?: RateLimiter | null;
}
