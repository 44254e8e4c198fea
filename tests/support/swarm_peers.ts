/**
 * One face for the four BitTorrent clients of the end-to-end tests (libtorrent, aria2,
 * qBittorrent, Transmission), so a test can say "a qBittorrent seeder, a Transmission leecher"
 * and run the same steps whoever they are: start, wait for the download, stop with a `stopped`
 * announce, show the client's last output on failure.
 *
 * What differs between clients, and how this hides it:
 * - libtorrent and aria2 are one process per torrent; a leecher exits 0 when done (after its
 *   `completed` announce). qBittorrent and Transmission are daemons driven over an API; a leecher
 *   is done when the API says it has every piece, and it stays as a seeder (`staysAfterDownload`)
 *   until stopped.
 * - Leaving: SIGTERM for libtorrent, SIGINT for aria2 (SIGTERM skips its `stopped` announce),
 *   removing the torrent over the API for the daemons (their own shutdown may skip it:
 *   Transmission 3.00 closed right after a removal dropped the announce, measured over HTTP on
 *   IPv6).
 * - aria2 needs its IPv4 DHT on to use a `udp://` tracker, and cannot use one over IPv6;
 *   Transmission cannot use a `udp://` tracker over IPv6 on a machine without a global IPv6
 *   address. Asking for either throws at once, rather than failing slowly.
 *
 * @module
 */
import type { RunningProcess } from "./child_process.ts";
import { throwIfCrashed } from "./client_crash.ts";
import { freePort, type TestTorrent } from "./e2e_files.ts";
import { Qbittorrent } from "./qbittorrent.ts";
import { startAria2Peer, startLibtorrentPeer } from "./real_clients.ts";
import { Transmission } from "./transmission.ts";

/** A client the tests can run as a peer. */
export type ClientKind = "libtorrent" | "aria2" | "qbittorrent" | "transmission";

/** Options for `startSwarmPeer`. */
export interface SwarmPeerOptions {
  kind: ClientKind;
  role: "seed" | "leech";
  torrent: TestTorrent;
  /** The directory holding (seed) or receiving (leech) the torrent's content. */
  saveDir: string;
  /** An empty directory for the client's own files (profile, settings, DHT table). */
  stateDir: string;
  /** Address to listen on and connect and announce from. */
  address: string;
  /** The tracker's transport, which aria2 must know in advance. */
  transport: "http" | "udp";
  /** The client gives up, or is killed, after about this long. */
  timeoutSeconds: number;
}

/** A running peer of any kind. */
export interface SwarmPeer extends AsyncDisposable {
  /** For messages: `"qbittorrent seeder"`. */
  readonly name: string;
  /** Whether a leecher keeps seeding after its download until stopped (the daemons do). */
  readonly staysAfterDownload: boolean;
  /** Leecher only: resolves once it has every piece; throws if it fails or times out. */
  waitDownloaded(timeoutMs: number): Promise<void>;
  /**
   * Stops sharing, with a `stopped` announce: a one-torrent process exits; a daemon drops the
   * torrent and keeps running until disposed (closing it at once can lose the announce).
   */
  leave(): Promise<void>;
  /** The client's last output lines. */
  tail(): string;
}

/** Starts a peer of `options.kind`. A daemon has its torrent added before this returns. */
export async function startSwarmPeer(options: SwarmPeerOptions): Promise<SwarmPeer> {
  const name = `${options.kind} ${options.role === "seed" ? "seeder" : "leecher"}`;
  const v6 = options.address.includes(":");
  if (v6 && options.transport === "udp" && options.kind === "transmission") {
    throw new Error(
      "Transmission 3.00 cannot reach a udp:// tracker over IPv6 without a global IPv6 address",
    );
  }
  switch (options.kind) {
    case "libtorrent":
      return processPeer(
        name,
        startLibtorrentPeer(name, { ...peerOptions(options), torrent: options.torrent.path }),
        "SIGTERM",
      );
    case "aria2": {
      const udpTracker = options.transport === "udp"
        ? {
          dhtFile: `${options.stateDir}/dht.dat`,
          dhtPort: freePort(options.address, { udp: true }),
        }
        : undefined;
      return processPeer(
        name,
        startAria2Peer(name, {
          ...peerOptions(options),
          torrent: options.torrent.path,
          udpTracker,
        }),
        "SIGINT",
      );
    }
    case "qbittorrent": {
      const client = await Qbittorrent.start({
        name,
        profileDir: options.stateDir,
        address: options.address,
        port: freePort(options.address, { udp: true }),
        webuiPort: freePort("127.0.0.1"),
        timeoutMs: options.timeoutSeconds * 1000,
      });
      return await daemonPeer(name, client, options);
    }
    case "transmission": {
      const client = await Transmission.start({
        name,
        configDir: options.stateDir,
        address: options.address,
        // Its UDP socket (trackers) binds the peer port too.
        port: freePort(options.address, { udp: true }),
        rpcPort: freePort("127.0.0.1"),
        timeoutMs: options.timeoutSeconds * 1000,
      });
      return await daemonPeer(name, client, options);
    }
  }
}

function peerOptions(options: SwarmPeerOptions) {
  return {
    saveDir: options.saveDir,
    role: options.role,
    address: options.address,
    port: freePort(options.address, { udp: true }),
    // The process's own deadline comes first, so it says why it gave up.
    timeoutSeconds: options.timeoutSeconds - 10,
  };
}

/** A one-torrent process: done when it exits 0, stopped by `signal`. */
function processPeer(name: string, child: RunningProcess, signal: Deno.Signal): SwarmPeer {
  return {
    name,
    staysAfterDownload: false,
    async waitDownloaded(timeoutMs) {
      const status = await child.waitForExit(timeoutMs);
      throwIfCrashed(status, name, child.tail());
      if (status.code !== 0) throw new Error(`${name} exited with ${status.code}\n${child.tail()}`);
    },
    async leave() {
      await child.stop(signal);
    },
    tail: () => child.tail(),
    async [Symbol.asyncDispose]() {
      await child.stop(signal);
    },
  };
}

/** A daemon with the torrent added: done when its API says it seeds. */
async function daemonPeer(
  name: string,
  client: Qbittorrent | Transmission,
  options: SwarmPeerOptions,
): Promise<SwarmPeer> {
  const hash = options.torrent.infoHashHex;
  try {
    await client.addTorrent(options.torrent.path, hash, options.saveDir);
  } catch (error) {
    await client.stop();
    throw error;
  }
  return {
    name,
    staysAfterDownload: true,
    waitDownloaded: (timeoutMs) => client.waitUntilSeeding(hash, timeoutMs),
    leave: () => client.removeTorrent(hash),
    tail: () => client.process.tail(),
    [Symbol.asyncDispose]: () => client.stop(),
  };
}
