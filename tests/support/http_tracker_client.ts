/**
 * `TrackerClient` over HTTP, for the shared behaviour suite: builds announce and scrape URLs with
 * every byte of `info_hash`/`peer_id` percent-encoded, as libtorrent does, and decodes replies
 * with NoBrake's own strict decoder (npm `bencode` turns binary dictionary keys into UTF-8 text).
 *
 * @module
 */
import { BDict, decodeBencode } from "../../src/protocol/bencode_decode.ts";
import type {
  ClientAnnounce,
  ClientAnnounceReply,
  ClientPeer,
  ClientScrapeCounts,
  TrackerClient,
} from "./tracker_client.ts";

/** `%XX` for every byte. */
export function percentEncodeAll(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += "%" + byte.toString(16).padStart(2, "0");
  return out;
}

/** Decodes a bencoded reply that must be a dictionary. */
export function decodeDict(bytes: Uint8Array): BDict {
  const value = decodeBencode(bytes);
  if (!(value instanceof BDict)) throw new Error("reply is not a dictionary");
  return value;
}

/** A byte string value of a dict, as text. */
export function textOf(dict: BDict, key: string): string | undefined {
  const value = dict.get(key);
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined;
}

/** A client for the tracker at `baseUrl` (e.g. `http://127.0.0.1:6969`). */
export class HttpTrackerClient implements TrackerClient {
  readonly protocol = "http";
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  /** The raw reply bytes of a GET on `pathAndQuery`. */
  async get(
    pathAndQuery: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: Uint8Array }> {
    const response = await fetch(this.#baseUrl + pathAndQuery, {
      ...init,
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
  }

  /** The announce query string for a request (without `?`). */
  static announceQuery(request: ClientAnnounce): string {
    const params = [
      `info_hash=${percentEncodeAll(request.infoHash)}`,
      `peer_id=${percentEncodeAll(request.peerId)}`,
      `port=${request.port}`,
      `uploaded=${request.uploaded ?? 0}`,
      `downloaded=${request.downloaded ?? 0}`,
      `left=${request.left}`,
      `compact=1`,
    ];
    if (request.event !== undefined && request.event !== "none") {
      params.push(`event=${request.event}`);
    }
    if (request.numwant !== undefined) params.push(`numwant=${request.numwant}`);
    if (request.key !== undefined) params.push(`key=${request.key.toString(16)}`);
    return params.join("&");
  }

  async announce(request: ClientAnnounce): Promise<ClientAnnounceReply> {
    const { body } = await this.get(`/announce?${HttpTrackerClient.announceQuery(request)}`);
    const reply = decodeDict(body);
    const failure = textOf(reply, "failure reason");
    if (failure !== undefined) return { ok: false, failure };
    const peers: ClientPeer[] = [];
    const v4 = reply.get("peers");
    const v6 = reply.get("peers6");
    if (v4 instanceof Uint8Array) peers.push(...splitCompact(v4, 4));
    if (v6 instanceof Uint8Array) peers.push(...splitCompact(v6, 16));
    return {
      ok: true,
      interval: reply.get("interval") as number,
      complete: reply.get("complete") as number,
      incomplete: reply.get("incomplete") as number,
      peers,
    };
  }

  async scrape(infoHashes: Uint8Array[]): Promise<ClientScrapeCounts[]> {
    const query = infoHashes.map((hash) => `info_hash=${percentEncodeAll(hash)}`).join("&");
    const { body } = await this.get(`/scrape?${query}`);
    const files = decodeDict(body).get("files");
    if (!(files instanceof BDict)) throw new Error("scrape reply has no files dictionary");
    return infoHashes.map((hash) => {
      const entry = files.get(String.fromCharCode(...hash));
      if (!(entry instanceof BDict)) return { complete: 0, incomplete: 0, downloaded: 0 };
      return {
        complete: entry.get("complete") as number,
        incomplete: entry.get("incomplete") as number,
        downloaded: entry.get("downloaded") as number,
      };
    });
  }

  close(): void {}
}

/** Splits BEP 23 compact peers (6 or 18 bytes each) into addresses and ports. */
export function splitCompact(bytes: Uint8Array, addressLength: 4 | 16): ClientPeer[] {
  const size = addressLength + 2;
  const peers: ClientPeer[] = [];
  for (let i = 0; i + size <= bytes.length; i += size) {
    const address = bytes.subarray(i, i + addressLength);
    const ip = addressLength === 4 ? [...address].join(".") : formatV6(address);
    peers.push({ ip, port: (bytes[i + addressLength] << 8) | bytes[i + addressLength + 1] });
  }
  return peers;
}

function formatV6(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(":");
}
