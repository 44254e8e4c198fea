/**
 * Wires the WebSocket (WebTorrent) tracker into a running tracker: builds the transport from the
 * config, and runs its one timer, which closes silent sockets and sweeps expired WebSocket peers.
 * The HTTP handler hands it WebSocket requests to `/announce` (`upgrade`); `stop` closes every
 * socket and the timer.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Passkeys } from "../core/passkeys.ts";
import type { RateLimiter } from "../core/rate_limiter.ts";
import type { Tracker } from "../core/tracker.ts";
import type { WsSwarms } from "../core/ws_swarms.ts";
import type { Logger } from "../runtime/logger.ts";
import type { StatsCounters } from "../stats/stats_counters.ts";
import { createWsTracker, type WsTracker } from "../ws/ws_tracker.ts";

/**
 * The longest announce interval told to WebSocket clients, in seconds. Peers meet only when one
 * of them announces (its offers go out then), so WebTorrent clients need a shorter interval than
 * TCP ones; two minutes is what WebTorrent's own tracker tells them.
 */
export const WS_MAX_INTERVAL = 120;
/** Seconds between two runs of the WebSocket timer. */
const TIMER_SECONDS = 15;
/** Peers examined per sweep slice (as the tracker's sweep). */
const SWEEP_SLICE = 5_000;

/** What the WebSocket tracker shares with the rest of the tracker. */
export interface WebSocketShared {
  tracker: Tracker;
  swarms: WsSwarms<WebSocket>;
  counters: StatsCounters;
  logger: Logger;
  now: () => number;
  passkeys: () => Passkeys | null;
  shuttingDown: () => boolean;
  rateLimiter: RateLimiter | null;
}

/** The running WebSocket tracker. */
export interface RunningWebSocketTracker {
  upgrade: WsTracker["upgrade"];
  transport: WsTracker;
  stop(): void;
}

/** Builds the transport and starts its timer. */
export function startWebSocketTracker(
  config: Config,
  shared: WebSocketShared,
): RunningWebSocketTracker {
  const interval = Math.min(config.interval, WS_MAX_INTERVAL);
  const transport = createWsTracker({
    tracker: shared.tracker,
    swarms: shared.swarms,
    logger: shared.logger,
    now: shared.now,
    recorder: shared.counters,
    passkeys: shared.passkeys,
    shuttingDown: shared.shuttingDown,
    rateLimiter: shared.rateLimiter,
    settings: {
      interval,
      // A client that missed three announces in a row is gone, whatever its socket says.
      silentCloseSeconds: Math.min(3 * interval + 60, config.expiry),
      logAnnounces: config.log_announces,
    },
  });
  const timer = setInterval(() => {
    transport.closeSilent();
    // One slice per tick: a long pass over many swarms spreads over several ticks.
    shared.swarms.sweep(shared.now(), SWEEP_SLICE);
  }, TIMER_SECONDS * 1000);
  return {
    upgrade: transport.upgrade,
    transport,
    stop() {
      clearInterval(timer);
      transport.closeAll();
    },
  };
}
