/**
 * The composition of the Redis swarm store into a running tracker (config key `redis`): opens the
 * store with the config's limits and the loaded allowlist, and runs its expiry sweep on a timer.
 * Kept apart from `server.ts` so the memory path there reads as before.
 *
 * @module
 */
import type { Allowlist } from "../core/allowlist.ts";
import type { Config } from "../config.ts";
import { RedisSwarmStore } from "../redis/redis_store.ts";
import type { Logger } from "../runtime/logger.ts";

/** A Redis store and the timer that sweeps it. */
export interface SharedStore {
  readonly store: RedisSwarmStore;
  /** Stops the sweep and closes the connection. */
  close(): Promise<void>;
}

/** Opens the Redis store the config names, or throws when Redis cannot be reached at start. */
export async function openSharedStore(
  config: Config & { redis: string },
  options: { allowlist: Allowlist; logger: Logger; now: () => number },
): Promise<SharedStore> {
  const { logger, now } = options;
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
  // Every process sweeps; Redis runs each batch atomically, so they share the work. A sweep
  // while Redis is away fails quietly (the connection logs the outage once) and runs next time.
  let sweeping = false;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    store.sweep(now()).catch(() => {}).finally(() => sweeping = false);
  }, config.sweep_interval * 1000);
  return {
    store,
    async close() {
      clearInterval(sweepTimer);
      await store.close();
    },
  };
}
