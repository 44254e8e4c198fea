/**
 * End-to-end tests of NoBrake as an operator runs it: `deno run main.ts CONFIG` in its own
 * process, with real BitTorrent clients (libtorrent and aria2) that find each other through it
 * alone and download a torrent from the allowlist, over IPv4 and IPv6. Also the process edges:
 * the shipped `tracker.json` starts, SIGTERM exits 0, a bad config exits 2 with one line, and
 * `--help` and `--version` work.
 *
 * The clients must be installed (`.ci/run` installs them): a missing one fails these tests,
 * unless `NOBRAKE_SKIP_REAL_CLIENTS=1` is set, which skips them with a SKIP line instead.
 * Everything runs on loopback, each IPv4 peer on its own address (127.0.0.2, 127.0.0.3, ...).
 *
 * @module
 */
import assert from "node:assert/strict";
import bencode from "bencode";
import { VERSION_TEXT } from "../src/runtime/cli.ts";
import {
  canBind,
  freePort,
  makeTempDir,
  makeTorrent,
  missingClients,
  type RunningProcess,
  spawnProcess,
  startAria2Leecher,
  startLibtorrentPeer,
  writePayload,
} from "./support/real_clients.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_CONFIG = new URL("../deno.json", import.meta.url).pathname;
const TRACKER_JSON = new URL("../tracker.json", import.meta.url).pathname;

/** How long NoBrake may take to print its startup line (a cold `deno run` compiles first). */
const STARTUP_TIMEOUT_MS = 30_000;
/** Hard cap on any one NoBrake process in these tests. */
const TRACKER_HARD_TIMEOUT_MS = 120_000;
/** How long a leecher may take for a few hundred KB on loopback, announces included. */
const DOWNLOAD_TIMEOUT_SECONDS = 45;

const encoder = new TextEncoder();
function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

const MISSING = await missingClients();
const SKIP_REAL_CLIENTS = MISSING.length > 0 && Deno.env.get("NOBRAKE_SKIP_REAL_CLIENTS") === "1";
if (SKIP_REAL_CLIENTS) {
  say(`SKIP real-client tests: not installed: ${MISSING.join(", ")} (NOBRAKE_SKIP_REAL_CLIENTS=1)`);
}
const IPV6_MISSING = canBind("::1") ? null : "cannot bind [::1]: IPv6 loopback is off here";
if (IPV6_MISSING !== null && !SKIP_REAL_CLIENTS) say(`SKIP IPv6 real-client test: ${IPV6_MISSING}`);

/** A test that needs the real clients: fails if one is missing, unless skipping was asked for. */
function clientTest(name: string, fn: () => Promise<void>, ignore = false): void {
  Deno.test({
    name,
    ignore: SKIP_REAL_CLIENTS || ignore,
    fn: async () => {
      if (MISSING.length > 0) {
        throw new Error(
          `real clients not installed: ${MISSING.join(", ")}. Install them (.ci/run does), ` +
            "or set NOBRAKE_SKIP_REAL_CLIENTS=1 to skip these tests.",
        );
      }
      await fn();
    },
  });
}

/** Starts `deno run main.ts ...args` in `cwd`; NoBrake's log goes to stderr. */
function spawnNoBrake(args: string[], cwd: string): RunningProcess {
  return spawnProcess("nobrake", Deno.execPath(), {
    // --config: the repository's deno.json is not found from a temporary working directory.
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      `--config=${DENO_CONFIG}`,
      MAIN,
      ...args,
    ],
    cwd,
    timeoutMs: TRACKER_HARD_TIMEOUT_MS,
  });
}

/** Waits for the `startup ... listening on URL (...)` line and returns URL and the parenthesis. */
async function listening(tracker: RunningProcess): Promise<{ url: string; mode: string }> {
  const match = await tracker.waitForLine(
    /^\S+ startup NoBrake \S+ listening on (http:\/\/\S+) \((.*)\)$/,
    { stream: "stderr", timeoutMs: STARTUP_TIMEOUT_MS },
  );
  return { url: match[1], mode: match[2] };
}

/** SIGTERM must end NoBrake with exit code 0 after it logs the shutdown. */
async function stopGracefully(tracker: RunningProcess): Promise<void> {
  const status = await tracker.stop("SIGTERM");
  assert.equal(status.code, 0, `SIGTERM should exit 0\n${tracker.tail()}`);
  assert.ok(
    tracker.lines.some((line) => / startup received SIGTERM, shutting down$/.test(line.text)),
    `no shutdown line\n${tracker.tail()}`,
  );
}

/** Scrape counts for one info hash, decoded with `npm:bencode` (independent of NoBrake's encoder). */
async function scrape(
  trackerUrl: string,
  infoHash: Uint8Array,
): Promise<{ complete: number; incomplete: number; downloaded: number }> {
  const query = Array.from(infoHash, (byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  const response = await fetch(`${trackerUrl}/scrape?info_hash=${query}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = new Uint8Array(await response.arrayBuffer());
  assert.equal(response.status, 200);
  const reply = bencode.decode(body) as { files?: Record<string, Record<string, unknown>> };
  // bencode decodes the binary key as text, so take the one entry rather than look it up.
  const entries = Object.values(reply.files ?? {});
  assert.equal(entries.length, 1, `scrape should list exactly the one hash asked for`);
  const { complete, incomplete, downloaded } = entries[0];
  assert.ok(typeof complete === "number" && typeof incomplete === "number");
  assert.ok(typeof downloaded === "number");
  return { complete, incomplete, downloaded };
}

/** Compares without dumping a few hundred KB into the failure message. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(first, -1, `${label}: first differing byte at offset ${first}`);
}

/** Relative paths of the regular files under `dir`, sorted. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await listFiles(dir, `${relative}/`));
    else found.push(relative);
  }
  return found.sort();
}

type LeecherKind = "aria2" | "libtorrent";

/** One swarm scenario: what to share, over which family, and who downloads it. */
interface SwarmCase {
  family: "ipv4" | "ipv6";
  /** The torrent's name; a single file when `files` has one entry named the same. */
  name: string;
  /** Paths (under the torrent's name for a multi-file torrent) and sizes. */
  files: Record<string, number>;
  leechers: LeecherKind[];
}

/**
 * Runs NoBrake on a free port with an allowlist holding only this torrent, one libtorrent
 * seeder, then the leechers together. Checks every leecher's bytes equal the payload, and that
 * scrape counts the seeder and one completed download per leecher, and then, once the seeder has
 * stopped, an empty swarm that still remembers the downloads.
 */
async function runSwarm(swarm: SwarmCase): Promise<void> {
  await using temp = await makeTempDir();
  const v6 = swarm.family === "ipv6";
  const trackerHost = v6 ? "::1" : "127.0.0.1";
  // Each IPv4 peer gets an address of its own, so the tracker tells peers apart as on a network;
  // IPv6 has a single loopback address, so peers there differ by port alone.
  const peerAddress = (index: number) => v6 ? "::1" : `127.0.0.${index + 2}`;
  const trackerPort = freePort(trackerHost);
  const announce = `http://${v6 ? "[::1]" : trackerHost}:${trackerPort}/announce`;

  const single = Object.keys(swarm.files).length === 1 && swarm.name in swarm.files;
  const seedDir = `${temp.path}/seed`;
  const payload = await writePayload(
    single ? seedDir : `${seedDir}/${swarm.name}`,
    swarm.files,
  );
  const allowedDir = `${temp.path}/allowed`;
  await Deno.mkdir(allowedDir);
  const torrent = await makeTorrent({
    source: `${seedDir}/${swarm.name}`,
    announce,
    output: `${allowedDir}/${swarm.name}.torrent`,
  });

  const configPath = `${temp.path}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      ip: trackerHost,
      port: trackerPort,
      family: v6 ? "AF_INET6" : "AF_INET",
      allowed: allowedDir,
      // Short, so a peer that announced before the seeder was listed asks again soon.
      interval: 4,
      expiry: 60,
      sweep_interval: 1,
      // The announce lines make a failure readable from the tracker's tail.
      log_announces: true,
    }),
  );

  await using tracker = spawnNoBrake([configPath], temp.path);
  const { url, mode } = await listening(tracker);
  assert.equal(url, `http://${v6 ? "[::1]" : trackerHost}:${trackerPort}`);
  assert.match(mode, /^1 torrents allowed\b/);
  const trackerUrl = url;

  await using seeder = startLibtorrentPeer("seeder", {
    torrent: torrent.path,
    saveDir: seedDir,
    role: "seed",
    address: peerAddress(0),
    port: freePort(peerAddress(0)),
    timeoutSeconds: 100,
  });
  // Leechers start once the tracker knows the seeder, so their first announce already lists it.
  await seeder.waitForLine(/^announced \d+ peers$/, { stream: "stdout", timeoutMs: 30_000 })
    .catch((error: Error) => {
      throw new Error(`${error.message}\n${tracker.tail(20)}`);
    });

  const leechers: { child: RunningProcess; dir: string }[] = [];
  try {
    for (const [i, kind] of swarm.leechers.entries()) {
      const dir = `${temp.path}/leech${i}`;
      await Deno.mkdir(dir);
      const address = peerAddress(i + 1);
      const options = {
        torrent: torrent.path,
        saveDir: dir,
        address,
        port: freePort(address),
        timeoutSeconds: DOWNLOAD_TIMEOUT_SECONDS,
      };
      const name = `${kind} leecher ${i}`;
      const child = kind === "aria2"
        ? startAria2Leecher(name, options)
        : startLibtorrentPeer(name, { ...options, role: "leech" });
      leechers.push({ child, dir });
    }
    for (const { child } of leechers) {
      const status = await child.waitForExit((DOWNLOAD_TIMEOUT_SECONDS + 5) * 1000);
      assert.equal(status.code, 0, `${child.tail()}\n${seeder.tail(10)}\n${tracker.tail(20)}`);
    }
  } finally {
    await Promise.all(leechers.map(({ child }) => child.stop()));
  }

  for (const { child, dir } of leechers) {
    const base = single ? dir : `${dir}/${swarm.name}`;
    assert.deepEqual(await listFiles(base), [...payload.keys()].sort(), child.name);
    for (const [relative, bytes] of payload) {
      assertSameBytes(
        await Deno.readFile(`${base}/${relative}`),
        bytes,
        `${child.name}: ${relative}`,
      );
    }
  }

  // Every leecher sent `completed` and then `stopped` before exiting, so only the seeder is left.
  assert.deepEqual(await scrape(trackerUrl, torrent.infoHash), {
    complete: 1,
    incomplete: 0,
    downloaded: swarm.leechers.length,
  }, tracker.tail());

  const seederStatus = await seeder.stop("SIGTERM");
  assert.equal(seederStatus.code, 0, seeder.tail());
  assert.deepEqual(await scrape(trackerUrl, torrent.infoHash), {
    complete: 0,
    incomplete: 0,
    downloaded: swarm.leechers.length,
  }, `the seeder's stopped announce should empty the swarm\n${tracker.tail()}`);

  await stopGracefully(tracker);
  // The announce log (flushed at shutdown) shows each leecher's `completed` under the address it
  // announced from: on IPv4 each leecher's own, which is what keeps loopback peers apart.
  const completedFrom = tracker.lines
    .filter(({ text }) => / client /.test(text) && / completed /.test(text))
    .filter(({ text }) => text.includes(torrent.infoHashHex))
    .map(({ text }) => text.split(" ")[2]);
  const leecherAddresses = swarm.leechers.map((_, i) => peerAddress(i + 1));
  assert.deepEqual(completedFrom.sort(), leecherAddresses.sort(), tracker.tail());
}

clientTest(
  "a libtorrent seeder and an aria2 leecher share a single-file torrent through NoBrake (IPv4)",
  () =>
    runSwarm({
      family: "ipv4",
      name: "payload.bin",
      files: { "payload.bin": 300_000 },
      leechers: ["aria2"],
    }),
);

clientTest(
  "a libtorrent seeder and two libtorrent leechers share a multi-file torrent through NoBrake (IPv4)",
  () =>
    runSwarm({
      family: "ipv4",
      name: "album",
      files: { "one.bin": 200_000, "disc2/two.bin": 70_001, "disc2/notes.txt": 17 },
      leechers: ["libtorrent", "libtorrent"],
    }),
);

clientTest(
  "a libtorrent seeder, an aria2 and a libtorrent leecher share a torrent through NoBrake on [::1]",
  () =>
    runSwarm({
      family: "ipv6",
      name: "payload6.bin",
      files: { "payload6.bin": 250_000 },
      leechers: ["aria2", "libtorrent"],
    }),
  IPV6_MISSING !== null,
);

/** Runs NoBrake to its end and returns its exit code and output. */
async function runNoBrake(args: string[], cwd: string) {
  await using nobrake = spawnNoBrake(args, cwd);
  const status = await nobrake.waitForExit(STARTUP_TIMEOUT_MS);
  const text = (stream: "stdout" | "stderr") =>
    nobrake.lines.filter((line) => line.stream === stream).map((line) => `${line.text}\n`).join("");
  return { code: status.code, stdout: text("stdout"), stderr: text("stderr") };
}

Deno.test("the shipped tracker.json starts with only its port changed, and SIGTERM exits 0", async () => {
  await using temp = await makeTempDir();
  const config = JSON.parse(await Deno.readTextFile(TRACKER_JSON));
  const port = freePort("0.0.0.0");
  await Deno.writeTextFile(`${temp.path}/tracker.json`, JSON.stringify({ ...config, port }));
  await Deno.mkdir(`${temp.path}/allowed_torrents`);

  // No arguments: NoBrake reads tracker.json from its working directory.
  await using tracker = spawnNoBrake([], temp.path);
  const { url, mode } = await listening(tracker);
  assert.equal(url, `http://0.0.0.0:${port}`);
  assert.match(mode, /^0 torrents allowed\b/);
  const response = await fetch(`http://127.0.0.1:${port}/stats`, {
    signal: AbortSignal.timeout(5_000),
  });
  await response.body?.cancel();
  assert.equal(response.status, 200);
  await stopGracefully(tracker);
});

Deno.test("a bad config exits 2 with one line naming the file and the key", async () => {
  await using temp = await makeTempDir();
  const cases = [
    { config: { port: 0, allowed: "*", interval: "often", expiry: 60 }, key: '"interval"' },
    { config: { port: 0, allowed: "*", interval: 60, expiry: 60, prot: 1 }, key: '"prot"' },
  ];
  for (const [i, { config, key }] of cases.entries()) {
    const path = `${temp.path}/bad${i}.json`;
    await Deno.writeTextFile(path, JSON.stringify(config));
    const { code, stdout, stderr } = await runNoBrake([path], temp.path);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, "");
    const lines = stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, stderr);
    assert.ok(lines[0].startsWith(`nobrake: ${path}: `), lines[0]);
    assert.ok(lines[0].includes(key), lines[0]);
  }
});

Deno.test("--help and --version print to stdout and exit 0", async () => {
  await using temp = await makeTempDir();
  const help = await runNoBrake(["--help"], temp.path);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: nobrake /m);
  assert.equal(help.stderr, "");
  const version = await runNoBrake(["--version"], temp.path);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `${VERSION_TEXT}\n`);
  assert.equal(version.stderr, "");
});
