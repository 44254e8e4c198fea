/**
 * `deno task bench:load`: the load comparison of issue 8, in one sitting. Starts, one after
 * another, the `Deno.serve` floor, NoBrake and (when installed) Debian's opentracker, each
 * pinned to core 0, drives each from core 1 with the workload of `workload.ts` (pre-filled
 * 1,000 torrents × 100 peers; announces keep-alive and with a new connection per request;
 * single-hash scrapes; then BEP 15 announces over UDP against the same state, the floor's being
 * Deno's UDP echo path), checks a sample of replies, and prints a table with ratios against the
 * floor and against opentracker. Then measures memory per peer at 1,000,000 peers over 10,000
 * torrents: the core filled in-process, and with `--memory-http` the server processes filled
 * by announces over HTTP.
 *
 * Flags: `--seconds N` (measured seconds per phase, default 10), `--warmup N` (default 2),
 * `--connections N` (default 32), `--torrents N`, `--peers N`, `--servers a,b,c` (default
 * `floor,floor-read,nobrake,opentracker`; `nobrake-base` runs the `main.ts` given by
 * `--base-main PATH`, another checkout, to compare two versions in one sitting;
 * `bittorrent-tracker` runs webtorrent's tracker under Node.js from the directory given by
 * `--bittorrent-tracker-dir DIR`, where `npm install --ignore-scripts bittorrent-tracker` put
 * it), `--repeat N` (rounds; the table shows medians), `--driver wrk|deno` (default wrk when
 * installed), `--no-udp`, `--no-http` (the UDP phase alone, the tracker filled over HTTP first),
 * `--udp-sockets N` (16), `--udp-window N` (announces in flight per socket, 4), `--memory-peers N`,
 * `--memory-torrents N`, `--no-memory`, `--memory-http`, `--json` (also print every result as one
 * JSON line) and `--quick` (about one second per phase and a smaller state, for CI: figures from it
 * mean nothing).
 *
 * NoBrake runs with the flags of `deno task start` (`NOBRAKE_FLAGS` in `servers.ts`).
 *
 * Every server is killed in `finally`; every phase has a deadline.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LoadResult } from "./load_generator.ts";
import type { MemoryResult } from "./memory_fill.ts";
import { fillOverHttp, type HttpMemoryResult } from "./memory_http.ts";
import {
  hasProgram,
  NOBRAKE_FLAGS,
  NOBRAKE_V8_FLAGS,
  type RunningServer,
  type ServerKind,
  startServer,
} from "./servers.ts";
import { type PlannedRequest, Workload, type WorkloadOptions } from "./workload.ts";
import { runWrk, writeSequence } from "./wrk_load.ts";

/** Everything one run of the runner is set up with. */
export interface RunOptions {
  seconds: number;
  warmup: number;
  connections: number;
  workload: WorkloadOptions;
  servers: ServerName[];
  /** Rounds of the whole sequence; the table shows each figure's median over the rounds. */
  repeat: number;
  /** The `main.ts` of another NoBrake checkout, run as server `nobrake-base`. */
  baseMain: string | null;
  /** Where npm installed `bittorrent-tracker`, for server `bittorrent-tracker`. */
  bittorrentTrackerDir: string | null;
  driver: "wrk" | "deno";
  /** Length of the replayed announce cycle. */
  sequenceLength: number;
  /** Requests of the strict (decode-everything) check per server and mode. */
  checkSeconds: number;
  memory: { peers: number; torrents: number } | null;
  /** Also fill each tracker process with the memory fill's peers over HTTP (slow). */
  memoryHttp: boolean;
  /** Run the UDP phase (BEP 15 announces) after the HTTP phases. */
  udp: boolean;
  /** Run the HTTP phases (without them, a tracker is filled over HTTP before the UDP phase). */
  http: boolean;
  /** UDP client sockets and announces each keeps in flight. */
  udpSockets: number;
  udpWindow: number;
  json: boolean;
  quick: boolean;
}

/**
 * The servers: the floor, the floor reading the request (`floor-read`, a diagnostic: what
 * reading the URL, address and user agent costs in Deno.serve), NoBrake and opentracker.
 */
export type ServerName =
  | "floor"
  | "floor-read"
  | "nobrake"
  | "nobrake-base"
  | "opentracker"
  | "bittorrent-tracker";
const SERVER_NAMES: readonly ServerName[] = [
  "floor",
  "floor-read",
  "nobrake",
  "nobrake-base",
  "opentracker",
  "bittorrent-tracker",
];

/** One measured row of the table. */
export interface Row {
  server: ServerName;
  phase: "announce keep-alive" | "announce new connection" | "scrape keep-alive" | "udp announce";
  result: LoadResult;
  /** The strict check: replies decoded with npm:bencode and checked against the workload. */
  strict: { validated: number; invalid: number; firstProblem: string | null } | null;
  /** Lowest and highest CPU µs per request over the rounds (equal with one round). */
  cpuRange: [number, number] | null;
}

/** What a whole run produced. */
export interface RunReport {
  rows: Row[];
  /** Cold (from a fresh process) and warmed (after request garbage), in that order. */
  memory: MemoryResult[] | null;
  /** Each tracker process filled over HTTP (`--memory-http`). */
  memoryHttp: HttpMemoryResult[] | null;
  notes: string[];
}

const HERE = new URL(".", import.meta.url).pathname;
const SERVER_CORE = 0;
const CLIENT_CORE = 1;

/** Runs every server and the memory fill; returns the rows (printing is `formatReport`). */
export async function runAll(options: RunOptions): Promise<RunReport> {
  const notes: string[] = [];
  const workload = new Workload(options.workload);
  const dir = await Deno.makeTempDir({ prefix: "nobrake_bench_load_" });
  const rows: Row[] = [];
  try {
    const files = await writeSequences(dir, options);
    const servers = [...options.servers];
    if (servers.includes("opentracker") && !(await hasProgram("opentracker"))) {
      notes.push("opentracker is not installed: its rows are left out");
      servers.splice(servers.indexOf("opentracker"), 1);
    }
    // Whole rounds, one server after another, so that a noisy minute hits every server alike.
    const rounds: Row[][] = [];
    for (let round = 0; round < options.repeat; round++) {
      const rowsOfRound: Row[] = [];
      for (const server of servers) {
        rowsOfRound.push(...await runServer(server, options, files, workload.hexHashes()));
      }
      rounds.push(rowsOfRound);
    }
    rows.push(...medianRows(rounds));
    const memory = options.memory === null
      ? null
      : [await runMemory(options.memory, false), await runMemory(options.memory, true)];
    const memoryHttp = options.memory === null || !options.memoryHttp
      ? null
      : await runMemoryHttp(options.memory, servers);
    return { rows, memory, memoryHttp, notes };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

interface SequenceFiles {
  warm: string;
  announce: string;
  scrape: string;
}

/** The three request sequences wrk replays; all drawn from one seeded workload. */
async function writeSequences(dir: string, options: RunOptions): Promise<SequenceFiles> {
  const files = {
    warm: join(dir, "warm.txt"),
    announce: join(dir, "announce.txt"),
    scrape: join(dir, "scrape.txt"),
  };
  const workload = new Workload(options.workload);
  const length = options.sequenceLength;
  // Warm-up sends regular announces only, which leave the pre-filled state as it was.
  await writeSequence(files.warm, Array.from({ length }, () => workload.nextRegularAnnounce()));
  const cycle: PlannedRequest[] = Array.from({ length }, () => workload.nextAnnounce());
  // The cycle ends with every stopped peer back, so replaying it keeps swarms full.
  cycle.push(...workload.restartStopped());
  await writeSequence(files.announce, cycle);
  await writeSequence(files.scrape, Array.from({ length }, () => workload.nextScrape()));
  return files;
}

/** One row per server and phase: each figure the median over the rounds, counts summed. */
function medianRows(rounds: Row[][]): Row[] {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  return rounds[0].map((first, i) => {
    const all = rounds.map((round) => round[i]);
    const results = all.map((row) => row.result);
    const cpu = results.map((r) => r.cpuMicrosPerRequest).filter((v): v is number => v !== null);
    const sum = (pick: (row: Row) => number) => all.reduce((total, row) => total + pick(row), 0);
    return {
      server: first.server,
      phase: first.phase,
      result: {
        ...first.result,
        requests: sum((row) => row.result.requests),
        requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
        cpuMicrosPerRequest: cpu.length === 0 ? null : median(cpu),
        serverCpuShare: median(results.map((r) => r.serverCpuShare ?? 0)),
        p50Micros: median(results.map((r) => r.p50Micros)),
        p99Micros: median(results.map((r) => r.p99Micros)),
        errors: sum((row) => row.result.errors),
        reconnects: sum((row) => row.result.reconnects),
        validated: sum((row) => row.result.validated),
        invalid: sum((row) => row.result.invalid),
        firstProblem: all.find((row) => row.result.firstProblem !== null)?.result.firstProblem ??
          null,
      },
      strict: {
        validated: sum((row) => row.strict?.validated ?? 0),
        invalid: sum((row) => row.strict?.invalid ?? 0),
        firstProblem: all.find((row) => row.strict?.firstProblem)?.strict?.firstProblem ?? null,
      },
      cpuRange: cpu.length === 0 ? null : [Math.min(...cpu), Math.max(...cpu)],
    };
  });
}

async function runServer(
  server: ServerName,
  options: RunOptions,
  files: SequenceFiles,
  hexHashes: string[],
): Promise<Row[]> {
  const rows: Row[] = [];
  const start = (kind: ServerKind) =>
    startServer(kind, {
      core: SERVER_CORE,
      hexHashes,
      readyTimeoutMs: 20_000,
      ...(server === "nobrake-base" && options.baseMain !== null
        ? { nobrakeMain: options.baseMain }
        : {}),
      ...(options.bittorrentTrackerDir === null
        ? {}
        : { bittorrentTrackerDir: options.bittorrentTrackerDir }),
    });
  const allPhases: Array<[Row["phase"], "announce" | "scrape", "keepalive" | "new"]> = [
    ["announce keep-alive", "announce", "keepalive"],
    ["announce new connection", "announce", "new"],
    ["scrape keep-alive", "scrape", "keepalive"],
  ];
  // The reading floor is a diagnostic of the keep-alive announce only.
  const phases = !options.http ? [] : server === "floor-read" ? allPhases.slice(0, 1) : allPhases;
  /** The process that serves `mode` for this server: the floor answers one fixed reply per process. */
  const kindFor = (mode: "announce" | "scrape"): ServerKind =>
    server === "floor"
      ? (mode === "scrape" ? "floor-scrape" : "floor-announce")
      : server === "nobrake-base"
      ? "nobrake"
      : server;
  let running: RunningServer | null = null;
  try {
    for (const [phase, mode, connection] of phases) {
      const kind = kindFor(mode);
      const fixedReply = server === "floor" || server === "floor-read";
      if (running !== null && running.kind !== kind) {
        await running.stop();
        running = null;
      }
      if (running === null) {
        running = await start(kind);
        if (!fixedReply) await generator(options, running, ["--prefill", "--seconds", "0"]);
        await measure(options, running, files.warm, "announce", "keepalive", options.warmup);
      }
      const result = await measure(
        options,
        running,
        mode === "announce" ? files.announce : files.scrape,
        mode,
        connection,
        options.seconds,
      );
      // The strict check: every reply of a short run decoded and checked against the workload.
      const strict = await generator(options, running, [
        "--mode",
        mode,
        "--connection",
        connection,
        "--seconds",
        String(options.checkSeconds),
        "--sample-every",
        "1",
        "--connections",
        "4",
        ...(fixedReply ? ["--fixed-reply"] : []),
      ]);
      rows.push({
        server,
        phase,
        result,
        strict: {
          validated: strict.validated,
          invalid: strict.invalid,
          firstProblem: strict.firstProblem,
        },
        cpuRange: null,
      });
    }
    if (options.udp && server !== "floor-read") {
      // The UDP floor is a process of its own; a tracker keeps the state the HTTP phases left.
      if (server === "floor") {
        await running?.stop();
        running = null;
        running = await start("floor-udp");
      } else if (running === null) {
        // No HTTP phase ran: fill the tracker as they would have.
        running = await start(kindFor("announce"));
        await generator(options, running, ["--prefill", "--seconds", "0"]);
      }
      if (running === null || running.udpPort === null) throw new Error(`${server}: no UDP port`);
      const fixedReply = server === "floor";
      const udpServer = running;
      const udp = (extra: string[]) => udpGenerator(options, udpServer, fixedReply, extra);
      const result = await udp(["--seconds", String(options.seconds), "--warmup", "1"]);
      // The strict check: every reply of a short run checked.
      const strict = await udp([
        "--seconds",
        String(options.checkSeconds),
        "--warmup",
        "0",
        "--sample-every",
        "1",
      ]);
      rows.push({
        server,
        phase: "udp announce",
        result,
        strict: {
          validated: strict.validated,
          invalid: strict.invalid,
          firstProblem: strict.firstProblem,
        },
        cpuRange: null,
      });
    }
  } finally {
    await running?.stop();
  }
  return rows;
}

/** One measured phase, with wrk or with the Deno generator. */
function measure(
  options: RunOptions,
  server: RunningServer,
  sequenceFile: string,
  mode: "announce" | "scrape",
  connection: "keepalive" | "new",
  seconds: number,
): Promise<LoadResult> {
  if (options.driver === "wrk") {
    return runWrk({
      port: server.port,
      pid: server.pid,
      sequenceFile,
      mode,
      connection,
      connections: options.connections,
      seconds,
      core: CLIENT_CORE,
      checkEvery: 50,
      expectedPeers: options.workload.numwant,
    });
  }
  return generator(options, server, [
    "--mode",
    mode,
    "--connection",
    connection,
    "--seconds",
    String(seconds),
    "--warmup",
    "0",
    "--connections",
    String(options.connections),
    ...(server.kind.startsWith("floor") ? ["--fixed-reply"] : []),
  ]);
}

/** Runs `load_generator.ts` on the client core with the shared workload flags. */
async function generator(
  options: RunOptions,
  server: RunningServer,
  extra: string[],
): Promise<LoadResult> {
  const args = [
    "run",
    // Deno grants /proc only with --allow-all.
    "--allow-all",
    join(HERE, "load_generator.ts"),
    "--port",
    String(server.port),
    "--pid",
    String(server.pid),
    "--torrents",
    String(options.workload.torrents),
    "--peers",
    String(options.workload.peersPerTorrent),
    "--warmup",
    "0",
    ...extra,
  ];
  const output = await runBounded(
    ["taskset", "-c", String(CLIENT_CORE), Deno.execPath(), ...args],
    // Pre-fill and checks have their own deadlines inside; this is the backstop.
    options.quick ? 120 : 600,
  );
  return JSON.parse(output) as LoadResult;
}

/** Runs `udp_load.ts` on the client core against a server's UDP port. */
async function udpGenerator(
  options: RunOptions,
  server: RunningServer,
  fixedReply: boolean,
  extra: string[],
): Promise<LoadResult> {
  const output = await runBounded([
    "taskset",
    "-c",
    String(CLIENT_CORE),
    Deno.execPath(),
    "run",
    "--allow-all",
    join(HERE, "udp_load.ts"),
    "--port",
    String(server.udpPort),
    "--pid",
    String(server.pid),
    "--torrents",
    String(options.workload.torrents),
    "--peers",
    String(options.workload.peersPerTorrent),
    "--sockets",
    String(options.udpSockets),
    "--window",
    String(options.udpWindow),
    ...(fixedReply ? ["--fixed-reply"] : []),
    ...extra,
  ], options.quick ? 120 : 600);
  return JSON.parse(output) as LoadResult;
}

/** Memory over HTTP (`memory_http.ts`): NoBrake and opentracker filled by announces. */
async function runMemoryHttp(
  memory: { peers: number; torrents: number },
  servers: ServerName[],
): Promise<HttpMemoryResult[]> {
  const results: HttpMemoryResult[] = [];
  for (const server of ["nobrake", "opentracker"] as const) {
    if (!servers.includes(server)) continue;
    results.push(
      await fillOverHttp({
        server,
        torrents: memory.torrents,
        peersPerTorrent: Math.ceil(memory.peers / memory.torrents),
        flags: server === "nobrake" ? NOBRAKE_FLAGS : [],
        serverCore: SERVER_CORE,
        clientCore: CLIENT_CORE,
      }),
    );
  }
  return results;
}

/** Memory per peer: the in-process fill of `memory_fill.ts` on the server core. */
async function runMemory(
  memory: { peers: number; torrents: number },
  warm: boolean,
): Promise<MemoryResult> {
  const output = await runBounded([
    "taskset",
    "-c",
    String(SERVER_CORE),
    Deno.execPath(),
    "run",
    `--v8-flags=--expose-gc,${NOBRAKE_V8_FLAGS}`,
    join(HERE, "memory_fill.ts"),
    "--peers",
    String(memory.peers),
    "--torrents",
    String(memory.torrents),
    ...(warm ? ["--warm"] : []),
  ], 600);
  return JSON.parse(output) as MemoryResult;
}

/** Runs a command to completion within `seconds`; returns its last stdout line. */
async function runBounded(command: string[], seconds: number): Promise<string> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, seconds * 1000);
  try {
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    if (!output.success) {
      throw new Error(
        `${command.join(" ")} failed (${output.code}): ${stdout}\n` +
          new TextDecoder().decode(output.stderr),
      );
    }
    return stdout.split("\n").at(-1) ?? "";
  } finally {
    clearTimeout(killer);
  }
}

/** The machine, for the header of the table. */
export async function describeMachine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const cores = cpuinfo.match(/^processor\s*:/gm)?.length ?? 0;
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
  return `${cores} cores, ${model}, Deno ${Deno.version.deno}, load average ${load}`;
}

/** The table: one line per server and phase, ratios against the floor and opentracker. */
export function formatReport(report: RunReport, options: RunOptions): string {
  const lines: string[] = [];
  const find = (server: Row["server"], phase: Row["phase"]) =>
    report.rows.find((row) => row.server === server && row.phase === phase);
  const ratio = (value: number | null, base: number | null | undefined) =>
    value === null || base === null || base === undefined || base === 0
      ? "–"
      : `${(value / base).toFixed(2)}×`;
  lines.push(
    "| phase | server | req/s | vs floor | CPU µs/req | vs floor | vs opentracker | " +
      "p50 µs | p99 µs | p99 vs floor | errors | reconnects | checked (bad) | CPU range |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const row of report.rows) {
    const r = row.result;
    const floor = find("floor", row.phase)?.result;
    const ot = find("opentracker", row.phase)?.result;
    const checked = r.validated + (row.strict?.validated ?? 0);
    const bad = r.invalid + (row.strict?.invalid ?? 0);
    lines.push(
      `| ${row.phase} | ${row.server} | ${Math.round(r.requestsPerSecond)} | ` +
        `${ratio(r.requestsPerSecond, floor?.requestsPerSecond)} | ` +
        `${r.cpuMicrosPerRequest?.toFixed(1) ?? "–"} | ` +
        `${ratio(r.cpuMicrosPerRequest, floor?.cpuMicrosPerRequest)} | ` +
        `${ratio(r.cpuMicrosPerRequest, ot?.cpuMicrosPerRequest)} | ` +
        `${r.p50Micros} | ${r.p99Micros} | ${ratio(r.p99Micros, floor?.p99Micros)} | ` +
        `${r.errors} | ${r.reconnects} | ${checked} (${bad}) | ` +
        `${row.cpuRange?.map((v) => v.toFixed(1)).join("–") ?? "–"} |`,
    );
  }
  const problems = report.rows.flatMap((row) =>
    [row.result.firstProblem, row.strict?.firstProblem]
      .filter((text): text is string => text !== null && text !== undefined)
      .map((text) => `${row.server}, ${row.phase}: ${text}`)
  );
  if (problems.length > 0) lines.push("", "Problems:", ...problems.map((text) => `- ${text}`));
  if (report.memory !== null) {
    lines.push(
      "",
      "| memory (in-process core fill) | peers | torrents | RSS growth B/peer | " +
        "marginal RSS B/peer (half → full) | V8 heap used B/peer | V8 heap reserved B/peer | " +
        "external (typed arrays) B/peer |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const m of report.memory) {
      lines.push(
        `| ${m.warmed ? "warmed V8 heap" : "cold process"} | ${m.peers} | ${m.torrents} | ` +
          `${m.rssBytesPerPeer.toFixed(1)} | ${m.marginalRssBytesPerPeer.toFixed(1)} | ` +
          `${m.heapBytesPerPeer.toFixed(1)} | ${m.heapTotalBytesPerPeer.toFixed(1)} | ` +
          `${m.externalBytesPerPeer.toFixed(1)} |`,
      );
    }
  }
  if (report.memoryHttp !== null && report.memoryHttp.length > 0) {
    lines.push(
      "",
      "| memory (announces over HTTP, server RSS) | peers | torrents | RSS growth B/peer | " +
        "from warmed process B/peer | marginal B/peer (half → full) | errors |",
      "|---|---|---|---|---|---|---|",
    );
    for (const m of report.memoryHttp) {
      lines.push(
        `| ${m.server}${m.flags.length > 0 ? ` (${m.flags.join(" ")})` : ""} | ${m.peers} | ` +
          `${m.torrents} | ${m.rssBytesPerPeer.toFixed(1)} | ` +
          `${m.warmedRssBytesPerPeer.toFixed(1)} | ${m.marginalRssBytesPerPeer.toFixed(1)} | ` +
          `${m.errors} |`,
      );
    }
  }
  lines.push(
    "",
    `Driver ${options.driver}, ${options.connections} connections, ${options.repeat} round(s) ` +
      `(medians), ${options.seconds} s per ` +
      `phase after ${options.warmup} s warm-up; ${options.workload.torrents} torrents × ` +
      `${options.workload.peersPerTorrent} peers; server on core ${SERVER_CORE}, ` +
      `client on core ${CLIENT_CORE}.` +
      (options.quick ? " QUICK MODE: figures mean nothing." : ""),
    "Reconnects: kept-alive sockets the server closed without saying so (opentracker closes " +
      "every connection); the request was counted once, not as an error.",
    ...report.notes.map((note) => `Note: ${note}.`),
  );
  return lines.join("\n");
}

/** Parses the runner's flags. */
export async function parseRunArgs(args: string[]): Promise<RunOptions> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string", default: "32" },
      torrents: { type: "string" },
      peers: { type: "string" },
      servers: { type: "string", default: "floor,floor-read,nobrake,opentracker" },
      repeat: { type: "string", default: "1" },
      "base-main": { type: "string" },
      "bittorrent-tracker-dir": { type: "string" },
      driver: { type: "string" },
      "memory-peers": { type: "string" },
      "memory-torrents": { type: "string" },
      "no-memory": { type: "boolean", default: false },
      "memory-http": { type: "boolean", default: false },
      "no-udp": { type: "boolean", default: false },
      "no-http": { type: "boolean", default: false },
      "udp-sockets": { type: "string", default: "16" },
      "udp-window": { type: "string", default: "4" },
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const servers = values.servers.split(",").map((name) => name.trim());
  for (const name of servers) {
    if (!(SERVER_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown server "${name}" (${SERVER_NAMES.join(", ")})`);
    }
  }
  if (servers.includes("nobrake-base") && values["base-main"] === undefined) {
    throw new Error("server nobrake-base needs --base-main PATH");
  }
  if (servers.includes("bittorrent-tracker") && values["bittorrent-tracker-dir"] === undefined) {
    throw new Error("server bittorrent-tracker needs --bittorrent-tracker-dir DIR");
  }
  const driver = values.driver ?? ((await hasProgram("wrk")) ? "wrk" : "deno");
  if (driver !== "wrk" && driver !== "deno") throw new Error(`unknown driver "${driver}"`);
  const number = (text: string | undefined, fallback: number) =>
    text === undefined ? fallback : Number(text);
  return {
    seconds: number(values.seconds, quick ? 1 : 10),
    warmup: number(values.warmup, quick ? 1 : 2),
    connections: Number(values.connections),
    workload: {
      torrents: number(values.torrents, quick ? 100 : 1000),
      peersPerTorrent: number(values.peers, 100),
      numwant: 50,
      seed: 1,
    },
    servers: servers as ServerName[],
    repeat: Math.max(1, Number(values.repeat)),
    baseMain: values["base-main"] ?? null,
    bittorrentTrackerDir: values["bittorrent-tracker-dir"] ?? null,
    driver,
    sequenceLength: quick ? 20_000 : 100_000,
    checkSeconds: quick ? 0.5 : 1,
    memory: values["no-memory"] ? null : {
      peers: number(values["memory-peers"], quick ? 50_000 : 1_000_000),
      torrents: number(values["memory-torrents"], quick ? 500 : 10_000),
    },
    memoryHttp: values["memory-http"],
    udp: !values["no-udp"],
    http: !values["no-http"],
    udpSockets: Number(values["udp-sockets"]),
    udpWindow: Number(values["udp-window"]),
    json: values.json,
    quick,
  };
}

if (import.meta.main) {
  const options = await parseRunArgs(Deno.args);
  const machine = await describeMachine();
  const report = await runAll(options);
  const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
  out(`Machine: ${machine}`);
  out(formatReport(report, options));
  out(`Load average after: ${(await Deno.readTextFile("/proc/loadavg")).split(" ")[0]}`);
  if (options.json) out(JSON.stringify({ machine, options, ...report }));
}
