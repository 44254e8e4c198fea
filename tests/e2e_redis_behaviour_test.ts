/**
 * The behaviour suite every transport passes over the memory store (`http_server_test.ts`,
 * `udp_server_test.ts`), run again over the Redis store: a real NoBrake with `redis` set, HTTP and
 * UDP, IPv4 and IPv6, open mode and an allowlist, against one Debian redis-server for the file
 * (a database of its own per case). One suite, every backend.
 *
 * @module
 */
import { registerBehaviourSuite, type SuiteOptions } from "./support/behaviour_suite.ts";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { RedisServer } from "./support/redis_server.ts";
import type { RedisSwarmStore } from "../src/redis/redis_store.ts";
import { startTestServer, type TestServerOptions } from "./support/test_server.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

const redis = await RedisServer.start();
globalThis.addEventListener("unload", () => redis.stopNow());
/** Database 0 is left alone; each case takes the next (the helper starts Redis with 64). */
let databases = 0;

function randomHash(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(20));
}

function redisTarget(
  transport: "http" | "udp",
  serverOptions: TestServerOptions,
  host = "127.0.0.1",
) {
  return async (options: SuiteOptions) => {
    const expiry = options.expirySeconds;
    let offset = 0;
    const now = () => Date.now() + offset;
    const test = await startTestServer({
      ...serverOptions,
      connectHost: host,
      config: {
        ...serverOptions.config,
        redis: redis.url(++databases),
        udp_port: 0,
        ...(expiry ? { expiry } : {}),
      },
      now,
    });
    const allowlisted = test.allowed.length > 0;
    const udpPort = test.server.udpAddress?.port ?? 0;
    return {
      client: transport === "http"
        ? new HttpTrackerClient(test.baseUrl)
        : new UdpTrackerClient(host, udpPort),
      allowed: allowlisted ? test.allowed : [randomHash(), randomHash(), randomHash()],
      forbidden: allowlisted ? randomHash() : null,
      // The Redis store's sweep, at the moved clock, as its timer would run it.
      elapse: async (seconds: number) => {
        offset += seconds * 1000;
        await (test.server.store as RedisSwarmStore).sweep(now());
      },
      close: () => test.close(),
    };
  };
}

registerBehaviourSuite("Redis store, HTTP over IPv4, open mode", redisTarget("http", {}));
registerBehaviourSuite(
  "Redis store, HTTP over IPv4, allowlist",
  redisTarget("http", { allowedTorrents: 3 }),
);
registerBehaviourSuite(
  "Redis store, HTTP over IPv6",
  redisTarget("http", { config: { ip: "::1", family: "AF_INET6" } }, "::1"),
);
registerBehaviourSuite("Redis store, UDP over IPv4, open mode", redisTarget("udp", {}));
registerBehaviourSuite(
  "Redis store, UDP over IPv4, allowlist",
  redisTarget("udp", { allowedTorrents: 3 }),
);
registerBehaviourSuite(
  "Redis store, UDP over IPv6",
  redisTarget("udp", { config: { ip: "::1", family: "AF_INET6" } }, "::1"),
);
