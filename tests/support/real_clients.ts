/**
 * Helpers for end-to-end tests with real BitTorrent clients: child processes with a hard timeout
 * and line-by-line output, temporary directories that delete themselves, free ports, payloads,
 * `.torrent` files made by `mktorrent`, and peers run by libtorrent (through `lt_peer.py`) and by
 * aria2.
 *
 * Everything that starts a process or makes a directory returns an `AsyncDisposable`, so a test
 * holds it with `await using` and it is stopped or removed however the test ends. This module
 * knows nothing about NoBrake itself; the tests start the tracker with `spawnProcess`.
 *
 * @module
 */

/** Debian's python, which has `python3-libtorrent`; a pyenv or venv python on PATH usually does not. */
export const PYTHON = "/usr/bin/python3";

/** The libtorrent peer script, next to this file. */
const LT_PEER_SCRIPT = new URL("./lt_peer.py", import.meta.url).pathname;

/** How long a stopped process gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;

/** Lines kept per process for error messages. */
const TAIL_LINES = 40;

/** One line a child process printed. */
export interface OutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

/** Options for `spawnProcess`. */
export interface SpawnOptions {
  /** Arguments after the command. */
  args: string[];
  /** After this many milliseconds the process is killed with SIGKILL, whatever it is doing. */
  timeoutMs: number;
  /** Working directory. @default the test's own */
  cwd?: string;
  /** Extra environment variables. @default {} */
  env?: Record<string, string>;
}

/** A child process whose output is read line by line as it comes. */
export class RunningProcess implements AsyncDisposable {
  /** A short name for messages, such as `"seeder"`. */
  readonly name: string;
  /** Resolves when the process has exited and both of its pipes are read to the end. */
  readonly finished: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #lines: OutputLine[] = [];
  readonly #listeners = new Set<() => void>();
  #status: Deno.CommandStatus | null = null;
  #killedByTimeout = false;

  constructor(name: string, command: string, options: SpawnOptions) {
    this.name = name;
    const child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const hardTimeout = setTimeout(() => {
      this.#killedByTimeout = true;
      this.#kill("SIGKILL");
    }, options.timeoutMs);
    const readers = [
      this.#readLines(child.stdout, "stdout"),
      this.#readLines(child.stderr, "stderr"),
    ];
    this.finished = (async () => {
      try {
        const status = await child.status;
        await Promise.all(readers);
        this.#status = status;
        return status;
      } finally {
        clearTimeout(hardTimeout);
        this.#notify();
      }
    })();
  }

  /** The process id, for messages. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every line printed so far, both streams interleaved in arrival order. */
  get lines(): readonly OutputLine[] {
    return this.#lines;
  }

  /** The exit status once `finished` has resolved, else `null`. */
  get status(): Deno.CommandStatus | null {
    return this.#status;
  }

  /** The last lines printed, for an assertion message. */
  tail(count = TAIL_LINES): string {
    const shown = this.#lines.slice(-count).map((line) => `  [${line.stream}] ${line.text}`);
    const timeout = this.#killedByTimeout ? " (killed by its hard timeout)" : "";
    return `${this.name} (pid ${this.pid})${timeout}, last output:\n${shown.join("\n")}`;
  }

  /**
   * Waits until a line of `stream` (either, if not given) matches `pattern` and returns the
   * match. Lines printed before the call count. Throws if the process exits first or `timeoutMs`
   * passes.
   */
  async waitForLine(
    pattern: RegExp,
    options: { timeoutMs: number; stream?: "stdout" | "stderr" },
  ): Promise<RegExpMatchArray> {
    const find = () => {
      for (const line of this.#lines) {
        if (options.stream !== undefined && line.stream !== options.stream) continue;
        const match = line.text.match(pattern);
        if (match !== null) return match;
      }
      return null;
    };
    await this.#until(
      () => find() !== null || this.#status !== null,
      options.timeoutMs,
      `a line matching ${pattern}`,
    );
    const match = find();
    if (match === null) {
      throw new Error(
        `${this.name} exited before printing a line matching ${pattern}\n${this.tail()}`,
      );
    }
    return match;
  }

  /** Waits up to `timeoutMs` for the process to exit on its own and returns its status. */
  async waitForExit(timeoutMs: number): Promise<Deno.CommandStatus> {
    await this.#until(() => this.#status !== null, timeoutMs, "the process to exit");
    return this.#status!;
  }

  /**
   * Sends `signal` (SIGTERM by default), waits for the exit, and kills it if it has not exited
   * after a grace period. Returns the exit status. Safe to call more than once.
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (this.#status === null) {
      this.#kill(signal);
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, STOP_GRACE_MS);
      });
      const exitedInTime = await Promise.race([
        this.finished.then(() => true),
        grace.then(() => false),
      ]);
      clearTimeout(graceTimer);
      if (!exitedInTime) this.#kill("SIGKILL");
    }
    return await this.finished;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // It already exited: nothing to stop.
    }
  }

  async #readLines(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const text of parts) this.#lines.push({ stream: name, text: text.replace(/\r$/, "") });
      if (parts.length > 0) this.#notify();
    }
    if (pending !== "") {
      this.#lines.push({ stream: name, text: pending });
      this.#notify();
    }
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves once `ready()` holds, re-checking on every output line and at exit; no polling. */
  async #until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return;
    let listener = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        listener = () => {
          if (ready()) resolve();
        };
        this.#listeners.add(listener);
        timer = setTimeout(
          () =>
            reject(
              new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`),
            ),
          timeoutMs,
        );
      });
    } finally {
      this.#listeners.delete(listener);
      clearTimeout(timer);
    }
  }
}

/** Starts `command`; see `RunningProcess`. */
export function spawnProcess(name: string, command: string, options: SpawnOptions): RunningProcess {
  return new RunningProcess(name, command, options);
}

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
 * A TCP port that was free on `hostname` a moment ago: bound with port 0, then released. Another
 * process could take it in between; on loopback in a test run that is rare enough to accept, and
 * the clients fail loudly (never silently move to another port) if it happens.
 */
export function freePort(hostname: string): number {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
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
 * `payloadBytes` contents and returns what was written, by relative path.
 */
export async function writePayload(
  dir: string,
  files: Record<string, number>,
): Promise<Map<string, Uint8Array>> {
  const written = new Map<string, Uint8Array>();
  let seed = 1;
  for (const [relative, size] of Object.entries(files)) {
    const path = `${dir}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const bytes = payloadBytes(size, seed++ * 7919);
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
  /** The announce URL. */
  announce: string;
  /** Where to write the `.torrent`; must not exist yet. */
  output: string;
  /** Piece length as a power of two. @default 15 (32 KiB: a few hundred KB make several pieces) */
  pieceLengthLog2?: number;
}

/**
 * Makes a v1 `.torrent` with `mktorrent` (`-d`: no date, so reruns give the same info hash) and
 * reads its info hash back from libtorrent, not from NoBrake's code, so a hashing bug in NoBrake
 * cannot agree with itself.
 */
export async function makeTorrent(options: MakeTorrentOptions): Promise<TestTorrent> {
  const pieces = String(options.pieceLengthLog2 ?? 15);
  await runToEnd("mktorrent", {
    args: ["-d", "-l", pieces, "-a", options.announce, "-o", options.output, options.source],
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

/** Runs a short command to its end and returns its stdout; throws with its output if it fails. */
export async function runToEnd(command: string, options: SpawnOptions): Promise<string> {
  await using child = spawnProcess(command, command, options);
  const status = await child.finished;
  if (!status.success) {
    throw new Error(
      `${command} ${options.args.join(" ")} failed (${status.code})\n${child.tail()}`,
    );
  }
  return child.lines.filter((line) => line.stream === "stdout").map((line) => line.text).join(
    "\n",
  );
}

/** Options for `startLibtorrentPeer`. */
export interface LibtorrentPeerOptions {
  torrent: string;
  /** Directory holding (seed) or receiving (leech) the torrent's content. */
  saveDir: string;
  role: "seed" | "leech";
  /** Address to listen on and connect from. */
  address: string;
  port: number;
  /** The peer gives up (exit 1) after this long; it is killed 10 s later if still running. */
  timeoutSeconds: number;
}

/**
 * Starts a libtorrent peer (`lt_peer.py`). A leecher exits 0 once it has every piece and its
 * `completed` announce was answered; a seeder runs until stopped. DHT, LSD, PEX, UPnP and NAT-PMP
 * are off, so the tracker is the only way the peers find each other.
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

/** Options for `startAria2Leecher`. */
export interface Aria2LeecherOptions {
  torrent: string;
  saveDir: string;
  /** Address every aria2 socket binds to (tracker requests included). */
  address: string;
  port: number;
  /** aria2 stops itself (and exits non-zero) after this long; it is killed 10 s later. */
  timeoutSeconds: number;
}

/**
 * Starts aria2 as a leecher that exits 0 once the download is complete. It seeds for a moment
 * after completing: with `--seed-time=0` aria2 skips the `completed` announce and sends only
 * `stopped`, and the test wants to see the tracker count a completed download.
 */
export function startAria2Leecher(name: string, options: Aria2LeecherOptions): RunningProcess {
  const ipv6 = options.address.includes(":");
  return spawnProcess(name, "aria2c", {
    args: [
      "--no-conf",
      `--dir=${options.saveDir}`,
      "--enable-dht=false",
      "--enable-dht6=false",
      "--enable-peer-exchange=false",
      "--bt-enable-lpd=false",
      "--seed-time=0.02",
      `--listen-port=${options.port}`,
      `--interface=${options.address}`,
      `--disable-ipv6=${!ipv6}`,
      "--file-allocation=none",
      "--bt-tracker-connect-timeout=5",
      "--bt-tracker-timeout=10",
      `--bt-stop-timeout=${options.timeoutSeconds}`,
      `--stop=${options.timeoutSeconds}`,
      "--summary-interval=1",
      "--console-log-level=notice",
      "--enable-color=false",
      `--torrent-file=${options.torrent}`,
    ],
    timeoutMs: (options.timeoutSeconds + 10) * 1000,
  });
}

/**
 * The real clients these tests need that are not installed, by the name CI would install. Empty
 * when everything is there.
 */
export async function missingClients(): Promise<string[]> {
  const missing: string[] = [];
  if (!(await succeeds("aria2c", ["--version"]))) missing.push("aria2 (aria2c)");
  // mktorrent 1.1 has no --version; -h exits 0.
  if (!(await succeeds("mktorrent", ["-h"]))) missing.push("mktorrent");
  if (!(await succeeds(PYTHON, ["-c", "import libtorrent"]))) {
    missing.push(`python3-libtorrent (${PYTHON} -c "import libtorrent")`);
  }
  return missing;
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false; // not found on PATH
  }
}
