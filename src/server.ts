/**
 * The composition root: starts a whole tracker from a `Config`. It maps the config to settings
 * (`settings.ts`), loads the allowlist, the access files and the state file, builds the core,
 * serves HTTP (HTTPS when the config names a certificate) and, unless `udp` is off, the UDP tracker
 * protocol on the same swarms (on `udp_ip`, else the HTTP address), unless `websocket` is off the
 * WebSocket (WebTorrent) tracker on the HTTP listener (`server/websocket.ts`), and starts the
 * periodic jobs (`server/timers.ts`) and the reloader (`server/reloader.ts`). Returns a handle to reload and to
 * shut down; `main.ts` wires signals to it, and end-to-end tests use it directly on port 0.
 *
 * @module
 */
import { messageOf } from "./protocol/error_message.ts";
import { CidrSet } from "./protocol/cidr.ts";
import { Allowlist } from "./core/allowlist.ts";
import { RateLimiter } from "./core/rate_limiter.ts";
import { Tracker } from "./core/tracker.ts";
import type { Config } from "./config.ts";
import { settingsFromConfig } from "./settings.ts";
import { VERSION } from "./version.ts";
import { AccessFiles } from "./runtime/access_files.ts";
import type { Logger } from "./runtime/logger.ts";
import { StatsCounters } from "./stats/stats_counters.ts";
import { SwarmHistory } from "./stats/swarm_history.ts";
import { StateKeeper } from "./state/state_keeper.ts";
import type { TransportDeps } from "./transport/transport_deps.ts";
import { createHttpHandler } from "./http/handler.ts";
import { type HttpListener, listenHttp } from "./http/listener.ts";
import { type AsyncUdpHandler, createUdpHandler } from "./udp/handler.ts";
import { startUdpServer, type UdpServer } from "./udp/server.ts";
import { createReloader, loadAllowlistLogged } from "./server/reloader.ts";
import { startTimers } from "./server/timers.ts";
import { openSharedStore, type SharedStore } from "./server/shared_store.ts";
import type { SwarmStore } from "./core/swarm_store.ts";
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
  /** The core, for tests and stats (empty when the swarms are in Redis). */
  readonly tracker: Tracker;
  /** Where the swarms are: `tracker`, or the Redis store when the config names one. */
  readonly store: SwarmStore;
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

/** Loads, listens and returns the running tracker. Throws if the allowlist directory is unusable. */
export async function startTrackerServer(
  config: Config,
  options: StartOptions,
): Promise<TrackerServer> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const settings = settingsFromConfig(config);
  const allowedDir = config.allowed === "*" ? null : config.allowed;
  const loaded = allowedDir === null ? null : await loadAllowlistLogged(allowedDir, logger);
  const allowlist = loaded?.allowlist ?? Allowlist.openMode();
  const access = await AccessFiles.load(config, logger);
  // With Redis the swarms and completed counts are there, and the state file is not used.
  const shared: SharedStore | null = config.redis === null
    ? null
    : await openSharedStore({ ...config, redis: config.redis }, { allowlist, logger });
  const state = config.state_file === null || shared !== null
    ? null
    : StateKeeper.open(config.state_file, {
      logger,
      now,
      expirySeconds: settings.tracker.expirySeconds,
      maxPeersPerTorrent: settings.tracker.maxPeersPerTorrent,
    });
  // Built before the tracker, whose scrape adds their counts; they read its allowlist per call.
  const webSockets = config.websocket
    ? new WsSwarms<TrackerSocket>({ allowlist: () => tracker.allowlist, ...settings.tracker })
    : null;
  const tracker: Tracker = new Tracker({
    extraCounts: webSockets ?? undefined,
    allowlist,
    ...settings.tracker,
    onCompletion: state?.onCompletion,
  });
  state?.start(tracker);
  let stopping = false;
  const counters = new StatsCounters({ startedAt: now() });
  const history = new SwarmHistory();
  const store: SwarmStore = shared?.store ?? tracker;
  const transportDeps: TransportDeps = {
    tracker,
    settings: settings.transport,
    logger,
    now,
    recorder: counters,
    passkeys: () => access.passkeys,
    shuttingDown: () => stopping,
    // One limiter for both transports: a client cannot double its share by switching protocol.
    rateLimiter: config.rate_limit === 0 ? null : new RateLimiter({ perMinute: config.rate_limit }),
  };
  const trustedProxies = config.trusted_proxies.length === 0
    ? null
    : CidrSet.parse(config.trusted_proxies);
  const webSocket = webSockets === null
    ? null
    : startWebSocketTracker(config, { ...transportDeps, swarms: webSockets, trustedProxies });
  const handler = createHttpHandler({
    ...transportDeps,
    store: shared?.store,
    version: VERSION,
    counters,
    history,
    trustedProxies: trustedProxies ?? undefined,
    webSocket: webSocket?.upgrade,
  });
  let listener: HttpListener;
  try {
    listener = await listenHttp({
      hostname: settings.httpHostname,
      port: config.port,
      tls: access.certificate,
      handler,
      // Processes sharing swarms through Redis share the port too; the kernel spreads connections.
      reusePort: shared !== null,
      onError: (error) => logger.log("error", `HTTPS request failed: ${messageOf(error)}`),
      onAcceptTrouble: (message) => logger.log("error", `HTTP listener ${message}`),
      // HTTPS runs on node:https, whose upgrades Deno.upgradeWebSocket cannot take (listener.ts).
      onUpgrade: webSocket?.nodeUpgrade,
    });
  } catch (error) {
    webSocket?.stop();
    state?.stop(tracker);
    await shared?.close();
    throw error;
  }
  const httpAddress = listener.addr;
  const serving = loaded === null
    ? "open mode"
    : `${allowlist.size} torrents allowed, ${loaded.skipped} files skipped`;
  logger.log(
    "startup",
    `NoBrake ${VERSION} listening on ${listener.scheme}://${formatHost(httpAddress.hostname)}:` +
      `${httpAddress.port} (${serving})`,
  );

  let udp: UdpServer | null = null;
  if (config.udp) {
    try {
      udp = startUdp(settings.udpHostname, settings.udpPort, {
        handler: createUdpHandler({ ...transportDeps, store: shared?.store }),
        logger,
        // Several processes on one Redis all bind the port; see `reuseAddress` for what Deno
        // allows.
        reuseAddress: shared !== null,
      });
    } catch (error) {
      // Nothing half-started is left behind: the caller gets the error and no listener.
      await listener.shutdown(0);
      webSocket?.stop();
      state?.stop(tracker);
      await shared?.close();
      throw error;
    }
  }

  const timers = startTimers({
    tracker,
    counters,
    history,
    state,
    now,
    sweepIntervalMs: settings.sweepIntervalMs,
    webSockets: webSocket?.periodic ?? null,
    sharedSweep: shared === null ? null : (at) => shared.store.sweep(at),
  });
  const reloader = createReloader({
    // With Redis, a reloaded allowlist also goes to the store (which drops removed torrents).
    tracker: shared === null ? tracker : {
      get allowlist() {
        return tracker.allowlist;
      },
      replaceAllowlist(next) {
        tracker.replaceAllowlist(next);
        shared.store.replaceAllowlist(next);
      },
    },
    access,
    listener,
    logger,
    allowedDir,
    watch: config.watch_allowed,
  });

  return {
    httpAddress,
    udpAddress: udp?.addr ?? null,
    webSockets,
    tracker,
    store,
    counters,
    history,
    reload: reloader.reload,
    async shutdown() {
      stopping = true;
      reloader.close();
      await udp?.close();
      webSocket?.stop();
      if (!await listener.shutdown(settings.shutdownTimeoutMs)) {
        logger.log(
          "error",
          `requests still in flight after shutdown_timeout (${config.shutdown_timeout} s)`,
        );
      }
      // Counts go on being written while requests drain; the state file's last save follows.
      timers.stop();
      state?.stop(tracker);
      await shared?.close();
      logger.flush();
    },
  };
}

/**
 * Binds the UDP listener on `hostname` (`udp_ip`, else the HTTP address) and `port` (`udp_port`,
 * else the HTTP port number: a free port of its own when HTTP asked for port 0, as a taken UDP
 * port would fail the start).
 */
function startUdp(
  hostname: string,
  port: number,
  parts: { handler: AsyncUdpHandler; logger: Logger; reuseAddress: boolean },
): UdpServer {
  const { handler, logger, reuseAddress } = parts;
  let udp: UdpServer;
  try {
    udp = startUdpServer({ hostname, port, handler, logger, reuseAddress });
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

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
