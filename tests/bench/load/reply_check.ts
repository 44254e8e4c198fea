/**
 * Checks a sample of the load generator's replies, because a fast wrong answer is not fast: the
 * body must decode as bencode (with `npm:bencode`, a decoder independent of NoBrake's encoder),
 * carry no `failure reason`, and hold the peers or counts the workload implies.
 *
 * @module
 */
import bencode from "bencode";
import { BASE_PORT, type PlannedRequest } from "./workload.ts";

/** What a reply is checked against. */
export interface CheckContext {
  /** Peers asked for. */
  numwant: number;
  /** Peers per torrent: a listed port must be `BASE_PORT + p` with `p` below this. */
  peersPerTorrent: number;
  /** During the pre-fill, swarms are still growing: only the form of a reply is checked. */
  growing: boolean;
  /** The server answers one fixed reply (the floor): its scrape hash is not the one asked for. */
  fixedReply: boolean;
  /** The info hash asked for, as 20 raw bytes. */
  infoHash: Uint8Array;
}

/** Returns `null` for a good reply, or what is wrong with it. */
export function checkReply(
  request: PlannedRequest,
  body: Uint8Array,
  context: CheckContext,
): string | null {
  let decoded: unknown;
  try {
    decoded = bencode.decode(body);
  } catch (error) {
    return `not bencode: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!isDict(decoded)) return "reply is not a dictionary";
  const failure = decoded["failure reason"];
  if (failure instanceof Uint8Array) {
    return `failure reason "${new TextDecoder().decode(failure)}"`;
  }
  return request.kind === "announce"
    ? checkAnnounce(request, decoded, context)
    : checkScrape(decoded, body, context);
}

function checkAnnounce(
  request: PlannedRequest,
  reply: Record<string, unknown>,
  context: CheckContext,
): string | null {
  for (const key of ["interval", "complete", "incomplete"]) {
    if (typeof reply[key] !== "number") return `announce reply lacks integer "${key}"`;
  }
  const peers = reply["peers"];
  if (!(peers instanceof Uint8Array)) return "announce reply lacks compact `peers`";
  if (peers.length % 6 !== 0) return `compact peers of ${peers.length} bytes`;
  const count = peers.length / 6;
  if (count > context.numwant) return `${count} peers for numwant=${context.numwant}`;
  // A full swarm (about peersPerTorrent peers, far above numwant) fills every reply but a
  // `stopped` one, which a tracker may answer with no peers.
  const full = !context.growing && request.event !== "stopped" &&
    context.peersPerTorrent > context.numwant + context.numwant / 2;
  if (full && count !== context.numwant) {
    return `${count} peers for numwant=${context.numwant} in a swarm of about ` +
      `${context.peersPerTorrent}`;
  }
  for (let i = 0; i < peers.length; i += 6) {
    const port = (peers[i + 4] << 8) | peers[i + 5];
    if (peers[i] !== 127 || peers[i + 1] !== 0 || peers[i + 2] !== 0 || peers[i + 3] !== 1) {
      return `peer ${i / 6} is not 127.0.0.1`;
    }
    if (port < BASE_PORT || port >= BASE_PORT + context.peersPerTorrent) {
      return `peer ${i / 6} has port ${port}, outside this torrent's peers`;
    }
  }
  return null;
}

function checkScrape(
  reply: Record<string, unknown>,
  body: Uint8Array,
  context: CheckContext,
): string | null {
  const files = reply["files"];
  if (!isDict(files)) return "scrape reply lacks `files`";
  const keys = Object.keys(files);
  if (keys.length !== 1) return `scrape of one hash listed ${keys.length} files`;
  const entry = files[keys[0]];
  if (!isDict(entry)) return "scrape entry is not a dictionary";
  for (const key of ["complete", "incomplete", "downloaded"]) {
    if (typeof entry[key] !== "number") return `scrape entry lacks integer "${key}"`;
  }
  if (!context.fixedReply) {
    // npm:bencode decodes dictionary keys as UTF-8 text, which mangles binary hashes: look for
    // the raw `20:<hash>` key in the body instead.
    if (indexOfKey(body, context.infoHash) === -1) return "scrape reply is for another hash";
    const peers = (entry["complete"] as number) + (entry["incomplete"] as number);
    if (!context.growing && (peers < 1 || peers > context.peersPerTorrent)) {
      return `scrape counts ${peers} peers in a swarm of about ${context.peersPerTorrent}`;
    }
  }
  return null;
}

function indexOfKey(body: Uint8Array, infoHash: Uint8Array): number {
  outer: for (let at = 3; at + 20 <= body.length; at++) {
    if (body[at - 3] !== 0x32 || body[at - 2] !== 0x30 || body[at - 1] !== 0x3a) continue;
    for (let i = 0; i < 20; i++) if (body[at + i] !== infoHash[i]) continue outer;
    return at;
  }
  return -1;
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}
