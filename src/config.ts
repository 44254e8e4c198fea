/**
 * The tracker's configuration: the `Config` type, its defaults, and the parser that turns the JSON
 * text of a config file into a checked `Config` or a one-line `ConfigError`.
 *
 * Pure: no file or network access. Reading the file is `loadConfigFile` in `src/runtime/cli.ts`.
 * A config written for the original Perl NoBrakeTracker works unchanged: its keys keep their names
 * and meanings, and the keys it needed that NoBrake no longer uses (`statefile`, `min_save`,
 * `pidfile`) are accepted and reported as ignored rather than rejected. Any other unknown key is an
 * error, so a typo never silently falls back to a default.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { parseCidr } from "./protocol/cidr.ts";

/**
 * A checked configuration. Keys are spelled as in the JSON file, so the file, this type and the
 * README all use one name per setting.
 */
export interface Config {
  /**
   * Address to bind; `null` binds all interfaces.
   * @default null
   */
  readonly ip: string | null;
  /** TCP port to listen on (required, 0..65535); 0 picks a free port, as tests do. */
  readonly port: number;
  /**
   * `"AF_INET6"` listens on IPv6 (dual stack); any other string means IPv4, as in the original.
   * @default "AF_INET"
   */
  readonly family: string;
  /**
   * Serves the UDP tracker protocol (BEP 15) next to HTTP, on the same swarms and the same address
   * as HTTP (`ip`, `family`).
   * @default true
   */
  readonly udp: boolean;
  /**
   * UDP port (0..65535); `null` means the same port number as HTTP (or a free one of its own when
   * `port` is 0); 0 picks a free port, as tests do.
   * @default null
   */
  readonly udp_port: number | null;
  /**
   * Serve the WebSocket (WebTorrent) tracker at `ws://host:port/announce` on the HTTP listener
   * (`wss://` with HTTPS).
   * @default true
   */
  readonly websocket: boolean;
  /** Directory holding the allowed `.torrent` files, or `"*"` for open mode (required). */
  readonly allowed: string;
  /** Seconds a client is told to wait between announces (required, positive). */
  readonly interval: number;
  /** Seconds without an announce after which a peer is dropped (required, positive). */
  readonly expiry: number;
  /**
   * File to append log lines to; `null` logs to stderr.
   * @default null
   */
  readonly logfile: string | null;
  /**
   * Disables `/scrape`. The file may say 0/1 or true/false.
   * @default false
   */
  readonly noscrape: boolean;
  /**
   * Disables `/stats` and `/stats.json`. The file may say 0/1 or true/false.
   * @default false
   */
  readonly nostats: boolean;
  /**
   * Disables `/metrics` (Prometheus). The file may say 0/1 or true/false.
   * @default false
   */
  readonly nometrics: boolean;
  /**
   * Leaves peer addresses out of `/stats` and `/stats.json`, for the peers' privacy.
   * @default false
   */
  readonly stats_hide_peers: boolean;
  /**
   * `min interval` sent to clients, at most `interval`; `null` means half of `interval` (see
   * `effectiveMinInterval`).
   * @default null
   */
  readonly min_interval: number | null;
  /**
   * Peers returned when an announce gives no `numwant`; at most `numwant_max`.
   * @default 50
   */
  readonly numwant_default: number;
  /**
   * Cap on the peers returned by one announce, whatever its `numwant` asks.
   * @default 200
   */
  readonly numwant_max: number;
  /**
   * Whether the `ip`, `ipv4` and `ipv6` query parameters may set the announced peer address.
   * Off by default: anyone could otherwise point a swarm at a third party's address.
   * @default false
   */
  readonly trust_ip_param: boolean;
  /**
   * Writes a `client` log line per announce, as the original did.
   * @default false
   */
  readonly log_announces: boolean;
  /**
   * Cap on the number of swarms in open mode, so strangers cannot exhaust memory.
   * @default 100000
   */
  readonly max_torrents: number;
  /**
   * Cap on the peers kept in one swarm.
   * @default 50000
   */
  readonly max_peers_per_torrent: number;
  /**
   * Seconds between sweeps of expired peers.
   * @default 5
   */
  readonly sweep_interval: number;
  /**
   * Reload the allowlist by itself when files under `allowed` change (debounced), besides on
   * SIGHUP. Off by default: a reload is then exactly when the operator asks for one.
   * @default false
   */
  readonly watch_allowed: boolean;
  /**
   * PEM file of the certificate chain to serve HTTPS with (leaf first); with `tls_key`, or `null`
   * for plain HTTP. Re-read on SIGHUP.
   * @default null
   */
  readonly tls_cert: string | null;
  /**
   * PEM file of the private key of `tls_cert`; set both or neither.
   * @default null
   */
  readonly tls_key: string | null;
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose `X-Forwarded-For` or `X-Real-IP` header
   * names the client. Nobody else's is read.
   * @default []
   */
  readonly trusted_proxies: readonly string[];
  /**
   * SQLite file keeping completed counts across restarts and crashes, and live peers across a
   * graceful restart; `null` keeps state in memory only.
   * @default "./nobrake-state.sqlite"
   */
  readonly state_file: string | null;
  /**
   * Seconds a graceful stop waits for requests in flight before it closes what is left.
   * @default 10
   */
  readonly shutdown_timeout: number;
  /**
   * File of passkeys, one per line (`#` comments); when set, announces and scrapes must carry one
   * (`/announce/<key>` or `?passkey=<key>`). Re-read on SIGHUP. `null` turns passkeys off.
   * @default null
   */
  readonly passkeys: string | null;
  /**
   * Announces and scrapes one client address (an IPv6 /64) may make per minute, over HTTP and
   * UDP together, in bursts of up to that many; past it a request is refused with BEP 31
   * `retry in`. Behind `trusted_proxies` the forwarded address is counted. 0 turns the limit off.
   * @default 0
   */
  readonly rate_limit: number;
}

/**
 * The configuration `tracker.json` ships: every optional key at its default, and the required keys
 * (`port`, `allowed`, `interval`, `expiry`, which have no default) at the values the README uses.
 */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  ip: null,
  port: 6969,
  family: "AF_INET",
  udp: true,
  udp_port: null,
  websocket: true,
  allowed: "./allowed_torrents",
  interval: 1800,
  expiry: 3600,
  logfile: null,
  noscrape: false,
  nostats: false,
  nometrics: false,
  stats_hide_peers: false,
  min_interval: null,
  numwant_default: 50,
  numwant_max: 200,
  trust_ip_param: false,
  log_announces: false,
  max_torrents: 100000,
  max_peers_per_torrent: 50000,
  sweep_interval: 5,
  watch_allowed: false,
  tls_cert: null,
  tls_key: null,
  trusted_proxies: [],
  state_file: "./nobrake-state.sqlite",
  shutdown_timeout: 10,
  passkeys: null,
  rate_limit: 0,
});

/** A config that cannot be used; the message is one line naming the file and, if known, the key. */
export class ConfigError extends Error {
  /** The file (or other source) the config came from. */
  readonly source: string;
  /** The offending key, or `null` for a problem with the file as a whole. */
  readonly key: string | null;

  constructor(source: string, key: string | null, problem: string) {
    super(formatProblem(source, key, problem));
    this.name = "ConfigError";
    this.source = source;
    this.key = key;
  }
}

/** Options for `parseConfig`. */
export interface ParseConfigOptions {
  /**
   * Receives one line per harmless oddity (an obsolete key, `expiry` shorter than `interval`), in
   * the same `<source>: key "<key>": ...` form as errors.
   * @default {() => {}}
   */
  onWarning?: (message: string) => void;
}

/** Keys the original tracker needed that NoBrake accepts and ignores, and why. */
const OBSOLETE_KEYS: ReadonlyMap<string, string> = new Map([
  ["statefile", 'NoBrake\'s state file, in its own format, is set by "state_file"'],
  ["min_save", "NoBrake writes counts every second and peers on a graceful stop"],
  ["pidfile", "NoBrake does not daemonise; run it under a service manager"],
]);

/** How one key's value is checked: what it must be, and a reader returning `undefined` if not. */
interface Reader<T> {
  readonly expected: string;
  read(value: unknown): T | undefined;
}

/** Parses JSON `text` read from `source` (a file name, used only in messages) into a `Config`. */
export function parseConfig(
  text: string,
  source: string,
  options: ParseConfigOptions = {},
): Config {
  const warn = options.onWarning ?? (() => {});
  let parsed: unknown;
  try {
    // Editors on Windows may start the file with a byte order mark, which JSON.parse refuses.
    parsed = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
  } catch (error) {
    throw new ConfigError(
      source,
      null,
      `invalid JSON: ${oneLine(String((error as Error).message))}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      source,
      null,
      `the top level must be a JSON object, got ${describe(parsed)}`,
    );
  }
  const raw = parsed as Record<string, unknown>;

  // Unknown keys first: a misspelt required key is better reported by name than as missing.
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(READERS, key)) continue;
    const obsolete = OBSOLETE_KEYS.get(key);
    if (obsolete !== undefined) {
      warn(formatProblem(source, key, `ignored (${obsolete})`));
      continue;
    }
    const near = nearestKey(key);
    const hint = near === null ? "" : ` (did you mean "${near}"?)`;
    throw new ConfigError(source, null, `unknown key "${key}"${hint}`);
  }

  const get = <K extends keyof Config>(key: K): Config[K] => {
    if (!Object.hasOwn(raw, key)) {
      if (REQUIRED.has(key)) throw new ConfigError(source, key, "required key is missing");
      return DEFAULT_CONFIG[key];
    }
    const reader: Reader<Config[K]> = READERS[key];
    const value = reader.read(raw[key]);
    if (value === undefined) {
      throw new ConfigError(source, key, `must be ${reader.expected}, got ${describe(raw[key])}`);
    }
    return value;
  };
  const config: Config = {
    ip: get("ip"),
    port: get("port"),
    family: get("family"),
    udp: get("udp"),
    udp_port: get("udp_port"),
    websocket: get("websocket"),
    allowed: get("allowed"),
    interval: get("interval"),
    expiry: get("expiry"),
    logfile: get("logfile"),
    noscrape: get("noscrape"),
    nostats: get("nostats"),
    nometrics: get("nometrics"),
    stats_hide_peers: get("stats_hide_peers"),
    min_interval: get("min_interval"),
    numwant_default: get("numwant_default"),
    numwant_max: get("numwant_max"),
    trust_ip_param: get("trust_ip_param"),
    log_announces: get("log_announces"),
    max_torrents: get("max_torrents"),
    max_peers_per_torrent: get("max_peers_per_torrent"),
    sweep_interval: get("sweep_interval"),
    watch_allowed: get("watch_allowed"),
    tls_cert: get("tls_cert"),
    tls_key: get("tls_key"),
    trusted_proxies: get("trusted_proxies"),
    state_file: get("state_file"),
    shutdown_timeout: get("shutdown_timeout"),
    passkeys: get("passkeys"),
    rate_limit: get("rate_limit"),
  };

  if (config.numwant_default > config.numwant_max) {
    throw new ConfigError(
      source,
      "numwant_default",
      `must not exceed numwant_max (${config.numwant_max}), got ${config.numwant_default}`,
    );
  }
  // `min interval` (a de facto extension of BEP 3) is the least a client must wait between
  // announces; above `interval` the two would contradict each other.
  if (config.min_interval !== null && config.min_interval > config.interval) {
    throw new ConfigError(
      source,
      "min_interval",
      `must not exceed interval (${config.interval}), got ${config.min_interval}`,
    );
  }
  if ((config.tls_cert === null) !== (config.tls_key === null)) {
    const [set, unset] = config.tls_cert === null
      ? ["tls_key", "tls_cert"]
      : ["tls_cert", "tls_key"];
    throw new ConfigError(source, unset, `must be set together with ${set}`);
  }
  for (const entry of config.trusted_proxies) {
    if (parseCidr(entry) === null) {
      throw new ConfigError(
        source,
        "trusted_proxies",
        `${describe(entry)} is not an IP address or CIDR range`,
      );
    }
  }

  // Legal (the original allowed it), but peers then vanish between their announces.
  if (config.expiry < config.interval) {
    const problem =
      `${config.expiry} is less than interval (${config.interval}), so peers expire ` +
      "before they announce again";
    warn(formatProblem(source, "expiry", problem));
  }
  return config;
}

/** The `min interval` to send: `min_interval`, else half of `interval` rounded down, at least 1. */
export function effectiveMinInterval(config: Config): number {
  return config.min_interval ?? Math.max(1, Math.floor(config.interval / 2));
}

/**
 * Resolves the relative paths of `config` (`allowed` unless `"*"`, `logfile`, `tls_cert`,
 * `tls_key`, `state_file`, `passkeys`) against
 * `configDir`, the directory of the config file, so a config means the same from any working
 * directory. Absolute paths are kept. Pure: a relative `configDir` gives relative results.
 */
export function resolveConfigPaths(config: Config, configDir: string): Config {
  const resolve = (path: string) => isAbsolute(path) ? path : join(configDir, path);
  const resolveOrNull = (path: string | null) => path === null ? null : resolve(path);
  return {
    ...config,
    allowed: config.allowed === "*" ? "*" : resolve(config.allowed),
    logfile: resolveOrNull(config.logfile),
    tls_cert: resolveOrNull(config.tls_cert),
    tls_key: resolveOrNull(config.tls_key),
    state_file: resolveOrNull(config.state_file),
    passkeys: resolveOrNull(config.passkeys),
  };
}

const nonEmptyString: Reader<string> = {
  expected: "a non-empty string",
  read: (value) => typeof value === "string" && value !== "" ? value : undefined,
};

/** The original tested these keys with Perl truth, and its README says "set to 1". */
const flag: Reader<boolean> = {
  expected: "true, false, 1 or 0",
  read: (value) =>
    value === true || value === 1 ? true : value === false || value === 0 ? false : undefined,
};

function integer(min: 0 | 1, max?: number): Reader<number> {
  return {
    expected: max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 1
      ? "a positive integer"
      : "a non-negative integer",
    read: (value) =>
      typeof value === "number" && Number.isSafeInteger(value) && value >= min &&
        value <= (max ?? Number.MAX_SAFE_INTEGER)
        ? value
        : undefined,
  };
}

function orNull<T>(reader: Reader<T>): Reader<T | null> {
  return {
    expected: `${reader.expected} or null`,
    read: (value) => value === null ? null : reader.read(value),
  };
}

/** How each key is read; the mapped type makes the compiler insist on one reader per key. */
const READERS: { readonly [K in keyof Config]: Reader<Config[K]> } = {
  ip: orNull(nonEmptyString),
  port: integer(0, 65535),
  family: nonEmptyString,
  udp: flag,
  udp_port: orNull(integer(0, 65535)),
  websocket: flag,
  allowed: nonEmptyString,
  interval: integer(1),
  expiry: integer(1),
  logfile: orNull(nonEmptyString),
  noscrape: flag,
  nostats: flag,
  nometrics: flag,
  stats_hide_peers: flag,
  min_interval: orNull(integer(1)),
  numwant_default: integer(0),
  numwant_max: integer(1),
  trust_ip_param: flag,
  log_announces: flag,
  max_torrents: integer(1),
  max_peers_per_torrent: integer(1),
  sweep_interval: integer(1),
  watch_allowed: flag,
  tls_cert: orNull(nonEmptyString),
  tls_key: orNull(nonEmptyString),
  trusted_proxies: {
    expected: "a list of IP addresses and CIDR ranges",
    read: (value) =>
      Array.isArray(value) && value.every((entry) => typeof entry === "string")
        ? Object.freeze([...value])
        : undefined,
  },
  state_file: orNull(nonEmptyString),
  shutdown_timeout: integer(0),
  passkeys: orNull(nonEmptyString),
  rate_limit: integer(0),
};

const REQUIRED: ReadonlySet<string> = new Set(["port", "allowed", "interval", "expiry"]);

/** `<source>: key "<key>": <problem>`, or `<source>: <problem>` for the file as a whole. */
function formatProblem(source: string, key: string | null, problem: string): string {
  return key === null ? `${source}: ${problem}` : `${source}: key "${key}": ${problem}`;
}

/** A value as it would appear in the file, shortened: strings quoted, containers named. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}

/** JSON.parse messages quote the input, newlines and all; a ConfigError must stay one line. */
function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/** The known key closest to `key`, when close enough to be a likely typo; otherwise `null`. */
function nearestKey(key: string): string | null {
  let best: string | null = null;
  // Allow about one edit per three letters, so "xy" is not taken for a typo of "ip".
  let bestDistance = (key.length <= 3 ? 1 : key.length <= 6 ? 2 : 3) + 1;
  for (const known of Object.keys(READERS)) {
    const distance = editDistance(key.toLowerCase(), known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best;
}

/** Levenshtein distance, counting a swap of neighbours as one edit ("intreval" is a typo too). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}
