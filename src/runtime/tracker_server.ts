/**
 * Starts a whole tracker from a `Config`: loads the allowlist, builds the core, serves HTTP and
 * runs the expiry sweep. Returns a handle to reload the allowlist and to shut down. `main.ts`
 * wires signals to that handle; end-to-end tests use the handle directly on port 0.
 *
 * @module
 */
import { Allowlist, diffAllowlists } from "../core/allowlist.ts";
import { Tracker } from "../core/tracker.ts";
import { type Config, effectiveMinInterval } from "../config.ts";
import { createHttpHandler } from "../http/handler.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";
import { VERSION } from "../version.ts";
import { loadAllowlist } from "./allowlist_loader.ts";
import { type DirectoryWatcher, watchDirectory } from "./directory_watcher.ts";
import type { Logger } from "./logger.ts";

/** A running tracker. */
export interface TrackerServer {
  /** The bound HTTP address (the real port when the config said 0). */
  readonly httpAddress: Deno.NetAddr;
  /** The core, for tests and stats. */
  readonly tracker: Tracker;
  /** Rebuilds the allowlist from its directory and swaps it in; logs and keeps the old on failure. */
  reload(): Promise<void>;
  /** Stops accepting, finishes in-flight requests, stops timers and flushes the log. */
  shutdown(): Promise<void>;
}

/** Options for `startTrackerServer`. */
export interface StartOptions {
  logger: Logger;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** Peers examined per sweep slice before yielding to requests. */
const SWEEP_SLICE = 20_000;

/** Loads, listens and returns the running tracker. Throws if the allowlist directory is unusable. */
export async function startTrackerServer(
  config: Config,
  options: StartOptions,
): Promise<TrackerServer> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const openMode = config.allowed === "*";
  const loaded = openMode ? null : await loadListLogged(config.allowed, logger);
  const allowlist = loaded?.allowlist ?? Allowlist.openMode();
  const tracker = new Tracker({
    allowlist,
    expirySeconds: config.expiry,
    maxTorrents: config.max_torrents,
    maxPeersPerTorrent: config.max_peers_per_torrent,
  });
  const handler = createHttpHandler({
    tracker,
    logger,
    now,
    version: VERSION,
    settings: {
      interval: config.interval,
      minInterval: effectiveMinInterval(config),
      numwantDefault: config.numwant_default,
      numwantMax: config.numwant_max,
      trustIpParam: config.trust_ip_param,
      noscrape: config.noscrape,
      nostats: config.nostats,
      logAnnounces: config.log_announces,
    },
  });
  const hostname = config.ip ?? (config.family === "AF_INET6" ? "::" : "0.0.0.0");
  const server = Deno.serve({ hostname, port: config.port, onListen: () => {} }, handler);
  const httpAddress = server.addr as Deno.NetAddr;
  logger.log(
    "startup",
    `NoBrake ${VERSION} listening on http://${
      formatHost(httpAddress.hostname)
    }:${httpAddress.port}` +
      ` (${
        loaded === null
          ? "open mode"
          : `${allowlist.size} torrents allowed, ${loaded.skipped} files skipped`
      })`,
  );

  // The sweep runs in slices, each its own macrotask, so requests interleave with a long pass.
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  const sweepSlice = () => {
    const done = tracker.sweep(now(), SWEEP_SLICE);
    sweepTimer = setTimeout(sweepSlice, done ? config.sweep_interval * 1000 : 0);
  };
  sweepTimer = setTimeout(sweepSlice, config.sweep_interval * 1000);

  let reloading: Promise<void> | null = null;
  async function reload(): Promise<void> {
    if (openMode) return;
    // A reload requested while one runs waits for it rather than racing it.
    while (reloading !== null) await reloading;
    reloading = (async () => {
      try {
        const { allowlist: next, skipped } = await loadListLogged(config.allowed, logger);
        const { added, removed } = diffAllowlists(tracker.allowlist, next);
        tracker.replaceAllowlist(next);
        for (const hash of added) logger.log("torrent", `${byteStringToHex(hash)} added`);
        for (const hash of removed) logger.log("torrent", `${byteStringToHex(hash)} deleted`);
        logger.log("torrent", `reloaded: ${next.size} torrents allowed, ${skipped} files skipped`);
      } catch (error) {
        logger.log("error", `reload failed, keeping the old allowlist: ${messageOf(error)}`);
      }
    })();
    try {
      await reloading;
    } finally {
      reloading = null;
    }
  }

  let watcher: DirectoryWatcher | null = null;
  if (config.watch_allowed && !openMode) {
    watcher = watchDirectory(config.allowed, () => {
      logger.log("torrent", `change under ${config.allowed}, reloading the allowlist`);
      reload();
    }, {
      onError: (error) =>
        logger.log("error", `watching ${config.allowed} stopped: ${messageOf(error)}`),
    });
  }

  return {
    httpAddress,
    tracker,
    reload,
    async shutdown() {
      clearTimeout(sweepTimer);
      watcher?.close();
      await server.shutdown();
      logger.flush();
    },
  };
}

/** Loads the allowlist, logging one line per skipped file; returns the list and the skip count. */
async function loadListLogged(
  dir: string,
  logger: Logger,
): Promise<{ allowlist: Allowlist; skipped: number }> {
  const { allowlist, skipped } = await loadAllowlist(dir);
  for (const file of skipped) logger.log("error", `skipped ${dir}/${file.path}: ${file.reason}`);
  return { allowlist, skipped: skipped.length };
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
