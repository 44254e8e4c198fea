/**
 * Starts the servers the load runner compares, each pinned to core 0 with `taskset` (the load
 * generator gets core 1), and stops them: the `Deno.serve` floor, NoBrake (`main.ts` with a
 * temporary config in open mode), Debian's opentracker (whitelist mode: the Debian build
 * serves only listed hashes, so the workload's hashes are written to its whitelist) and, when
 * given a directory where npm installed it, webtorrent's `bittorrent-tracker` under Node.js
 * (HTTP and UDP, open mode, WebSocket off).
 *
 * A server is ready when it answers a request; waiting is bounded. `stop()` kills by process id
 * and waits for the exit, and is safe to call twice; callers call it in `finally`.
 *
 * @module
 */
import { join } from "node:path";

/** Which server to start. */
export type ServerKind =
  | "floor-announce"
  | "floor-scrape"
  | "floor-read"
  | "floor-udp"
  | "nobrake"
  | "opentracker"
  | "bittorrent-tracker";

/** A started server. */
export interface RunningServer {
  kind: ServerKind;
  pid: number;
  /** The HTTP port (the floors: the one port they serve). */
  port: number;
  /** Where it answers BEP 15 (UDP), or `null` when it does not. */
  udpPort: number | null;
  stop(): Promise<void>;
}

/** How to start a server. */
export interface StartServerOptions {
  /** The core the server is pinned to; `null` leaves it unpinned. @default 0 */
  core: number | null;
  /** The workload's info hashes in hex, for opentracker's whitelist. */
  hexHashes: string[];
  /** Longest wait for the server to answer, in milliseconds. @default 15000 */
  readyTimeoutMs?: number;
  /** NoBrake's `main.ts` to run (another checkout, to compare versions). @default this repo's */
  nobrakeMain?: string;
  /** Extra `deno run` flags for NoBrake. @default `NOBRAKE_FLAGS`, those of `deno task start` */
  denoFlags?: string[];
  /** Write NoBrake's state file (the shipped default); `false` keeps state in memory. @default true */
  stateFile?: boolean;
  /**
   * A directory holding `node_modules/bittorrent-tracker` (`npm install --ignore-scripts
   * bittorrent-tracker` in a temporary directory, never in the repository). Needed for that kind.
   */
  bittorrentTrackerDir?: string;
  /** More NoBrake config keys (such as `redis`). @default none */
  nobrakeConfig?: Record<string, unknown>;
  /** The port to listen on (several NoBrakes sharing one, with `redis`). @default a free one */
  port?: number;
}

const REPO = new URL("../../../", import.meta.url).pathname;
const FLOOR = new URL("./floor_server.ts", import.meta.url).pathname;

/**
 * The V8 flags `deno task start` runs NoBrake with (read from `deno.json`), so that the bench
 * measures NoBrake as it is deployed: a smaller young generation (`--max-semi-space-size`), which
 * `tests/bench/README.md` measures in RSS and CPU.
 */
export const NOBRAKE_V8_FLAGS: string =
  /--v8-flags=(\S+)/.exec(JSON.parse(Deno.readTextFileSync(join(REPO, "deno.json"))).tasks.start)
    ?.[1] ?? "";

/** `deno run` flags for NoBrake: those of `deno task start`. */
export const NOBRAKE_FLAGS: string[] = NOBRAKE_V8_FLAGS === ""
  ? []
  : [`--v8-flags=${NOBRAKE_V8_FLAGS}`];

/** True when a program is on the PATH (e.g. `opentracker`, `wrk`, `taskset`). */
export async function hasProgram(name: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** A free loopback port (bound, read and released; the server binds it right after). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts one server and waits until it answers. */
export async function startServer(
  kind: ServerKind,
  options: StartServerOptions,
): Promise<RunningServer> {
  const port = options.port ?? freePort();
  const dir = await Deno.makeTempDir({ prefix: `nobrake_bench_${kind}_` });
  let command: string[];
  let probe: string | null = "/announce";
  let udpPort: number | null = null;
  if (kind.startsWith("floor-")) {
    command = [
      Deno.execPath(),
      "run",
      "--allow-net",
      FLOOR,
      String(port),
      kind.slice("floor-".length),
    ];
    if (kind === "floor-udp") {
      udpPort = port;
      probe = null;
    }
  } else if (kind === "nobrake") {
    const config = {
      ip: "127.0.0.1",
      port,
      allowed: "*",
      interval: 1800,
      expiry: 3600,
      logfile: join(dir, "nobrake.log"),
      ...(options.stateFile === false ? { state_file: null } : {}),
      ...options.nobrakeConfig,
    };
    await Deno.writeTextFile(join(dir, "tracker.json"), JSON.stringify(config));
    // UDP listens on the HTTP port number (config `udp_port` unset).
    udpPort = port;
    command = [
      Deno.execPath(),
      "run",
      `--allow-net=127.0.0.1`,
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      ...(options.denoFlags ?? NOBRAKE_FLAGS),
      options.nobrakeMain ?? join(REPO, "main.ts"),
      join(dir, "tracker.json"),
    ];
  } else if (kind === "bittorrent-tracker") {
    if (options.bittorrentTrackerDir === undefined) {
      throw new Error("bittorrent-tracker needs the directory npm installed it in");
    }
    // Its server module alone: the package's index also loads the WebRTC client.
    const module = join(options.bittorrentTrackerDir, "node_modules/bittorrent-tracker/server.js");
    udpPort = freeUdpPort();
    await Deno.writeTextFile(
      join(dir, "server.mjs"),
      `import Server from ${JSON.stringify(`file://${module}`)};\n` +
        "const server = new Server({ udp: true, http: true, ws: false, stats: false });\n" +
        "server.on('error', (error) => console.error(error.message));\n" +
        "server.on('warning', () => {});\n" +
        `server.http.listen(${port}, "127.0.0.1");\n` +
        `server.udp4.bind(${udpPort}, "127.0.0.1");\n`,
    );
    command = ["node", join(dir, "server.mjs")];
  } else {
    // opentracker chroots into -d and reads the whitelist there, as user nobody.
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(join(dir, "whitelist"), options.hexHashes.join("\n") + "\n");
    udpPort = freeUdpPort();
    command = [
      "opentracker",
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      "-P",
      String(udpPort),
      "-d",
      dir,
      "-w",
      "whitelist",
    ];
    // Whitelisted hashes are loaded by a thread after start: probe with one of them.
    probe = `/scrape?info_hash=${escapeHex(options.hexHashes[0])}`;
  }
  if (options.core !== null) command = ["taskset", "-c", String(options.core), ...command];
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drain = (async () => {
    // Keep reading so a chatty server never blocks on a full pipe; keep the start for errors.
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      if (stderr.length < 4000) stderr += decoder.decode(chunk);
    }
  })();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await drain.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const timeoutMs = options.readyTimeoutMs ?? 15_000;
    if (probe === null) await waitUntilAnsweringUdp(port, timeoutMs, child);
    else await waitUntilServing(port, probe, kind, timeoutMs, child);
  } catch (error) {
    await stop();
    throw new Error(`${kind} did not start: ${(error as Error).message}\n${stderr}`);
  }
  // `taskset` execs the server, so the child's pid is the server's own.
  return { kind, pid: child.pid, port, udpPort, stop };
}

/** A free loopback UDP port (bound, read and released). */
export function freeUdpPort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  conn.close();
  return port;
}

/** Waits until a BEP 15 connect to `port` is answered. */
async function waitUntilAnsweringUdp(
  port: number,
  timeoutMs: number,
  child: Deno.ChildProcess,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const connect = new Uint8Array(16);
  new DataView(connect.buffer).setBigUint64(0, 0x41727101980n);
  // One receive for the whole wait (a socket takes one at a time); closing it ends the receive.
  const answer = conn.receive().then(() => true, () => false);
  try {
    while (performance.now() < deadline) {
      if (exited) throw new Error("it exited");
      await conn.send(connect, server);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await Promise.race([
        answer,
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 200)),
      ]);
      clearTimeout(timer);
      if (answered) return;
    }
  } finally {
    conn.close();
    await answer;
  }
  throw new Error(`no BEP 15 answer on udp port ${port} within ${timeoutMs} ms`);
}

async function waitUntilServing(
  port: number,
  probe: string,
  kind: ServerKind,
  timeoutMs: number,
  child: Deno.ChildProcess,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  let last = "";
  while (performance.now() < deadline) {
    if (exited) throw new Error("it exited");
    try {
      const response = await fetch(`http://127.0.0.1:${port}${probe}`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = await response.text();
      // opentracker answers "not authorized" until its whitelist thread has run.
      if (kind !== "opentracker" || !body.includes("failure reason")) return;
      last = body;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer on port ${port} within ${timeoutMs} ms (${last})`);
}

function escapeHex(hex: string): string {
  return hex.replace(/../g, (pair) => `%${pair}`);
}
