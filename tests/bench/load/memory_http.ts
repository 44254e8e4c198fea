/**
 * Memory per peer measured the way an operator sees it: a real server process (NoBrake's
 * `main.ts`, or Debian's opentracker) is sent `started` announces for `torrents × peers` distinct
 * peers over HTTP by `load_generator.ts`, and its RSS (`VmRSS` of `/proc/<pid>/status`) is read
 * before and after. No garbage collection is forced: the figure includes whatever the runtime
 * keeps (V8's young generation, the allocator's free lists), which `memory_fill.ts` (the core
 * alone, in-process, after a full GC) leaves out. Both are reported by `run_load.ts --memory-http`.
 *
 * Two baselines: the idle process just started, and the same process after 5 seconds of scrapes
 * (which add no peers but warm the JIT and grow the runtime's young generation to its size under
 * load, as in a server that has run a while). Growth from the second is what the peers cost.
 *
 * Run: `deno run -A tests/bench/load/memory_http.ts [--servers nobrake,opentracker]
 * [--torrents 10000] [--peers 100] [--nobrake-flags=--v8-flags=--max-semi-space-size=2] (the
 * default: the flags of `deno task start`; `--nobrake-flags=` runs without any)
 * [--nobrake-main /other/checkout/main.ts]` prints one
 * JSON line per server (`HttpMemoryResult`). A million announces take a minute or two per server.
 * Every server is stopped in `finally`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LoadResult } from "./load_generator.ts";
import { readRssBytes } from "./proc_stat.ts";
import { hasProgram, NOBRAKE_FLAGS, type RunningServer, startServer } from "./servers.ts";
import { Workload } from "./workload.ts";

/** What one server's fill measured. */
export interface HttpMemoryResult {
  method: "announces over HTTP";
  server: "nobrake" | "opentracker";
  /** Extra `deno run` flags NoBrake ran with (none for opentracker). */
  flags: string[];
  peers: number;
  torrents: number;
  /** Announces the generator sent and seconds it took. */
  requests: number;
  seconds: number;
  rssBeforeBytes: number;
  /** After the warm-up scrapes, before any peer. */
  rssWarmedBytes: number;
  rssAfterBytes: number;
  /** RSS growth per peer from the idle start, a second after the last announce. */
  rssBytesPerPeer: number;
  /** RSS growth per peer from the warmed process. */
  warmedRssBytesPerPeer: number;
  /** RSS growth per peer from half full to full (leaves out one-off growth). */
  marginalRssBytesPerPeer: number;
  /** Failed announces (must be 0 for the figure to mean anything). */
  errors: number;
}

/** How to run the fill. */
export interface HttpMemoryOptions {
  server: "nobrake" | "opentracker";
  torrents: number;
  peersPerTorrent: number;
  /** `deno run` flags for NoBrake (`NOBRAKE_FLAGS`: those of `deno task start`). */
  flags: string[];
  /** NoBrake's `main.ts` (another checkout, to compare versions). @default this repo's */
  nobrakeMain?: string;
  /** Core the server is pinned to, and the generator's. */
  serverCore: number;
  clientCore: number;
}

const HERE = new URL(".", import.meta.url).pathname;

/** Starts a server, fills it over HTTP in two halves, and reads its RSS at each step. */
export async function fillOverHttp(options: HttpMemoryOptions): Promise<HttpMemoryResult> {
  const workload = new Workload({
    torrents: options.torrents,
    peersPerTorrent: options.peersPerTorrent,
  });
  const server = await startServer(options.server, {
    core: options.serverCore,
    hexHashes: workload.hexHashes(),
    readyTimeoutMs: 30_000,
    denoFlags: options.flags,
    ...(options.nobrakeMain === undefined ? {} : { nobrakeMain: options.nobrakeMain }),
  });
  try {
    await settle();
    const before = readRssBytes(server.pid);
    await generate(server, options, ["--mode", "scrape", "--seconds", "5"]);
    await settle();
    const warmed = readRssBytes(server.pid);
    // Half the peers of every torrent, then the other half: the generator's pre-fill announces
    // peer p of every torrent before peer p + 1, so a fill of `peers / 2` peers per torrent is
    // the first half of the full fill.
    const half = Math.floor(options.peersPerTorrent / 2);
    const first = await prefill(server, options, 0, half);
    await settle();
    const middle = readRssBytes(server.pid);
    const second = await prefill(server, options, half, options.peersPerTorrent);
    await settle();
    const after = readRssBytes(server.pid);
    const peers = options.torrents * options.peersPerTorrent;
    const secondPeers = options.torrents * (options.peersPerTorrent - half);
    return {
      method: "announces over HTTP",
      server: options.server,
      flags: options.server === "nobrake" ? options.flags : [],
      peers,
      torrents: options.torrents,
      requests: first.prefillRequests + second.prefillRequests,
      seconds: first.prefillSeconds + second.prefillSeconds,
      rssBeforeBytes: before,
      rssWarmedBytes: warmed,
      rssAfterBytes: after,
      rssBytesPerPeer: (after - before) / peers,
      warmedRssBytesPerPeer: (after - warmed) / peers,
      marginalRssBytesPerPeer: (after - middle) / secondPeers,
      errors: first.errors + second.errors,
    };
  } finally {
    await server.stop();
  }
}

/** Announces peers `[from, to)` of every torrent `started`, on the client core. */
function prefill(
  server: RunningServer,
  options: HttpMemoryOptions,
  from: number,
  to: number,
): Promise<LoadResult> {
  return generate(server, options, [
    "--prefill",
    "--prefill-from",
    String(from),
    "--prefill-to",
    String(to),
    "--prefill-timeout",
    "900",
    "--seconds",
    "0",
  ]);
}

/** Runs `load_generator.ts` on the client core with the fill's workload and `extra` flags. */
async function generate(
  server: RunningServer,
  options: HttpMemoryOptions,
  extra: string[],
): Promise<LoadResult> {
  const command = new Deno.Command("taskset", {
    args: [
      "-c",
      String(options.clientCore),
      Deno.execPath(),
      "run",
      "--allow-all",
      join(HERE, "load_generator.ts"),
      "--port",
      String(server.port),
      "--torrents",
      String(options.torrents),
      "--peers",
      String(options.peersPerTorrent),
      "--warmup",
      "0",
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      command.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, 1000 * 1000);
  try {
    const output = await command.output();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    if (!output.success) {
      throw new Error(
        `load_generator.ts failed: ${stdout}\n${new TextDecoder().decode(output.stderr)}`,
      );
    }
    return JSON.parse(stdout.split("\n").at(-1) ?? "") as LoadResult;
  } finally {
    clearTimeout(killer);
  }
}

/** Lets the server finish what it was doing (a timer's sweep, a collection) before a reading. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      servers: { type: "string", default: "nobrake,opentracker" },
      torrents: { type: "string", default: "10000" },
      peers: { type: "string", default: "100" },
      "nobrake-flags": { type: "string" },
      "nobrake-main": { type: "string" },
    },
  });
  for (const name of values.servers.split(",")) {
    if (name !== "nobrake" && name !== "opentracker") throw new Error(`unknown server "${name}"`);
    if (name === "opentracker" && !(await hasProgram("opentracker"))) continue;
    const result = await fillOverHttp({
      server: name,
      torrents: Number(values.torrents),
      peersPerTorrent: Number(values.peers),
      flags: values["nobrake-flags"] === undefined
        ? NOBRAKE_FLAGS
        : values["nobrake-flags"].split(" ").filter((flag) => flag !== ""),
      serverCore: 0,
      clientCore: 1,
      ...(values["nobrake-main"] === undefined ? {} : { nobrakeMain: values["nobrake-main"] }),
    });
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
  }
}
