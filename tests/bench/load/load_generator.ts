/**
 * The load generator of issue 8: a closed-loop HTTP/1.1 client over raw TCP that sends the
 * workload's libtorrent-like announces (or scrapes) to one server on loopback, and reports
 * requests/s, the server's CPU per request (from `/proc/<pid>/stat`), p50/p99 latency, errors,
 * and how many of a sample of replies it decoded and checked.
 *
 * Raw `Deno.connect` rather than `fetch`: `fetch` costs several times more per request on the
 * client, and the client shares nothing with the server under test. Each of `connections`
 * sockets carries one request at a time (no pipelining, as real clients do), either kept alive
 * or opened anew per request (`Connection: close`, the server closes first).
 *
 * Run it pinned to the other core from the server:
 * `taskset -c 1 deno run --allow-net --allow-read tests/bench/load/load_generator.ts --port 6969 --pid 1234 --prefill`.
 * It prints one JSON line (`LoadResult`). Every phase ends at its deadline, whatever the server
 * does: at the deadline every socket is closed, which ends any read still waiting.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readCpuTicks, TICKS_PER_SECOND } from "./proc_stat.ts";
import { checkReply } from "./reply_check.ts";
import { infoHashOf, type PlannedRequest, USER_AGENT, Workload } from "./workload.ts";

/** How one run of the generator is set up. */
export interface LoadOptions {
  host: string;
  port: number;
  /** Process id of the server, for its CPU time; `null` skips the CPU figure. */
  pid: number | null;
  mode: "announce" | "scrape";
  /** `keepalive` reuses each socket; `new` opens one per request. */
  connection: "keepalive" | "new";
  /** Sockets, each with one request in flight. */
  connections: number;
  /** Measured seconds. */
  seconds: number;
  /** Seconds of load before measuring, so the server's JIT has warmed up. */
  warmup: number;
  /** Announce every peer `started` before warming up. */
  prefill: boolean;
  /** Longest the pre-fill may take, in seconds. */
  prefillTimeout: number;
  /** Pre-fill only peers `[from, to)` of every torrent (`null`: all of them). */
  prefillRange: [number, number] | null;
  torrents: number;
  peersPerTorrent: number;
  /** One reply in this many is decoded and checked. */
  sampleEvery: number;
  /** The server answers one fixed reply (the floor). */
  fixedReply: boolean;
}

/** What a run measured. */
export interface LoadResult {
  mode: string;
  connection: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Server CPU (user + system) per request in microseconds, or `null` without a pid. */
  cpuMicrosPerRequest: number | null;
  /** Share of one core the server used while measured. */
  serverCpuShare: number | null;
  p50Micros: number;
  p99Micros: number;
  /** Non-200 replies, unreadable replies and socket errors. */
  errors: number;
  /** Kept-alive sockets the server closed without saying so; the request went again. */
  reconnects: number;
  /** Sampled replies decoded and checked, and how many of them were wrong. */
  validated: number;
  invalid: number;
  firstProblem: string | null;
  prefillRequests: number;
  prefillSeconds: number;
}

/** Latencies in whole microseconds up to one second; slower ones land in the last bucket. */
class LatencyHistogram {
  readonly #counts = new Uint32Array(1_000_001);
  #total = 0;

  record(micros: number): void {
    this.#counts[Math.min(this.#counts.length - 1, Math.round(micros))]++;
    this.#total++;
  }

  percentile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let micros = 0; micros < this.#counts.length; micros++) {
      seen += this.#counts[micros];
      if (seen >= rank) return micros;
    }
    return this.#counts.length - 1;
  }
}

/** Counters of one phase. */
interface PhaseStats {
  requests: number;
  errors: number;
  validated: number;
  invalid: number;
  firstProblem: string | null;
  histogram: LatencyHistogram | null;
  reconnects: number;
}

/** A parsed response: status, where its body lies in the read buffer, whether the socket stays. */
interface Reply {
  status: number;
  body: Uint8Array;
  keepAlive: boolean;
}

const encoder = new TextEncoder();
const HEADER_END = [13, 10, 13, 10];

/** Runs pre-fill, warm-up and the measured phase; resolves with what was measured. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const workload = new Workload({
    torrents: options.torrents,
    peersPerTorrent: options.peersPerTorrent,
  });
  const hashes = Array.from({ length: options.torrents }, (_, t) => infoHashOf(t));
  let prefillRequests = 0;
  let prefillSeconds = 0;
  if (options.prefill) {
    if (options.prefillRange !== null) workload.limitPrefill(...options.prefillRange);
    const expected = workload.prefillCount;
    const start = performance.now();
    const stats = await runPhase(options, {
      next: () => workload.nextPrefill(),
      seconds: options.prefillTimeout,
      growing: true,
      hashes,
      connection: "keepalive",
    });
    prefillSeconds = (performance.now() - start) / 1000;
    prefillRequests = stats.requests;
    if (stats.requests < expected) {
      throw new Error(
        `pre-fill sent ${stats.requests} of ${expected} announces in ` +
          `${options.prefillTimeout} s (errors ${stats.errors}: ${stats.firstProblem})`,
      );
    }
  }
  if (options.seconds <= 0) return emptyResult(options, prefillRequests, prefillSeconds);
  const next = options.mode === "announce"
    ? () => workload.nextAnnounce()
    : () => workload.nextScrape();
  const phase = { next, growing: false, hashes, connection: options.connection };
  if (options.warmup > 0) await runPhase(options, { ...phase, seconds: options.warmup });
  const cpuBefore = options.pid === null ? 0 : readCpuTicks(options.pid);
  const start = performance.now();
  const stats = await runPhase(options, {
    ...phase,
    seconds: options.seconds,
    histogram: new LatencyHistogram(),
  });
  const seconds = (performance.now() - start) / 1000;
  const cpuSeconds = options.pid === null
    ? null
    : (readCpuTicks(options.pid) - cpuBefore) / TICKS_PER_SECOND;
  const histogram = stats.histogram as LatencyHistogram;
  return {
    mode: options.mode,
    connection: options.connection,
    requests: stats.requests,
    seconds,
    requestsPerSecond: stats.requests / seconds,
    cpuMicrosPerRequest: cpuSeconds === null || stats.requests === 0
      ? null
      : (cpuSeconds * 1e6) / stats.requests,
    serverCpuShare: cpuSeconds === null ? null : cpuSeconds / seconds,
    p50Micros: histogram.percentile(0.5),
    p99Micros: histogram.percentile(0.99),
    errors: stats.errors,
    reconnects: stats.reconnects,
    validated: stats.validated,
    invalid: stats.invalid,
    firstProblem: stats.firstProblem,
    prefillRequests,
    prefillSeconds,
  };
}

function emptyResult(
  options: LoadOptions,
  prefillRequests: number,
  prefillSeconds: number,
): LoadResult {
  return {
    mode: options.mode,
    connection: options.connection,
    requests: 0,
    seconds: 0,
    requestsPerSecond: 0,
    cpuMicrosPerRequest: null,
    serverCpuShare: null,
    p50Micros: 0,
    p99Micros: 0,
    errors: 0,
    reconnects: 0,
    validated: 0,
    invalid: 0,
    firstProblem: null,
    prefillRequests,
    prefillSeconds,
  };
}

/** Runs `connections` closed loops until `next` runs dry or `seconds` pass. */
async function runPhase(
  options: LoadOptions,
  phase: {
    next: () => PlannedRequest | null;
    seconds: number;
    growing: boolean;
    hashes: Uint8Array[];
    connection: "keepalive" | "new";
    histogram?: LatencyHistogram;
  },
): Promise<PhaseStats> {
  const stats: PhaseStats = {
    requests: 0,
    errors: 0,
    validated: 0,
    invalid: 0,
    firstProblem: null,
    histogram: phase.histogram ?? null,
    reconnects: 0,
  };
  const open = new Set<Deno.TcpConn>();
  let stopped = false;
  // The deadline closes every socket, which rejects any read or write still waiting on it.
  const timer = setTimeout(() => {
    stopped = true;
    for (const conn of open) closeQuietly(conn);
  }, phase.seconds * 1000);
  const problem = (text: string) => {
    stats.firstProblem ??= text;
  };
  const closeConnection = phase.connection === "new";
  const host = `Host: ${options.host}:${options.port}\r\n`;
  const tail = `User-Agent: ${USER_AGENT}\r\nAccept-Encoding: gzip\r\n` +
    (closeConnection ? "Connection: close\r\n\r\n" : "\r\n");

  async function loop(): Promise<void> {
    const out = new Uint8Array(4096);
    const buffer = new Uint8Array(64 * 1024);
    let conn: Deno.TcpConn | null = null;
    let repliesOnConnection = 0;
    while (!stopped) {
      const planned = phase.next();
      if (planned === null) break;
      const started = performance.now();
      try {
        if (conn === null) {
          conn = await Deno.connect({ hostname: options.host, port: options.port });
          open.add(conn);
          repliesOnConnection = 0;
          if (stopped) break;
        }
        const head = `GET ${planned.target} HTTP/1.1\r\n${host}${tail}`;
        const { written } = encoder.encodeInto(head, out);
        let reply: Reply | null = null;
        try {
          await writeAll(conn, out.subarray(0, written));
          reply = await readReply(conn, buffer);
        } catch (error) {
          if (repliesOnConnection === 0 || stopped) throw error;
        }
        if (reply === null && repliesOnConnection > 0 && !stopped) {
          // A server may close a kept-alive socket without saying so (opentracker closes every
          // one; a write may then meet a reset): as HTTP clients do, send the request again once
          // on a new connection.
          stats.reconnects++;
          open.delete(conn);
          closeQuietly(conn);
          conn = await Deno.connect({ hostname: options.host, port: options.port });
          open.add(conn);
          repliesOnConnection = 0;
          await writeAll(conn, out.subarray(0, written));
          reply = await readReply(conn, buffer);
        }
        if (reply === null) throw new Error("server closed the connection without a reply");
        repliesOnConnection++;
        const micros = (performance.now() - started) * 1000;
        if (stopped) break;
        stats.requests++;
        stats.histogram?.record(micros);
        if (reply.status !== 200) {
          stats.errors++;
          problem(`HTTP status ${reply.status} for ${planned.target}`);
        } else if (stats.requests % options.sampleEvery === 0) {
          stats.validated++;
          const wrong = checkReply(planned, reply.body, {
            numwant: 50,
            peersPerTorrent: options.peersPerTorrent,
            growing: phase.growing,
            fixedReply: options.fixedReply,
            infoHash: phase.hashes[planned.torrent],
          });
          if (wrong !== null) {
            stats.invalid++;
            problem(`${wrong} (${planned.event} ${planned.kind})`);
          }
        }
        if (closeConnection || !reply.keepAlive) {
          // Wait for the server's FIN so that TIME_WAIT stays on its side, as with real clients.
          if (closeConnection) await conn.read(buffer);
          open.delete(conn);
          closeQuietly(conn);
          conn = null;
        }
      } catch (error) {
        if (stopped) break;
        stats.errors++;
        problem(error instanceof Error ? error.message : String(error));
        if (conn !== null) {
          open.delete(conn);
          closeQuietly(conn);
          conn = null;
        }
      }
    }
    if (conn !== null) {
      open.delete(conn);
      closeQuietly(conn);
    }
  }

  try {
    await Promise.all(Array.from({ length: options.connections }, loop));
  } finally {
    clearTimeout(timer);
    stopped = true;
    for (const conn of open) closeQuietly(conn);
  }
  return stats;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Reads one response into `buffer`; `null` when the socket closed before any byte. */
async function readReply(conn: Deno.TcpConn, buffer: Uint8Array): Promise<Reply | null> {
  let filled = 0;
  let headerEnd = -1;
  while (headerEnd === -1) {
    if (filled === buffer.length) throw new Error("response header larger than the buffer");
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) {
      if (filled === 0) return null;
      throw new Error("connection closed inside a response header");
    }
    filled += n;
    headerEnd = indexOfHeaderEnd(buffer, filled);
  }
  const head = String.fromCharCode(...buffer.subarray(0, headerEnd)).toLowerCase();
  const status = Number(head.slice(9, 12));
  const lengthAt = head.indexOf("\r\ncontent-length:");
  const http10 = head.startsWith("http/1.0");
  let keepAlive = http10 ? head.includes("connection: keep-alive") : true;
  if (head.includes("connection: close")) keepAlive = false;
  if (lengthAt === -1) {
    // No length: the body runs to the end of the connection.
    for (;;) {
      if (filled === buffer.length) throw new Error("response larger than the buffer");
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return { status, body: buffer.subarray(headerEnd, filled), keepAlive: false };
  }
  const length = parseInt(head.slice(lengthAt + 17, head.indexOf("\r\n", lengthAt + 2)), 10);
  const end = headerEnd + length;
  if (end > buffer.length) throw new Error(`response of ${length} bytes is larger than the buffer`);
  while (filled < end) {
    const n = await conn.read(buffer.subarray(filled, end));
    if (n === null) throw new Error("connection closed inside a response body");
    filled += n;
  }
  return { status, body: buffer.subarray(headerEnd, end), keepAlive };
}

/** Offset just past `\r\n\r\n` in `buffer[0, filled)`, or -1. */
function indexOfHeaderEnd(buffer: Uint8Array, filled: number): number {
  for (let i = 3; i < filled; i++) {
    if (
      buffer[i] === HEADER_END[3] && buffer[i - 1] === HEADER_END[2] &&
      buffer[i - 2] === HEADER_END[1] && buffer[i - 3] === HEADER_END[0]
    ) return i + 1;
  }
  return -1;
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed: nothing to do.
  }
}

/** Parses the generator's command line into `LoadOptions`. */
export function parseLoadArgs(args: string[]): LoadOptions {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      pid: { type: "string" },
      mode: { type: "string", default: "announce" },
      connection: { type: "string", default: "keepalive" },
      connections: { type: "string", default: "32" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      prefill: { type: "boolean", default: false },
      "prefill-timeout": { type: "string", default: "120" },
      "prefill-from": { type: "string" },
      "prefill-to": { type: "string" },
      torrents: { type: "string", default: "1000" },
      peers: { type: "string", default: "100" },
      "sample-every": { type: "string", default: "50" },
      "fixed-reply": { type: "boolean", default: false },
    },
  });
  if (values.port === undefined) throw new Error("--port is required");
  if (values.mode !== "announce" && values.mode !== "scrape") {
    throw new Error(`--mode must be "announce" or "scrape", got "${values.mode}"`);
  }
  if (values.connection !== "keepalive" && values.connection !== "new") {
    throw new Error(`--connection must be "keepalive" or "new", got "${values.connection}"`);
  }
  return {
    host: values.host,
    port: Number(values.port),
    pid: values.pid === undefined ? null : Number(values.pid),
    mode: values.mode,
    connection: values.connection,
    connections: Number(values.connections),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    prefill: values.prefill,
    prefillTimeout: Number(values["prefill-timeout"]),
    prefillRange: values["prefill-from"] === undefined && values["prefill-to"] === undefined
      ? null
      : [Number(values["prefill-from"] ?? 0), Number(values["prefill-to"] ?? values.peers)],
    torrents: Number(values.torrents),
    peersPerTorrent: Number(values.peers),
    sampleEvery: Math.max(1, Number(values["sample-every"])),
    fixedReply: values["fixed-reply"],
  };
}

if (import.meta.main) {
  const result = await runLoad(parseLoadArgs(Deno.args));
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(result) + "\n"));
}
