/**
 * The composition of the Redis swarm store into a running tracker (config key `redis`): opens the
 * store with the config's limits and the loaded allowlist; its expiry sweep runs with the other
 * periodic jobs (`timers.ts`). The store and its npm client are imported only when the config
 * names a Redis, so the embedded memory store loads no npm package. Kept apart from `server.ts` so
 * the memory path there reads as before.
 *
 * @module
 */
import type { Allowlist } from "../core/allowlist.ts";
import type { Config } from "../config.ts";
import type { RedisSwarmStore } from "../redis/redis_store.ts";
import type { Logger } from "../runtime/logger.ts";

/** A Redis store, opened. */
export interface SharedStore {
  readonly store: RedisSwarmStore;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Opens the Redis store the config names, or throws when Redis cannot be reached at start. */
export async function openSharedStore(
  config: Config & { redis: string },
  options: { allowlist: Allowlist; logger: Logger },
): Promise<SharedStore> {
  const { logger } = options;
  const { RedisSwarmStore } = await import("../redis/redis_store.ts");
  const store = await RedisSwarmStore.open({
    url: config.redis,
    logger,
    allowlist: options.allowlist,
    expirySeconds: config.expiry,
    maxTorrents: config.max_torrents,
    maxPeersPerTorrent: config.max_peers_per_torrent,
  });
  if (config.state_file !== null) {
    logger.log(
      "startup",
      `swarms and completed counts are kept in Redis; the state file ${config.state_file} is not used`,
    );
  }
  return {
    store,
    close: () => store.close(),
  };
}
