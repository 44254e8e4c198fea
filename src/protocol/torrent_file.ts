/**
 * Reads what the tracker needs from a `.torrent` file: its name, total size, which protocol
 * versions it speaks, and the exact bytes of its `info` dictionary (to hash, see `info_hash.ts`).
 *
 * v1 torrents (BEP 3) have `info.pieces` and either `info.length` or `info.files`. v2 torrents
 * (BEP 52) have `info["meta version"] == 2` and a `file tree`. A hybrid torrent has both, and both
 * must describe the same total size. Only what this module uses is validated: it checks shapes,
 * not piece hashes, and it never touches the disk.
 *
 * @module
 */
import { BDict, BencodeError, type BValue, decodeBencode } from "./bencode_decode.ts";

/** What a `.torrent` file says about itself, as far as a tracker cares. */
export interface ParsedTorrent {
  /** `info.name` decoded as UTF-8 (invalid sequences become U+FFFD). */
  name: string;
  /** Total size in bytes of all files, BEP 47 padding files excluded. */
  size: number;
  /** The `info` value's bytes exactly as in the file (a `subarray` of the input). */
  infoBytes: Uint8Array;
  /** Has v1 metadata (`info.pieces`, BEP 3). */
  isV1: boolean;
  /** Has v2 metadata (`info["meta version"] == 2`, BEP 52). */
  isV2: boolean;
}

/** A `.torrent` file that cannot be used; the message is a short reason in lower case. */
export class TorrentFileError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "TorrentFileError";
  }
}

// Not fatal: a name with broken UTF-8 is still a usable torrent. `ignoreBOM` keeps the name as is.
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Parses a `.torrent` file.
 *
 * @throws {TorrentFileError} when the file is not bencoded or lacks what a torrent must have.
 */
export function parseTorrentFile(bytes: Uint8Array): ParsedTorrent {
  let root: BValue;
  try {
    root = decodeBencode(bytes);
  } catch (error) {
    if (error instanceof BencodeError) throw new TorrentFileError(`not bencoded: ${error.message}`);
    throw error;
  }
  if (!(root instanceof BDict)) throw new TorrentFileError("top level is not a dictionary");
  const info = root.get("info");
  if (info === undefined) throw new TorrentFileError("missing info dictionary");
  if (!(info instanceof BDict)) throw new TorrentFileError("info is not a dictionary");

  const name = info.get("name");
  if (!(name instanceof Uint8Array)) throw new TorrentFileError("info.name is not a string");
  const pieceLength = info.get("piece length");
  if (typeof pieceLength !== "number" || pieceLength <= 0) {
    throw new TorrentFileError("info.piece length is not a positive integer");
  }

  const metaVersion = info.get("meta version");
  if (metaVersion !== undefined && metaVersion !== 2) {
    throw new TorrentFileError(`unsupported info.meta version ${describe(metaVersion)}`);
  }
  const isV2 = metaVersion === 2;
  const isV1 = info.has("pieces");
  if (!isV1 && !isV2) {
    throw new TorrentFileError("neither v1 (info.pieces) nor v2 (info.meta version 2)");
  }

  const v1Size = isV1 ? sizeV1(info) : null;
  const v2Size = isV2 ? sizeV2(info) : null;
  // BEP 52: the v1 part of a hybrid torrent must describe the same files as the v2 part.
  if (v1Size !== null && v2Size !== null && v1Size !== v2Size) {
    throw new TorrentFileError(`v1 and v2 sizes disagree (${v1Size} and ${v2Size})`);
  }
  return {
    name: UTF8.decode(name),
    size: (v2Size ?? v1Size)!,
    infoBytes: root.rawOf("info")!,
    isV1,
    isV2,
  };
}

/** BEP 3: `length` for one file, or a non-empty `files` list of `{ length, path }`. */
function sizeV1(info: BDict): number {
  const pieces = info.get("pieces");
  if (!(pieces instanceof Uint8Array) || pieces.length % 20 !== 0) {
    throw new TorrentFileError("info.pieces is not a string of 20-byte hashes");
  }
  const length = info.get("length");
  const files = info.get("files");
  if (length !== undefined && files !== undefined) {
    throw new TorrentFileError("info has both length and files");
  }
  if (length !== undefined) return addSize(0, length, "info.length");
  if (!Array.isArray(files)) throw new TorrentFileError("info has neither length nor files");
  if (files.length === 0) throw new TorrentFileError("no files");
  let total = 0;
  for (const file of files) {
    if (!(file instanceof BDict)) {
      throw new TorrentFileError("info.files entry is not a dictionary");
    }
    const size = addSize(total, file.get("length"), "info.files[].length");
    // BEP 47: padding files (attr contains "p") align the next file and are not content. Hybrid
    // torrents (BEP 52) always have them.
    const attr = file.get("attr");
    if (!(attr instanceof Uint8Array && attr.includes(0x70))) total = size;
  }
  return total;
}

/** BEP 52: a `file tree` of directories whose leaves are `{ "": { length, ... } }`. */
function sizeV2(info: BDict): number {
  const tree = info.get("file tree");
  if (!(tree instanceof BDict)) throw new TorrentFileError("info.file tree is not a dictionary");
  const totals = { files: 0, size: 0 };
  walkFileTree(tree, totals);
  if (totals.files === 0) throw new TorrentFileError("no files");
  return totals.size;
}

/** Adds each file below `node` to `totals`; nesting is bounded by the decoder's depth limit. */
function walkFileTree(node: BDict, totals: { files: number; size: number }): void {
  for (const [component, child] of node.entries()) {
    if (component === "") throw new TorrentFileError("info.file tree has an empty path component");
    if (!(child instanceof BDict)) {
      throw new TorrentFileError("info.file tree entry is not a dictionary");
    }
    if (!child.has("")) {
      walkFileTree(child, totals);
      continue;
    }
    // A file is a dictionary with the single key "" (BEP 52), so it cannot also be a directory.
    const leaf = child.get("");
    if (child.size !== 1 || !(leaf instanceof BDict)) {
      throw new TorrentFileError("info.file tree file entry is malformed");
    }
    totals.size = addSize(totals.size, leaf.get("length"), "info.file tree length");
    totals.files++;
  }
}

/** `total + length`, checking that `length` is a size and the sum stays exact. */
function addSize(total: number, length: BValue | undefined, where: string): number {
  if (typeof length === "bigint" && length > 0n) {
    throw new TorrentFileError("total size is too large");
  }
  if (typeof length !== "number" || length < 0) {
    throw new TorrentFileError(`${where} is not a non-negative integer`);
  }
  const sum = total + length;
  if (!Number.isSafeInteger(sum)) throw new TorrentFileError("total size is too large");
  return sum;
}

function describe(value: BValue): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return value instanceof Uint8Array ? JSON.stringify(UTF8.decode(value)) : "(not an integer)";
}
