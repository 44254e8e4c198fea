/**
 * Launchers for the command-line BitTorrent peers of the end-to-end tests: libtorrent (through
 * `lt_peer.py`) and aria2, each bound to one loopback address, with DHT, peer exchange and local
 * discovery off (aria2's DHT excepted when it must talk to a UDP tracker, see `startAria2Peer`),
 * and a hard timeout. Also `missingClients`, which says which clients are not installed.
 *
 * The daemons driven over an API are apart: `qbittorrent.ts`, `transmission.ts`. The process
 * plumbing is `child_process.ts`; directories, ports, payloads and `.torrent` files are
 * `e2e_files.ts`. This module knows nothing about NoBrake itself.
 *
 * @module
 */
import { commandSucceeds, type RunningProcess, spawnProcess } from "./child_process.ts";

/** Debian's python, which has `python3-libtorrent`; a pyenv or venv python on PATH usually does not. */
export const PYTHON = "/usr/bin/python3";

/** The libtorrent peer script, next to this file. */
const LT_PEER_SCRIPT = new URL("./lt_peer.py", import.meta.url).pathname;

/** What every launcher here takes. */
export interface PeerOptions {
  torrent: string;
  /** Directory holding (seed) or receiving (leech) the torrent's content. */
  saveDir: string;
  role: "seed" | "leech";
  /** Address to listen on and connect and announce from. */
  address: string;
  /** The BitTorrent port (TCP; libtorrent uses the same number for uTP over UDP). */
  port: number;
  /** The peer gives up (and exits non-zero) after this long; it is killed 10 s later. */
  timeoutSeconds: number;
}

/** Options for `startLibtorrentPeer`. */
export type LibtorrentPeerOptions = PeerOptions;

/**
 * Starts a libtorrent peer (`lt_peer.py`). A leecher exits 0 once it has every piece and its
 * `completed` announce was answered, sending `stopped` on the way out; a seeder runs until
 * stopped (SIGTERM, which sends `stopped`). DHT, LSD, PEX, UPnP and NAT-PMP are off, so the
 * tracker is the only way the peers find each other. libtorrent speaks to `http://` and
 * `udp://` trackers alike, from the address it listens on.
 */
export function startLibtorrentPeer(name: string, options: LibtorrentPeerOptions): RunningProcess {
  const host = options.address.includes(":") ? `[${options.address}]` : options.address;
  return spawnProcess(name, PYTHON, {
    args: [
      LT_PEER_SCRIPT,
      options.torrent,
      options.saveDir,
      options.role,
      `${host}:${options.port}`,
      String(options.timeoutSeconds),
    ],
    timeoutMs: (options.timeoutSeconds + 10) * 1000,
  });
}

/** Options for `startAria2Peer`. */
export interface Aria2PeerOptions extends PeerOptions {
  /**
   * Talk to a `udp://` tracker: aria2 (1.36) sends UDP tracker requests only through the socket of
   * its IPv4 DHT, so this switches the IPv4 DHT on, with a routing table file that does not exist
   * yet (an empty table) and no entry point: it knows no node and learns of none on a closed
   * loopback network. Give the torrent the private flag too, and aria2 keeps it off the DHT
   * altogether. There is no IPv6 equivalent: aria2's UDP tracker client is tied to the IPv4 DHT,
   * so an aria2 on `::1` cannot use a `udp://` tracker at all. @default HTTP trackers only
   */
  udpTracker?: { dhtFile: string; dhtPort: number };
}

/**
 * Starts aria2. A leecher exits 0 once the download is complete: it seeds for a moment first
 * (with `--seed-time=0` aria2 skips the `completed` announce and sends only `stopped`, and the
 * tests want to see the tracker count a completed download). A seeder checks the files, then
 * seeds until stopped. Stop aria2 with SIGINT: on SIGTERM it shuts down at once ("emergency
 * shutdown") without a `stopped` announce, measured with 1.36.
 */
export function startAria2Peer(name: string, options: Aria2PeerOptions): RunningProcess {
  const ipv6 = options.address.includes(":");
  if (ipv6 && options.udpTracker !== undefined) {
    throw new Error("aria2 cannot use a udp:// tracker over IPv6 (its UDP tracker needs IPv4 DHT)");
  }
  const dht = options.udpTracker === undefined ? ["--enable-dht=false"] : [
    "--enable-dht=true",
    `--dht-file-path=${options.udpTracker.dhtFile}`,
    `--dht-listen-port=${options.udpTracker.dhtPort}`,
  ];
  const role = options.role === "seed"
    // Seed whatever the share ratio, with no time limit: until stopped or `--stop`.
    ? ["--check-integrity=true", "--seed-ratio=0.0"]
    : ["--seed-time=0.02", `--bt-stop-timeout=${options.timeoutSeconds}`];
  return spawnProcess(name, "aria2c", {
    args: [
      "--no-conf",
      `--dir=${options.saveDir}`,
      ...dht,
      "--enable-dht6=false",
      "--enable-peer-exchange=false",
      "--bt-enable-lpd=false",
      ...role,
      `--listen-port=${options.port}`,
      `--interface=${options.address}`,
      `--disable-ipv6=${!ipv6}`,
      "--file-allocation=none",
      "--bt-tracker-connect-timeout=5",
      "--bt-tracker-timeout=10",
      `--stop=${options.timeoutSeconds}`,
      "--summary-interval=1",
      "--console-log-level=notice",
      "--enable-color=false",
      `--torrent-file=${options.torrent}`,
    ],
    timeoutMs: (options.timeoutSeconds + 10) * 1000,
  });
}

/** A client (or tool) the end-to-end tests run. */
export type ClientName = "libtorrent" | "aria2" | "mktorrent" | "qbittorrent" | "transmission";

/** How to tell each one is installed, and what to install. */
const PROBES: Record<ClientName, { command: string; args: string[]; package: string }> = {
  libtorrent: {
    command: PYTHON,
    args: ["-c", "import libtorrent"],
    package: `python3-libtorrent (${PYTHON} -c "import libtorrent")`,
  },
  aria2: { command: "aria2c", args: ["--version"], package: "aria2 (aria2c)" },
  // mktorrent 1.1 has no --version; -h exits 0.
  mktorrent: { command: "mktorrent", args: ["-h"], package: "mktorrent" },
  qbittorrent: {
    command: "qbittorrent-nox",
    args: ["--version"],
    package: "qbittorrent-nox",
  },
  transmission: {
    command: "transmission-daemon",
    args: ["--version"],
    package: "transmission-daemon",
  },
};

/**
 * Which of `clients` are not installed, by the Debian package CI would install. Empty when
 * everything is there.
 */
export async function missingClients(
  clients: readonly ClientName[] = ["libtorrent", "aria2", "mktorrent"],
): Promise<string[]> {
  const missing: string[] = [];
  for (const client of clients) {
    const probe = PROBES[client];
    if (!(await commandSucceeds(probe.command, probe.args))) missing.push(probe.package);
  }
  return missing;
}
