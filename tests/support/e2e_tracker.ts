/**
 * NoBrake as an operator runs it (`deno run main.ts CONFIG`, its own process), for the tests with
 * real BitTorrent clients: a config for one allowlist directory, the start and its listening lines
 * (HTTP, and UDP when on), scrape over HTTP (decoded with `npm:bencode`) or UDP (through the test
 * UDP client, written apart from NoBrake's codec), `/stats.json`, and the graceful stop. Also the
 * checks every download test makes: the files a client wrote equal the payload, byte for byte.
 *
 * It knows nothing about the clients; those are in `real_clients.ts`, `qbittorrent.ts` and
 * `transmission.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import bencode from "bencode";
import { type RunningProcess, spawnProcess } from "./child_process.ts";
import { UdpTrackerClient } from "./udp_tracker_client.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** How long NoBrake may take to print its startup lines (a cold `deno run` compiles first). */
export const STARTUP_TIMEOUT_MS = 30_000;
/** Hard cap on any one NoBrake process in these tests. */
const TRACKER_HARD_TIMEOUT_MS = 180_000;

/** Starts `deno run main.ts ...args` in `cwd`; NoBrake's log goes to stderr. */
export function spawnNoBrake(args: string[], cwd: string): RunningProcess {
  return spawnProcess("nobrake", Deno.execPath(), {
    // --config: the repository's deno.json (with its `unstable: ["net"]` for UDP) is not found
    // from a temporary working directory.
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
export async function listening(tracker: RunningProcess): Promise<{ url: string; mode: string }> {
  const match = await tracker.waitForLine(
    /^\S+ startup NoBrake \S+ listening on (http:\/\/\S+) \((.*)\)$/,
    { stream: "stderr", timeoutMs: STARTUP_TIMEOUT_MS },
  );
  return { url: match[1], mode: match[2] };
}

/** Waits for the `startup UDP tracker (BEP 15) listening on udp://...` line; returns the URL. */
export async function listeningUdp(tracker: RunningProcess): Promise<string> {
  const match = await tracker.waitForLine(
    /^\S+ startup UDP tracker \(BEP 15\) listening on (udp:\/\/\S+)/,
    { stream: "stderr", timeoutMs: STARTUP_TIMEOUT_MS },
  );
  return match[1];
}

/** SIGTERM must end NoBrake with exit code 0 after it logs the shutdown. */
export async function stopGracefully(tracker: RunningProcess): Promise<void> {
  const status = await tracker.stop("SIGTERM");
  assert.equal(status.code, 0, `SIGTERM should exit 0\n${tracker.tail()}`);
  assert.ok(
    tracker.lines.some((line) => / startup received SIGTERM, shutting down$/.test(line.text)),
    `no shutdown line\n${tracker.tail()}`,
  );
}

/** Options for `startTracker`. */
export interface TrackerOptions {
  /** Where the config goes; NoBrake runs with this as its working directory. */
  dir: string;
  /** The allowlist directory. */
  allowed: string;
  family: "ipv4" | "ipv6";
  /** A port free for TCP and UDP on the family's loopback address (see `freePort`). */
  port: number;
}

/** A NoBrake process started by `startTracker`, and where it listens. */
export interface E2eTracker extends AsyncDisposable {
  readonly process: RunningProcess;
  /** `http://127.0.0.1:PORT` or `http://[::1]:PORT`. */
  readonly httpUrl: string;
  /** `udp://127.0.0.1:PORT` or `udp://[::1]:PORT`. */
  readonly udpUrl: string;
  /** The allowlist size from the startup line. */
  readonly allowed: number;
}

/**
 * Writes a config for loopback and starts NoBrake on it, waiting for both listening lines. The
 * interval is short (4 s), so a peer that announced before another was listed asks again soon;
 * every announce is logged (`log_announces`), so a failure reads from the tracker's tail, and the
 * log says which transport each announce came over.
 */
export async function startTracker(options: TrackerOptions): Promise<E2eTracker> {
  const v6 = options.family === "ipv6";
  const host = v6 ? "::1" : "127.0.0.1";
  const configPath = `${options.dir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      ip: host,
      port: options.port,
      family: v6 ? "AF_INET6" : "AF_INET",
      allowed: options.allowed,
      interval: 4,
      expiry: 60,
      sweep_interval: 1,
      log_announces: true,
      udp: true,
      state_file: null,
    }),
  );
  const process = spawnNoBrake([configPath], options.dir);
  try {
    const { url, mode } = await listening(process);
    const hostPort = `${v6 ? "[::1]" : host}:${options.port}`;
    assert.equal(url, `http://${hostPort}`);
    const udpUrl = await listeningUdp(process);
    assert.equal(udpUrl, `udp://${hostPort}`);
    const allowed = Number(mode.match(/^(\d+) torrents allowed\b/)?.[1] ?? NaN);
    return {
      process,
      httpUrl: url,
      udpUrl,
      allowed,
      async [Symbol.asyncDispose]() {
        await process.stop();
      },
    };
  } catch (error) {
    await process.stop();
    throw error;
  }
}

/** Scrape counts for one torrent. */
export interface ScrapeCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/** Scrape counts for one info hash over HTTP, decoded with `npm:bencode` (not NoBrake's codec). */
export async function scrapeHttp(trackerUrl: string, infoHash: Uint8Array): Promise<ScrapeCounts> {
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

/** Scrape counts for one info hash over UDP (BEP 15), from a socket on the same loopback. */
export async function scrapeUdp(udpUrl: string, infoHash: Uint8Array): Promise<ScrapeCounts> {
  const { hostname, port } = new URL(udpUrl.replace(/^udp:/, "http:"));
  const client = new UdpTrackerClient(hostname.replace(/^\[|\]$/g, ""), Number(port));
  try {
    const [counts] = await client.scrape([infoHash]);
    const { complete, incomplete, downloaded } = counts;
    return { complete, incomplete, downloaded };
  } finally {
    client.close();
  }
}

/**
 * Scrapes (over HTTP, or UDP when `udpUrl` is given) until the counts equal `expected`, for up to
 * `timeoutMs`; fails with the last counts seen. Clients announce on their own schedule, so a
 * count is awaited, not read once: the wait ends as soon as the tracker agrees.
 */
export async function waitForCounts(
  tracker: E2eTracker,
  infoHash: Uint8Array,
  options: { expected: ScrapeCounts; over: "http" | "udp"; timeoutMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ScrapeCounts | null = null;
  while (true) {
    last = options.over === "udp"
      ? await scrapeUdp(tracker.udpUrl, infoHash)
      : await scrapeHttp(tracker.httpUrl, infoHash);
    if (
      last.complete === options.expected.complete &&
      last.incomplete === options.expected.incomplete &&
      last.downloaded === options.expected.downloaded
    ) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.deepEqual(
    last,
    options.expected,
    `${options.what}: scrape over ${options.over} after ${options.timeoutMs} ms\n` +
      trackerTail(tracker.process),
  );
}

/**
 * NoBrake's last log lines without the scrape lines (tests scrape in a loop, which would push
 * everything else out), for failure messages.
 */
export function trackerTail(tracker: RunningProcess, count = 30): string {
  const shown = tracker.lines
    .filter(({ text }) => !/^\S+ scrape /.test(text))
    .slice(-count)
    .map(({ text }) => `  ${text}`);
  return `nobrake (pid ${tracker.pid}), last log lines but scrapes:\n${shown.join("\n")}`;
}

/** The parts of `/stats.json` these tests read (`docs/stats-api.md` documents the whole shape). */
export interface StatsJson {
  totals: { peers: number; peers_http: number; peers_udp: number };
  requests: {
    announces: { http: number; udp: number };
    scrapes: { http: number; udp: number };
  };
}

/** Reads `/stats.json`. */
export async function statsJson(trackerUrl: string): Promise<StatsJson> {
  const response = await fetch(`${trackerUrl}/stats.json`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200);
  return await response.json() as StatsJson;
}

/**
 * The announce lines (`client ...`) NoBrake logged for `infoHashHex`, parsed. The log is written
 * in batches (at most 200 ms late) and flushed at exit: read it after `stopGracefully`, or
 * allow for the delay.
 */
export function announceLines(
  tracker: RunningProcess,
  infoHashHex: string,
): { from: string; event: string; transport: string; text: string }[] {
  return tracker.lines
    .map(({ text }) => text)
    .filter((text) => / client /.test(text) && text.includes(` ${infoHashHex} `))
    .map((text) => {
      // `date client <from-ip> <info_hash> <event> <peer_id> <listed ip:port> left=<n> [udp]`
      const words = text.split(" ");
      const last = words[words.length - 1];
      return { from: words[2], event: words[4], transport: last === "udp" ? "udp" : "http", text };
    });
}

/** Compares without dumping a few hundred KB into the failure message. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(first, -1, `${label}: first differing byte at offset ${first}`);
}

/** Relative paths of the regular files under `dir`, sorted. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await listFiles(dir, `${relative}/`));
    else found.push(relative);
  }
  return found.sort();
}

/**
 * Checks that `dir` holds exactly `payload` (relative paths to bytes): no file missing, none
 * extra (a client's partial or temporary file left behind would show here), every byte equal.
 */
export async function assertPayload(
  dir: string,
  payload: ReadonlyMap<string, Uint8Array>,
  label: string,
): Promise<void> {
  assert.deepEqual(await listFiles(dir), [...payload.keys()].sort(), label);
  for (const [relative, bytes] of payload) {
    assertSameBytes(await Deno.readFile(`${dir}/${relative}`), bytes, `${label}: ${relative}`);
  }
}
