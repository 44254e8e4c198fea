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
 * Every key is written once, in the `KEYS` table (its reader, default and doc line, or why it is
 * obsolete); the `Config` type, `DEFAULT_CONFIG`, the checks and the unknown-key suggestions are
 * derived from it. The README's configuration table lists the same keys (a test checks it).
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { parseCidr } from "./protocol/cidr.ts";
import {
  addressList,
  flag,
  integer,
  key,
  type KeySpec,
  nonEmptyString,
  obsolete,
  oneOf,
  orNull,
  type Reader,
  requiredKey,
} from "./config_readers.ts";

/**
 * Every key the config file may hold, in `tracker.json`'s order: the one source of the `Config`
 * type, the defaults, the checks and the unknown-key suggestions. Keys are spelled as in the JSON
 * file, so the file, the type and the README all use one name per setting.
 */
const KEYS = {
  ip: key(orNull(nonEmptyString), null, "Address to bind; `null` binds all interfaces."),
  port: requiredKey(
    integer(0, 65535),
    6969,
    "TCP port to listen on (0..65535); 0 picks a free port, as tests do.",
  ),
  family: key(
    nonEmptyString,
    "AF_INET",
    '`"AF_INET6"` listens on IPv6 (dual stack); any other string means IPv4, as in the original.',
  ),
  udp: key(
    flag,
    true,
    "Serves the UDP tracker protocol (BEP 15) next to HTTP, on the same swarms.",
  ),
  udp_port: key(
    orNull(integer(0, 65535)),
    null,
    "UDP port; `null` means the same port number as HTTP (or a free one of its own when `port` " +
      "is 0); 0 picks a free port, as tests do.",
  ),
  udp_ip: key(
    orNull(nonEmptyString),
    null,
    "Address UDP binds; `null` means the same as `ip`, so UDP can have a public address of its own.",
  ),
  websocket: key(
    flag,
    true,
    "Serves the WebSocket (WebTorrent) tracker at `ws://host:port/announce` on the HTTP listener " +
      "(`wss://` with HTTPS), over WebSocket swarms of its own.",
  ),
  allowed: requiredKey(
    nonEmptyString,
    "./allowed_torrents",
    'Directory holding the allowed `.torrent` files, or `"*"` for open mode.',
  ),
  interval: requiredKey(integer(1), 1800, "Seconds a client is told to wait between announces."),
  expiry: requiredKey(
    integer(1),
    3600,
    "Seconds without an announce after which a peer is dropped.",
  ),
  logfile: key(orNull(nonEmptyString), null, "File to append log lines to; `null` logs to stderr."),
  log_level: key(
    oneOf(["info", "debug", "error"] as const),
    "info",
    '`"debug"` also logs each refused request with its reason and client address; `"error"` ' +
      "logs errors only.",
  ),
  noscrape: key(flag, false, "Disables `/scrape`. The file may say 0/1 or true/false."),
  nostats: key(
    flag,
    false,
    "Disables `/stats` and `/stats.json`. The file may say 0/1 or true/false.",
  ),
  nometrics: key(
    flag,
    false,
    "Disables `/metrics` (Prometheus). The file may say 0/1 or true/false.",
  ),
  stats_hide_peers: key(
    flag,
    false,
    "Leaves peer addresses out of `/stats` and `/stats.json`, for the peers' privacy.",
  ),
  min_interval: key(
    orNull(integer(1)),
    null,
    "`min interval` sent to clients, at most `interval`; `null` means half of `interval` (see " +
      "`effectiveMinInterval`).",
  ),
  numwant_default: key(
    integer(0),
    50,
    "Peers returned when an announce gives no `numwant`; at most `numwant_max`.",
  ),
  numwant_max: key(
    integer(1),
    200,
    "Cap on the peers returned by one announce, whatever its `numwant` asks.",
  ),
  trust_ip_param: key(
    flag,
    false,
    "Whether the `ip`, `ipv4` and `ipv6` query parameters may set the announced peer address. " +
      "Off by default: anyone could otherwise point a swarm at a third party's address.",
  ),
  log_announces: key(flag, false, "Writes a `client` log line per announce, as the original did."),
  max_torrents: key(
    integer(1),
    100000,
    "Cap on the number of swarms in open mode, so strangers cannot exhaust memory.",
  ),
  max_peers_per_torrent: key(integer(1), 50000, "Cap on the peers kept in one swarm."),
  sweep_interval: key(integer(1), 5, "Seconds between sweeps of expired peers."),
  watch_allowed: key(
    flag,
    false,
    "Reload the allowlist by itself when files under `allowed` change (debounced), besides on " +
      "SIGHUP. Off by default: a reload is then exactly when the operator asks for one.",
  ),
  tls_cert: key(
    orNull(nonEmptyString),
    null,
    "PEM file of the certificate chain to serve HTTPS with (leaf first); with `tls_key`, or " +
      "`null` for plain HTTP. Re-read on SIGHUP.",
  ),
  tls_key: key(
    orNull(nonEmptyString),
    null,
    "PEM file of the private key of `tls_cert`; set both or neither.",
  ),
  trusted_proxies: key(
    addressList,
    Object.freeze([]) as readonly string[],
    "Reverse proxies (IP addresses and CIDR ranges) whose `X-Forwarded-For` or `X-Real-IP` " +
      "header names the client. Nobody else's is read.",
  ),
  state_file: key(
    orNull(nonEmptyString),
    "./nobrake-state.sqlite",
    "SQLite file keeping completed counts across restarts and crashes, and live peers across a " +
      "graceful restart; `null` keeps state in memory only.",
  ),
  shutdown_timeout: key(
    integer(0),
    10,
    "Seconds a graceful stop waits for requests in flight before it closes what is left.",
  ),
  passkeys: key(
    orNull(nonEmptyString),
    null,
    "File of passkeys, one per line (`#` comments); when set, announces and scrapes must carry " +
      "one (`/announce/<key>` or `?passkey=<key>`). Re-read on SIGHUP. `null` turns passkeys off.",
  ),
  rate_limit: key(
    integer(0),
    0,
    "Announces and scrapes one client address (an IPv6 /64) may make per minute, over HTTP and " +
      "UDP together, in bursts of up to that many; past it a request is refused with BEP 31 " +
      "`retry in`. Behind `trusted_proxies` the forwarded address is counted. 0 turns it off.",
  ),
  redis: key(
    orNull(redisUrl()),
    null,
    "Redis URL (`redis://[:password@]host:port/db`, or `rediss://` for TLS) of a swarm store " +
      "shared by every NoBrake process pointed at it; those processes also share their HTTP port " +
      "(`SO_REUSEPORT`). `null` keeps the swarms in this process's memory (and `state_file` in use).",
  ),
  statefile: obsolete('NoBrake\'s state file, in its own format, is set by "state_file"'),
  min_save: obsolete("NoBrake writes counts every second and peers on a graceful stop"),
  pidfile: obsolete("NoBrake does not daemonise; run it under a service manager"),
} as const;

type KeyTable = typeof KEYS;

/** A URL node-redis accepts: `redis://` or `rediss://`, then a parsable URL with a host. */
function redisUrl(): Reader<string> {
  return {
    expected: 'a "redis://" or "rediss://" URL',
    read: (value) => typeof value === "string" && isRedisUrl(value) ? value : undefined,
  };
}

function isRedisUrl(text: string): boolean {
  if (!text.startsWith("redis://") && !text.startsWith("rediss://")) return false;
  try {
    return new URL(text).hostname !== "";
  } catch {
    return false;
  }
}

/** The names of the keys NoBrake uses (not the obsolete ones). */
type LiveKey = {
  [K in keyof KeyTable]: KeyTable[K] extends KeySpec<unknown> ? K : never;
}[keyof KeyTable];

/**
 * A checked configuration: one field per key of the table above (each key's `doc` there, and the
 * README's configuration table, say what it means).
 */
export type Config = {
  readonly [K in LiveKey]: KeyTable[K] extends KeySpec<infer T> ? T : never;
};

/** Every key `parseConfig` accepts and uses, in `tracker.json`'s order (not the obsolete ones). */
export const CONFIG_KEYS: readonly (keyof Config)[] = (Object.keys(KEYS) as (keyof KeyTable)[])
  .filter((name): name is LiveKey => KEYS[name].kind === "key");

/**
 * The configuration `tracker.json` ships: every optional key at its default, and the required keys
 * (`port`, `allowed`, `interval`, `expiry`, which have no default) at the values the README uses.
 */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(
  Object.fromEntries(CONFIG_KEYS.map((name) => [name, KEYS[name].defaultValue])) as Config,
);

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
  for (const name of Object.keys(raw)) {
    const spec = Object.hasOwn(KEYS, name) ? KEYS[name as keyof KeyTable] : null;
    if (spec?.kind === "key") continue;
    if (spec?.kind === "obsolete") {
      warn(formatProblem(source, name, `ignored (${spec.reason})`));
      continue;
    }
    const near = nearestKey(name);
    const hint = near === null ? "" : ` (did you mean "${near}"?)`;
    throw new ConfigError(source, null, `unknown key "${name}"${hint}`);
  }

  const values: Record<string, unknown> = {};
  for (const name of CONFIG_KEYS) {
    const spec: KeySpec<unknown> = KEYS[name];
    if (!Object.hasOwn(raw, name)) {
      if (spec.required) throw new ConfigError(source, name, "required key is missing");
      values[name] = spec.defaultValue;
      continue;
    }
    const value = spec.reader.read(raw[name]);
    if (value === undefined) {
      throw new ConfigError(
        source,
        name,
        `must be ${spec.reader.expected}, got ${describe(raw[name])}`,
      );
    }
    values[name] = value;
  }
  const config = values as Config;

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
  for (const known of CONFIG_KEYS) {
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
