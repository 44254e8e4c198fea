/**
 * Tests for the config keys of running NoBrake on the internet (`src/config.ts`): TLS files set
 * together, trusted proxies checked entry by entry, the state file, the shutdown timeout and the
 * passkey file, and their paths resolved against the config's directory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Config, ConfigError, parseConfig, resolveConfigPaths } from "../src/config.ts";

const MINIMAL = { port: 6969, allowed: "./allowed_torrents", interval: 1800, expiry: 3600 };

function parseWith(extra: Record<string, unknown>): Config {
  return parseConfig(JSON.stringify({ ...MINIMAL, ...extra }), "t.json");
}

function rejection(extra: Record<string, unknown>): string {
  try {
    parseWith(extra);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  throw new Error(`accepted ${JSON.stringify(extra)}`);
}

Deno.test("parseConfig() wants tls_cert and tls_key together", () => {
  assert.equal(
    rejection({ tls_cert: "c.pem" }),
    't.json: key "tls_key": must be set together with tls_cert',
  );
  assert.equal(
    rejection({ tls_key: "k.pem" }),
    't.json: key "tls_cert": must be set together with tls_key',
  );
  assert.equal(
    rejection({ tls_cert: "" }),
    't.json: key "tls_cert": must be a non-empty string or null, got ""',
  );
  const config = parseWith({ tls_cert: "c.pem", tls_key: "k.pem" });
  assert.deepEqual([config.tls_cert, config.tls_key], ["c.pem", "k.pem"]);
});

Deno.test("parseConfig() checks each trusted proxy and names a bad one", () => {
  assert.deepEqual(
    parseWith({ trusted_proxies: ["127.0.0.1", "10.0.0.0/8", "fd00::/8"] }).trusted_proxies,
    ["127.0.0.1", "10.0.0.0/8", "fd00::/8"],
  );
  assert.equal(
    rejection({ trusted_proxies: ["10.0.0.0/8", "proxy.lan"] }),
    't.json: key "trusted_proxies": "proxy.lan" is not an IP address or CIDR range',
  );
  assert.equal(
    rejection({ trusted_proxies: "10.0.0.0/8" }),
    't.json: key "trusted_proxies": must be a list of IP addresses and CIDR ranges, got "10.0.0.0/8"',
  );
  assert.equal(
    rejection({ trusted_proxies: [10] }),
    't.json: key "trusted_proxies": must be a list of IP addresses and CIDR ranges, got an array',
  );
});

Deno.test("parseConfig() reads state_file, shutdown_timeout and passkeys", () => {
  const config = parseWith({
    state_file: null,
    shutdown_timeout: 0,
    passkeys: "keys.txt",
    udp: false,
  });
  assert.deepEqual(
    [config.state_file, config.shutdown_timeout, config.passkeys],
    [null, 0, "keys.txt"],
  );
  assert.equal(
    rejection({ shutdown_timeout: -1 }),
    't.json: key "shutdown_timeout": must be a non-negative integer, got -1',
  );
  assert.equal(
    rejection({ state_file: false }),
    't.json: key "state_file": must be a non-empty string or null, got false',
  );
});

Deno.test("parseConfig() accepts passkeys with UDP on (UDP checks them through BEP 41 URL data)", () => {
  assert.equal(parseWith({ passkeys: "keys.txt" }).passkeys, "keys.txt");
});

Deno.test("resolveConfigPaths() resolves the TLS, state and passkey files", () => {
  const config = parseWith({
    tls_cert: "tls/cert.pem",
    tls_key: "/etc/ssl/private/key.pem",
    passkeys: "passkeys.txt",
    udp: false,
  });
  const resolved = resolveConfigPaths(config, "/etc/nobrake");
  assert.equal(resolved.tls_cert, join("/etc/nobrake", "tls", "cert.pem"));
  assert.equal(resolved.tls_key, "/etc/ssl/private/key.pem");
  assert.equal(resolved.passkeys, join("/etc/nobrake", "passkeys.txt"));
  assert.equal(resolved.state_file, join("/etc/nobrake", "nobrake-state.sqlite"));
  assert.equal(resolveConfigPaths(parseWith({ state_file: null }), "/etc").state_file, null);
});
