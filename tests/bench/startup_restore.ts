/**
 * Startup and graceful stop with a big allowlist and a big state file (issue 8: "startup with
 * 10,000 allowed torrents and 1M restored peers in seconds, not minutes").
 *
 * In a temporary directory: an `allowed_torrents/` of real `.torrent` files (the project's bencode
 * encoder, spread over a few subdirectories), a config, and a state file written the way a graceful
 * stop writes it: an in-process `Tracker` filled by `announce()`, then `exportSwarms` into
 * `StateStore.saveAll`. Then, `--repeat` times, the real `main.ts` (with the flags of
 * `deno task start`, read from `deno.json`) is started on that config and timed: to the log's
 * listening line, to a first announce answered with peers, its RSS, and a graceful stop (SIGTERM,
 * which saves every peer). Each run restores what the previous run's stop saved; after the first,
 * the file is compared with the one written directly (same torrents, counts and peer records).
 *
 * The log's timestamps are whole seconds, so the split by phase (allowlist load, state read,
 * restore into swarms, save) is measured in a child process running the same runtime code
 * (`loadAllowlist`, `StateKeeper`) on a copy of the state file, with the same V8 flags.
 *
 * Run: `deno run -A tests/bench/startup_restore.ts [--torrents 10000] [--peers 1000000]
 * [--repeat 3] [--keep] [--main <another checkout>/main.ts]` (Linux: RSS is read from `/proc`).
 * `--main` times another version's `main.ts` on the same files (the phase split always runs this
 * checkout's code).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { exportSwarms } from "../../src/state/swarm_state.ts";
import { Tracker } from "../../src/core/tracker.ts";
import { encodeBencode } from "../../src/protocol/bencode_encode.ts";
import { BDict, decodeBencode } from "../../src/protocol/bencode_decode.ts";
import { bytesToByteString, type ByteString } from "../../src/protocol/byte_string.ts";
import { savedPeerSize } from "../../src/state/saved_peers.ts";
import { loadAllowlist } from "../../src/runtime/allowlist_loader.ts";
import { createMemoryLogger } from "../../src/runtime/logger.ts";
import { StateKeeper } from "../../src/state/state_keeper.ts";
import { openStateStore } from "../../src/state/state_store.ts";
import { fillPeerId, startedRequest } from "./load/workload.ts";

const REPO = new URL("../../", import.meta.url).pathname;
/** Long enough that no restored peer expires during the bench. */
const EXPIRY_SECONDS = 7 * 24 * 3600;
/** Peers are saved as last seen up to this long before the fill. */
const SEEN_SPREAD_SECONDS = 1800;

/**
 * The `deno run` flags of `deno task start` (permissions and V8 flags), from `deno.json`, so the
 * tracker is measured as it is deployed. `--allow-read=.` and `--allow-write=.` hold because the
 * tracker runs in the temporary directory.
 */
function startFlags(): string[] {
  const task: string = JSON.parse(Deno.readTextFileSync(join(REPO, "deno.json"))).tasks.start;
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(`unexpected start task in deno.json: "${task}"`);
  }
  return words.slice(2, -1);
}

function log(line: string): void {
  // deno-lint-ignore no-console
  console.log(line);
}

// --- Fixture ------------------------------------------------------------------------------------

/** Writes `count` single-file v1 torrents over 10 subdirectories; returns their info hashes. */
async function writeTorrents(dir: string, count: number): Promise<ByteString[]> {
  const hashes: ByteString[] = [];
  const pieces = new Uint8Array(20);
  const files: [string, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    new DataView(pieces.buffer).setUint32(0, i);
    const info = encodeBencode({
      length: 1_000_000 + i,
      name: `startup-${i}.bin`,
      "piece length": 262_144,
      pieces,
    });
    const file = encodeBencode({ announce: "http://127.0.0.1/announce", info: "" });
    // The info dict as written, so the hash is of the exact bytes in the file (not a re-encoding).
    const head = file.subarray(0, file.length - 3); // up to "4:info", without "0:e"
    const bytes = new Uint8Array(head.length + info.length + 1);
    bytes.set(head);
    bytes.set(info, head.length);
    bytes[bytes.length - 1] = 0x65; // "e"
    hashes.push(bytesToByteString(new Uint8Array(createHash("sha1").update(info).digest())));
    files.push([join(dir, `d${i % 10}`, `t${i}.torrent`), bytes]);
  }
  for (let d = 0; d < 10; d++) await Deno.mkdir(join(dir, `d${d}`), { recursive: true });
  for (let start = 0; start < files.length; start += 256) {
    await Promise.all(files.slice(start, start + 256).map(([p, b]) => Deno.writeFile(p, b)));
  }
  return hashes;
}

/** A free port on 127.0.0.1, for TCP and UDP both (the tracker serves UDP on the HTTP port). */
function freePort(): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
      return port;
    } catch {
      // taken for UDP: try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free port for TCP and UDP");
}

interface FillResult {
  peers: number;
  swarms: number;
  fillMs: number;
  saveMs: number;
}

/**
 * Fills an in-process tracker by announces (a tenth of the peers on IPv6, 30 % seeders, some
 * completions, some `key`s, last seen spread over half an hour) and saves it as a graceful stop
 * does: `exportSwarms` into `saveAll`.
 */
async function writeState(
  allowedDir: string,
  statePath: string,
  hashes: ByteString[],
  peers: number,
): Promise<FillResult> {
  const { allowlist } = await loadAllowlist(allowedDir);
  const tracker = new Tracker({
    allowlist,
    expirySeconds: EXPIRY_SECONDS,
    maxPeersPerTorrent: 50_000,
  });
  const started = performance.now();
  const now = Date.now();
  const v4 = new Uint8Array(4);
  const v6 = new Uint8Array(16);
  v6.set([0x20, 0x01, 0x0d, 0xb8]);
  // One request, its fields rewritten per peer: a million peers are announced below.
  const request = startedRequest("", "", 0, 0);
  for (let n = 0; n < peers; n++) {
    const t = n % hashes.length;
    const ipv6 = n % 10 === 9;
    let address: Uint8Array;
    if (ipv6) {
      new DataView(v6.buffer).setUint32(12, n);
      address = v6;
    } else {
      new DataView(v4.buffer).setUint32(0, 0x0a000000 + n);
      address = v4;
    }
    request.infoHash = hashes[t];
    request.peerId = fillPeerId(t, Math.floor(n / hashes.length));
    request.port = 6881 + (n % 1000);
    // Float32-exact values: the peer table keeps these as float32, so a round trip is exact.
    request.left = n % 10 < 3 ? 0 : 1024 * (n % 4096);
    request.uploaded = 65536 * (n % 777);
    request.downloaded = 65536 * (n % 555);
    request.event = "started";
    request.key = n % 3 === 0 ? `k${n.toString(16)}` : null;
    const seenAt = now - (n % SEEN_SPREAD_SECONDS) * 1000;
    const input = {
      request,
      address,
      connectionAddress: null,
      userAgent: "libtorrent/2.0.6.0",
      wantPeerIds: false,
    };
    if (n % 10 === 2) {
      // A leecher that completes: the swarm's `downloaded` count goes up.
      request.left = 1024;
      tracker.announce(input, seenAt - 1000);
      request.left = 0;
      request.event = "completed";
    }
    tracker.announce(input, seenAt);
  }
  const fillMs = performance.now() - started;
  const opened = openStateStore(statePath, { logger: createMemoryLogger() });
  if (opened === null) throw new Error(`cannot open ${statePath}`);
  const saveStarted = performance.now();
  opened.store.saveAll(exportSwarms(tracker));
  const saveMs = performance.now() - saveStarted;
  opened.store.close();
  return { peers: countPeers(statePath), swarms: tracker.swarmCount, fillMs, saveMs };
}

// --- Checks on the file ----------------------------------------------------------------------

/** Peers in a state file, from its blob lengths. */
function countPeers(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare(
      "SELECT COALESCE(SUM(length(records) / CASE family WHEN 4 THEN ? ELSE ? END), 0) AS n " +
        "FROM peers",
    ).get(savedPeerSize(4), savedPeerSize(16)) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/**
 * A digest of a state file's content: its counts, and its peer records as a sorted set per torrent
 * and family (a restore may put a swarm's peers back in another order).
 */
function digestState(path: string): { torrents: number; peers: number; digest: string } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const hash = createHash("sha256");
    let torrents = 0;
    for (const row of db.prepare("SELECT * FROM torrents ORDER BY info_hash").iterate()) {
      hash.update(row.info_hash as Uint8Array).update(String(row.downloaded));
      torrents++;
    }
    let peers = 0;
    const query = "SELECT * FROM peers ORDER BY info_hash, family";
    for (const row of db.prepare(query).iterate()) {
      const records = row.records as Uint8Array;
      const size = savedPeerSize(row.family === 4 ? 4 : 16);
      const list: string[] = [];
      for (let at = 0; at < records.length; at += size) {
        list.push(bytesToByteString(records, at, at + size));
      }
      list.sort();
      hash.update(row.info_hash as Uint8Array).update(String(row.family));
      for (const record of list) hash.update(record, "latin1");
      peers += list.length;
    }
    return { torrents, peers, digest: hash.digest("hex") };
  } finally {
    db.close();
  }
}

// --- One run of the real tracker --------------------------------------------------------------

interface RunResult {
  listeningLineMs: number;
  stateLineMs: number;
  firstAnswerMs: number;
  answerPeers: number;
  rssMiB: number;
  hwmMiB: number;
  stopMs: number;
  restoredLine: string;
  savedLine: string;
}

/** Lines of a stream, each with the time it arrived. */
async function collectLines(
  stream: ReadableStream<Uint8Array>,
  lines: { at: number; text: string }[],
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const at = performance.now();
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop()!;
    for (const text of parts) lines.push({ at, text });
  }
  if (rest !== "") lines.push({ at: performance.now(), text: rest });
}

function percentEncode(bytes: ByteString): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += "%" + bytes.charCodeAt(i).toString(16).padStart(2, "0");
  }
  return out;
}

async function readStatus(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { rss: kib("VmRSS") * 1024, hwm: kib("VmHWM") * 1024 };
}

async function runTracker(
  main: string,
  dir: string,
  port: number,
  infoHash: ByteString,
): Promise<RunResult> {
  const lines: { at: number; text: string }[] = [];
  const spawnedAt = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...startFlags(), main, "tracker.json"],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reading = collectLines(child.stderr, lines);
  const find = (pattern: RegExp) => lines.find((line) => pattern.test(line.text));
  try {
    // The probe is a new leecher, so the reply lists peers of the restored swarm.
    const probeId = "-PR0001-" + String(Math.floor(Math.random() * 1e12)).padStart(12, "0");
    const base = `http://127.0.0.1:${port}/announce?info_hash=${percentEncode(infoHash)}` +
      `&peer_id=${probeId}&port=51413&uploaded=0&downloaded=0&compact=1&numwant=50`;
    let firstAnswerAt = 0;
    let answerPeers = 0;
    const deadline = spawnedAt + 600_000;
    while (firstAnswerAt === 0) {
      if (performance.now() > deadline) throw new Error("no answer within 10 minutes");
      try {
        const response = await fetch(`${base}&left=1000&event=started`);
        const body = new Uint8Array(await response.arrayBuffer());
        firstAnswerAt = performance.now();
        const reply = decodeBencode(body);
        const peers = reply instanceof BDict ? reply.get("peers") : undefined;
        if (!(peers instanceof Uint8Array)) {
          throw new Error(`announce answered without peers: ${new TextDecoder().decode(body)}`);
        }
        answerPeers = peers.length / 6;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // connection refused: not listening yet
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const status = await readStatus(child.pid);
    // The probe leaves again, so the next run restores exactly the filled peers.
    await (await fetch(`${base}&left=1000&event=stopped`)).arrayBuffer();
    // Log lines wait up to 200 ms in the tracker's buffer.
    while (find(/ listening on http/) === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stopStarted = performance.now();
    child.kill("SIGTERM");
    const exit = await child.status;
    const stopMs = performance.now() - stopStarted;
    await reading;
    if (exit.code !== 0) throw new Error(`tracker exited with ${exit.code}`);
    const listening = find(/ listening on http/)!;
    const restored = find(/state from .* restored/);
    const saved = find(/state saved to/);
    if (restored === undefined || saved === undefined) {
      throw new Error(`missing state lines in the log:\n${lines.map((l) => l.text).join("\n")}`);
    }
    return {
      listeningLineMs: listening.at - spawnedAt,
      stateLineMs: restored.at - spawnedAt,
      firstAnswerMs: firstAnswerAt - spawnedAt,
      answerPeers,
      rssMiB: status.rss / 2 ** 20,
      hwmMiB: status.hwm / 2 ** 20,
      stopMs,
      restoredLine: restored.text,
      savedLine: saved.text,
    };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
  }
}

// --- Phase split (child process) ------------------------------------------------------------

interface PhaseResult {
  allowlistMs: number;
  readMs: number;
  restoreMs: number;
  saveMs: number;
}

/**
 * The start and the stop of `startTrackerServer`, phase by phase, with the same calls: the
 * allowlist load, `StateKeeper.open` (SQLite read and decode), `StateKeeper.start` (restore into
 * swarms), `StateKeeper.stop` (export and save). Runs on a copy of the state file.
 */
async function phaseSplit(dir: string): Promise<PhaseResult> {
  const path = join(dir, "phase.sqlite");
  copyFileSync(join(dir, "state.sqlite"), path);
  const logger = createMemoryLogger();
  let at = performance.now();
  const lap = () => {
    const was = at;
    at = performance.now();
    return at - was;
  };
  const { allowlist } = await loadAllowlist(join(dir, "allowed_torrents"));
  const allowlistMs = lap();
  const options = {
    logger,
    now: Date.now,
    expirySeconds: EXPIRY_SECONDS,
    maxPeersPerTorrent: 50_000,
  };
  const keeper = StateKeeper.open(path, options);
  const readMs = lap();
  const tracker = new Tracker({
    allowlist,
    expirySeconds: EXPIRY_SECONDS,
    maxPeersPerTorrent: 50_000,
    onCompletion: keeper.onCompletion,
  });
  keeper.start(tracker);
  const restoreMs = lap();
  keeper.stop(tracker);
  const saveMs = lap();
  if (!logger.lines.some((line) => / peers restored/.test(line))) {
    throw new Error(`no restore in the phase split:\n${logger.lines.join("\n")}`);
  }
  Deno.removeSync(path);
  return { allowlistMs, readMs, restoreMs, saveMs };
}

async function runPhaseSplit(dir: string): Promise<PhaseResult> {
  const v8 = startFlags().filter((flag) => flag.startsWith("--v8-flags="));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...v8, new URL(import.meta.url).pathname, "--phase-split", dir],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("phase split failed");
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

// --- Report -----------------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summary(values: number[], unit: string, digits = 0): string {
  const f = (v: number) => v.toFixed(digits);
  return `${f(median(values))} ${unit} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      torrents: { type: "string", default: "10000" },
      peers: { type: "string", default: "1000000" },
      repeat: { type: "string", default: "3" },
      keep: { type: "boolean", default: false },
      main: { type: "string", default: join(REPO, "main.ts") },
      "phase-split": { type: "string" },
    },
  });
  if (values["phase-split"] !== undefined) {
    log(JSON.stringify(await phaseSplit(values["phase-split"])));
    return;
  }
  const torrents = Number(values.torrents);
  const peers = Number(values.peers);
  const repeat = Number(values.repeat);
  const dir = await Deno.makeTempDir({ prefix: "nobrake_startup_" });
  try {
    const allowed = join(dir, "allowed_torrents");
    const hashes = await writeTorrents(allowed, torrents);
    const port = freePort();
    await Deno.writeTextFile(
      join(dir, "tracker.json"),
      JSON.stringify({
        ip: "127.0.0.1",
        port,
        allowed: "./allowed_torrents",
        interval: 1800,
        expiry: EXPIRY_SECONDS,
        logfile: null,
        state_file: "./state.sqlite",
      }),
    );
    const statePath = join(dir, "state.sqlite");
    const fill = await writeState(allowed, statePath, hashes, peers);
    if (fill.peers !== peers) throw new Error(`state file holds ${fill.peers} peers, not ${peers}`);
    const written = digestState(statePath);
    log(
      `fixture: ${torrents} torrents, ${fill.peers} peers in ${fill.swarms} swarms ` +
        `(${(Deno.statSync(statePath).size / 2 ** 20).toFixed(1)} MiB state file); in-process ` +
        `fill ${(fill.fillMs / 1000).toFixed(1)} s, saveAll ${fill.saveMs.toFixed(0)} ms; ` +
        `tracker flags: ${startFlags().join(" ")}`,
    );

    const runs: RunResult[] = [];
    for (let r = 0; r < repeat; r++) {
      const run = await runTracker(values.main, dir, port, hashes[0]);
      runs.push(run);
      const after = digestState(statePath);
      const same = after.digest === written.digest;
      log(
        `run ${r + 1}: listening line ${run.listeningLineMs.toFixed(0)} ms, first answer ` +
          `${run.firstAnswerMs.toFixed(0)} ms (${run.answerPeers} peers), RSS ` +
          `${run.rssMiB.toFixed(0)} MiB (peak ${run.hwmMiB.toFixed(0)}), graceful stop ` +
          `${
            run.stopMs.toFixed(0)
          } ms; file after stop: ${after.torrents} counts, ${after.peers} ` +
          `peers, ${same ? "same content as written" : "DIFFERENT from what was written"}`,
      );
      log(`  ${run.restoredLine.replace(/^\S+ \S+ /, "")}`);
      log(`  ${run.savedLine.replace(/^\S+ \S+ /, "")}`);
      if (!same || after.peers !== peers) throw new Error("state file changed across a restart");
    }

    const phases: PhaseResult[] = [];
    for (let r = 0; r < repeat; r++) phases.push(await runPhaseSplit(dir));

    log("");
    log(`median (min–max) of ${repeat}, ${torrents} torrents, ${peers} peers:`);
    log(
      `  spawn → listening log line:        ${summary(runs.map((r) => r.listeningLineMs), "ms")}`,
    );
    log(`  spawn → first announce answered:    ${summary(runs.map((r) => r.firstAnswerMs), "ms")}`);
    log(`  RSS after the first answer:         ${summary(runs.map((r) => r.rssMiB), "MiB")}`);
    log(`  peak RSS (VmHWM) by then:           ${summary(runs.map((r) => r.hwmMiB), "MiB")}`);
    log(`  graceful stop (SIGTERM → exit):     ${summary(runs.map((r) => r.stopMs), "ms")}`);
    log(`  in-process phases (child process with the same V8 flags):`);
    log(`    allowlist load:                   ${summary(phases.map((p) => p.allowlistMs), "ms")}`);
    log(`    state read (open, read, decode):  ${summary(phases.map((p) => p.readMs), "ms")}`);
    log(`    restore into swarms:              ${summary(phases.map((p) => p.restoreMs), "ms")}`);
    log(`    save on stop (export, saveAll):   ${summary(phases.map((p) => p.saveMs), "ms")}`);
    if (values.keep) log(`kept ${dir}`);
  } finally {
    if (!values.keep) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
