/**
 * The UDP load generator of issue 8: BEP 15 announces of the same workload as the HTTP runs
 * (`workload.ts`: pre-filled torrents and peers, the 88/5/2/5 mix, `num_want` 50), sent from
 * `sockets` UDP sockets on loopback. Each socket is one client: it connects once (BEP 15 connect,
 * retried if lost) and then keeps `window` announces in flight, sending the next as each reply
 * comes back. A request unanswered for a second is counted lost and replaced.
 *
 * It reports what `load_generator.ts` reports for HTTP (`LoadResult`): packets answered per
 * second, the server's CPU per request from `/proc/<pid>/stat`, p50/p99 latency, errors, and a
 * sample of replies checked: action and transaction id, counts, and for a full swarm exactly
 * `num_want` peers, each `127.0.0.1` with a port of that torrent's peers (the floor's fixed reply
 * is checked for form only).
 *
 * Run it pinned to the other core from the server:
 * `taskset -c 1 deno run -A tests/bench/load/udp_load.ts --port 6969 --pid 1234 --seconds 5`.
 * It prints one JSON line. Every phase ends at its deadline: the sockets are closed then, which
 * ends any receive still waiting.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { LoadResult } from "./load_generator.ts";
import { readCpuTicks, TICKS_PER_SECOND } from "./proc_stat.ts";
import { BASE_PORT, infoHashOf, peerIdOf, type PlannedRequest, Workload } from "./workload.ts";

/** How one UDP run is set up. */
export interface UdpLoadOptions {
  host: string;
  port: number;
  /** The server's pid, for its CPU time; `null` skips the CPU figure. */
  pid: number | null;
  /** Client sockets, each with its own connection id. */
  sockets: number;
  /** Announces each socket keeps in flight. */
  window: number;
  seconds: number;
  /** Seconds of load before measuring. */
  warmup: number;
  torrents: number;
  peersPerTorrent: number;
  /** One reply in this many is checked. */
  sampleEvery: number;
  /** The server answers one fixed reply (the floor): check the form only. */
  fixedReply: boolean;
}

const PROTOCOL_ID = 0x41727101980n;
const ACTION_CONNECT = 0;
const ACTION_ANNOUNCE = 1;
const ACTION_ERROR = 3;
/** BEP 15 `event`: 0 none, 1 completed, 2 started, 3 stopped. */
const EVENT_CODES = { none: 0, completed: 1, started: 2, stopped: 3 } as const;
const NUMWANT = 50;
/** A request unanswered this long is lost. */
const LOSS_MS = 1000;

/** Counters of one phase, shared by every socket. */
interface Tally {
  requests: number;
  errors: number;
  lost: number;
  validated: number;
  invalid: number;
  firstProblem: string | null;
  latencies: number[] | null;
}

/** Runs the warm-up and the measured phase; resolves with what was measured. */
export async function runUdpLoad(options: UdpLoadOptions): Promise<LoadResult> {
  const workload = new Workload({
    torrents: options.torrents,
    peersPerTorrent: options.peersPerTorrent,
  });
  const packets = new PacketMaker(options);
  if (options.warmup > 0) await runPhase(options, workload, packets, options.warmup, false);
  const cpuBefore = options.pid === null ? 0 : readCpuTicks(options.pid);
  const started = performance.now();
  const tally = await runPhase(options, workload, packets, options.seconds, true);
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = options.pid === null
    ? null
    : (readCpuTicks(options.pid) - cpuBefore) / TICKS_PER_SECOND;
  const latencies = (tally.latencies ?? []).sort((a, b) => a - b);
  const percentile = (q: number) =>
    latencies.length === 0 ? 0 : Math.round(latencies[Math.ceil(q * latencies.length) - 1]);
  return {
    mode: "udp announce",
    connection: "udp",
    requests: tally.requests,
    seconds,
    requestsPerSecond: tally.requests / seconds,
    cpuMicrosPerRequest: cpuSeconds === null || tally.requests === 0
      ? null
      : (cpuSeconds * 1e6) / tally.requests,
    serverCpuShare: cpuSeconds === null ? null : cpuSeconds / seconds,
    p50Micros: percentile(0.5),
    p99Micros: percentile(0.99),
    errors: tally.errors + tally.lost,
    reconnects: 0,
    validated: tally.validated,
    invalid: tally.invalid,
    firstProblem: tally.firstProblem,
    prefillRequests: 0,
    prefillSeconds: 0,
  };
}

/** Builds announce packets; caches the 20-byte hashes and ids, which every request needs. */
class PacketMaker {
  readonly #options: UdpLoadOptions;
  readonly #hashes = new Map<number, Uint8Array>();
  readonly #ids = new Map<number, Uint8Array>();

  constructor(options: UdpLoadOptions) {
    this.#options = options;
  }

  announce(planned: PlannedRequest, connectionId: Uint8Array, transactionId: number): Uint8Array {
    const fields = planned.announce;
    if (fields === undefined) throw new Error("a UDP announce needs the announce fields");
    const t = planned.torrent;
    const p = fields.peer % this.#options.peersPerTorrent;
    let hash = this.#hashes.get(t);
    if (hash === undefined) this.#hashes.set(t, hash = infoHashOf(t));
    let id = this.#ids.get(fields.peer);
    if (id === undefined) {
      id = Uint8Array.from(peerIdOf(t, p), (char) => char.charCodeAt(0));
      this.#ids.set(fields.peer, id);
    }
    const out = new Uint8Array(98);
    const view = new DataView(out.buffer);
    out.set(connectionId, 0);
    view.setUint32(8, ACTION_ANNOUNCE);
    view.setUint32(12, transactionId);
    out.set(hash, 16);
    out.set(id, 36);
    view.setBigUint64(56, BigInt(fields.downloaded));
    view.setBigUint64(64, BigInt(fields.left));
    view.setBigUint64(72, BigInt(fields.uploaded));
    view.setUint32(80, EVENT_CODES[planned.event]);
    view.setUint32(88, fields.key);
    view.setInt32(92, NUMWANT);
    view.setUint16(96, BASE_PORT + p);
    return out;
  }
}

/** One request in flight. */
interface InFlight {
  planned: PlannedRequest;
  sentAt: number;
}

async function runPhase(
  options: UdpLoadOptions,
  workload: Workload,
  packets: PacketMaker,
  seconds: number,
  measured: boolean,
): Promise<Tally> {
  const tally: Tally = {
    requests: 0,
    errors: 0,
    lost: 0,
    validated: 0,
    invalid: 0,
    firstProblem: null,
    latencies: measured ? [] : null,
  };
  const conns: Deno.DatagramConn[] = [];
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    for (const conn of conns) closeQuietly(conn);
  }, seconds * 1000);
  const server: Deno.NetAddr = { transport: "udp", hostname: options.host, port: options.port };
  let nextTransaction = 1;

  async function client(): Promise<void> {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: options.host, port: 0 });
    conns.push(conn);
    if (stopped) return closeQuietly(conn);
    const buffer = new Uint8Array(2048);
    const connectionId = await connect(conn, server, buffer, () => stopped);
    if (connectionId === null) {
      if (!stopped) {
        tally.errors++;
        tally.firstProblem ??= "no answer to BEP 15 connect";
      }
      return;
    }
    const inFlight = new Map<number, InFlight>();
    const send = async () => {
      const planned = workload.nextAnnounce();
      const transactionId = nextTransaction++ >>> 0;
      inFlight.set(transactionId, { planned, sentAt: performance.now() });
      await conn.send(packets.announce(planned, connectionId, transactionId), server);
    };
    // Lost packets would shrink the window for good: replace what waited too long.
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const [transactionId, request] of inFlight) {
        if (now - request.sentAt < LOSS_MS) continue;
        inFlight.delete(transactionId);
        if (measured) tally.lost++;
        if (!stopped) send().catch(() => {});
      }
    }, LOSS_MS / 4);
    try {
      for (let i = 0; i < options.window; i++) await send();
      while (!stopped) {
        const [reply] = await conn.receive(buffer);
        if (reply.length < 8) continue;
        const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
        const request = inFlight.get(view.getUint32(4));
        if (request === undefined) continue;
        inFlight.delete(view.getUint32(4));
        if (stopped) break;
        tally.requests++;
        tally.latencies?.push((performance.now() - request.sentAt) * 1000);
        const action = view.getUint32(0);
        if (action !== ACTION_ANNOUNCE) {
          tally.errors++;
          tally.firstProblem ??= action === ACTION_ERROR
            ? `error packet: ${new TextDecoder().decode(reply.subarray(8))}`
            : `action ${action} in reply to an announce`;
        } else if (tally.requests % options.sampleEvery === 0) {
          tally.validated++;
          const wrong = checkUdpReply(request.planned, reply, options);
          if (wrong !== null) {
            tally.invalid++;
            tally.firstProblem ??= wrong;
          }
        }
        await send();
      }
    } catch (error) {
      // The deadline closes the socket, which rejects the receive in progress.
      if (!stopped) {
        tally.errors++;
        tally.firstProblem ??= (error as Error).message;
      }
    } finally {
      clearInterval(sweeper);
      closeQuietly(conn);
    }
  }

  try {
    await Promise.all(Array.from({ length: options.sockets }, client));
  } finally {
    clearTimeout(timer);
    for (const conn of conns) closeQuietly(conn);
  }
  return tally;
}

/** BEP 15 connect, retried while unanswered; the connection id's 8 bytes, or `null`. */
async function connect(
  conn: Deno.DatagramConn,
  server: Deno.NetAddr,
  buffer: Uint8Array,
  stopped: () => boolean,
): Promise<Uint8Array | null> {
  // A socket takes one receive at a time: a receive outlives a timed-out attempt, and its
  // failure when the socket closes is expected.
  let pending: Promise<[Uint8Array, Deno.Addr] | null> | null = null;
  for (let attempt = 0; attempt < 5 && !stopped(); attempt++) {
    const transactionId = (Math.random() * 0xffff_ffff) >>> 0;
    const request = new Uint8Array(16);
    const view = new DataView(request.buffer);
    view.setBigUint64(0, PROTOCOL_ID);
    view.setUint32(8, ACTION_CONNECT);
    view.setUint32(12, transactionId);
    await conn.send(request, server);
    for (;;) {
      pending ??= conn.receive(buffer).catch(() => null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) =>
        timer = setTimeout(() => resolve("timeout"), 500)
      );
      const answer = await Promise.race([pending, timeout]);
      clearTimeout(timer);
      if (answer === "timeout") break;
      pending = null;
      if (answer === null) return null;
      const [reply] = answer;
      const replyView = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
      if (
        reply.length >= 16 && replyView.getUint32(0) === ACTION_CONNECT &&
        replyView.getUint32(4) === transactionId
      ) return reply.slice(8, 16);
      // An answer to an earlier attempt: wait on for this one's.
    }
  }
  return null;
}

/** Checks one announce response; returns what is wrong, or `null`. */
export function checkUdpReply(
  planned: PlannedRequest,
  reply: Uint8Array,
  options: Pick<UdpLoadOptions, "fixedReply" | "peersPerTorrent">,
): string | null {
  if ((reply.length - 20) % 6 !== 0 || reply.length < 20) {
    return `announce response of ${reply.length} bytes`;
  }
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  if (view.getUint32(8) === 0) return "interval 0";
  const count = (reply.length - 20) / 6;
  if (options.fixedReply) return count === NUMWANT ? null : `${count} peers in the fixed reply`;
  const leechers = view.getUint32(12);
  const seeders = view.getUint32(16);
  if (leechers + seeders > options.peersPerTorrent + 1) {
    return `${leechers} leechers and ${seeders} seeders in a swarm of about ` +
      `${options.peersPerTorrent}`;
  }
  const full = planned.event !== "stopped" && options.peersPerTorrent > NUMWANT * 1.5;
  if (full && count !== NUMWANT) return `${count} peers for num_want=${NUMWANT}`;
  for (let i = 20; i < reply.length; i += 6) {
    if (reply[i] !== 127 || reply[i + 1] !== 0 || reply[i + 2] !== 0 || reply[i + 3] !== 1) {
      return `peer address ${reply.subarray(i, i + 4).join(".")}`;
    }
    const port = view.getUint16(i + 4);
    if (port < BASE_PORT || port >= BASE_PORT + options.peersPerTorrent) {
      return `peer port ${port} is none of this torrent's peers`;
    }
  }
  return null;
}

function closeQuietly(conn: Deno.DatagramConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Parses the generator's command line. */
export function parseUdpLoadArgs(args: string[]): UdpLoadOptions {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      pid: { type: "string" },
      sockets: { type: "string", default: "8" },
      window: { type: "string", default: "4" },
      seconds: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      torrents: { type: "string", default: "1000" },
      peers: { type: "string", default: "100" },
      "sample-every": { type: "string", default: "50" },
      "fixed-reply": { type: "boolean", default: false },
    },
  });
  if (values.port === undefined) throw new Error("--port is required");
  return {
    host: values.host,
    port: Number(values.port),
    pid: values.pid === undefined ? null : Number(values.pid),
    sockets: Number(values.sockets),
    window: Number(values.window),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    torrents: Number(values.torrents),
    peersPerTorrent: Number(values.peers),
    sampleEvery: Math.max(1, Number(values["sample-every"])),
    fixedReply: values["fixed-reply"],
  };
}

if (import.meta.main) {
  const result = await runUdpLoad(parseUdpLoadArgs(Deno.args));
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
}
