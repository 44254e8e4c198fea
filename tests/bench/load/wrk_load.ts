/**
 * Drives `wrk` with `wrk_tracker.lua` for one measured phase and turns its JSON line into the
 * same `LoadResult` the Deno generator reports, adding the server's CPU time from `/proc`.
 *
 * wrk is the default driver because, on one core, it sends more than twice the requests per
 * second the Deno client manages, and the `Deno.serve` floor needs that to be kept busy (see
 * tests/bench/README.md). The request sequence still comes from `workload.ts`: the runner writes
 * it to a file, one path per line, and the Lua script replays it.
 *
 * @module
 */
import type { LoadResult } from "./load_generator.ts";
import { readCpuTicks, TICKS_PER_SECOND } from "./proc_stat.ts";
import type { PlannedRequest } from "./workload.ts";

const SCRIPT = new URL("./wrk_tracker.lua", import.meta.url).pathname;

/** One wrk phase. */
export interface WrkOptions {
  port: number;
  /** The server's pid, for its CPU time. */
  pid: number;
  /** A file of request targets, one per line (see `writeSequence`). */
  sequenceFile: string;
  mode: "announce" | "scrape";
  connection: "keepalive" | "new";
  connections: number;
  seconds: number;
  /** The core wrk is pinned to; `null` leaves it unpinned. */
  core: number | null;
  /** Check one reply in this many. */
  checkEvery: number;
  /** Peers a full reply holds (numwant). */
  expectedPeers: number;
}

/** What wrk's Lua `done` prints. */
interface WrkReport {
  requests: number;
  micros: number;
  p50Micros: number;
  p99Micros: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  checked: number;
  full: number;
  empty: number;
  scrapes: number;
  bad: number;
  problem: string;
}

/** Writes request targets, one per line, for the Lua script to replay. */
export async function writeSequence(path: string, requests: PlannedRequest[]): Promise<void> {
  await Deno.writeTextFile(path, requests.map((request) => request.target).join("\n") + "\n");
}

/** Runs wrk once and reports what it and `/proc` measured. */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const args = [
    "-t1",
    `-c${options.connections}`,
    // wrk takes whole seconds.
    `-d${Math.max(1, Math.round(options.seconds))}s`,
    "--timeout",
    "5s",
    "-H",
    "User-Agent: libtorrent/2.0.6.0",
    "-H",
    "Accept-Encoding: gzip",
    ...(options.connection === "new" ? ["-H", "Connection: close"] : []),
    "-s",
    SCRIPT,
    `http://127.0.0.1:${options.port}`,
    "--",
    options.sequenceFile,
    String(options.checkEvery),
    String(options.expectedPeers),
  ];
  const command = options.core === null
    ? ["wrk", ...args]
    : ["taskset", "-c", String(options.core), "wrk", ...args];
  const cpuBefore = readCpuTicks(options.pid);
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // wrk stops itself after -d; this is the backstop if it hangs.
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, (options.seconds + 30) * 1000);
  let output: Deno.CommandOutput;
  try {
    output = await child.output();
  } finally {
    clearTimeout(killer);
  }
  const cpuSeconds = (readCpuTicks(options.pid) - cpuBefore) / TICKS_PER_SECOND;
  const stdout = new TextDecoder().decode(output.stdout);
  const line = stdout.split("\n").find((text) => text.startsWith('{"requests"'));
  if (!output.success || line === undefined) {
    throw new Error(
      `wrk failed (${output.code}): ${stdout}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const report = JSON.parse(line) as WrkReport;
  const seconds = report.micros / 1e6;
  const errors = report.errors.connect + report.errors.read + report.errors.write +
    report.errors.status + report.errors.timeout;
  // A server that closes sockets without saying so (opentracker answers HTTP/1.1 without
  // `Connection: close` and closes every connection) makes wrk count a "read error" and
  // reconnect after each reply, in both modes; those are reported as reconnects, not as failed
  // requests (the table shows both, and the floor and NoBrake show none).
  const reconnects = report.errors.read;
  return {
    mode: options.mode,
    connection: options.connection,
    requests: report.requests,
    seconds,
    requestsPerSecond: report.requests / seconds,
    cpuMicrosPerRequest: report.requests === 0 ? null : (cpuSeconds * 1e6) / report.requests,
    serverCpuShare: cpuSeconds / seconds,
    p50Micros: report.p50Micros,
    p99Micros: report.p99Micros,
    errors: errors - reconnects,
    reconnects,
    validated: report.checked,
    invalid: report.bad,
    firstProblem: report.problem === "" ? null : report.problem,
    prefillRequests: 0,
    prefillSeconds: 0,
  };
}
