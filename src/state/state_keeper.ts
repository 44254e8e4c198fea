/**
 * Keeps the tracker's state in the state file for its whole run: opens the file and puts the saved
 * swarms back at start, writes changed `downloaded` counts when asked (once a second, by the
 * server's timers, `src/server/timers.ts`), and saves everything on a graceful stop. The rows are `src/state/swarm_state.ts`; the file is `state_store.ts`.
 *
 * Worst case on a crash (`kill -9`, power loss): the completions counted in the last second, which
 * had not been written yet, and every peer (peers are saved on a graceful stop only; they come
 * back as they announce again, within `interval`). A write that fails (disk full) is logged once
 * and retried each second until one succeeds.
 *
 * @module
 */
import { oneLineMessageOf } from "../protocol/error_message.ts";
import { CountJournal, exportSwarms, importSwarms, type SwarmRow } from "./swarm_state.ts";
import type { Tracker } from "../core/tracker.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import type { Logger } from "../runtime/logger.ts";
import { openStateStore, type StateStore } from "./state_store.ts";

/** How often changed counts are written. */
export const COUNT_WRITE_INTERVAL_MS = 1000;

/** Options for `StateKeeper.open`. */
export interface StateKeeperOptions {
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Peers silent longer than this are not put back. */
  expirySeconds: number;
  /** Most peers put back into one swarm. */
  maxPeersPerTorrent: number;
}

/** The state file of one run. */
export class StateKeeper {
  readonly #store: StateStore | null;
  #rows: Iterable<SwarmRow> | null;
  readonly #options: StateKeeperOptions;
  readonly #journal = new CountJournal();
  #failing = false;
  #stopped = false;

  private constructor(
    store: StateStore | null,
    rows: Iterable<SwarmRow>,
    options: StateKeeperOptions,
  ) {
    this.#store = store;
    this.#rows = rows;
    this.#options = options;
  }

  /** Opens the file at `path`. Never throws: without a usable file the tracker runs without one. */
  static open(path: string, options: StateKeeperOptions): StateKeeper {
    const opened = openStateStore(path, { logger: options.logger, now: options.now });
    return new StateKeeper(opened?.store ?? null, opened?.rows ?? [], options);
  }

  /** Wire to `TrackerOptions.onCompletion`. */
  readonly onCompletion = (infoHash: ByteString): void => this.#journal.completed(infoHash);

  /** Puts the saved swarms into `tracker`. Call once, before serving. */
  start(tracker: Tracker): void {
    if (this.#store === null) return;
    const { logger, now, expirySeconds } = this.#options;
    const summary = importSwarms(tracker, this.#rows ?? [], {
      now: now(),
      expirySeconds,
      maxPeersPerTorrent: this.#options.maxPeersPerTorrent,
    });
    logger.log(
      "startup",
      `state from ${this.#store.path}: ${summary.swarms} swarms and ${summary.peers} peers ` +
        `restored, ${summary.expiredPeers} peers expired, ${summary.droppedPeers} over a cap, ` +
        `${summary.refused} torrents no longer allowed or over a cap, ${summary.keptCounts} ` +
        "counts kept without a swarm",
    );
    // The packed peers read at open are not needed again: let them go.
    this.#rows = null;
  }

  /** Saves every swarm and peer, and closes the file. Once; never throws. */
  stop(tracker: Tracker): void {
    if (this.#store === null || this.#stopped) return;
    this.#stopped = true;
    const { logger } = this.#options;
    try {
      let swarms = 0;
      let peers = 0;
      const rows = (function* () {
        for (const row of exportSwarms(tracker)) {
          swarms++;
          peers += row.peers.length;
          yield row;
        }
      })();
      // Open mode: counts whose swarm is gone (its peers expired, or none came back yet).
      this.#store.saveAll(rows, tracker.keptCounts());
      logger.log("startup", `state saved to ${this.#store.path}: ${swarms} swarms, ${peers} peers`);
    } catch (error) {
      logger.log("error", `cannot save state to ${this.#store.path}: ${oneLineMessageOf(error)}`);
    }
    try {
      this.#store.close();
    } catch { /* nothing more to lose */ }
  }

  /**
   * Writes the counts changed since the last write (every `COUNT_WRITE_INTERVAL_MS`). Never
   * throws: a failed write is logged once and its changes are kept for the next one.
   */
  writeCounts(tracker: Tracker): void {
    if (this.#store === null || this.#stopped) return;
    const store = this.#store;
    const changes = this.#journal.collect(tracker);
    try {
      store.writeCounts(changes);
      if (this.#failing) {
        this.#options.logger.log("startup", `state file ${store.path} is written again`);
        this.#failing = false;
      }
    } catch (error) {
      this.#journal.failed(changes);
      if (!this.#failing) {
        this.#options.logger.log(
          "error",
          `cannot write counts to ${store.path}, retrying every second: ${oneLineMessageOf(error)}`,
        );
        this.#failing = true;
      }
    }
  }
}
