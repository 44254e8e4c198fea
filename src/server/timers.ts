/**
 * Everything the running tracker does on a clock rather than on a request: the expiry sweep (in
 * slices), moving the request-rate ring of the stats on, sampling swarm sizes for the charts,
 * writing changed completed counts to the state file, sweeping the Redis store when one is used, and
 * for the WebSocket tracker closing silent sockets and sweeping its swarms. One `stop()` ends them all.
 *
 * @module
 */
import type { Tracker } from "../core/tracker.ts";
import type { StatsCounters } from "../stats/stats_counters.ts";
import { HISTORY_STEP_SECONDS, type SwarmHistory } from "../stats/swarm_history.ts";
import { COUNT_WRITE_INTERVAL_MS, type StateKeeper } from "../state/state_keeper.ts";

/**
 * Peers examined per sweep slice before yielding to requests. At 1,000,000 peers a slice of
 * 5,000 held the event loop 0.15–0.6 ms at the median (20,000: 0.5–1.9 ms) for a whole pass of
 * 38–129 ms instead of 24–121 ms (`tests/bench/sweep_pause.ts`, figures in its README).
 */
export const SWEEP_SLICE = 5_000;

/** The timer functions the jobs are scheduled with (the global ones, or a test's). */
export interface Scheduler {
  /** Returns an id for `clearTimeout`; only the scheduler reads it. */
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

type GlobalTimer = ReturnType<typeof setTimeout>;

/** Deno's own timers. */
const GLOBAL_SCHEDULER: Scheduler = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (id) => clearTimeout(id as GlobalTimer | undefined),
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (id) => clearInterval(id as GlobalTimer | undefined),
};

/** Seconds between two runs of the WebSocket job. */
export const WEBSOCKET_JOB_SECONDS = 15;

/** The WebSocket tracker's periodic work (`server/websocket.ts`). */
export interface WebSocketWork {
  /** Closes sockets silent for too long. */
  closeSilent(): number;
  /** Sweeps expired WebSocket peers, about `budget` of them; true when a pass is done. */
  sweep(now: number, budget: number): boolean;
}

/** What the timers work on. */
export interface PeriodicWork {
  tracker: Tracker;
  counters: StatsCounters;
  history: SwarmHistory;
  /** The state file, or `null` when state is kept in memory only. */
  state: StateKeeper | null;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Milliseconds between sweep passes. */
  sweepIntervalMs: number;
  /** Where timers come from. @default the global timers */
  scheduler?: Scheduler;
  /** The WebSocket tracker's work, or none when it is off. @default null */
  webSockets?: WebSocketWork | null;
  /**
   * The Redis store's expiry sweep (one pass of bounded batches), or none with the memory store.
   * @default null
   */
  sharedSweep?: ((now: number) => Promise<unknown>) | null;
}

/** The running timers. */
export interface Timers {
  /** Clears every timer; nothing runs afterwards. */
  stop(): void;
}

/** Starts every periodic job over `work`. */
export function startTimers(work: PeriodicWork): Timers {
  const { tracker, counters, history, state, now, sweepIntervalMs } = work;
  const timers = work.scheduler ?? GLOBAL_SCHEDULER;
  // The sweep runs in slices, each its own macrotask, so requests interleave with a long pass.
  let sweepTimer: unknown;
  const sweepSlice = () => {
    const done = tracker.sweep(now(), SWEEP_SLICE);
    sweepTimer = timers.setTimeout(sweepSlice, done ? sweepIntervalMs : 0);
  };
  sweepTimer = timers.setTimeout(sweepSlice, sweepIntervalMs);
  // Recording reads no clock: the request-rate ring is moved on here, once a second.
  const statsTimer = timers.setInterval(() => counters.advance(now()), 1000);
  const historyTimer = timers.setInterval(
    () => history.sample(tracker, now()),
    HISTORY_STEP_SECONDS * 1000,
  );
  const countsTimer = state === null
    ? undefined
    : timers.setInterval(() => state.writeCounts(tracker), COUNT_WRITE_INTERVAL_MS);
  const webSockets = work.webSockets ?? null;
  // One sweep slice per run: a long pass over many WebSocket swarms spreads over several runs.
  const webSocketTimer = webSockets === null ? undefined : timers.setInterval(() => {
    webSockets.closeSilent();
    webSockets.sweep(now(), SWEEP_SLICE);
  }, WEBSOCKET_JOB_SECONDS * 1000);
  // Every process sweeps the shared store; Redis runs each batch atomically, so they share the
  // work. A sweep while Redis is away fails quietly (the connection logs the outage once) and
  // runs next time; a pass still running when the next is due is not doubled.
  const sharedSweep = work.sharedSweep ?? null;
  let sharedSweeping = false;
  const sharedSweepTimer = sharedSweep === null ? undefined : timers.setInterval(() => {
    if (sharedSweeping) return;
    sharedSweeping = true;
    sharedSweep(now()).catch(() => {}).finally(() => sharedSweeping = false);
  }, sweepIntervalMs);
  return {
    stop() {
      timers.clearTimeout(sweepTimer);
      timers.clearInterval(statsTimer);
      timers.clearInterval(historyTimer);
      timers.clearInterval(countsTimer);
      timers.clearInterval(webSocketTimer);
      timers.clearInterval(sharedSweepTimer);
    },
  };
}
