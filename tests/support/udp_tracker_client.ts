/**
 * `TrackerClient` over UDP (BEP 15), for the shared behaviour suite and the UDP tests: connects,
 * caches the connection id for a minute as BEP 15 lets a client, and retries a request that got no
 * reply (a short timeout, a bounded number of tries). Also the client's half of the codec, written
 * apart from the tracker's (`src/protocol/udp_packet.ts`), so the tests check the two against each
 * other: request encoders, BEP 41 options, and response parsers.
 *
 * @module
 */
import type {
  ClientAnnounce,
  ClientAnnounceReply,
  ClientPeer,
  ClientScrapeCounts,
  TrackerClient,
} from "./tracker_client.ts";
import { splitCompact } from "./http_tracker_client.ts";

const PROTOCOL_ID = 0x41727101980n;
const EVENT_CODES = { none: 0, completed: 1, started: 2, stopped: 3 } as const;

/** A connect request. */
export function encodeConnectRequest(transactionId: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, PROTOCOL_ID);
  view.setUint32(8, 0);
  view.setUint32(12, transactionId);
  return out;
}

/** Everything an announce request carries (BEP 15 layout, then BEP 41 options). */
export interface AnnouncePacket {
  connectionId: bigint;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: bigint;
  left: bigint;
  uploaded: bigint;
  /** 0 none, 1 completed, 2 started, 3 stopped. */
  event: number;
  /** 4 bytes; all zero for "the sender's address". */
  ip: Uint8Array;
  key: number;
  /** -1 for the tracker's default. */
  numwant: number;
  port: number;
  /** Raw BEP 41 option bytes to append (see `urlDataOptions`). @default none */
  options?: Uint8Array;
}

/** An announce request. */
export function encodeAnnounceRequest(packet: AnnouncePacket): Uint8Array {
  const options = packet.options ?? new Uint8Array(0);
  const out = new Uint8Array(98 + options.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, packet.connectionId);
  view.setUint32(8, 1);
  view.setUint32(12, packet.transactionId);
  out.set(packet.infoHash, 16);
  out.set(packet.peerId, 36);
  view.setBigInt64(56, packet.downloaded);
  view.setBigInt64(64, packet.left);
  view.setBigInt64(72, packet.uploaded);
  view.setUint32(80, packet.event);
  out.set(packet.ip, 84);
  view.setUint32(88, packet.key);
  view.setInt32(92, packet.numwant);
  view.setUint16(96, packet.port);
  out.set(options, 98);
  return out;
}

/** BEP 41 URLData options carrying `url` (split into 255-byte pieces), then EndOfOptions. */
export function urlDataOptions(url: Uint8Array): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < url.length; i += 255) {
    const piece = url.subarray(i, i + 255);
    parts.push(0x2, piece.length, ...piece);
  }
  parts.push(0x0);
  return Uint8Array.from(parts);
}

/** A scrape request. */
export function encodeScrapeRequest(
  connectionId: bigint,
  transactionId: number,
  infoHashes: Uint8Array[],
): Uint8Array {
  const out = new Uint8Array(16 + infoHashes.length * 20);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, connectionId);
  view.setUint32(8, 2);
  view.setUint32(12, transactionId);
  infoHashes.forEach((hash, i) => out.set(hash, 16 + i * 20));
  return out;
}

/** A response, as a client reads it. */
export type UdpResponse =
  | { action: "connect"; transactionId: number; connectionId: bigint }
  | {
    action: "announce";
    transactionId: number;
    interval: number;
    leechers: number;
    seeders: number;
    /** Compact peer bytes, as sent. */
    peers: Uint8Array;
  }
  | { action: "scrape"; transactionId: number; counts: ClientScrapeCounts[] }
  | { action: "error"; transactionId: number; message: string };

/** Parses a response; throws on anything that is not a well-formed BEP 15 response. */
export function parseResponse(packet: Uint8Array): UdpResponse {
  if (packet.length < 8) throw new Error(`response of ${packet.length} bytes`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const action = view.getUint32(0);
  const transactionId = view.getUint32(4);
  switch (action) {
    case 0:
      if (packet.length < 16) throw new Error("short connect response");
      return { action: "connect", transactionId, connectionId: view.getBigUint64(8) };
    case 1:
      if (packet.length < 20) throw new Error("short announce response");
      return {
        action: "announce",
        transactionId,
        interval: view.getUint32(8),
        leechers: view.getUint32(12),
        seeders: view.getUint32(16),
        peers: packet.slice(20),
      };
    case 2: {
      if ((packet.length - 8) % 12 !== 0) throw new Error("scrape response is not 8 + 12·n");
      const counts: ClientScrapeCounts[] = [];
      for (let offset = 8; offset < packet.length; offset += 12) {
        counts.push({
          complete: view.getUint32(offset),
          downloaded: view.getUint32(offset + 4),
          incomplete: view.getUint32(offset + 8),
        });
      }
      return { action: "scrape", transactionId, counts };
    }
    case 3:
      return { action: "error", transactionId, message: new TextDecoder().decode(packet.slice(8)) };
    default:
      throw new Error(`unknown response action ${action}`);
  }
}

/** Options for `UdpTrackerClient`. */
export interface UdpTrackerClientOptions {
  /** Milliseconds to wait for each reply. @default 1000 */
  timeoutMs?: number;
  /** Sends of one request before giving up. @default 3 */
  attempts?: number;
  /** Loopback address to send from (any of 127.0.0.0/8 on Linux). @default "127.0.0.1" or "::1" */
  localHostname?: string;
}

/** BEP 15: a client may use a connection id for one minute after receiving it. */
const CONNECTION_ID_LIFETIME_MS = 60_000;

/** A client for the tracker at `hostname:port`, from a socket of the same family on loopback. */
export class UdpTrackerClient implements TrackerClient {
  readonly protocol = "udp";
  readonly #conn: Deno.DatagramConn;
  readonly #target: Deno.NetAddr;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  #connectionId: bigint | null = null;
  #connectedAt = 0;
  /** A receive still waiting for a datagram; it outlives a timeout and serves the next wait. */
  #pending: Promise<Uint8Array> | null = null;

  constructor(hostname: string, port: number, options: UdpTrackerClientOptions = {}) {
    const ipv6 = hostname.includes(":");
    this.#conn = Deno.listenDatagram({
      transport: "udp",
      hostname: options.localHostname ?? (ipv6 ? "::1" : "127.0.0.1"),
      port: 0,
    });
    this.#target = { transport: "udp", hostname, port };
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#attempts = options.attempts ?? 3;
  }

  /** Peer entries are 18 bytes when we talk over IPv6 (BEP 15), else 6. */
  get #addressLength(): 4 | 16 {
    return this.#target.hostname.includes(":") ? 16 : 4;
  }

  /** Sends `packet` and returns the first reply with its transaction id, retrying on silence. */
  async exchange(packet: Uint8Array): Promise<UdpResponse> {
    const transactionId = new DataView(packet.buffer, packet.byteOffset).getUint32(12);
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      await this.#conn.send(packet, this.#target);
      const deadline = Date.now() + this.#timeoutMs;
      for (let left = this.#timeoutMs; left > 0; left = deadline - Date.now()) {
        const reply = await this.#receive(left);
        if (reply === null) break;
        // A late reply to an earlier request is skipped, as a real client would.
        const parsed = parseResponse(reply);
        if (parsed.transactionId === transactionId) return parsed;
      }
    }
    throw new Error(`no reply from udp tracker after ${this.#attempts} attempts`);
  }

  /** A connection id, from the cache or a fresh connect. */
  async connect(): Promise<bigint> {
    if (this.#connectionId !== null && Date.now() - this.#connectedAt < CONNECTION_ID_LIFETIME_MS) {
      return this.#connectionId;
    }
    const reply = await this.exchange(encodeConnectRequest(randomTransactionId()));
    if (reply.action !== "connect") throw new Error(`connect answered with ${reply.action}`);
    this.#connectionId = reply.connectionId;
    this.#connectedAt = Date.now();
    return reply.connectionId;
  }

  async announce(request: ClientAnnounce): Promise<ClientAnnounceReply> {
    const event = request.event ?? "none";
    if (event === "paused") throw new Error("BEP 15 has no paused event");
    const reply = await this.exchange(encodeAnnounceRequest({
      connectionId: await this.connect(),
      transactionId: randomTransactionId(),
      infoHash: request.infoHash,
      peerId: request.peerId,
      downloaded: BigInt(request.downloaded ?? 0),
      left: BigInt(request.left),
      uploaded: BigInt(request.uploaded ?? 0),
      event: EVENT_CODES[event],
      ip: new Uint8Array(4),
      key: request.key ?? 0,
      numwant: request.numwant ?? -1,
      port: request.port,
    }));
    if (reply.action === "error") return { ok: false, failure: reply.message };
    if (reply.action !== "announce") throw new Error(`announce answered with ${reply.action}`);
    const peers: ClientPeer[] = splitCompact(reply.peers, this.#addressLength);
    return {
      ok: true,
      interval: reply.interval,
      complete: reply.seeders,
      incomplete: reply.leechers,
      peers,
    };
  }

  async scrape(infoHashes: Uint8Array[]): Promise<ClientScrapeCounts[]> {
    const connectionId = await this.connect();
    const reply = await this.exchange(
      encodeScrapeRequest(connectionId, randomTransactionId(), infoHashes),
    );
    if (reply.action === "error") throw new Error(`scrape refused: ${reply.message}`);
    if (reply.action !== "scrape") throw new Error(`scrape answered with ${reply.action}`);
    return reply.counts;
  }

  /** Sends a datagram and does not wait for anything (for hostile packets). */
  async sendRaw(packet: Uint8Array): Promise<void> {
    await this.#conn.send(packet, this.#target);
  }

  /** The next datagram within `ms`, or `null` (the receive stays pending for the next call). */
  async receiveRaw(ms: number): Promise<Uint8Array | null> {
    return await this.#receive(ms);
  }

  close(): void {
    this.#conn.close();
  }

  async #receive(ms: number): Promise<Uint8Array | null> {
    if (this.#pending === null) {
      const pending = this.#conn.receive().then(([data]) => data);
      // Closing the socket rejects a receive nobody waits for any more; that is expected.
      pending.catch(() => {});
      this.#pending = pending;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
    try {
      const data = await Promise.race([this.#pending, timeout]);
      if (data !== null) this.#pending = null;
      return data;
    } finally {
      clearTimeout(timer);
    }
  }
}

function randomTransactionId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
