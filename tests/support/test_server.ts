/**
 * Starts a real NoBrake (HTTP listener on port 0, in this process) for end-to-end tests, with a
 * config built from overrides, a memory logger, and an allowlist directory of generated torrents
 * when asked for.
 *
 * @module
 */
import { parseConfig } from "../../src/config.ts";
import { createMemoryLogger, type MemoryLogger } from "../../src/runtime/logger.ts";
import { startTrackerServer, type TrackerServer } from "../../src/server.ts";
import { writeTorrentFile } from "./torrent_fixture.ts";

/** A running test tracker. */
export interface TestServer {
  server: TrackerServer;
  logger: MemoryLogger;
  /** `http://host:port` to reach it. */
  baseUrl: string;
  /** Hashes of the generated allowed torrents (empty in open mode). */
  allowed: Uint8Array[];
  /** The allowlist directory, when there is one. */
  allowedDir: string | null;
  close(): Promise<void>;
}

/** Options for `startTestServer`. */
export interface TestServerOptions {
  /** Config keys to override (port is 0 unless given). */
  config?: Record<string, unknown>;
  /** Generate this many allowed torrents in a temp directory; 0 means open mode. @default 0 */
  allowedTorrents?: number;
  /** The host clients use to reach the server. @default "127.0.0.1" */
  connectHost?: string;
  /** The tracker's clock, milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** Starts a tracker; the caller must `close()` it. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const allowed: Uint8Array[] = [];
  let allowedDir: string | null = null;
  if ((options.allowedTorrents ?? 0) > 0) {
    allowedDir = await Deno.makeTempDir({ prefix: "nobrake-allowed-" });
    for (let i = 0; i < options.allowedTorrents!; i++) {
      allowed.push(await writeTorrentFile(allowedDir, `t${i}.torrent`, `torrent ${i}`));
    }
  }
  const config = parseConfig(
    JSON.stringify({
      port: 0,
      allowed: allowedDir ?? "*",
      interval: 60,
      expiry: 3600,
      ip: "127.0.0.1",
      // In memory unless a test asks: the default file would land in the working directory.
      state_file: null,
      ...options.config,
    }),
    "test config",
  );
  const logger = createMemoryLogger();
  const server = await startTrackerServer(config, { logger, now: options.now });
  const host = options.connectHost ?? "127.0.0.1";
  const baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${server.httpAddress.port}`;
  return {
    server,
    logger,
    baseUrl,
    allowed,
    allowedDir,
    async close() {
      await server.shutdown();
      if (allowedDir !== null) await Deno.remove(allowedDir, { recursive: true });
    },
  };
}
