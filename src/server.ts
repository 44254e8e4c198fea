/**
 * Starts a whole tracker from a `Config`: loads the allowlist, builds the core, serves HTTP and
 * (unless `udp` is off) the UDP tracker protocol on the same swarms and address, and runs the
 * expiry sweep and the once-a-minute swarm-size sampling for /stats. HTTP is HTTPS when the config
 * names a certificate; the state file (`state_keeper.ts`) is read before serving and written while
 * running. Returns a handle to reload (the allowlist, the certificate, the passkeys) and to shut
 * down. `main.ts` wires signals to that handle; end-to-end tests use the handle directly on port 0.
 *
 * @module
 */
import { messageOf } from "./protocol/error_message.ts";
import { Allowlist, diffAllowlists } from "./core/allowlist.ts";
import type { Passkeys } from "./core/passkeys.ts";
import { RateLimiter } from "./core/rate_limiter.ts";
import { StatsCounters } from "./stats/stats_counters.ts";
import { HISTORY_STEP_SECONDS, SwarmHistory } from "./stats/swarm_history.ts";
import { Tracker } from "./core/tracker.ts";
import { type Config, effectiveMinInterval } from "./config.ts";
import { createHttpHandler } from "./http/handler.ts";
import { byteStringToHex } from "./protocol/byte_string.ts";
import { CidrSet } from "./protocol/cidr.ts";
import { createUdpHandler } from "./udp/handler.ts";
import { startUdpServer, type UdpServer } from "./udp/server.ts";
import { VERSION } from "./version.ts";
import { AccessFiles } from "./runtime/access_files.ts";
import { loadAllowlist } from "./runtime/allowlist_loader.ts";
import { type DirectoryWatcher, watchDirectory } from "./runtime/directory_watcher.ts";
import { type HttpListener, listenHttp } from "./http/listener.ts";
import type { Logger } from "./runtime/logger.ts";
import { StateKeeper } from "./state/state_keeper.ts";
import { WsSwarms } from "./core/ws_swarms.ts";
import { startWebSocketTracker } from "./server/websocket.ts";
import type { TrackerSocket } from "./ws/ws_tracker.ts";

/** A running tracker. */
export interface TrackerServer {
  /** The bound HTTP address (the real port when the config said 0). */
  readonly httpAddress: Deno.NetAddr;
  /** The bound UDP address, or `null` when the config turned UDP off. */
  readonly udpAddress: Deno.NetAddr | null;
  /** The WebSocket tracker's swarms, or `null` when the config turned it off. */
  readonly webSockets: WsSwarms<TrackerSocket> | null;
  /** The core, for tests and stats. */
  readonly tracker: Tracker;
  /** The stats event sink every transport records its requests in. */
  readonly counters: StatsCounters;
  /** Swarm sizes over the last hour, sampled once a minute. */
  readonly history: SwarmHistory;
  /**
   * Rebuilds the allowlist from its directory and re-reads the TLS certificate and the passkeys,
   * swapping each in; logs and keeps the old one of each that fails.
   */
  reload(): Promise<void>;
  /**
   * Refuses new announces (`retry in`), stops accepting, lets requests in flight finish (at most
   * `shutdown_timeout` seconds), saves the state file, stops timers and flushes the log.
   */
  shutdown(): Promise<void>;
}

/** Options for `startTrackerServer`. */
export interface StartOptions {
  logger: Logger;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/**
 * Peers examined per sweep slice before yielding to requests. At 1,000,000 peers a slice of
 * 5,000 held the event loop 0.15–0.6 ms at the median (20,000: 0.5–1.9 ms) for a whole pass of
 * 38–129 ms instead of 24–121 ms (`tests/bench/sweep_pause.ts`, figures in its README).
 */
const SWEEP_SLICE = 5_000;

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
  const access = await AccessFiles.load(config, logger);
  const state = config.state_file === null ? null : StateKeeper.open(config.state_file, {
    logger,
    now,
    expirySeconds: config.expiry,
    maxPeersPerTorrent: config.max_peers_per_torrent,
  });
  // Built before the tracker, whose scrape adds their counts; they read its allowlist per call.
  const webSockets = config.websocket
    ? new WsSwarms<TrackerSocket>({
      allowlist: () => tracker.allowlist,
      expirySeconds: config.expiry,
      maxTorrents: config.max_torrents,
      maxPeersPerTorrent: config.max_peers_per_torrent,
    })
    : null;
  const tracker: Tracker = new Tracker({
    extraCounts: webSockets ?? undefined,
    allowlist,
    expirySeconds: config.expiry,
    maxTorrents: config.max_torrents,
    maxPeersPerTorrent: config.max_peers_per_torrent,
    onCompletion: state?.onCompletion,
  });
  state?.start(tracker);
  let stopping = false;
  const counters = new StatsCounters({ startedAt: now() });
  const history = new SwarmHistory();
  // One limiter for both transports: a client cannot double its share by switching protocol.
  const rateLimiter = config.rate_limit === 0 ? null : new RateLimiter({
    perMinute: config.rate_limit,
  });
  const trustedProxies = config.trusted_proxies.length === 0
    ? null
    : CidrSet.parse(config.trusted_proxies);
  const webSocket = webSockets === null ? null : startWebSocketTracker(config, {
    tracker,
    swarms: webSockets,
    counters,
    logger,
    now,
    passkeys: () => access.passkeys,
    shuttingDown: () => stopping,
    rateLimiter,
    trustedProxies,
  });
  const handler = createHttpHandler({
    webSocket: webSocket?.upgrade,
    tracker,
    logger,
    now,
    version: VERSION,
    counters,
    history,
    trustedProxies: trustedProxies ?? undefined,
    passkeys: () => access.passkeys,
    shuttingDown: () => stopping,
    rateLimiter,
    settings: {
      interval: config.interval,
      minInterval: effectiveMinInterval(config),
      numwantDefault: config.numwant_default,
      numwantMax: config.numwant_max,
      trustIpParam: config.trust_ip_param,
      noscrape: config.noscrape,
      nostats: config.nostats,
      nometrics: config.nometrics,
      statsHidePeers: config.stats_hide_peers,
      logAnnounces: config.log_announces,
    },
  });
  const hostname = config.ip ?? (config.family === "AF_INET6" ? "::" : "0.0.0.0");
  let listener: HttpListener;
  try {
    listener = await listenHttp({
      hostname,
      port: config.port,
      tls: access.certificate,
      handler,
      onError: (error) => logger.log("error", `HTTPS request failed: ${messageOf(error)}`),
      onAcceptTrouble: (message) => logger.log("error", `HTTP listener ${message}`),
      // HTTPS runs on node:https, whose upgrades Deno.upgradeWebSocket cannot take (listener.ts).
      onUpgrade: webSocket?.nodeUpgrade,
    });
  } catch (error) {
    webSocket?.stop();
    state?.stop(tracker);
    throw error;
  }
  const httpAddress = listener.addr;
  logger.log(
    "startup",
    `NoBrake ${VERSION} listening on ${listener.scheme}://${
      formatHost(httpAddress.hostname)
    }:${httpAddress.port}` +
      ` (${
        loaded === null
          ? "open mode"
          : `${allowlist.size} torrents allowed, ${loaded.skipped} files skipped`
      })`,
  );

  let udp: UdpServer | null = null;
  if (config.udp) {
    try {
      udp = startUdp(config, {
        hostname,
        tracker,
        counters,
        logger,
        now,
        passkeys: () => access.passkeys,
        rateLimiter,
      });
    } catch (error) {
      // Nothing half-started is left behind: the caller gets the error and no listener.
      await listener.shutdown(0);
      webSocket?.stop();
      state?.stop(tracker);
      throw error;
    }
  }

  // The sweep runs in slices, each its own macrotask, so requests interleave with a long pass.
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  const sweepSlice = () => {
    const done = tracker.sweep(now(), SWEEP_SLICE);
    sweepTimer = setTimeout(sweepSlice, done ? config.sweep_interval * 1000 : 0);
  };
  sweepTimer = setTimeout(sweepSlice, config.sweep_interval * 1000);
  // Recording reads no clock: the request-rate ring is moved on here, once a second.
  const statsTimer = setInterval(() => counters.advance(now()), 1000);
  const historyTimer = setInterval(
    () => history.sample(tracker, now()),
    HISTORY_STEP_SECONDS * 1000,
  );

  let reloading: Promise<void> | null = null;
  async function reload(): Promise<void> {
    // A reload requested while one runs waits for it rather than racing it.
    while (reloading !== null) await reloading;
    reloading = (async () => {
      await access.reload(listener);
      if (openMode) return;
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
    udpAddress: udp?.addr ?? null,
    webSockets,
    tracker,
    counters,
    history,
    reload,
    async shutdown() {
      stopping = true;
      clearTimeout(sweepTimer);
      clearInterval(statsTimer);
      clearInterval(historyTimer);
      watcher?.close();
      await udp?.close();
      webSocket?.stop();
      if (!await listener.shutdown(config.shutdown_timeout * 1000)) {
        logger.log(
          "error",
          `requests still in flight after shutdown_timeout (${config.shutdown_timeout} s)`,
        );
      }
      state?.stop(tracker);
      logger.flush();
    },
  };
}

/** What the UDP listener shares with the rest of the tracker. */
interface UdpShared {
  hostname: string;
  tracker: Tracker;
  counters: StatsCounters;
  logger: Logger;
  now: () => number;
  /** The passkey list in force (swapped on reload). */
  passkeys: () => Passkeys | null;
  /** The per-address limit shared with HTTP, or `null` for none. */
  rateLimiter: RateLimiter | null;
}

/**
 * Binds the UDP listener on the HTTP address: on `udp_port`, or else on the HTTP port number (a
 * free port of its own when HTTP asked for port 0, as a taken UDP port would fail the start).
 */
function startUdp(config: Config, shared: UdpShared): UdpServer {
  const { hostname, logger } = shared;
  const port = config.udp_port ?? config.port;
  const handler = createUdpHandler({
    tracker: shared.tracker,
    logger,
    now: shared.now,
    recorder: shared.counters,
    passkeys: shared.passkeys,
    rateLimiter: shared.rateLimiter,
    settings: {
      interval: config.interval,
      numwantDefault: config.numwant_default,
      numwantMax: config.numwant_max,
      trustIpParam: config.trust_ip_param,
      noscrape: config.noscrape,
      logAnnounces: config.log_announces,
    },
  });
  let udp: UdpServer;
  try {
    udp = startUdpServer({ hostname, port, handler, logger });
  } catch (error) {
    throw new Error(
      `cannot listen on udp://${formatHost(hostname)}:${port}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const where = udp.addrs.map((addr) => `udp://${formatHost(addr.hostname)}:${addr.port}`);
  logger.log("startup", `UDP tracker (BEP 15) listening on ${where.join(" and ")}`);
  return udp;
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
