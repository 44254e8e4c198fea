/**
 * Tests for `src/runtime/cli.ts`: command line parsing, the help and version texts, and loading a
 * config file from disk.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, DEFAULT_CONFIG } from "../src/config.ts";
import { CliError, HELP_TEXT, loadConfigFile, parseCli, VERSION_TEXT } from "../src/runtime/cli.ts";
import { NAME, VERSION } from "../src/version.ts";

/** Asserts that `args` are refused with exactly `message`. */
function assertCliError(args: string[], message: string): void {
  assert.throws(() => parseCli(args), (error: unknown) => {
    assert.ok(error instanceof CliError);
    assert.equal(error.name, "CliError");
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("parseCli() runs tracker.json when given no arguments", () => {
  assert.deepEqual(parseCli([]), { kind: "run", configPath: "tracker.json" });
});

Deno.test("parseCli() takes the config path as the first argument or from --config", () => {
  assert.deepEqual(parseCli(["my.cfg"]), { kind: "run", configPath: "my.cfg" });
  assert.deepEqual(parseCli(["--config", "my.cfg"]), { kind: "run", configPath: "my.cfg" });
  assert.deepEqual(parseCli(["--config=my.cfg"]), { kind: "run", configPath: "my.cfg" });
  // An inline value, or one after "--", may start with a dash.
  assert.deepEqual(parseCli(["--config=-odd"]), { kind: "run", configPath: "-odd" });
  assert.deepEqual(parseCli(["--", "-odd"]), { kind: "run", configPath: "-odd" });
});

Deno.test("parseCli() recognises --help, -h, --version and -V", () => {
  assert.deepEqual(parseCli(["--help"]), { kind: "help" });
  assert.deepEqual(parseCli(["-h"]), { kind: "help" });
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
  assert.deepEqual(parseCli(["-V"]), { kind: "version" });
  // Help wins over everything else that parses, so it is always reachable.
  assert.deepEqual(parseCli(["a.json", "-V", "--help"]), { kind: "help" });
  assert.deepEqual(parseCli(["a.json", "b.json", "-h"]), { kind: "help" });
  assert.deepEqual(parseCli(["a.json", "-V"]), { kind: "version" });
});

Deno.test("parseCli() rejects an unknown option in one line", () => {
  assertCliError(["--port", "80"], 'unknown option "--port" (see --help)');
  assertCliError(["-x"], 'unknown option "-x" (see --help)');
  assertCliError(["--help", "--verbose"], 'unknown option "--verbose" (see --help)');
});

Deno.test("parseCli() rejects two config paths", () => {
  assertCliError(["a.json", "b.json"], 'more than one config file given: "a.json" and "b.json"');
  assertCliError(
    ["--config", "a.json", "b.json"],
    'more than one config file given: "a.json" and "b.json"',
  );
  assertCliError(
    ["--config=a.json", "--config=b.json"],
    'more than one config file given: "a.json" and "b.json"',
  );
});

Deno.test("parseCli() rejects --config without a path and a flag with a value", () => {
  assertCliError(["--config"], 'option "--config" needs a path');
  assertCliError(["--config", "--help"], 'option "--config" needs a path');
  assertCliError(["--help=yes"], 'option "--help" takes no value');
});

Deno.test("HELP_TEXT lists every option and points at the README", () => {
  for (const option of ["--config PATH", "-h, --help", "-V, --version", "[CONFIG]"]) {
    assert.ok(HELP_TEXT.includes(option), `help mentions ${option}`);
  }
  assert.ok(HELP_TEXT.includes("README"));
  assert.ok(HELP_TEXT.startsWith(`${NAME} ${VERSION}`));
  assert.equal(VERSION_TEXT, `NoBrake ${VERSION}`);
});

Deno.test("version.ts matches the version in deno.json", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, denoJson.version);
});

Deno.test("loadConfigFile() reads a config and resolves its paths against its directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tracker.cfg");
    await Deno.writeTextFile(
      path,
      JSON.stringify({ port: 6969, allowed: "torrents", interval: 1800, expiry: 3600 }),
    );
    const config = await loadConfigFile(path);
    assert.deepEqual(config, {
      ...DEFAULT_CONFIG,
      allowed: join(dir, "torrents"),
      state_file: join(dir, "nobrake-state.sqlite"),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigFile() passes warnings on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tracker.cfg");
    await Deno.writeTextFile(
      path,
      '{"port": 1, "allowed": "*", "interval": 1, "expiry": 1, "statefile": "s"}',
    );
    const warnings: string[] = [];
    await loadConfigFile(path, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [
      `${path}: key "statefile": ignored (NoBrake's state file, in its own format, is set by "state_file")`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigFile() names the file it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = join(dir, "missing.json");
    await assert.rejects(loadConfigFile(missing), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `${missing}: cannot read file: no such file`);
      return true;
    });
    await assert.rejects(loadConfigFile(dir), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `${dir}: cannot read file: is a directory`);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigFile() reports a bad config as a ConfigError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tracker.json");
    await Deno.writeTextFile(path, '{"port": 6969}');
    await assert.rejects(loadConfigFile(path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `${path}: key "allowed": required key is missing`);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
