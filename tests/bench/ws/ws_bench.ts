/**
 * The WebSocket (WebTorrent) tracker benchmark, three phases in one sitting (issue 16):
 *
 * - `relay`: announces with offers relayed per second, and the server's CPU per announce, NoBrake
 *   against webtorrent's `bittorrent-tracker` on the same load (`ws_load_client.ts`: sockets each
 *   keeping one announce with `--offers` offers in flight, every offer relayed to another peer),
 *   and a floor: a bare Deno WebSocket server sending the same messages without any tracker work.
 * - `memory`: the server's RSS growth per open WebSocket peer, from a few sockets to `--sockets`
 *   (10,000 by default) idle sockets that each joined a swarm; both servers, and a bare
 *   `Deno.upgradeWebSocket` server as the floor of what a socket costs in Deno.
 * - `idle`: NoBrake's HTTP and UDP announce throughput (the load drivers of `../load/`) without,
 *   then with `--sockets` idle WebSocket peers connected.
 *
 * The servers run pinned to core 0, generators to core 1 (`taskset`; run the bench itself with
 * `taskset -c 1`, as it drives the HTTP and UDP load of the `idle` phase). `bittorrent-tracker` runs
 * under Node.js from `--bittorrent-tracker-dir` (as `../load/` installs it), or else under Deno
 * from the version pinned in `deno.json`. Figures are ratios within one sitting.
 *
 * ```sh
 * taskset -c 1 deno run -A tests/bench/ws/ws_bench.ts [--phases relay,memory,idle] [--seconds 10]
 *   [--sockets 10000] [--relay-sockets 200] [--torrents 20] [--offers 5] [--repeat 3]
 *   [--bittorrent-tracker-dir /tmp/btt]
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { readCpuTicks, readRssBytes, TICKS_PER_SECOND } from "../load/proc_stat.ts";
import { freePort, startServer } from "../load/servers.ts";
import { runLoad } from "../load/load_generator.ts";
import { runUdpLoad } from "../load/udp_load.ts";

const CLIENT = new URL("./ws_load_client.ts", import.meta.url).pathname;
const REPO = new URL("../../../", import.meta.url).pathname;

interface Options {
  phases: Set<string>;
  seconds: number;
  warmup: number;
  sockets: number;
  relaySockets: number;
  torrents: number;
  offers: number;
  clientProcesses: number;
  repeat: number;
  bittorrentTrackerDir: string | null;
}

function parseArgs(args: string[]): Options {
  const value = (name: string, fallback: string) => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? fallback : args[at + 1]!;
  };
  return {
    phases: new Set(value("phases", "relay,memory,idle").split(",")),
    seconds: Number(value("seconds", "10")),
    warmup: Number(value("warmup", "3")),
    sockets: Number(value("sockets", "10000")),
    relaySockets: Number(value("relay-sockets", "200")),
    torrents: Number(value("torrents", "20")),
    offers: Number(value("offers", "5")),
    clientProcesses: Number(value("client-processes", "4")),
    repeat: Number(value("repeat", "3")),
    bittorrentTrackerDir: args.includes("--bittorrent-tracker-dir")
      ? value("bittorrent-tracker-dir", "")
      : null,
  };
}

/** A WebSocket tracker under test. */
interface WsServer {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

async function startNoBrake(): Promise<WsServer & { port: number; udpPort: number | null }> {
  const server = await startServer("nobrake", { core: 0, hexHashes: [], stateFile: false });
  return {
    name: "nobrake",
    pid: server.pid,
    port: server.port,
    udpPort: server.udpPort,
    url: `ws://127.0.0.1:${server.port}/announce`,
    stop: server.stop,
  };
}

/** webtorrent's tracker, WebSocket only, under Node.js (or Deno, without an install dir). */
async function startBittorrentTracker(options: Options): Promise<WsServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "nobrake_bench_btt_ws_" });
  const module = options.bittorrentTrackerDir === null
    ? "bittorrent-tracker/server"
    : `file://${join(options.bittorrentTrackerDir, "node_modules/bittorrent-tracker/server.js")}`;
  const script = join(dir, options.bittorrentTrackerDir === null ? "server.ts" : "server.mjs");
  await Deno.writeTextFile(
    script,
    `import Server from ${JSON.stringify(module)};\n` +
      "const server = new Server({ udp: false, http: false, ws: true, stats: false });\n" +
      "server.on('error', (error) => { throw error; });\n" +
      "server.on('warning', () => {});\n" +
      `server.listen(${port}, "127.0.0.1");\n`,
  );
  const command = options.bittorrentTrackerDir === null
    ? [Deno.execPath(), "run", "-A", "--config", join(REPO, "deno.json"), script]
    : ["node", script];
  const child = new Deno.Command("taskset", {
    args: ["-c", "0", ...command],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `ws://127.0.0.1:${port}/announce`;
  await waitForWebSocket(url);
  return {
    name: options.bittorrentTrackerDir === null
      ? "bittorrent-tracker (Deno)"
      : "bittorrent-tracker (Node.js)",
    pid: child.pid,
    url,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * The floor: a bare `Deno.serve` with `Deno.upgradeWebSocket` (the same idle timeout as NoBrake)
 * that answers every message with one fixed reply and, like a relay, sends one fixed offer of the
 * load's size to each of `offers` other sockets: what Deno's WebSocket server costs by itself,
 * with no parsing, no swarm and no JSON written.
 */
async function startDenoFloor(offers: number): Promise<WsServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "nobrake_bench_ws_floor_" });
  const script = join(dir, "floor.ts");
  await Deno.writeTextFile(
    script,
    `const offer = JSON.stringify({ action: "announce", offer: { sdp: "x".repeat(560) } });\n` +
      "const open = [];\n" +
      `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen: () => {} }, (request) => {\n` +
      "  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 60 });\n" +
      "  socket.onopen = () => open.push(socket);\n" +
      "  socket.onmessage = (event) => {\n" +
      `    socket.send('{"action":"announce","interval":120,"complete":0,"incomplete":10}');\n` +
      "    if (event.data.length < 1000) return;\n" +
      `    for (let i = 0; i < ${offers}; i++) {\n` +
      "      const other = open[Math.floor(Math.random() * open.length)];\n" +
      "      if (other !== socket && other.readyState === 1) other.send(offer);\n" +
      "    }\n" +
      "  };\n" +
      "  return response;\n});\n",
  );
  const child = new Deno.Command("taskset", {
    args: ["-c", "0", Deno.execPath(), "run", "--allow-net", script],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `ws://127.0.0.1:${port}/announce`;
  await waitForWebSocket(url);
  return {
    name: "Deno.upgradeWebSocket floor",
    pid: child.pid,
    url,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function waitForWebSocket(url: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const opened = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(url);
      socket.onopen = () => {
        socket.close();
        resolve(true);
      };
      socket.onerror = () => resolve(false);
    });
    if (opened) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never opened`);
}

/** Starts a load-client process pinned to core 1; yields its stdout lines. */
function spawnClient(args: string[]) {
  const child = new Deno.Command("taskset", {
    args: ["-c", "1", Deno.execPath(), "run", "-A", CLIENT, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter());
  return { child, reader: lines.getReader() };
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) controller.enqueue(line);
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(rest);
    },
  });
}

async function nextLine(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  const { value, done } = await reader.read();
  if (done) throw new Error("the load client ended early");
  return value;
}

interface RelayRow {
  server: string;
  announcesPerSecond: number;
  offersPerSecond: number;
  cpuMicrosPerAnnounce: number;
  cpuMicrosPerMessage: number;
  serverCpuShare: number;
  /** Share of a core the load client used: near 100 % means it, not the server, set the pace. */
  clientCpuShare: number;
  errors: number;
}

async function relayPhase(server: WsServer, options: Options): Promise<RelayRow> {
  const { child, reader } = spawnClient([
    server.url,
    "relay",
    String(options.relaySockets),
    "0",
    String(options.torrents),
    String(options.offers),
    String(options.warmup),
    String(options.seconds),
  ]);
  if (await nextLine(reader) !== "measuring") throw new Error("unexpected client output");
  const ticksBefore = readCpuTicks(server.pid);
  const clientTicksBefore = readCpuTicks(child.pid);
  const result = JSON.parse(await nextLine(reader));
  const ticksAfter = readCpuTicks(server.pid);
  const clientSeconds = (readCpuTicks(child.pid) - clientTicksBefore) / TICKS_PER_SECOND;
  child.stdin.close();
  await child.status;
  const cpuSeconds = (ticksAfter - ticksBefore) / TICKS_PER_SECOND;
  // A message is one the server read (the announce) or wrote (its reply and each relayed offer).
  const messages = result.replies * 2 + result.offers;
  return {
    server: server.name,
    announcesPerSecond: result.replies / result.seconds,
    offersPerSecond: result.offers / result.seconds,
    cpuMicrosPerAnnounce: (cpuSeconds * 1e6) / result.replies,
    cpuMicrosPerMessage: (cpuSeconds * 1e6) / messages,
    serverCpuShare: cpuSeconds / result.seconds,
    clientCpuShare: clientSeconds / result.seconds,
    errors: result.errors,
  };
}

/** Opens `count` idle sockets over several client processes; resolves once all joined. */
async function openIdle(url: string, count: number, options: Options, firstPeer = 0) {
  const processes = Math.max(1, Math.min(options.clientProcesses, count));
  const per = Math.ceil(count / processes);
  const clients: ReturnType<typeof spawnClient>[] = [];
  for (let p = 0; p < processes; p++) {
    const n = Math.min(per, count - p * per);
    if (n <= 0) break;
    clients.push(
      spawnClient([url, "idle", String(n), String(firstPeer + p * per), String(count / 10)]),
    );
  }
  for (const client of clients) {
    if (await nextLine(client.reader) !== "ready") throw new Error("an idle client failed");
  }
  return {
    async close() {
      for (const client of clients) {
        client.child.stdin.close();
        await client.child.status;
      }
    },
  };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

async function memoryPhase(server: WsServer, options: Options) {
  const warm = await openIdle(server.url, 100, options, 1_000_000);
  await settle();
  const before = readRssBytes(server.pid);
  const idle = await openIdle(server.url, options.sockets, options);
  await settle();
  const after = readRssBytes(server.pid);
  await idle.close();
  await warm.close();
  return {
    server: server.name,
    rssBeforeMiB: before / 2 ** 20,
    rssAfterMiB: after / 2 ** 20,
    bytesPerSocket: (after - before) / options.sockets,
  };
}

async function httpAndUdp(server: { pid: number; port: number; udpPort: number | null }) {
  const shared = {
    host: "127.0.0.1",
    pid: server.pid,
    seconds: 5,
    warmup: 2,
    torrents: 1000,
    peersPerTorrent: 100,
    sampleEvery: 100,
    fixedReply: false,
  };
  const http = await runLoad({
    ...shared,
    port: server.port,
    mode: "announce",
    connection: "keepalive",
    connections: 32,
    prefill: false,
    prefillTimeout: 60,
    prefillRange: null,
  });
  const udp = await runUdpLoad({
    ...shared,
    port: server.udpPort!,
    sockets: 16,
    window: 4,
  });
  return { http: http.requestsPerSecond, udp: udp.requestsPerSecond };
}

function tableRow(cells: string[]): void {
  out(`| ${cells.join(" | ")} |`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function out(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

const options = parseArgs(Deno.args);
out(
  `# ws_bench ${new Date().toISOString()} ${
    JSON.stringify({ ...options, phases: [...options.phases] })
  }`,
);

if (options.phases.has("relay")) {
  // Rounds alternate the servers, so a disturbance of the shared machine hits both alike.
  const rows: RelayRow[][] = [[], [], []];
  const starts = [
    () => startNoBrake(),
    () => startBittorrentTracker(options),
    () => startDenoFloor(options.offers),
  ];
  for (let round = 0; round < options.repeat; round++) {
    for (const [i, start] of starts.entries()) {
      const server = await start();
      try {
        rows[i]!.push(await relayPhase(server, options));
      } finally {
        await server.stop();
      }
    }
  }
  out(`\n## relay: announces with ${options.offers} offers, one in flight per socket`);
  out(
    `${options.relaySockets} sockets, ${options.torrents} swarms; medians of ${options.repeat} rounds`,
  );
  tableRow([
    "server",
    "announces/s",
    "offers relayed/s",
    "CPU µs/announce",
    "CPU µs/message",
    "server CPU",
    "client CPU",
    "errors",
  ]);
  tableRow(Array(8).fill("---"));
  const medians = rows.map((serverRows) => ({
    server: serverRows[0]!.server,
    announcesPerSecond: median(serverRows.map((row) => row.announcesPerSecond)),
    offersPerSecond: median(serverRows.map((row) => row.offersPerSecond)),
    cpuMicrosPerAnnounce: median(serverRows.map((row) => row.cpuMicrosPerAnnounce)),
    cpuMicrosPerMessage: median(serverRows.map((row) => row.cpuMicrosPerMessage)),
    serverCpuShare: median(serverRows.map((row) => row.serverCpuShare)),
    clientCpuShare: median(serverRows.map((row) => row.clientCpuShare)),
    errors: serverRows.reduce((sum, row) => sum + row.errors, 0),
  }));
  for (const row of medians) {
    tableRow([
      row.server,
      row.announcesPerSecond.toFixed(0),
      row.offersPerSecond.toFixed(0),
      row.cpuMicrosPerAnnounce.toFixed(1),
      row.cpuMicrosPerMessage.toFixed(2),
      `${(row.serverCpuShare * 100).toFixed(0)} %`,
      `${(row.clientCpuShare * 100).toFixed(0)} %`,
      String(row.errors),
    ]);
  }
  const [ours, theirs, floor] = medians;
  out(
    `NoBrake's CPU per announce is ${
      (ours!.cpuMicrosPerAnnounce / floor!.cpuMicrosPerAnnounce).toFixed(2)
    }× the floor's (Deno's WebSocket sends and reads alone)`,
  );
  out(
    `NoBrake / bittorrent-tracker: throughput ${
      (ours!.announcesPerSecond / theirs!.announcesPerSecond).toFixed(2)
    }×, CPU per announce ${
      (theirs!.cpuMicrosPerAnnounce / ours!.cpuMicrosPerAnnounce).toFixed(2)
    }× less`,
  );
  for (const [i, serverRows] of rows.entries()) {
    out(
      `rounds ${medians[i]!.server}: ${
        serverRows.map((r) => r.announcesPerSecond.toFixed(0)).join(", ")
      } announces/s`,
    );
  }
}

if (options.phases.has("memory")) {
  out(`\n## memory: RSS growth per idle WebSocket peer, 100 → ${options.sockets + 100} sockets`);
  out("| server | RSS before (MiB) | RSS after (MiB) | bytes per socket |");
  out("| --- | --- | --- | --- |");
  const starts = [
    () => startNoBrake(),
    () => startDenoFloor(options.offers),
    () => startBittorrentTracker(options),
  ];
  for (const start of starts) {
    const server = await start();
    try {
      const row = await memoryPhase(server, options);
      out(
        `| ${row.server} | ${row.rssBeforeMiB.toFixed(1)} | ${row.rssAfterMiB.toFixed(1)} | ` +
          `${row.bytesPerSocket.toFixed(0)} |`,
      );
    } finally {
      await server.stop();
    }
  }
}

if (options.phases.has("idle")) {
  const server = await startNoBrake();
  try {
    // Without, then with, per round: a disturbance of the shared machine hits both alike.
    const without: { http: number; udp: number }[] = [];
    const withIdle: { http: number; udp: number }[] = [];
    for (let round = 0; round < options.repeat; round++) {
      without.push(await httpAndUdp(server));
      const idle = await openIdle(server.url, options.sockets, options);
      withIdle.push(await httpAndUdp(server));
      await idle.close();
    }
    out(
      `\n## idle: NoBrake HTTP and UDP announces/s without and with ${options.sockets} idle ` +
        `WebSocket peers; medians of ${options.repeat} rounds`,
    );
    tableRow(["transport", "without", "with", "with / without", "rounds (without → with)"]);
    tableRow(Array(5).fill("---"));
    for (const kind of ["http", "udp"] as const) {
      const a = median(without.map((row) => row[kind]));
      const b = median(withIdle.map((row) => row[kind]));
      const rounds = without.map((row, i) =>
        `${row[kind].toFixed(0)} → ${withIdle[i]![kind].toFixed(0)}`
      );
      tableRow([kind, a.toFixed(0), b.toFixed(0), (b / a).toFixed(3), rounds.join(", ")]);
    }
  } finally {
    await server.stop();
  }
}
