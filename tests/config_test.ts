/**
 * Tests for `src/config.ts`: every key's checks, every kind of error and its one-line message,
 * configs of the original Perl tracker, and `tracker.json` being exactly the defaults.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Config,
  CONFIG_KEYS,
  ConfigError,
  DEFAULT_CONFIG,
  effectiveMinInterval,
  parseConfig,
  resolveConfigPaths,
} from "../src/config.ts";

const MINIMAL = { port: 6969, allowed: "./allowed_torrents", interval: 1800, expiry: 3600 };

/** Parses `MINIMAL` with `extra` keys merged in (an `undefined` value removes a key). */
function parseWith(extra: Record<string, unknown>): Config {
  return parseConfig(JSON.stringify({ ...MINIMAL, ...extra }), "t.json");
}

/** The ConfigError that parsing `text` throws; fails the test if it throws none. */
function rejectionOf(text: string): ConfigError {
  try {
    parseConfig(text, "t.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.equal(error.name, "ConfigError");
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return error;
  }
  throw new assert.AssertionError({ message: `parseConfig() accepted ${text}` });
}

/** Asserts that parsing `text` fails with exactly `message`, and returns the error. */
function assertRejects(text: string, message: string): ConfigError {
  const error = rejectionOf(text);
  assert.equal(error.message, message);
  return error;
}

Deno.test("tracker.json parses to exactly the documented defaults", async () => {
  const path = new URL("../tracker.json", import.meta.url);
  const config = parseConfig(await Deno.readTextFile(path), "tracker.json");
  assert.deepEqual(config, { ...DEFAULT_CONFIG });
  // Every key is written out, so the file documents every setting.
  const raw = JSON.parse(await Deno.readTextFile(path));
  assert.deepEqual(Object.keys(raw).sort(), Object.keys(DEFAULT_CONFIG).sort());
});

Deno.test("parseConfig() fills every optional key with its default", () => {
  assert.deepEqual(parseWith({}), { ...DEFAULT_CONFIG });
  assert.deepEqual(DEFAULT_CONFIG, {
    ip: null,
    port: 6969,
    family: "AF_INET",
    udp: true,
    udp_port: null,
    udp_ip: null,
    websocket: true,
    allowed: "./allowed_torrents",
    interval: 1800,
    expiry: 3600,
    logfile: null,
    log_level: "info",
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
    redis: null,
  });
});

Deno.test("parseConfig() accepts the example config of the original README", () => {
  // NoBrakeTracker 0.06 README, "Configuration" section, with its lost braces restored.
  const text = `{
   "port" : 6969,
   "allowed" : "./allowed_torrents",
   "interval" : 1800,
   "expiry" : 3600
}`;
  assert.deepEqual(parseConfig(text, "tracker.cfg"), { ...DEFAULT_CONFIG });
});

Deno.test("parseConfig() accepts the obsolete keys of older originals and warns about each", () => {
  // 0.05 README example plus its optional keys; 0.06's code still required "statefile".
  const text = `{
   "port" : 6969,
   "allowed" : "./allowed_torrents",
   "interval" : 1800,
   "statefile" : "./statefile",
   "expiry" : 3600,
   "pidfile" : "/var/run/tracker.pid",
   "min_save" : 60,
   "ip" : "192.0.2.1",
   "family" : "AF_INET6",
   "logfile" : "tracker.log",
   "noscrape" : 1,
   "nostats" : 1
}`;
  const warnings: string[] = [];
  const config = parseConfig(text, "tracker.cfg", { onWarning: (m) => warnings.push(m) });
  assert.deepEqual(config, {
    ...DEFAULT_CONFIG,
    ip: "192.0.2.1",
    family: "AF_INET6",
    logfile: "tracker.log",
    noscrape: true,
    nostats: true,
  });
  assert.deepEqual(warnings, [
    'tracker.cfg: key "statefile": ignored (NoBrake\'s state file, in its own format, is set by "state_file")',
    'tracker.cfg: key "pidfile": ignored (NoBrake does not daemonise; run it under a service manager)',
    'tracker.cfg: key "min_save": ignored (NoBrake writes counts every second and peers on a graceful stop)',
  ]);
});

Deno.test("parseConfig() reads noscrape and nostats as 0/1 or true/false", () => {
  for (const key of ["noscrape", "nostats"] as const) {
    assert.equal(parseWith({ [key]: 1 })[key], true);
    assert.equal(parseWith({ [key]: true })[key], true);
    assert.equal(parseWith({ [key]: 0 })[key], false);
    assert.equal(parseWith({ [key]: false })[key], false);
    for (const [bad, shown] of [["1", '"1"'], [2, "2"], [null, "null"], ["yes", '"yes"']]) {
      assertRejects(
        JSON.stringify({ ...MINIMAL, [key]: bad }),
        `t.json: key "${key}": must be true, false, 1 or 0, got ${shown}`,
      );
    }
  }
});

Deno.test("parseConfig() rejects invalid JSON in one line naming the file", () => {
  // JSON.parse quotes the bad text, newlines included; the message must still be one line.
  const error = rejectionOf('{\n  "port": 6969,\n  oops\n}');
  assert.match(error.message, /^t\.json: invalid JSON: \S/);
  assert.equal(error.key, null);
  assertRejects("", "t.json: invalid JSON: Unexpected end of JSON input");
  assert.match(rejectionOf('{"port": 6969,}').message, /^t\.json: invalid JSON: /);
});

Deno.test("parseConfig() tolerates a byte order mark", () => {
  assert.deepEqual(parseConfig("\uFEFF" + JSON.stringify(MINIMAL), "t.json"), {
    ...DEFAULT_CONFIG,
  });
});

Deno.test("parseConfig() rejects a top level that is not an object", () => {
  assertRejects("[]", "t.json: the top level must be a JSON object, got an array");
  assertRejects("null", "t.json: the top level must be a JSON object, got null");
  assertRejects('"port"', 't.json: the top level must be a JSON object, got "port"');
  assertRejects("6969", "t.json: the top level must be a JSON object, got 6969");
});

Deno.test("parseConfig() rejects each missing required key by name", () => {
  for (const key of ["port", "allowed", "interval", "expiry"]) {
    const rest: Record<string, unknown> = { ...MINIMAL };
    delete rest[key];
    const error = assertRejects(
      JSON.stringify(rest),
      `t.json: key "${key}": required key is missing`,
    );
    assert.equal(error.key, key);
  }
});

Deno.test("parseConfig() rejects an unknown key and suggests the nearest", () => {
  const text = JSON.stringify({ port: 6969, allowed: "*", intervall: 1800, expiry: 3600 });
  // Reported before the missing "interval" it explains.
  assertRejects(text, 't.json: unknown key "intervall" (did you mean "interval"?)');
  assertRejects(
    JSON.stringify({ ...MINIMAL, no_scrape: 1 }),
    't.json: unknown key "no_scrape" (did you mean "noscrape"?)',
  );
  assertRejects(
    JSON.stringify({ ...MINIMAL, id: 1 }),
    't.json: unknown key "id" (did you mean "ip"?)',
  );
  assertRejects(
    JSON.stringify({ ...MINIMAL, Port: 1 }),
    't.json: unknown key "Port" (did you mean "port"?)',
  );
  assertRejects(
    JSON.stringify({ ...MINIMAL, exipry: 1 }),
    't.json: unknown key "exipry" (did you mean "expiry"?)',
  );
});

Deno.test("parseConfig() rejects an unknown key with no near match without a suggestion", () => {
  assertRejects(JSON.stringify({ ...MINIMAL, colour: "red" }), 't.json: unknown key "colour"');
  assertRejects(JSON.stringify({ ...MINIMAL, xy: 1 }), 't.json: unknown key "xy"');
  // JSON.parse makes "__proto__" an own key; it must be rejected, not set a prototype.
  const proto = JSON.stringify(MINIMAL).replace("{", '{"__proto__": {"port": 1},');
  assertRejects(proto, 't.json: unknown key "__proto__"');
});

Deno.test("parseConfig() rejects a value of the wrong type, quoting it", () => {
  const cases: [string, unknown, string][] = [
    ["port", "6969", 'must be an integer from 0 to 65535, got "6969"'],
    ["interval", [1800], "must be a positive integer, got an array"],
    ["expiry", { s: 1 }, "must be a positive integer, got an object"],
    ["allowed", 1, "must be a non-empty string, got 1"],
    ["allowed", null, "must be a non-empty string, got null"],
    ["family", 6, "must be a non-empty string, got 6"],
    ["ip", 127001, "must be a non-empty string or null, got 127001"],
    ["logfile", false, "must be a non-empty string or null, got false"],
    ["min_interval", "900", 'must be a positive integer or null, got "900"'],
    ["numwant_default", true, "must be a non-negative integer, got true"],
    ["trust_ip_param", "true", 'must be true, false, 1 or 0, got "true"'],
    ["udp", "on", 'must be true, false, 1 or 0, got "on"'],
    ["websocket", "yes", 'must be true, false, 1 or 0, got "yes"'],
    ["log_announces", null, "must be true, false, 1 or 0, got null"],
  ];
  for (const [key, value, problem] of cases) {
    assertRejects(JSON.stringify({ ...MINIMAL, [key]: value }), `t.json: key "${key}": ${problem}`);
  }
});

Deno.test("parseConfig() rejects an out-of-range value", () => {
  const cases: [string, unknown, string][] = [
    ["port", 65536, "must be an integer from 0 to 65535, got 65536"],
    ["port", -1, "must be an integer from 0 to 65535, got -1"],
    ["port", 80.5, "must be an integer from 0 to 65535, got 80.5"],
    ["udp_port", 65536, "must be an integer from 0 to 65535 or null, got 65536"],
    ["interval", 0, "must be a positive integer, got 0"],
    ["expiry", -5, "must be a positive integer, got -5"],
    ["allowed", "", 'must be a non-empty string, got ""'],
    ["min_interval", 0, "must be a positive integer or null, got 0"],
    ["numwant_max", 0, "must be a positive integer, got 0"],
    ["max_torrents", 0, "must be a positive integer, got 0"],
    ["max_peers_per_torrent", 1.5, "must be a positive integer, got 1.5"],
    ["sweep_interval", 0, "must be a positive integer, got 0"],
    ["interval", 1e300, "must be a positive integer, got 1e+300"],
    ["rate_limit", -1, "must be a non-negative integer, got -1"],
    ["rate_limit", 0.5, "must be a non-negative integer, got 0.5"],
  ];
  for (const [key, value, problem] of cases) {
    assertRejects(JSON.stringify({ ...MINIMAL, [key]: value }), `t.json: key "${key}": ${problem}`);
  }
});

Deno.test("parseConfig() shortens a long value in a message", () => {
  assertRejects(
    JSON.stringify({ ...MINIMAL, port: "x".repeat(100) }),
    `t.json: key "port": must be an integer from 0 to 65535, got "${"x".repeat(56)}...`,
  );
});

Deno.test("parseConfig() rejects numwant_default above numwant_max", () => {
  assertRejects(
    JSON.stringify({ ...MINIMAL, numwant_default: 300 }),
    't.json: key "numwant_default": must not exceed numwant_max (200), got 300',
  );
  const config = parseWith({ numwant_default: 10, numwant_max: 10 });
  assert.equal(config.numwant_default, 10);
  assert.equal(parseWith({ numwant_default: 0 }).numwant_default, 0);
});

Deno.test("parseConfig() rejects min_interval above interval", () => {
  assertRejects(
    JSON.stringify({ ...MINIMAL, min_interval: 1801 }),
    't.json: key "min_interval": must not exceed interval (1800), got 1801',
  );
  assert.equal(parseWith({ min_interval: 1800 }).min_interval, 1800);
});

Deno.test("parseConfig() warns when expiry is shorter than interval", () => {
  const warnings: string[] = [];
  const text = JSON.stringify({ ...MINIMAL, expiry: 900 });
  assert.equal(parseConfig(text, "t.json", { onWarning: (m) => warnings.push(m) }).expiry, 900);
  assert.deepEqual(warnings, [
    't.json: key "expiry": 900 is less than interval (1800), so peers expire before they announce again',
  ]);
});

Deno.test("parseConfig() accepts port 0 and every key set explicitly", () => {
  const all: Config = {
    ip: "::1",
    port: 0,
    family: "AF_INET6",
    udp: false,
    udp_port: 6881,
    udp_ip: "::2",
    websocket: false,
    allowed: "*",
    interval: 60,
    expiry: 120,
    logfile: "/var/log/nobrake.log",
    log_level: "debug",
    noscrape: true,
    nostats: true,
    nometrics: true,
    stats_hide_peers: true,
    min_interval: 10,
    numwant_default: 20,
    numwant_max: 80,
    trust_ip_param: true,
    log_announces: true,
    max_torrents: 10,
    max_peers_per_torrent: 100,
    sweep_interval: 1,
    watch_allowed: true,
    tls_cert: "cert.pem",
    tls_key: "key.pem",
    trusted_proxies: ["10.0.0.0/8", "::1"],
    state_file: null,
    shutdown_timeout: 0,
    passkeys: "passkeys.txt",
    rate_limit: 600,
    redis: "redis://:secret@127.0.0.1:6379/2",
  };
  assert.deepEqual(parseConfig(JSON.stringify(all), "t.json"), all);
  // Any family other than "AF_INET6" is kept as written and means IPv4, as in the original.
  assert.equal(parseWith({ family: "inet" }).family, "inet");
});

Deno.test("effectiveMinInterval() is min_interval, or half of interval rounded down, at least 1", () => {
  assert.equal(effectiveMinInterval(parseWith({})), 900);
  assert.equal(effectiveMinInterval(parseWith({ interval: 1801 })), 900);
  assert.equal(effectiveMinInterval(parseWith({ interval: 1, expiry: 1 })), 1);
  assert.equal(effectiveMinInterval(parseWith({ min_interval: 30 })), 30);
});

Deno.test("resolveConfigPaths() resolves relative paths against the config's directory", () => {
  const config = parseWith({ allowed: "./torrents", logfile: "logs/nobrake.log" });
  const resolved = resolveConfigPaths(config, "/etc/nobrake");
  assert.equal(resolved.allowed, join("/etc/nobrake", "torrents"));
  assert.equal(resolved.logfile, join("/etc/nobrake", "logs", "nobrake.log"));
  assert.deepEqual({
    ...resolved,
    allowed: "./torrents",
    logfile: "logs/nobrake.log",
    state_file: "./nobrake-state.sqlite",
  }, config);
  // The input is left alone.
  assert.equal(config.allowed, "./torrents");
});

Deno.test("resolveConfigPaths() keeps absolute paths, open mode and a null logfile", () => {
  const absolute = resolveConfigPaths(
    parseWith({ allowed: "/srv/torrents", logfile: "/var/log/t.log" }),
    "/etc/nobrake",
  );
  assert.equal(absolute.allowed, "/srv/torrents");
  assert.equal(absolute.logfile, "/var/log/t.log");
  const open = resolveConfigPaths(parseWith({ allowed: "*" }), "/etc/nobrake");
  assert.equal(open.allowed, "*");
  assert.equal(open.logfile, null);
  // A relative directory (the config named as "tracker.json") keeps paths relative to the cwd.
  assert.equal(resolveConfigPaths(parseWith({}), ".").allowed, "allowed_torrents");
});

Deno.test("parseConfig() takes a redis:// or rediss:// URL for redis, and refuses anything else", () => {
  assert.equal(parseWith({ redis: null }).redis, null);
  assert.equal(
    parseWith({ redis: "rediss://cache.example:6380/0" }).redis,
    "rediss://cache.example:6380/0",
  );
  for (const bad of ["127.0.0.1:6379", "http://127.0.0.1:6379", "redis://", 6379, ""]) {
    assert.throws(() => parseWith({ redis: bad }), /key "redis"/, String(bad));
  }
});

/** The key names of the README's configuration table: the first cell of each row, unquoted. */
function readmeConfigKeys(readme: string): string[] {
  const start = readme.indexOf("\n## Configuration\n");
  assert.notEqual(start, -1, "README.md has a Configuration section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([a-z0-9_]+)` +\|/gm)].map((match) => match[1]);
}

Deno.test("README's configuration table lists exactly the keys parseConfig() accepts", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const documented = readmeConfigKeys(readme);
  assert.equal(new Set(documented).size, documented.length, "no key is listed twice");
  const accepted = [...CONFIG_KEYS].sort();
  assert.deepEqual([...documented].sort(), accepted);
  // The check sees a row that goes missing, and a row for a key the config does not know.
  const withoutRow = readme.replace(/^\| `rate_limit` .*\n/m, "");
  assert.notDeepEqual(readmeConfigKeys(withoutRow).sort(), accepted);
  const withExtraRow = readme.replace(/^(\| `rate_limit` .*\n)/m, "$1| `bogus` | 1 | x |\n");
  assert.notDeepEqual(readmeConfigKeys(withExtraRow).sort(), accepted);
});

Deno.test("parseConfig() reads log_level as info, debug or error, and udp_ip as an address", () => {
  assert.equal(parseWith({}).log_level, "info");
  assert.equal(parseWith({ log_level: "debug" }).log_level, "debug");
  assert.equal(parseWith({ log_level: "error" }).log_level, "error");
  assertRejects(
    JSON.stringify({ ...MINIMAL, log_level: "verbose" }),
    't.json: key "log_level": must be one of "info", "debug", "error", got "verbose"',
  );
  assert.equal(parseWith({}).udp_ip, null);
  assert.equal(parseWith({ udp_ip: "203.0.113.7" }).udp_ip, "203.0.113.7");
  assertRejects(
    JSON.stringify({ ...MINIMAL, udp_ip: "" }),
    't.json: key "udp_ip": must be a non-empty string or null, got ""',
  );
});
