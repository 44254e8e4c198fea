/**
 * The announce script's arguments packed into one byte string: what the peer sent, where it is,
 * and the store's limits, at fixed offsets that `ANNOUNCE_SCRIPT` reads with one
 * `struct.unpack`. One binary argument instead of seventeen: node-redis writes every argument
 * as its own piece (a `Buffer` as a separate chunk of the socket write) and Redis makes a Lua
 * string of each, so the separate arguments cost both processes (`tests/bench/README.md`,
 * "Redis store").
 *
 * Layout (big-endian): flags byte, event byte, then u32 now (s), cutoff (s), numwant, max
 * torrents, max peers per torrent, random seed; the 4-byte key hash (zeros for none), the info
 * hash (20), the peer id (20), and the compact endpoint (6 bytes IPv4, 18 IPv6) to the end.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { AnnounceInput } from "../core/announce_input.ts";
import { hashKey } from "../core/refusals.ts";
import type { AnnounceEvent } from "../protocol/messages.ts";

/** What the script needs besides the request. Times in whole seconds. */
export interface AnnounceLimits {
  now: number;
  /** Peers last seen before this second are expired. */
  cutoff: number;
  /** Open mode: any torrent is served, and `maxTorrents` applies. */
  open: boolean;
  maxTorrents: number;
  maxPeers: number;
  /** Seeds the script's sampling: a whole number in [0, 2^31). */
  seed: number;
}

/** Flag bits of the first byte. */
export const PACKED_SEEDER = 1;
export const PACKED_UDP = 2;
export const PACKED_OPEN = 4;
export const PACKED_WANT_IDS = 8;
export const PACKED_HAS_KEY = 16;

/** Bytes before the endpoint. */
export const PACKED_FIXED_SIZE = 2 + 6 * 4 + 4 + 20 + 20;

/** The event as the one character the script compares. */
const EVENT_CODES: Record<AnnounceEvent, number> = {
  none: 0x6e, // n
  started: 0x73, // s
  completed: 0x63, // c
  stopped: 0x78, // x
  paused: 0x70, // p
};

const U32_MAX = 0xffff_ffff;

/** Packs one announce. Copies every byte, so the transport may reuse its buffers at once. */
export function packAnnounce(input: AnnounceInput, limits: AnnounceLimits): Buffer {
  const request = input.request;
  const address = input.address;
  const packed = Buffer.allocUnsafe(PACKED_FIXED_SIZE + address.length + 2);
  let flags = limits.open ? PACKED_OPEN : 0;
  if (request.left === 0) flags |= PACKED_SEEDER;
  if (input.transport === "udp") flags |= PACKED_UDP;
  if (input.wantPeerIds) flags |= PACKED_WANT_IDS;
  if (request.key !== null) flags |= PACKED_HAS_KEY;
  packed[0] = flags;
  packed[1] = EVENT_CODES[request.event];
  packed.writeUInt32BE(clampU32(limits.now), 2);
  // A cutoff before 0 expires nothing, as 0 does: every last-seen second is at least 0.
  packed.writeUInt32BE(clampU32(limits.cutoff), 6);
  packed.writeUInt32BE(clampU32(request.numwant), 10);
  packed.writeUInt32BE(clampU32(limits.maxTorrents), 14);
  packed.writeUInt32BE(clampU32(limits.maxPeers), 18);
  packed.writeUInt32BE(clampU32(limits.seed), 22);
  packed.writeUInt32BE(request.key === null ? 0 : hashKey(request.key) >>> 0, 26);
  packed.write(request.infoHash, 30, 20, "latin1");
  packed.write(request.peerId, 50, 20, "latin1");
  packed.set(address, PACKED_FIXED_SIZE);
  packed.writeUInt16BE(request.port, PACKED_FIXED_SIZE + address.length);
  return packed;
}

function clampU32(value: number): number {
  return value <= 0 ? 0 : value >= U32_MAX ? U32_MAX : Math.floor(value);
}
