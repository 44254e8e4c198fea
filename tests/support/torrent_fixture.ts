/**
 * Writes minimal single-file `.torrent` files for tests that need an allowlist, and returns their
 * info hash computed independently here (SHA-1 over the exact `info` bytes written).
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
