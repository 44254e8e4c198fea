/**
 * The single executable from `deno task compile`, and the tasks in `deno.json` around it.
 *
 * The compiled-binary test builds `nobrake` with exactly the flags of the `compile` task (read from
 * `deno.json`, so the two cannot drift) and checks that the result is the tracker and not a bare
 * Deno: its own `--version` and `--help` (with no config present), then, with an empty environment
 * and so no `deno` on PATH, an announce and a scrape answered, a SIGHUP reload logged and SIGTERM
 * exiting 0. `deno compile` takes its runtime (`denort`) from `DENORT_BIN`, from
 * `$DENO_DIR/dl/release/v<version>/denort-<target>.zip`, or downloads it from dl.deno.land; when
 * none of these is possible the test is ignored, its name ends in `(skipped: no denort runtime …)`
 * and a `SKIP e2e_compile_test:` line gives the whole reason. A download that fails after the probe
 * found the runtime reachable fails the test.
 *
 * So that the checks themselves are tested where no runtime is available, the same checks run
 * against `deno run <compile flags> main.ts`, which must pass them, and against `deno` itself and
 * a build on the full `deno` binary (which Deno 2.9 turns into a bare Deno that opens a REPL),
 * which must fail them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import type { ClientAnnounce } from "./support/tracker_client.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const DENO_JSON = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json"))) as {
  version: string;
  unstable?: string[];
  tasks: Record<string, string>;
};
/** What `--version` must print, exactly. */
const VERSION_LINE = `NoBrake ${DENO_JSON.version}\n`;

/** Milliseconds a build may take (type check included). */
const BUILD_TIMEOUT_MS = 240_000;
/** Milliseconds a `--version` or `--help` run may take. */
const QUICK_RUN_TIMEOUT_MS = 20_000;
/** Milliseconds to wait for a log line or for the exit after SIGTERM. */
const EVENT_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// The compile task

/** The `compile` task taken apart. */
interface CompileTask {
  /** Every flag except `--output` and its value, in order. */
  flags: string[];
  /**
   * The flags that also mean something to `deno run`: permissions, `--unstable-*`, prompts, V8
   * flags.
   */
  runtimeFlags: string[];
  output: string;
  entry: string;
}

/** Compile flags whose value is the next word. */
const VALUE_FLAGS = new Set(["--include", "--exclude", "--target", "--icon", "--config", "-c"]);

/** Splits a task made of plain words: `deno compile <flags> --output <file> <entry>`. */
function parseCompileTask(task: string): CompileTask {
  // The task is run by Deno's task shell; quoting or shell operators would need that shell here.
  assert.ok(!/["'`$;&|<>\\]/.test(task), `the compile task must be plain words: ${task}`);
  const words = task.trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"], `not a deno compile task: ${task}`);
  const entry = words.at(-1)!;
  const flags: string[] = [];
  const runtimeFlags: string[] = [];
  let output: string | null = null;
  for (let i = 2; i < words.length - 1; i++) {
    const word = words[i];
    if (word === "--output" || word === "-o") output = words[++i];
    else if (word.startsWith("--output=")) output = word.slice("--output=".length);
    else if (VALUE_FLAGS.has(word)) flags.push(word, words[++i]);
    else {
      flags.push(word);
      if (/^--(allow|deny)-|^--unstable-|^--no-prompt$|^--v8-flags=/.test(word)) {
        runtimeFlags.push(word);
      }
    }
  }
  assert.ok(output !== null, `the compile task names no --output: ${task}`);
  return { flags, runtimeFlags, output, entry };
}

const COMPILE_TASK = parseCompileTask(DENO_JSON.tasks.compile);

type BuildResult = { ok: true } | { ok: false; downloadFailed: boolean; stderr: string };

/**
 * Runs the compile task's command with its output redirected to `output`, from the repository
 * root as `deno task compile` does. `env` is added to this process's environment.
 */
async function buildNobrake(
  output: string,
  env: Record<string, string> = {},
): Promise<BuildResult> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["compile", ...COMPILE_TASK.flags, "--output", output, COMPILE_TASK.entry],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(BUILD_TIMEOUT_MS),
  }).output();
  if (result.success) return { ok: true };
  const stderr = new TextDecoder().decode(result.stderr);
  // Deno wraps every failure to fetch the runtime archive in this context line.
  return { ok: false, downloadFailed: stderr.includes("Setting up base binary"), stderr };
}

/**
 * Why `deno compile` cannot get a runtime on this machine, or null when it can (or may: a
 * `DENORT_BIN` pointing nowhere is left for the build to report, as a failure).
 */
async function runtimeUnavailableReason(): Promise<string | null> {
  if ((Deno.env.get("DENORT_BIN") ?? "") !== "") return null;
  const suffix = `release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  const denoDir = Deno.env.get("DENO_DIR") ?? await denoDirOfDenoInfo();
  if (denoDir !== null && await isFile(join(denoDir, "dl", suffix))) return null;
  const url = `https://dl.deno.land/${suffix}`;
  let problem: string;
  try {
    // A GET, as deno compile does (a HEAD may be answered differently); the body is not read.
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    if (response.ok) return null;
    problem = `${url} answered ${response.status}`;
  } catch (error) {
    problem = `cannot reach ${url}: ${deepestMessage(error)}`;
  }
  return `deno compile needs a denort runtime for Deno ${Deno.version.deno} ` +
    `(${Deno.build.target}) and none is available (${problem}); set DENORT_BIN to a denort ` +
    `binary of that version, or put its zip in $DENO_DIR/dl/${suffix}`;
}

async function denoDirOfDenoInfo(): Promise<string | null> {
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(QUICK_RUN_TIMEOUT_MS),
    }).output();
    return (JSON.parse(new TextDecoder().decode(result.stdout)).denoDir as string) ?? null;
  } catch {
    return null;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function deepestMessage(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function report(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
}

// ---------------------------------------------------------------------------------------------
// The checks, for any program that claims to be the tracker

type ClientEvent = NonNullable<ClientAnnounce["event"]>;

/** A program to check: the compiled binary, or a stand-in for it. */
interface Candidate {
  /** What it is, for messages. */
  label: string;
  command: string;
  /** Arguments before NoBrake's own (`run <flags> main.ts` for `deno run`). */
  args: string[];
  /** Its whole environment: nothing else is inherited. */
  env: Record<string, string>;
}

/** Runs every check on `candidate`; throws on the first that fails. */
async function checkIsNobrake(candidate: Candidate): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-binary-" });
  try {
    await checkVersion(candidate, dir);
    await checkHelp(candidate, dir);
    await checkServes(candidate, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runQuick(candidate: Candidate, args: string[], cwd: string) {
  const result = await new Deno.Command(candidate.command, {
    args: [...candidate.args, ...args],
    cwd,
    env: candidate.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(QUICK_RUN_TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  return {
    ...result,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** `--version` prints exactly `NoBrake <version>`: Deno's own version or a REPL banner fails. */
async function checkVersion(candidate: Candidate, dir: string): Promise<void> {
  const result = await runQuick(candidate, ["--version"], dir);
  const expected = JSON.stringify(VERSION_LINE);
  const got = `exit ${result.code}, stdout ${JSON.stringify(result.stdout.slice(0, 200))}`;
  assert.ok(
    result.code === 0 && result.stdout === VERSION_LINE,
    `${candidate.label} --version is not the tracker's: expected ${expected}, got ${got}`,
  );
}

/** `--help` works in a directory without a config and prints NoBrake's usage. */
async function checkHelp(candidate: Candidate, dir: string): Promise<void> {
  const emptyDir = await Deno.makeTempDir({ dir, prefix: "empty-" });
  const result = await runQuick(candidate, ["--help"], emptyDir);
  const { code, stdout, stderr } = result;
  assert.ok(
    code === 0 && stdout.startsWith(`NoBrake ${DENO_JSON.version}: `) &&
      stdout.includes("Usage: nobrake"),
    `${candidate.label} --help without a config is not the tracker's: exit ${code}, ` +
      `stdout ${JSON.stringify(stdout.slice(0, 200))}, stderr ${
        JSON.stringify(stderr.slice(0, 400))
      }`,
  );
}

/** A candidate started on a config, logging to a file. */
class RunningTracker {
  readonly #label: string;
  readonly #logPath: string;
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #output: Promise<[string, string]>;
  #exit: Deno.CommandStatus | null = null;

  constructor(candidate: Candidate, options: { configPath: string; cwd: string; logPath: string }) {
    this.#label = candidate.label;
    this.#logPath = options.logPath;
    this.#child = new Deno.Command(candidate.command, {
      args: [...candidate.args, options.configPath],
      cwd: options.cwd,
      env: candidate.env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#output = Promise.all([
      new Response(this.#child.stdout).text(),
      new Response(this.#child.stderr).text(),
    ]);
    this.#status = this.#child.status.then((status) => (this.#exit = status));
  }

  /** The first match of `pattern` in the log; fails if the process exits or time runs out. */
  async waitForLog(pattern: RegExp, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + EVENT_TIMEOUT_MS;
    for (;;) {
      const match = (await readOrEmpty(this.#logPath)).match(pattern);
      if (match !== null) return match;
      if (this.#exit !== null || Date.now() > deadline) {
        assert.fail(`${this.#label} logged no ${what}: ${await this.#describe()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** The exit status, or a failure if the process runs on past the deadline. */
  async waitForExit(): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), EVENT_TIMEOUT_MS);
    });
    const exit = await Promise.race([this.#status, timeout]);
    clearTimeout(timer);
    if (exit === null) assert.fail(`${this.#label} did not exit: ${await this.#describe()}`);
    return exit;
  }

  /** Kills the process if it still runs and waits for it and its output. */
  async close(): Promise<void> {
    if (this.#exit === null) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // It exited in the meantime.
      }
    }
    await this.#status;
    await this.#output;
  }

  async #describe(): Promise<string> {
    const log = JSON.stringify(await readOrEmpty(this.#logPath));
    if (this.#exit === null) return `log ${log}, still running`;
    const [, stderr] = await this.#output;
    return `log ${log}, exit ${JSON.stringify(this.#exit)}, stderr ${JSON.stringify(stderr)}`;
  }
}

/**
 * Lays out a config and an allowed directory as the systemd unit does (config and torrents in one
 * directory, the process started elsewhere with the config's path), runs the candidate on it with
 * an empty environment, and checks an announce, a scrape, a SIGHUP reload and a SIGTERM exit.
 */
async function checkServes(candidate: Candidate, dir: string): Promise<void> {
  const etc = join(dir, "etc");
  const allowedDir = join(etc, "allowed_torrents");
  const logPath = join(dir, "log", "nobrake.log");
  await Deno.mkdir(allowedDir, { recursive: true });
  await Deno.mkdir(join(dir, "state"));
  await Deno.mkdir(join(dir, "log"));
  const first = await writeTorrentFile(allowedDir, "one.torrent", "one");
  // Port 0 picks a free port; the startup line says which. The log file needs --allow-write.
  const config = { ip: "127.0.0.1", port: 0, allowed: "./allowed_torrents", interval: 900 };
  const configPath = join(etc, "tracker.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ ...config, expiry: 3600, logfile: logPath }),
  );

  const tracker = new RunningTracker(candidate, { configPath, cwd: join(dir, "state"), logPath });
  try {
    const started = await tracker.waitForLog(
      /startup NoBrake \S+ listening on http:\/\/127\.0\.0\.1:(\d+) \((\d+) torrents allowed/,
      "startup line",
    );
    assert.equal(started[2], "1", `${candidate.label} should load the one allowed torrent`);
    const client = new HttpTrackerClient(`http://127.0.0.1:${started[1]}`);
    const announce = (infoHash: Uint8Array, n: number, left: number, event: ClientEvent) =>
      client.announce({
        infoHash,
        peerId: new TextEncoder().encode(`-NB0000-compiletest${n}`),
        port: 6880 + n,
        left,
        event,
      });

    assert.deepEqual(await announce(first, 1, 0, "started"), {
      ok: true,
      interval: 900,
      complete: 1,
      incomplete: 0,
      peers: [],
    });
    assert.deepEqual(await announce(first, 2, 1000, "started"), {
      ok: true,
      interval: 900,
      complete: 1,
      incomplete: 1,
      peers: [{ ip: "127.0.0.1", port: 6881 }],
    });
    assert.equal((await announce(first, 2, 0, "completed")).ok, true);
    assert.deepEqual(await client.scrape([first]), [{ complete: 2, incomplete: 0, downloaded: 1 }]);

    // A torrent added to the directory is served after SIGHUP, and the reload is logged.
    const second = await writeTorrentFile(allowedDir, "two.torrent", "two");
    assert.equal((await announce(second, 3, 5, "started")).ok, false, "not loaded yet");
    tracker.signal("SIGHUP");
    await tracker.waitForLog(/startup received SIGHUP/, "SIGHUP line");
    await tracker.waitForLog(new RegExp(`torrent ${toHex(second)} added`), "added torrent");
    assert.equal((await announce(second, 3, 5, "started")).ok, true, "served after SIGHUP");

    tracker.signal("SIGTERM");
    const exit = await tracker.waitForExit();
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    await tracker.waitForLog(/startup received SIGTERM, shutting down/, "SIGTERM line");
  } finally {
    await tracker.close();
  }
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// Tests

const UNAVAILABLE = await runtimeUnavailableReason();
if (UNAVAILABLE !== null) report(`SKIP e2e_compile_test: ${UNAVAILABLE}`);

const COMPILE_TEST_NAME =
  "deno task compile builds the tracker (an empty environment, no deno on PATH)";

Deno.test({
  // An ignored test is counted as such in the summary; its name says why it did not run.
  name: UNAVAILABLE === null
    ? COMPILE_TEST_NAME
    : `${COMPILE_TEST_NAME} (skipped: no denort runtime for Deno ${Deno.version.deno}; ` +
      "set DENORT_BIN)",
  ignore: UNAVAILABLE !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nobrake-compile-" });
    try {
      const binary = join(dir, "nobrake");
      const built = await buildNobrake(binary);
      // The probe found the runtime reachable: a failed download now is a failure to see, not a
      // pass (this test used to return green here).
      const why = built.ok
        ? ""
        : built.downloadFailed
        ? `deno compile could not fetch its runtime although the probe reached it:\n${built.stderr}`
        : `deno compile failed:\n${built.stderr}`;
      assert.ok(built.ok, why);
      await checkIsNobrake({ label: "the compiled nobrake", command: binary, args: [], env: {} });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the binary checks pass on deno run with the compile task's flags", async () => {
  // The config's `unstable` key is what deno compile bakes in; `--config` applies it here too.
  const denoDir = Deno.env.get("DENO_DIR");
  await checkIsNobrake({
    label: "deno run main.ts",
    command: Deno.execPath(),
    args: [
      "run",
      "--config",
      join(REPO, "deno.json"),
      ...COMPILE_TASK.runtimeFlags,
      join(REPO, COMPILE_TASK.entry),
    ],
    // Deno finds its module cache without HOME too, but reuses the warm one when told where.
    env: denoDir === undefined ? {} : { DENO_DIR: denoDir },
  });
});

Deno.test("the binary checks reject deno itself: its --version and its REPL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-bare-" });
  try {
    const bare = { label: "deno", command: Deno.execPath(), args: [], env: {} };
    await assert.rejects(checkVersion(bare, dir), /--version is not the tracker's/);
    await assert.rejects(checkHelp(bare, dir), /--help without a config is not the tracker's/);
    await assert.rejects(checkIsNobrake(bare), /--version is not the tracker's/);
    // `deno repl -- ARGS` opens the REPL whatever ARGS are: with stdin closed it prints its
    // banner and exits 0, as a binary that only opens a REPL would.
    const repl = { ...bare, label: "a REPL", args: ["repl", "--"] };
    assert.match((await runQuick(repl, ["--version"], dir)).stdout, /^Deno \d/);
    await assert.rejects(checkVersion(repl, dir), /--version is not the tracker's/);
    await assert.rejects(checkHelp(repl, dir), /--help without a config is not the tracker's/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the binary checks reject a build whose runtime is the full deno (DENORT_BIN=deno)", async () => {
  // Deno 2.9's full binary ignores a program appended to it: such a build runs as a bare Deno,
  // printing Deno's version and opening a REPL. It is what a stray DENORT_BIN produces.
  const dir = await Deno.makeTempDir({ prefix: "nobrake-compile-bare-" });
  try {
    const binary = join(dir, "nobrake");
    const built = await buildNobrake(binary, { DENORT_BIN: Deno.execPath() });
    assert.ok(
      built.ok,
      `deno compile with DENORT_BIN=deno failed:\n${built.ok ? "" : built.stderr}`,
    );
    const candidate = { label: "nobrake on the full deno", command: binary, args: [], env: {} };
    await assert.rejects(checkIsNobrake(candidate), /--version is not the tracker's/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile grants network, read and write only, and enables unstable net", () => {
  const { flags, output, entry } = COMPILE_TASK;
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"), "no -A");
  // The config path, the allowed directory, the log file and the listen address all come from
  // the config chosen at run time, and a compiled binary takes no permission flags at run time:
  // none of the three can be narrowed to a path or an address when compiling.
  assert.deepEqual(
    flags.filter((flag) => flag.startsWith("--allow-")).sort(),
    ["--allow-net", "--allow-read", "--allow-write"],
  );
  assert.ok(flags.includes("--no-prompt"), "a missing permission must fail, not prompt");
  assert.ok(["nobrake", "./nobrake"].includes(output), `the binary is ./nobrake, not ${output}`);
  assert.equal(entry, "main.ts");
  // UDP needs Deno.listenDatagram; deno compile bakes in deno.json's `unstable` list.
  assert.ok(
    flags.includes("--unstable-net") || (DENO_JSON.unstable ?? []).includes("net"),
    "the binary needs unstable net, from deno.json or from --unstable-net",
  );
});

Deno.test("deno task compile bakes in the V8 flags of deno task start", () => {
  // The smaller young generation is what keeps memory per peer in bounds (tests/bench/README.md):
  // the binary must run with it as `deno task start` does.
  const v8Flags = (task: string) =>
    task.trim().split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
  assert.deepEqual(v8Flags(DENO_JSON.tasks.compile), v8Flags(DENO_JSON.tasks.start));
  assert.equal(v8Flags(DENO_JSON.tasks.start).length, 1, "deno task start sets V8 flags");
});

Deno.test("deno task dev is deno task start with --watch", () => {
  const words = (task: string) => task.trim().split(/\s+/);
  const dev = words(DENO_JSON.tasks.dev);
  assert.ok(dev.some((word) => word === "--watch" || word.startsWith("--watch=")), "dev watches");
  assert.deepEqual(
    dev.filter((word) => word !== "--watch" && !word.startsWith("--watch=")),
    words(DENO_JSON.tasks.start),
  );
});
