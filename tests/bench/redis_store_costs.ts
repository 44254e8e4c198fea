/**
 * The Redis store's own costs, against a Debian redis-server started here, driven in-process
 * through `RedisSwarmStore` (no HTTP):
 *
 * - per announce: redis-server's time inside `EVALSHA` and inside each command the script calls
 *   (`INFO commandstats`, reset after the fill), with 1,000 torrents × 100 peers and numwant 50;
 * - the CPU of both sides per announce over the same announces: redis-server's from `/proc` and
 *   this process's (`process.cpuUsage()`: the store's call path, node-redis and its promises, with
 *   no HTTP);
 * - memory: `INFO memory` `used_memory` growth per peer after filling `--peers` peers over
 *   `--torrents` torrents (issue 15 asks 1,000,000 over 10,000).
 *
 *   deno run -A tests/bench/redis_store_costs.ts [--peers 1000000] [--torrents 10000]
 *     [--announces 50000]
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import type { AnnounceInput } from "../../src/core/announce_input.ts";
import { RedisSwarmStore } from "../../src/redis/redis_store.ts";
import { createMemoryLogger } from "../../src/runtime/logger.ts";
import { RedisServer } from "../support/redis_server.ts";
import { readCpuTicks, TICKS_PER_SECOND } from "./load/proc_stat.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    peers: { type: "string", default: "1000000" },
    torrents: { type: "string", default: "10000" },
    announces: { type: "string", default: "50000" },
  },
});
const IN_FLIGHT = 200;
const NOW = Date.now();

function input(torrent: number, peer: number, numwant: number): AnnounceInput {
  return {
    request: {
      infoHash: String(torrent).padStart(20, "h"),
      peerId: String(peer).padStart(20, "p"),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: peer % 10 === 0 ? 0 : 100,
      event: "none",
      numwant,
      compact: true,
      noPeerId: false,
      key: null,
      claimedIp: null,
      claimedIpv4: null,
      claimedIpv6: null,
    },
    address: new Uint8Array([10, (peer >> 16) & 255, (peer >> 8) & 255, peer & 255]),
    connectionAddress: null,
    userAgent: "",
    wantPeerIds: false,
  };
}

/** Announces every (torrent, peer) pair, `IN_FLIGHT` at a time. */
async function fill(store: RedisSwarmStore, torrents: number, peersPerTorrent: number) {
  const total = torrents * peersPerTorrent;
  for (let start = 0; start < total; start += IN_FLIGHT) {
    const batch = [];
    for (let i = start; i < Math.min(total, start + IN_FLIGHT); i++) {
      batch.push(store.announce(input(i % torrents, Math.floor(i / torrents), 0), NOW));
    }
    await Promise.all(batch);
  }
}

await using redis = await RedisServer.start();
const admin = createClient({ url: redis.url(0) });
await admin.connect();
const open = (db: number) =>
  RedisSwarmStore.open({ url: redis.url(db), logger: createMemoryLogger(), expirySeconds: 3600 });
const lines: string[] = [];

// Per announce.
const costs = await open(1);
await fill(costs, 1000, 100);
await admin.configResetStat();
const announces = Number(values.announces);
const redisTicks = readCpuTicks(redis.pid!);
const ownCpu = process.cpuUsage();
for (let i = 0; i < announces; i += IN_FLIGHT) {
  const batch = [];
  for (let j = i; j < i + IN_FLIGHT; j++) {
    batch.push(costs.announce(input(j % 1000, (j * 7) % 100, 50), NOW));
  }
  await Promise.all(batch);
}
const ownMicros = process.cpuUsage(ownCpu);
const redisMicros = (readCpuTicks(redis.pid!) - redisTicks) / TICKS_PER_SECOND * 1e6;
lines.push(`per announce (1,000 torrents × 100 peers, numwant 50, ${announces} announces):`);
lines.push(
  `  CPU: this process ${((ownMicros.user + ownMicros.system) / announces).toFixed(2)} µs, ` +
    `redis-server ${(redisMicros / announces).toFixed(2)} µs`,
);
for (const line of (await admin.info("commandstats")).split("\n")) {
  const match = /^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/.exec(line);
  if (match === null || match[1].startsWith("config")) continue;
  const perAnnounce = (Number(match[3]) / announces).toFixed(2);
  lines.push(
    `  ${match[1]}: ${(Number(match[2]) / announces).toFixed(2)} calls, ${perAnnounce} µs`,
  );
}
await costs.close();

// Memory per peer.
const torrents = Number(values.torrents);
const peers = Number(values.peers);
await admin.select(2);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
const before = await usedMemory();
const filled = await open(2);
const started = performance.now();
await fill(filled, torrents, Math.ceil(peers / torrents));
const seconds = (performance.now() - started) / 1000;
const after = await usedMemory();
const stored = (await filled.totals()).ipv4;
await filled.close();
lines.push(
  `memory: ${stored} peers over ${torrents} torrents: used_memory +${after - before} B, ` +
    `${((after - before) / stored).toFixed(1)} B per peer (filled in ${seconds.toFixed(0)} s)`,
);
await admin.quit();
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
