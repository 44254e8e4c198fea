/**
 * Transmission (`transmission-daemon`, Debian's 3.00) as a peer in end-to-end tests, driven
 * through its JSON-RPC interface on loopback with `fetch` (the protocol `transmission-remote`
 * speaks; calling it directly spares a process per request and parsing its table output). Each
 * instance gets a config directory of its own with a `settings.json` written before the start:
 * DHT, peer exchange, local peer discovery, uTP and port forwarding off, BitTorrent bound to one
 * address and port, RPC on 127.0.0.1 without authentication, and no `.part` suffix on files.
 *
 * Two limits of Transmission 3.00 on a loopback-only test network, both in its source:
 * - It treats loopback addresses as "martian" (`isMartianAddr` in `libtransmission/net.c`) and
 *   never dials a peer at 127.x or `::1` that a tracker lists; it does accept such a peer's
 *   incoming connection. So a Transmission leecher only gets data from a seeder that dials it,
 *   which means the seeder must learn its address from the tracker: the tests start a
 *   Transmission leecher before the seeder.
 * - It opens its IPv6 UDP socket only when the machine has a global IPv6 address
 *   (`tr_globalIPv6()` in `libtransmission/tr-udp.c`), so it cannot reach a `udp://[::1]`
 *   tracker ("Could not connect to tracker", measured). HTTP over IPv6 works.
 * Also: it decides whom to unchoke and what to be interested in every 10 s, so a transfer with
 * Transmission on either side takes about that long to start, whatever the tracker does.
 *
 * @module
 */
import { type RunningProcess, spawnProcess } from "./child_process.ts";

/** Options for `Transmission.start`. */
export interface TransmissionOptions {
  /** A name for messages. */
  name: string;
  /** An empty directory for `settings.json`, resume files and the copies of added torrents. */
  configDir: string;
  /** Address BitTorrent listens on and connects and announces from (127.0.0.x or `::1`). */
  address: string;
  /** BitTorrent port. */
  port: number;
  /** RPC port on 127.0.0.1. */
  rpcPort: number;
  /** The process is killed after this long, whatever it is doing. */
  timeoutMs: number;
}

/** What `torrent-get` says about one torrent, the fields the tests read. */
export interface TrTorrentInfo {
  hashString: string;
  percentDone: number;
  leftUntilDone: number;
  /** 0 stopped, 1 queued to check, 2 checking, 3 queued to download, 4 downloading, 5 queued to seed, 6 seeding. */
  status: number;
  error: number;
  errorString: string;
}

const SEEDING = 6;

/** A running transmission-daemon; `await using` stops it. */
export class Transmission implements AsyncDisposable {
  readonly name: string;
  readonly process: RunningProcess;
  readonly #rpc: string;
  readonly #hashes = new Set<string>();
  #sessionId = "";

  private constructor(name: string, process: RunningProcess, rpcPort: number) {
    this.name = name;
    this.process = process;
    this.#rpc = `http://127.0.0.1:${rpcPort}/transmission/rpc`;
  }

  /** Writes `settings.json`, starts the daemon and waits for its RPC to answer. */
  static async start(options: TransmissionOptions): Promise<Transmission> {
    await Deno.mkdir(options.configDir, { recursive: true });
    await Deno.writeTextFile(
      `${options.configDir}/settings.json`,
      JSON.stringify(settings(options), null, 1),
    );
    const process = spawnProcess(options.name, "transmission-daemon", {
      args: ["--foreground", "--config-dir", options.configDir, "--log-info"],
      timeoutMs: options.timeoutMs,
    });
    const client = new Transmission(options.name, process, options.rpcPort);
    try {
      await client.#waitForRpc(20_000);
    } catch (error) {
      await process.stop();
      throw error;
    }
    return client;
  }

  /** Adds a `.torrent` file, saving into (or seeding from, after a check) `downloadDir`. */
  async addTorrent(torrentPath: string, infoHashHex: string, downloadDir: string): Promise<void> {
    const bytes = await Deno.readFile(torrentPath);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    const reply = await this.#call("torrent-add", {
      metainfo: btoa(binary),
      "download-dir": downloadDir,
      paused: false,
    }) as { "torrent-added"?: { hashString: string } };
    const added = reply["torrent-added"]?.hashString;
    if (added !== infoHashHex) {
      throw new Error(`${this.name}: torrent-add gave ${JSON.stringify(reply)}`);
    }
    this.#hashes.add(infoHashHex);
  }

  /** The torrent's state, or `null` if the daemon does not have it. */
  async torrentInfo(infoHashHex: string): Promise<TrTorrentInfo | null> {
    const reply = await this.#call("torrent-get", {
      ids: [infoHashHex],
      fields: ["hashString", "percentDone", "leftUntilDone", "status", "error", "errorString"],
    }) as { torrents: TrTorrentInfo[] };
    return reply.torrents.find((torrent) => torrent.hashString === infoHashHex) ?? null;
  }

  /**
   * Waits until the torrent has every piece and is seeding (a leecher that finished, or a seeder
   * whose check passed). Throws on a torrent error or after `timeoutMs`.
   */
  async waitUntilSeeding(infoHashHex: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: TrTorrentInfo | null = null;
    while (Date.now() < deadline) {
      if (this.process.status !== null) break;
      last = await this.torrentInfo(infoHashHex);
      if (last !== null && last.leftUntilDone === 0 && last.status === SEEDING) return;
      // 3 is a local error (files); 1 and 2 are tracker warnings and errors, which may pass.
      if (last !== null && last.error === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `${this.name}: torrent not seeding after ${timeoutMs} ms, last ${JSON.stringify(last)}\n` +
        this.process.tail(),
    );
  }

  /** Removes the torrent (keeping its files), which sends its `stopped` announce. */
  async removeTorrent(infoHashHex: string): Promise<void> {
    await this.#call("torrent-remove", { ids: [infoHashHex], "delete-local-data": false });
    this.#hashes.delete(infoHashHex);
  }

  /** Removes every torrent it still has, closes the session, and ends the process. */
  async stop(): Promise<void> {
    if (this.process.status === null) {
      try {
        for (const hash of [...this.#hashes]) await this.removeTorrent(hash);
        await this.#call("session-close", {});
        await this.process.waitForExit(10_000);
      } catch {
        // Already going, or not answering: the process is ended below either way.
      }
    }
    await this.process.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** One RPC call; handles the session id handshake (a 409 names the id to send). */
  async #call(method: string, args: Record<string, unknown>): Promise<unknown> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(this.#rpc, {
        method: "POST",
        headers: { "X-Transmission-Session-Id": this.#sessionId },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status === 409) {
        await response.body?.cancel();
        this.#sessionId = response.headers.get("X-Transmission-Session-Id") ?? "";
        continue;
      }
      const text = await response.text();
      if (!response.ok) throw new Error(`${this.name}: ${method} answered ${response.status}`);
      const reply = JSON.parse(text) as { result: string; arguments: unknown };
      if (reply.result !== "success") {
        throw new Error(`${this.name}: ${method} failed: ${reply.result}`);
      }
      return reply.arguments;
    }
    throw new Error(`${this.name}: ${method}: no session id accepted`);
  }

  async #waitForRpc(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.process.status === null) {
      try {
        await this.#call("session-get", { fields: ["version"] });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(
      `${this.name}: RPC did not answer within ${timeoutMs} ms\n${this.process.tail()}`,
    );
  }
}

/** The daemon's `settings.json`. */
function settings(options: TransmissionOptions): Record<string, unknown> {
  const ipv6 = options.address.includes(":");
  return {
    "dht-enabled": false,
    "pex-enabled": false,
    "lpd-enabled": false,
    "utp-enabled": false,
    "port-forwarding-enabled": false,
    "peer-port": options.port,
    "peer-port-random-on-start": false,
    // Transmission binds (and announces from, through libcurl's CURLOPT_INTERFACE) the IPv4
    // address when one is set, so on IPv6 only the IPv6 address is set.
    ...(ipv6 ? { "bind-address-ipv6": options.address } : {
      "bind-address-ipv4": options.address,
    }),
    "rpc-enabled": true,
    "rpc-bind-address": "127.0.0.1",
    "rpc-port": options.rpcPort,
    "rpc-authentication-required": false,
    "rpc-whitelist-enabled": false,
    "rpc-host-whitelist-enabled": false,
    "download-dir": `${options.configDir}/downloads`,
    "incomplete-dir-enabled": false,
    "rename-partial-files": false,
    "start-added-torrents": true,
    "ratio-limit-enabled": false,
    "idle-seeding-limit-enabled": false,
    "speed-limit-up-enabled": false,
    "speed-limit-down-enabled": false,
    "alt-speed-enabled": false,
    "blocklist-enabled": false,
    "message-level": 2,
  };
}
