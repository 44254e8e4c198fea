/**
 * Which Redis client for the Redis swarm store (issue 15): npm `ioredis` against npm `redis`
 * (node-redis), in one sitting, against one Debian redis-server started here. Each client runs
 * the same EVALSHA of a small announce-like Lua script (ZADD, ZCARD, ZRANDMEMBER of binary
 * members, replies as bytes) with 1 and with 64 calls in flight; printed: round trips per second
 * and CPU microseconds of this process per round trip (user + system, `process.cpuUsage`).
 *
 *   deno run -A tests/bench/redis_clients.ts [--seconds 3]
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { RedisServer } from "../support/redis_server.ts";

const SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
local picks = redis.call('ZRANDMEMBER', KEYS[1], tonumber(ARGV[3]))
return {n, picks}
`;

/** One client's way to run the script once. */
type Call = (key: Buffer, member: Buffer) => Promise<unknown>;

const seconds = Number(argValue("--seconds") ?? 3);

await using redis = await RedisServer.start();
const rows: string[] = [];
for (const name of ["ioredis", "redis"] as const) {
  const { call, close } = name === "ioredis" ? await ioredisCall() : await nodeRedisCall();
  for (const inFlight of [1, 64]) {
    const { perSecond, cpuMicros } = await measure(call, inFlight);
    rows.push(
      `| ${name} | ${inFlight} | ${Math.round(perSecond)} | ${cpuMicros.toFixed(1)} |`,
    );
  }
  await close();
}
const table = [
  "| client | in flight | EVALSHA/s | CPU µs per call (this process) |",
  "|---|---|---|---|",
  ...rows,
];
Deno.stdout.writeSync(new TextEncoder().encode(table.join("\n") + "\n"));

async function measure(call: Call, inFlight: number) {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(20)));
  const members = Array.from(
    { length: 200 },
    () => Buffer.from(crypto.getRandomValues(new Uint8Array(26))),
  );
  // Warm up: fill the set and let the JIT settle.
  for (const member of members) await call(key, member);
  const end = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      await call(key, members[done % members.length]);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: done / elapsed, cpuMicros: (cpu.user + cpu.system) / done };
}

async function ioredisCall(): Promise<{ call: Call; close: () => Promise<void> }> {
  const client = new Redis(redis.url(1), { enableAutoPipelining: true });
  const sha = await client.script("LOAD", SCRIPT) as string;
  return {
    // `evalshaBuffer` (replies as Buffers) is there at run time but missing from ioredis 6's types.
    call: (key, member) =>
      (client as unknown as { evalshaBuffer: (...args: unknown[]) => Promise<unknown> })
        .evalshaBuffer(sha, 1, key, member, "1", "50"),
    close: async () => {
      await client.quit();
    },
  };
}

async function nodeRedisCall(): Promise<{ call: Call; close: () => Promise<void> }> {
  const base = createClient({ url: redis.url(2) });
  await base.connect();
  const client = base.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const sha = await base.scriptLoad(SCRIPT);
  return {
    call: (key, member) => client.evalSha(sha, { keys: [key], arguments: [member, "1", "50"] }),
    close: async () => {
      await base.quit();
    },
  };
}

function argValue(name: string): string | undefined {
  const index = Deno.args.indexOf(name);
  return index === -1 ? undefined : Deno.args[index + 1];
}
