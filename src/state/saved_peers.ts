/**
 * The byte layout of peers in the state file: one fixed-size record per peer, packed per swarm
 * and address family into one blob, so saving 100,000 peers writes 10,000 rows rather than 100,000
 * (see `tests/bench/state_store_compare.ts`). Pure: rows in, bytes out, and back.
 *
 * A record, big-endian: peer id (20 bytes), address (4 or 16), port (2), last seen (4, seconds
 * since the epoch), flags (1), key hash (4, signed), left, uploaded, downloaded (8 each, IEEE 754
 * doubles, as `PeerTable` keeps them).
 *
 * @module
 */
import type { PeerRow } from "./swarm_state.ts";
import { byteString20 } from "../protocol/byte_string.ts";

/** Bytes per saved peer of a family. */
export function savedPeerSize(addressLength: 4 | 16): number {
  return 20 + addressLength + 2 + 4 + 1 + 4 + 8 * 3;
}

/** Packs peers whose addresses all have `addressLength` bytes. */
export function encodeSavedPeers(peers: readonly PeerRow[], addressLength: 4 | 16): Uint8Array {
  const size = savedPeerSize(addressLength);
  const out = new Uint8Array(peers.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i];
    if (peer.address.length !== addressLength) {
      throw new Error(
        `peer ${i} has a ${peer.address.length}-byte address in a ${addressLength}-byte blob`,
      );
    }
    let at = i * size;
    for (let j = 0; j < 20; j++) out[at + j] = peer.peerId.charCodeAt(j);
    at += 20;
    out.set(peer.address, at);
    at += addressLength;
    view.setUint16(at, peer.port);
    view.setUint32(at + 2, peer.seenAt);
    view.setUint8(at + 6, peer.flags);
    view.setInt32(at + 7, peer.keyHash);
    view.setFloat64(at + 11, peer.left);
    view.setFloat64(at + 19, peer.uploaded);
    view.setFloat64(at + 27, peer.downloaded);
  }
  return out;
}

/** Peers in a blob; throws an `Error` if its length is not a whole number of records. */
export function savedPeerCount(bytes: Uint8Array, addressLength: 4 | 16): number {
  const size = savedPeerSize(addressLength);
  if (bytes.length % size !== 0) {
    throw new Error(
      `a ${bytes.length}-byte peer blob is not a whole number of ${size}-byte records`,
    );
  }
  return bytes.length / size;
}

/**
 * Unpacks a blob; throws an `Error` if its length is not a whole number of records. Each peer's
 * `address` is a view into `bytes`, not a copy: a restore of a million peers made a million
 * `slice()` copies, each with a backing store of its own, and collecting them took longer than
 * the decoding (`tests/bench/startup_restore.ts`). Whoever keeps an address copies it, as
 * `PeerTable.insert` does.
 */
export function decodeSavedPeers(bytes: Uint8Array, addressLength: 4 | 16): PeerRow[] {
  const size = savedPeerSize(addressLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  savedPeerCount(bytes, addressLength);
  const peers: PeerRow[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const rest = at + 20 + addressLength;
    peers.push({
      peerId: byteString20(bytes, at),
      address: bytes.subarray(at + 20, rest),
      port: view.getUint16(rest),
      seenAt: view.getUint32(rest + 2),
      flags: view.getUint8(rest + 6),
      keyHash: view.getInt32(rest + 7),
      left: view.getFloat64(rest + 11),
      uploaded: view.getFloat64(rest + 19),
      downloaded: view.getFloat64(rest + 27),
    });
  }
  return peers;
}
