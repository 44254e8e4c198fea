/**
 * End-to-end tests of NoBrake as an operator runs it: `deno run main.ts CONFIG` in its own
 * process, with real BitTorrent clients (libtorrent and aria2) that find each other through it
 * alone and download a torrent from the allowlist, over IPv4 and IPv6. Also the process edges:
 * the shipped `tracker.json` starts, SIGTERM exits 0, a bad config exits 2 with one line, and
 * `--help` and `--version` work. The UDP tracker with real clients is
 * `e2e_udp_clients_test.ts`; qBittorrent and Transmission are in `e2e_client_matrix_test.ts`.
 *
 * The clients must be installed (`.ci/run` installs them): a missing one fails these tests,
 * unless `NOBRAKE_SKIP_REAL_CLIENTS=1` is set, which skips them with a SKIP line instead.
 * Everything runs on loopback, each IPv4 peer on its own address (127.0.0.2, 127.0.0.3, ...).
 *
 * @module
 */
import assert from "node:assert/strict";
import { VERSION_TEXT } from "../src/runtime/cli.ts";
import type { RunningProcess } from "./support/child_process.ts";
import { clientGate } from "./support/client_gate.ts";
import { freePort, makeTempDir, makeTorrent, writePayload } from "./support/e2e_files.ts";
import {
  announceLines,
  assertPayload,
  listening,
  scrapeHttp,
  spawnNoBrake,
  startTracker,
  STARTUP_TIMEOUT_MS,
  stopGracefully,
} from "./support/e2e_tracker.ts";
import { startAria2Peer, startLibtorrentPeer } from "./support/real_clients.ts";
import { throwIfCrashed } from "./support/client_crash.ts";

const TRACKER_JSON = new URL("../tracker.json", import.meta.url).pathname;

/** How long a leecher may take for a few hundred KB on loopback, announces included. */
const DOWNLOAD_TIMEOUT_SECONDS = 45;

const gate = await clientGate("real-client tests", ["libtorrent", "aria2", "mktorrent"]);

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
  const trackerPort = freePort(trackerHost, { udp: true });
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

  await using tracker = await startTracker({
    dir: temp.path,
    allowed: allowedDir,
    family: swarm.family,
    port: trackerPort,
  });
  assert.equal(tracker.allowed, 1);

  await using seeder = startLibtorrentPeer("seeder", {
    torrent: torrent.path,
    saveDir: seedDir,
    role: "seed",
    address: peerAddress(0),
    port: freePort(peerAddress(0), { udp: true }),
    timeoutSeconds: 100,
  });
  // Leechers start once the tracker knows the seeder, so their first announce already lists it.
  await seeder.waitForLine(/^announced \d+ peers$/, { stream: "stdout", timeoutMs: 30_000 })
    .catch((error: Error) => {
      throw new Error(`${error.message}\n${tracker.process.tail(20)}`);
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
        role: "leech" as const,
        address,
        port: freePort(address, { udp: true }),
        timeoutSeconds: DOWNLOAD_TIMEOUT_SECONDS,
      };
      const name = `${kind} leecher ${i}`;
      const child = kind === "aria2"
        ? startAria2Peer(name, options)
        : startLibtorrentPeer(name, options);
      leechers.push({ child, dir });
    }
    for (const { child } of leechers) {
      const status = await child.waitForExit((DOWNLOAD_TIMEOUT_SECONDS + 5) * 1000);
      throwIfCrashed(status, "a leecher", child.tail());
      assert.equal(
        status.code,
        0,
        `${child.tail()}\n${seeder.tail(10)}\n${tracker.process.tail(20)}`,
      );
    }
  } finally {
    await Promise.all(leechers.map(({ child }) => child.stop()));
  }

  for (const { child, dir } of leechers) {
    await assertPayload(single ? dir : `${dir}/${swarm.name}`, payload, child.name);
  }

  // Every leecher sent `completed` and then `stopped` before exiting, so only the seeder is left.
  assert.deepEqual(await scrapeHttp(tracker.httpUrl, torrent.infoHash), {
    complete: 1,
    incomplete: 0,
    downloaded: swarm.leechers.length,
  }, tracker.process.tail());

  const seederStatus = await seeder.stop("SIGTERM");
  assert.equal(seederStatus.code, 0, seeder.tail());
  assert.deepEqual(await scrapeHttp(tracker.httpUrl, torrent.infoHash), {
    complete: 0,
    incomplete: 0,
    downloaded: swarm.leechers.length,
  }, `the seeder's stopped announce should empty the swarm\n${tracker.process.tail()}`);

  await stopGracefully(tracker.process);
  // The announce log (flushed at shutdown) shows each leecher's `completed` under the address it
  // announced from: on IPv4 each leecher's own, which is what keeps loopback peers apart.
  const lines = announceLines(tracker.process, torrent.infoHashHex);
  assert.ok(lines.every((line) => line.transport === "http"), tracker.process.tail());
  const completedFrom = lines.filter((line) => line.event === "completed").map((line) => line.from);
  const leecherAddresses = swarm.leechers.map((_, i) => peerAddress(i + 1));
  assert.deepEqual(completedFrom.sort(), leecherAddresses.sort(), tracker.process.tail());
}

gate.test(
  "a libtorrent seeder and an aria2 leecher share a single-file torrent through NoBrake (IPv4)",
  () =>
    runSwarm({
      family: "ipv4",
      name: "payload.bin",
      files: { "payload.bin": 300_000 },
      leechers: ["aria2"],
    }),
);

gate.test(
  "a libtorrent seeder and two libtorrent leechers share a multi-file torrent through NoBrake (IPv4)",
  () =>
    runSwarm({
      family: "ipv4",
      name: "album",
      files: { "one.bin": 200_000, "disc2/two.bin": 70_001, "disc2/notes.txt": 17 },
      leechers: ["libtorrent", "libtorrent"],
    }),
);

gate.test(
  "a libtorrent seeder, an aria2 and a libtorrent leecher share a torrent through NoBrake on [::1]",
  () =>
    runSwarm({
      family: "ipv6",
      name: "payload6.bin",
      files: { "payload6.bin": 250_000 },
      leechers: ["aria2", "libtorrent"],
    }),
  { ignore: gate.ipv6Missing !== null },
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
  const port = freePort("0.0.0.0", { udp: true });
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
