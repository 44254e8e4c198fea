/**
 * Writes single-file `.torrent` files for tests that need an allowlist (minimal ones, or the real
 * torrent of given bytes), and returns their info hash computed independently here (SHA-1 over
 * the exact `info` bytes written).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { encodeBencode } from "../../src/protocol/bencode_encode.ts";

/** Writes `<dir>/<fileName>` for a torrent named `name`; returns its 20-byte v1 info hash. */
export async function writeTorrentFile(
  dir: string,
  fileName: string,
  name: string,
): Promise<Uint8Array> {
  const info = encodeBencode({
    length: 1000,
    name,
    "piece length": 16384,
    pieces: new Uint8Array(20),
  });
  const announce = "http://tracker.invalid/announce";
  const head = new TextEncoder().encode(`d8:announce${announce.length}:${announce}4:info`);
  const file = new Uint8Array(head.length + info.length + 1);
  file.set(head);
  file.set(info, head.length);
  file[file.length - 1] = "e".charCodeAt(0);
  await Deno.writeFile(join(dir, fileName), file);
  return new Uint8Array(createHash("sha1").update(info).digest());
}

/**
 * Writes `<dir>/<fileName>`, the single-file torrent of `content` named `name` with pieces of
 * `pieceLength` bytes (real piece hashes, so a client can seed and verify it); returns its
 * 20-byte v1 info hash, the SHA-1 of the `info` bytes written.
 */
export async function writeContentTorrent(
  dir: string,
  fileName: string,
  options: { name: string; content: Uint8Array; pieceLength: number },
): Promise<Uint8Array> {
  const { content, pieceLength } = options;
  const pieceCount = Math.ceil(content.length / pieceLength);
  const pieces = new Uint8Array(20 * pieceCount);
  for (let i = 0; i < pieceCount; i++) {
    const piece = content.subarray(i * pieceLength, (i + 1) * pieceLength);
    pieces.set(createHash("sha1").update(piece).digest(), 20 * i);
  }
  const info = encodeBencode({
    length: content.length,
    name: options.name,
    "piece length": pieceLength,
    pieces,
  });
  const head = new TextEncoder().encode("d4:info");
  const file = new Uint8Array(head.length + info.length + 1);
  file.set(head);
  file.set(info, head.length);
  file[file.length - 1] = "e".charCodeAt(0);
  await Deno.writeFile(join(dir, fileName), file);
  return new Uint8Array(createHash("sha1").update(info).digest());
}
