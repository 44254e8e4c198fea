/**
 * What an end-to-end test with real clients sets up around them: temporary directories that
 * delete themselves, free loopback ports, deterministic payloads, and `.torrent` files made by
 * `mktorrent` whose info hash is read back by libtorrent (not by NoBrake's code).
 *
 * @module
 */
import { runToEnd } from "./child_process.ts";
import { PYTHON } from "./real_clients.ts";

/** A temporary directory, removed with everything in it on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** Makes a temporary directory that `await using` removes. */
export async function makeTempDir(prefix = "nobrake_e2e_"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/**
 * A port that was free on `hostname` a moment ago: bound with port 0, then released; with `udp`,
 * one whose number was free for UDP too (NoBrake serves both on one number; libtorrent listens
 * for uTP on its TCP port). Another process could take it in between; on loopback in a test run
 * that is rare enough to accept, and the clients fail loudly (never silently move to another
 * port) if it happens.
 */
export function freePort(hostname: string, options: { udp?: boolean } = {}): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
    const { port } = listener.addr as Deno.NetAddr;
    try {
      if (!options.udp) return port;
      try {
        Deno.listenDatagram({ hostname, port, transport: "udp" }).close();
        return port;
      } catch {
        // Taken for UDP: try another number.
      }
    } finally {
      listener.close();
    }
  }
  throw new Error(`no port free for both TCP and UDP on ${hostname}`);
}

/** Whether a socket can be bound on `hostname` (for example `"::1"` where IPv6 may be off). */
export function canBind(hostname: string): boolean {
  try {
    freePort(hostname);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deterministic bytes that do not repeat within a piece (xorshift32), so a block written at the
 * wrong offset is caught by the byte comparison, which zeros or a short pattern would hide.
 */
export function payloadBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = (seed | 0) || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Writes `files` (paths relative to `dir`, `/`-separated, mapped to their sizes) with
 * `payloadBytes` contents and returns what was written, by relative path. `seed` varies the
 * contents between tests, so one test's files can never pass for another's.
 */
export async function writePayload(
  dir: string,
  files: Record<string, number>,
  seed = 1,
): Promise<Map<string, Uint8Array>> {
  const written = new Map<string, Uint8Array>();
  let fileSeed = seed;
  for (const [relative, size] of Object.entries(files)) {
    const path = `${dir}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const bytes = payloadBytes(size, fileSeed++ * 7919);
    await Deno.writeFile(path, bytes);
    written.set(relative, bytes);
  }
  return written;
}

/** A `.torrent` file made for a test. */
export interface TestTorrent {
  /** Where the `.torrent` file is. */
  path: string;
  /** The v1 info hash, 20 raw bytes, as libtorrent computes it. */
  infoHash: Uint8Array;
  /** The same, as 40 lowercase hex digits. */
  infoHashHex: string;
}

/** Options for `makeTorrent`. */
export interface MakeTorrentOptions {
  /** The file or directory to describe; its base name becomes the torrent's name. */
  source: string;
  /** The announce URL, the torrent's only tracker. */
  announce: string;
  /** Where to write the `.torrent`; must not exist yet. */
  output: string;
  /** Piece length as a power of two. @default 15 (32 KiB: a few hundred KB make several pieces) */
  pieceLengthLog2?: number;
  /**
   * Set the private flag (BEP 27): every client then keeps the torrent off DHT, peer exchange
   * and local discovery even where those are switched on (aria2 needs its DHT on to use UDP
   * trackers). @default false
   */
  private?: boolean;
}

/**
 * Makes a v1 `.torrent` with `mktorrent` (`-d`: no date, so reruns give the same info hash) and
 * reads its info hash back from libtorrent, not from NoBrake's code, so a hashing bug in NoBrake
 * cannot agree with itself.
 */
export async function makeTorrent(options: MakeTorrentOptions): Promise<TestTorrent> {
  const pieces = String(options.pieceLengthLog2 ?? 15);
  await runToEnd("mktorrent", {
    args: [
      "-d",
      ...(options.private ? ["-p"] : []),
      "-l",
      pieces,
      "-a",
      options.announce,
      "-o",
      options.output,
      options.source,
    ],
    timeoutMs: 30_000,
  });
  const script = "import sys, libtorrent as lt; " +
    "print(lt.torrent_info(sys.argv[1]).info_hashes().v1)";
  const out = await runToEnd(PYTHON, { args: ["-c", script, options.output], timeoutMs: 30_000 });
  const infoHashHex = out.trim();
  if (!/^[0-9a-f]{40}$/.test(infoHashHex)) {
    throw new Error(`libtorrent printed "${infoHashHex}" as the info hash of ${options.output}`);
  }
  const infoHash = new Uint8Array(20);
  for (let i = 0; i < 20; i++) infoHash[i] = parseInt(infoHashHex.slice(2 * i, 2 * i + 2), 16);
  return { path: options.output, infoHash, infoHashHex };
}
