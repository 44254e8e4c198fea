/**
 * The settings the running tracker reads, mapped once from a checked `Config`: what each transport
 * reads per request (`TransportSettings`) and what the composition root needs to build the rest
 * (addresses, caps, timer periods). Pure: the config in, plain values out; nothing here reads a
 * file or a clock.
 *
 * @module
 */
import { type Config, effectiveMinInterval } from "./config.ts";

/** What the HTTP and UDP transports read per request (a subset of the config, resolved). */
export interface TransportSettings {
  /** Seconds a client is told to wait between announces. */
  interval: number;
  /** `min interval` sent over HTTP (UDP has no such field). */
  minInterval: number;
  numwantDefault: number;
  numwantMax: number;
  /**
   * Let `ip=`/`ipv4=`/`ipv6=` (HTTP) or the IP address field (UDP, IPv4 requests only) set the
   * listed address.
   */
  trustIpParam: boolean;
  /** `/scrape` answers 404 over HTTP; a UDP scrape gets an error packet. */
  noscrape: boolean;
  /** `/stats` and `/stats.json` answer 404. */
  nostats: boolean;
  /** `/metrics` answers 404. @default false */
  nometrics?: boolean;
  /** Leave peer addresses out of `/stats` and `/stats.json`. @default false */
  statsHidePeers?: boolean;
  /** Log a `client` line per announce and a `scrape` line per scrape. */
  logAnnounces: boolean;
}

/** Everything `startTrackerServer` builds from, derived from one `Config`. */
export interface ServerSettings {
  transport: TransportSettings;
  /** The address HTTP binds: `ip`, else every interface of `family`. */
  httpHostname: string;
  /** The address UDP binds: `udp_ip`, else the HTTP one. */
  udpHostname: string;
  /** The UDP port: `udp_port`, else the HTTP port number (0 for a free one of its own). */
  udpPort: number;
  /** The core's caps and expiry. */
  tracker: { expirySeconds: number; maxTorrents: number; maxPeersPerTorrent: number };
  /** Milliseconds between sweeps of expired peers. */
  sweepIntervalMs: number;
  /** Milliseconds a graceful stop waits for requests in flight. */
  shutdownTimeoutMs: number;
}

/** Maps a checked config to the settings the server and its transports read. */
export function settingsFromConfig(config: Config): ServerSettings {
  const httpHostname = config.ip ?? (config.family === "AF_INET6" ? "::" : "0.0.0.0");
  return {
    transport: {
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
    httpHostname,
    udpHostname: config.udp_ip ?? httpHostname,
    udpPort: config.udp_port ?? config.port,
    tracker: {
      expirySeconds: config.expiry,
      maxTorrents: config.max_torrents,
      maxPeersPerTorrent: config.max_peers_per_torrent,
    },
    sweepIntervalMs: config.sweep_interval * 1000,
    shutdownTimeoutMs: config.shutdown_timeout * 1000,
  };
}
