/**
 * Issue 15's per-announce costs, in one sitting, over HTTP keep-alive with the load generator's
 * workload (1,000 torrents × 100 peers, the 88/5/2/5 mix, pre-filled):
 *
 * 1. NoBrake with the memory store: announces/s and its CPU µs per announce.
 * 2. NoBrake with the Redis store (Debian redis-server started here): the same, plus
 *    redis-server's CPU µs per announce.
 * 3. Two NoBrake processes sharing one port and one Redis: total announces/s, each process's CPU
 *    share and µs per announce (of the total), and redis-server's.
 *
 * CPU is user + system time from `/proc/<pid>/stat` over the measured phase only, so each figure
 * is that process's own whatever else runs. Nothing is pinned: on 2 cores the generator, NoBrake
 * and Redis share them, which caps the throughput figures (not the per-announce CPU).
 *
 *   deno run -A tests/bench/redis_load.ts [--seconds 5] [--connections 32]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runLoad } from "./load/load_generator.ts";
import { readCpuTicks, TICKS_PER_SECOND } from "./load/proc_stat.ts";
import { freePort, type RunningServer, startServer } from "./load/servers.ts";
import { RedisServer } from "../support/redis_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const TORRENTS = 1000;
const PEERS = 100;

/** CPU ticks of several processes over `work`. */
async function cpuOver<T>(pids: number[], work: () => Promise<T>) {
  const before = pids.map(readCpuTicks);
  const result = await work();
  const ticks = pids.map((pid, i) => readCpuTicks(pid) - before[i]);
  return { result, ticks };
}

/** Pre-fills and warms up through `port`, then measures; CPU of `pids` over the measured run. */
async function measure(port: number, pids: number[]) {
  const base = {
    host: "127.0.0.1",
    port,
    pid: null,
    mode: "announce" as const,
    connection: "keepalive" as const,
    connections,
    prefillTimeout: 300,
    prefillRange: null,
    torrents: TORRENTS,
    peersPerTorrent: PEERS,
    sampleEvery: 50,
    fixedReply: false,
  };
  const fill = await runLoad({ ...base, prefill: true, seconds: 2, warmup: 1 });
  if (fill.invalid > 0 || fill.errors > 0) throw new Error(`pre-fill: ${fill.firstProblem}`);
  const { result, ticks } = await cpuOver(
    pids,
    () => runLoad({ ...base, prefill: false, seconds, warmup: 0 }),
  );
  if (result.invalid > 0) throw new Error(`invalid replies: ${result.firstProblem}`);
  const micros = (tick: number) => (tick / TICKS_PER_SECOND) * 1e6 / result.requests;
  return {
    perSecond: Math.round(result.requestsPerSecond),
    errors: result.errors,
    cpuMicros: ticks.map((tick) => micros(tick).toFixed(1)),
    cpuShare: ticks.map((tick) => (tick / TICKS_PER_SECOND / result.seconds).toFixed(2)),
  };
}

const rows: string[] = [];
const servers: RunningServer[] = [];
await using redis = await RedisServer.start();
const redisPid = redis.pid!;
try {
  const memory = await startServer("nobrake", { core: null, hexHashes: [], stateFile: false });
  servers.push(memory);
  const m = await measure(memory.port, [memory.pid]);
  await memory.stop();
  rows.push(`| memory store | 1 | ${m.perSecond} | ${m.cpuMicros[0]} (${m.cpuShare[0]}) | - |`);

  const one = await startServer("nobrake", {
    core: null,
    hexHashes: [],
    stateFile: false,
    nobrakeConfig: { redis: redis.url(1) },
  });
  servers.push(one);
  const r = await measure(one.port, [one.pid, redisPid]);
  await one.stop();
  rows.push(
    `| Redis store | 1 | ${r.perSecond} | ${r.cpuMicros[0]} (${r.cpuShare[0]}) | ` +
      `${r.cpuMicros[1]} (${r.cpuShare[1]}) |`,
  );

  const port = freePort();
  const pair: RunningServer[] = [];
  for (let i = 0; i < 2; i++) {
    pair.push(
      await startServer("nobrake", {
        core: null,
        hexHashes: [],
        stateFile: false,
        port,
        nobrakeConfig: { redis: redis.url(2) },
      }),
    );
    servers.push(pair[i]);
  }
  const t = await measure(port, [pair[0].pid, pair[1].pid, redisPid]);
  for (const server of pair) await server.stop();
  rows.push(
    `| Redis store, one port | 2 | ${t.perSecond} | ${t.cpuMicros[0]} (${t.cpuShare[0]}) + ` +
      `${t.cpuMicros[1]} (${t.cpuShare[1]}) | ${t.cpuMicros[2]} (${t.cpuShare[2]}) |`,
  );
} finally {
  for (const server of servers) await server.stop();
}
const table = [
  `HTTP keep-alive announces, ${connections} connections, ${seconds} s measured, ` +
  `${TORRENTS} torrents × ${PEERS} peers; CPU µs per announce (share of a core):`,
  "| store | NoBrake processes | announces/s | NoBrake CPU | redis-server CPU |",
  "|---|---|---|---|---|",
  ...rows,
];
Deno.stdout.writeSync(new TextEncoder().encode(table.join("\n") + "\n"));
