/**
 * Info hashes of a parsed `.torrent` file, as byte strings.
 *
 * v1 (BEP 3): SHA-1 of the `info` value's bytes exactly as in the file. v2 (BEP 52): SHA-256 of
 * the same bytes; trackers see it truncated to its first 20 bytes. A hybrid torrent has both. The
 * hash is taken over the original bytes, never a re-encoding (which would sort keys). Hashing is
 * synchronous (`node:crypto`) so that loading thousands of files does not await per file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { bytesToByteString, type ByteString } from "./byte_string.ts";
import type { ParsedTorrent } from "./torrent_file.ts";

/** The hashes a tracker may be asked about for one torrent; `null` where the version is absent. */
export interface InfoHashes {
  /** SHA-1 of `info`, 20 raw bytes; `null` for a v2-only torrent. */
  v1: ByteString | null;
  /** First 20 bytes of SHA-256 of `info`; `null` for a v1-only torrent. */
  v2: ByteString | null;
}

/** Hashes `parsed.infoBytes` as each version the torrent speaks requires. */
export function infoHashesOf(
  parsed: Pick<ParsedTorrent, "infoBytes" | "isV1" | "isV2">,
): InfoHashes {
  return {
    v1: parsed.isV1 ? digest("sha1", parsed.infoBytes) : null,
    // BEP 52: "the truncated 20-byte form of the v2 info-hash" is what announces carry.
    v2: parsed.isV2 ? digest("sha256", parsed.infoBytes) : null,
  };
}

function digest(algorithm: "sha1" | "sha256", bytes: Uint8Array): ByteString {
  return bytesToByteString(createHash(algorithm).update(bytes).digest(), 0, 20);
}
