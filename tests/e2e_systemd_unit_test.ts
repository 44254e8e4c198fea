/**
 * The systemd units of the docs: the unit of README.md's "Deploy" (the fenced block right after
 * `<!-- systemd-unit -->`) and the template `nobrake@.service` of `docs/scaling.md`, "systemd
 * template unit" (after `<!-- systemd-template-unit -->`).
 * Its directives are checked here as text, and the whole unit with `systemd-analyze verify` where
 * that tool exists (Debian package `systemd`); elsewhere that test is ignored and prints a
 * `SKIP e2e_systemd_unit_test:` line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const SCALING = await Deno.readTextFile(new URL("../docs/scaling.md", import.meta.url));
const MARKER = "<!-- systemd-unit -->";
const TEMPLATE_MARKER = "<!-- systemd-template-unit -->";
/** Where the unit starts the tracker; `systemd-analyze verify` needs an executable there. */
const BINARY = "/usr/local/bin/nobrake";
const VERIFY_TIMEOUT_MS = 60_000;

/** The unit file as the page `name` (`text`) gives it after `marker`. */
function unitFromDoc(name: string, text: string, marker = MARKER): string {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `${name} has no ${marker} marker`);
  const block = text.slice(at + marker.length).match(/^\s*```ini\n([\s\S]*?)\n```/);
  assert.ok(block !== null, `no \`\`\`ini block right after ${marker} in ${name}`);
  return block[1] + "\n";
}

/** `Key=value` lines by section, comments left out; a key may repeat. */
function directives(unit: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let section = "";
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(\w+)\]$/);
    if (header !== null) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(eq > 0, `not a directive: ${line}`);
    const key = `${section}.${line.slice(0, eq)}`;
    result.set(key, [...(result.get(key) ?? []), line.slice(eq + 1)]);
  }
  return result;
}

const UNIT = unitFromDoc("README.md", README);
const TEMPLATE = unitFromDoc("docs/scaling.md", SCALING, TEMPLATE_MARKER);

Deno.test("the README's unit runs the binary as a sandboxed dynamic user, reloading on SIGHUP", () => {
  const unit = directives(UNIT);
  const expected: Record<string, string> = {
    "Service.ExecStart": `${BINARY} /etc/nobrake/tracker.json`,
    "Service.ExecReload": "/bin/kill -HUP $MAINPID",
    "Service.Restart": "on-failure",
    "Service.DynamicUser": "yes",
    "Service.StateDirectory": "nobrake",
    "Service.ProtectSystem": "strict",
    "Service.ProtectHome": "yes",
    "Service.NoNewPrivileges": "yes",
    "Service.PrivateTmp": "yes",
    "Service.PrivateDevices": "yes",
    "Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    // Port 6969 needs no capability; the README says how to allow ports below 1024.
    "Service.CapabilityBoundingSet": "",
    "Install.WantedBy": "multi-user.target",
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(unit.get(key), [value], key);
  }
  assert.equal(unit.get("Service.AmbientCapabilities"), undefined, "no capability on port 6969");
  assert.match(UNIT, /^#\s+AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
  // V8's JIT needs memory it writes and then executes: this option would stop the tracker.
  assert.equal(unit.get("Service.MemoryDenyWriteExecute"), undefined);
  assert.match(UNIT, /^# Not MemoryDenyWriteExecute=yes: V8/m);
});

Deno.test("the template unit of docs/scaling.md runs every instance as one dynamic user on one config, restarting on exit 2", () => {
  const unit = directives(TEMPLATE);
  const expected: Record<string, string> = {
    "Service.ExecStart": `${BINARY} /etc/nobrake/tracker.json`,
    "Service.ExecReload": "/bin/kill -HUP $MAINPID",
    "Service.Restart": "on-failure",
    "Service.DynamicUser": "yes",
    // One user id for all instances: SO_REUSEPORT shares a port only within one user id.
    "Service.User": "nobrake",
    "Service.ProtectSystem": "strict",
    "Service.NoNewPrivileges": "yes",
    "Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "Service.CapabilityBoundingSet": "",
    "Install.WantedBy": "multi-user.target",
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(unit.get(key), [value], key);
  }
  assert.match(unit.get("Unit.Description")?.[0] ?? "", /%i/);
  // "Redis unreachable at start" exits 2: the template must restart on it.
  assert.equal(unit.get("Service.RestartPreventExitStatus"), undefined);
  assert.equal(unit.get("Service.MemoryDenyWriteExecute"), undefined);
});

/** Whether `systemd-analyze` can run here. */
async function systemdAnalyzeMissing(): Promise<string | null> {
  try {
    const result = await new Deno.Command("systemd-analyze", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
    }).output();
    return result.success ? null : `systemd-analyze --version exited ${result.code}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return "systemd-analyze is not installed (Debian package systemd)";
    }
    throw error;
  }
}

/**
 * Runs `systemd-analyze verify` on `unit` saved as `<dir>/nobrake.service`; returns the problems it
 * reports about that file. It exits 0 on some (an unknown key is only a warning), so its stderr
 * counts too.
 */
async function verify(dir: string, unit: string, name = "nobrake.service"): Promise<string[]> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, unit);
  const result = await new Deno.Command("systemd-analyze", {
    args: ["verify", "--man=no", path],
    env: { SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
  }).output();
  const output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  // Units the system itself ships may draw warnings too; only ours count.
  const problems = output.split("\n").filter((line) => line.includes(name));
  if (!result.success) problems.push(`systemd-analyze verify exited ${result.code}: ${output}`);
  return problems;
}

const MISSING = await systemdAnalyzeMissing();
if (MISSING !== null) {
  Deno.stdout.writeSync(new TextEncoder().encode(`SKIP e2e_systemd_unit_test: ${MISSING}\n`));
}

Deno.test({
  name: "systemd-analyze verify accepts the README's unit, and rejects a broken one",
  ignore: MISSING !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nobrake-unit-" });
    try {
      // verify refuses an ExecStart that is not an executable file, and nobrake is not installed
      // on this machine: the unit is checked with ExecStart pointing at a placeholder script.
      const placeholder = join(dir, "nobrake");
      await Deno.writeTextFile(placeholder, "#!/bin/sh\nexit 0\n");
      await Deno.chmod(placeholder, 0o755);
      const unit = UNIT.replaceAll(BINARY, placeholder);
      assert.ok(unit.includes(`ExecStart=${placeholder} `), "ExecStart was substituted");
      assert.deepEqual(await verify(dir, unit), []);
      // The variant for a port below 1024, as the unit's comment says to write it.
      const lowPort = unit.replace(
        /^CapabilityBoundingSet=$/m,
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE",
      );
      assert.notEqual(lowPort, unit);
      assert.deepEqual(await verify(dir, lowPort), []);

      // The check is not vacuous: a misspelt key and a missing binary are both reported.
      const broken = unit.replace("[Service]\n", "[Service]\nProtectSystemm=strict\n")
        .replaceAll(placeholder, join(dir, "missing"));
      const problems = (await verify(dir, broken)).join("\n");
      assert.match(problems, /Unknown key.*ProtectSystemm/);
      assert.match(problems, /missing is not executable/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "systemd-analyze verify accepts the template unit nobrake@.service of docs/scaling.md, and rejects a broken one",
  ignore: MISSING !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nobrake-template-" });
    try {
      const placeholder = join(dir, "nobrake");
      await Deno.writeTextFile(placeholder, "#!/bin/sh\nexit 0\n");
      await Deno.chmod(placeholder, 0o755);
      const unit = TEMPLATE.replaceAll(BINARY, placeholder);
      assert.ok(unit.includes(`ExecStart=${placeholder} `), "ExecStart was substituted");
      assert.deepEqual(await verify(dir, unit, "nobrake@.service"), []);
      const broken = unit.replace("[Service]\n", "[Service]\nDynamicUserr=yes\n");
      const problems = (await verify(dir, broken, "nobrake@.service")).join("\n");
      assert.match(problems, /Unknown key.*DynamicUserr/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
