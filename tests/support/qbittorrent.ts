/**
 * qBittorrent (`qbittorrent-nox`, Debian's 4.5) as a peer in end-to-end tests, driven through its
 * WebUI API (v2) on loopback with `fetch`. Each instance gets a profile directory of its own,
 * written before the start: legal notice accepted, DHT, peer exchange, local service discovery and
 * UPnP off, queueing off (a torrent starts at once), BitTorrent bound to one address and port, and
 * the WebUI on 127.0.0.1 without a login (`LocalHostAuth=false`: the API is only reachable from
 * this machine, and the profile is thrown away).
 *
 * A torrent removed through the API (`removeTorrent`) sends its `stopped` announce at once;
 * qBittorrent's own shutdown does not reliably (measured with 4.5.2: after SIGTERM the process
 * left without one), so `stop()` removes every torrent first.
 *
 * @module
 */
import { type RunningProcess, spawnProcess } from "./child_process.ts";

/** Options for `Qbittorrent.start`. */
export interface QbittorrentOptions {
  /** A name for messages. */
  name: string;
  /** An empty directory for the profile (config, resume data, logs). */
  profileDir: string;
  /** Address BitTorrent listens on and connects from. */
  address: string;
  /** BitTorrent port (TCP, and UDP for uTP). */
  port: number;
  /** WebUI port on 127.0.0.1. */
  webuiPort: number;
  /** The process is killed after this long, whatever it is doing. */
  timeoutMs: number;
}

/** What the WebUI says about one torrent (`/api/v2/torrents/info`), the fields the tests read. */
export interface QbTorrentInfo {
  hash: string;
  progress: number;
  state: string;
}

/** States of a torrent that has every piece and shares it (qBittorrent 4.5 names). */
const SEEDING_STATES = new Set(["uploading", "stalledUP", "forcedUP", "queuedUP"]);
/** States that will not get better by waiting. */
const FAILED_STATES = new Set(["error", "missingFiles"]);

/** A running qBittorrent; `await using` stops it. */
export class Qbittorrent implements AsyncDisposable {
  readonly name: string;
  readonly process: RunningProcess;
  readonly #api: string;
  readonly #hashes = new Set<string>();

  private constructor(name: string, process: RunningProcess, webuiPort: number) {
    this.name = name;
    this.process = process;
    this.#api = `http://127.0.0.1:${webuiPort}/api/v2`;
  }

  /** Writes the profile, starts qBittorrent and waits for its WebUI to answer. */
  static async start(options: QbittorrentOptions): Promise<Qbittorrent> {
    const configDir = `${options.profileDir}/qBittorrent/config`;
    await Deno.mkdir(configDir, { recursive: true });
    await Deno.writeTextFile(`${configDir}/qBittorrent.conf`, profileConfig(options));
    const process = spawnProcess(options.name, "qbittorrent-nox", {
      args: [`--profile=${options.profileDir}`, `--webui-port=${options.webuiPort}`],
      timeoutMs: options.timeoutMs,
    });
    const client = new Qbittorrent(options.name, process, options.webuiPort);
    try {
      await client.#waitForWebUi(20_000);
      await client.#checkPreferences(options);
    } catch (error) {
      await process.stop();
      throw error;
    }
    return client;
  }

  /** Adds a `.torrent` file, saving into (or seeding from) `savePath`. */
  async addTorrent(torrentPath: string, infoHashHex: string, savePath: string): Promise<void> {
    const bytes = await Deno.readFile(torrentPath);
    const reply = await this.#request(
      "torrents/add",
      multipart([
        { name: "torrents", fileName: "added.torrent", value: bytes },
        { name: "savepath", value: savePath },
      ]),
    );
    if (reply.trim() !== "Ok.") throw new Error(`${this.name}: torrents/add answered "${reply}"`);
    this.#hashes.add(infoHashHex);
  }

  /** The torrent's state, or `null` if qBittorrent does not list it (yet). */
  async torrentInfo(infoHashHex: string): Promise<QbTorrentInfo | null> {
    const list = JSON.parse(
      await this.#request(`torrents/info?hashes=${infoHashHex}`),
    ) as QbTorrentInfo[];
    return list.find((torrent) => torrent.hash === infoHashHex) ?? null;
  }

  /**
   * Waits until the torrent has every piece and is seeding (a leecher that finished, or a seeder
   * whose check of the existing files passed). Throws on an error state or after `timeoutMs`.
   */
  async waitUntilSeeding(infoHashHex: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: QbTorrentInfo | null = null;
    while (Date.now() < deadline) {
      if (this.process.status !== null) break;
      last = await this.torrentInfo(infoHashHex);
      if (last !== null && last.progress === 1 && SEEDING_STATES.has(last.state)) return;
      if (last !== null && FAILED_STATES.has(last.state)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `${this.name}: torrent not seeding after ${timeoutMs} ms, last ${JSON.stringify(last)}\n` +
        this.process.tail(),
    );
  }

  /** Removes the torrent (keeping its files), which sends its `stopped` announce. */
  async removeTorrent(infoHashHex: string): Promise<void> {
    await this.#request(
      "torrents/delete",
      new URLSearchParams({ hashes: infoHashHex, deleteFiles: "false" }),
    );
    this.#hashes.delete(infoHashHex);
  }

  /** Removes every torrent it still has, asks it to shut down, and ends the process. */
  async stop(): Promise<void> {
    if (this.process.status === null) {
      try {
        for (const hash of [...this.#hashes]) await this.removeTorrent(hash);
        await this.#request("app/shutdown", new URLSearchParams());
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

  async #request(path: string, body?: URLSearchParams | Multipart): Promise<string> {
    const response = await fetch(`${this.#api}/${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body instanceof URLSearchParams || body === undefined
        ? { body }
        : { body: body.bytes, headers: { "Content-Type": body.contentType } }),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${this.name}: ${path} answered ${response.status}: ${text}`);
    }
    return text;
  }

  async #waitForWebUi(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.process.status === null) {
      try {
        await this.#request("app/version");
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(
      `${this.name}: WebUI did not answer within ${timeoutMs} ms\n${this.process.tail()}`,
    );
  }

  /** The profile was read as meant: peers can only come from the tracker. */
  async #checkPreferences(options: QbittorrentOptions): Promise<void> {
    const preferences = JSON.parse(await this.#request("app/preferences")) as Record<
      string,
      unknown
    >;
    const expected: Record<string, unknown> = {
      dht: false,
      pex: false,
      lsd: false,
      upnp: false,
      listen_port: options.port,
      current_interface_address: options.address,
    };
    for (const [key, value] of Object.entries(expected)) {
      if (preferences[key] !== value) {
        throw new Error(
          `${this.name}: preference ${key} is ${JSON.stringify(preferences[key])}, ` +
            `expected ${JSON.stringify(value)}: the profile was not read as written`,
        );
      }
    }
  }
}

/** A `multipart/form-data` body. */
interface Multipart {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * Encodes a `multipart/form-data` body by hand. Deno's `FormData` body ends right after the
 * closing boundary, without the CRLF qBittorrent 4.5's parser waits for: it then reads the last
 * field's value with `\r\n--boundary--` still on it (a save path that does not exist).
 */
function multipart(
  fields: { name: string; value: string | Uint8Array; fileName?: string }[],
): Multipart {
  const boundary = `nobrake-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const field of fields) {
    const file = field.fileName === undefined ? "" : `; filename="${field.fileName}"`;
    const type = field.fileName === undefined ? "" : "Content-Type: application/x-bittorrent\r\n";
    chunks.push(
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field.name}"${file}\r\n` +
          `${type}\r\n`,
      ),
    );
    chunks.push(typeof field.value === "string" ? encoder.encode(field.value) : field.value);
    chunks.push(encoder.encode("\r\n"));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The profile's `qBittorrent.conf` (Qt INI; keys as qBittorrent 4.5 writes them). */
function profileConfig(options: QbittorrentOptions): string {
  return [
    "[LegalNotice]",
    "Accepted=true",
    "",
    "[BitTorrent]",
    "Session\\DHTEnabled=false",
    "Session\\PeXEnabled=false",
    "Session\\LSDEnabled=false",
    "Session\\QueueingSystemEnabled=false",
    "Session\\AnonymousModeEnabled=false",
    `Session\\Port=${options.port}`,
    // Listen on, and connect and announce from, this one address.
    `Session\\InterfaceAddress=${options.address}`,
    `Session\\DefaultSavePath=${options.profileDir}/downloads`,
    "",
    "[Preferences]",
    "Connection\\UPnP=false",
    "WebUI\\Address=127.0.0.1",
    `WebUI\\Port=${options.webuiPort}`,
    "WebUI\\UseUPnP=false",
    "WebUI\\LocalHostAuth=false",
    "WebUI\\HostHeaderValidation=false",
    "WebUI\\CSRFProtection=false",
    "",
  ].join("\n");
}
