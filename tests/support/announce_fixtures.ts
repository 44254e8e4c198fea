/**
 * Builders for core-level announce inputs in tests: readable ids and addresses, time in seconds.
 *
 * @module
 */
import type { AnnounceInput } from "../../src/core/announce_input.ts";
import type { AnnounceRequest } from "../../src/protocol/messages.ts";
import type { ByteString } from "../../src/protocol/byte_string.ts";
import { parseIp } from "../../src/protocol/ip_address.ts";

/** A 20-byte byte string made from a short label, padded with `-`. */
export function id20(label: string): ByteString {
  if (label.length > 20) throw new Error(`label "${label}" is longer than 20`);
  return label.padEnd(20, "-");
}

/** Parses an address that the test knows is valid. */
export function ip(text: string): Uint8Array {
  const bytes = parseIp(text);
  if (bytes === null) throw new Error(`bad test address "${text}"`);
  return bytes;
}

/** Options for `announceInput`: any request field, plus the transport-level ones. */
export interface InputOptions extends Partial<AnnounceRequest> {
  address?: string;
  connectionAddress?: string;
  userAgent?: string;
  wantPeerIds?: boolean;
}

/** An announce of `peer` on `torrent`, a leecher with 100 bytes left unless told otherwise. */
export function announceInput(
  torrent: string,
  peer: string,
  options: InputOptions = {},
): AnnounceInput {
  const { address, connectionAddress, userAgent, wantPeerIds, ...fields } = options;
  return {
    request: {
      infoHash: id20(torrent),
      peerId: id20(peer),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 100,
      event: "none",
      numwant: 50,
      compact: true,
      noPeerId: false,
      key: null,
      claimedIp: null,
      claimedIpv4: null,
      claimedIpv6: null,
      ...fields,
    },
    address: ip(address ?? "10.0.0.1"),
    connectionAddress: connectionAddress === undefined ? null : ip(connectionAddress),
    userAgent: userAgent ?? "test/1.0",
    wantPeerIds: wantPeerIds ?? false,
  };
}

/** Splits compact peers with a known entry size (6 or 18). */
export function splitEndpoints(compact: Uint8Array, size: 6 | 18): string[] {
  const out: string[] = [];
  for (let i = 0; i < compact.length; i += size) {
    const address = compact.subarray(i, i + size - 2);
    const port = (compact[i + size - 2] << 8) | compact[i + size - 1];
    const text = size === 6
      ? [...address].join(".")
      : [...address].map((b) => b.toString(16).padStart(2, "0")).join("");
    out.push(`${text}:${port}`);
  }
  return out.sort();
}

export { seededRandom } from "./seeded_random.ts";

/**
 * Request `p` of torrent `t` in the benchmarks' swarms (`announce_bench.ts`,
 * `compare_versions.ts`): libtorrent-like ids, 3 peers in 10 seeders, compact, numwant 50.
 */
export function benchAnnounceRequest(
  t: number,
  p: number,
  event: AnnounceRequest["event"],
): AnnounceRequest {
  return {
    infoHash: `torrent-${t}`.padEnd(20, "."),
    peerId: `-LT2060-${p}`.padEnd(20, "x"),
    port: 10_000 + p,
    uploaded: 16_384 * p,
    downloaded: 0,
    left: p % 10 < 3 ? 0 : 1_000_000,
    event,
    numwant: 50,
    compact: true,
    noPeerId: true,
    key: "1A2B3C4D",
    claimedIp: null,
    claimedIpv4: null,
    claimedIpv6: null,
  };
}
