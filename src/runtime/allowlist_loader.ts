/**
 * Loads the allowed-torrents directory into a new `Allowlist` (Deno I/O).
 *
 * Every `*.torrent` file below the directory, subdirectories included, is read, parsed and hashed;
 * `*.secret.torrent` files are marked secret. A bad file is skipped with a reason and the rest
 * still load, so one corrupt upload never empties the list. The result is a whole new value that
 * the caller swaps in (or, on a failed reload, drops): this module never touches a live list.
 * Whether a failure is fatal, and logging, belong to `main.ts`.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";
import { join } from "node:path";
import { Allowlist, type TorrentInfo } from "../core/allowlist.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import { infoHashesOf } from "../protocol/info_hash.ts";
import { parseTorrentFile, TorrentFileError } from "../protocol/torrent_file.ts";

/** A `.torrent` file (or directory) left out of the list, and why. */
export interface SkippedFile {
  /** Path relative to the loaded directory, `/`-separated. */
  path: string;
  /** Short reason in lower case, e.g. `"missing info dictionary"`. */
  reason: string;
}

/** The outcome of one load: the new list and what was left out of it. */
export interface AllowlistLoad {
  /** Every torrent that loaded, in path order. */
  allowlist: Allowlist;
  /** Files that did not load, in path order. */
  skipped: SkippedFile[];
}

/** Options for {@linkcode loadAllowlist}. */
export interface LoadAllowlistOptions {
  /**
   * Files read at once: enough to keep the disk busy, few enough not to exhaust file handles.
   * @default {64}
   */
  concurrency?: number;
}

/**
 * Loads every `*.torrent` below `dir`. Symbolic links are followed, but each real directory is
 * visited once, so a link loop ends. Of two files with the same info hash (v1 or v2), the first in
 * path order is kept.
 *
 * @throws {Error} naming `dir` when it is missing, unreadable, or not a directory.
 */
export async function loadAllowlist(
  dir: string,
  options: LoadAllowlistOptions = {},
): Promise<AllowlistLoad> {
  await assertDirectory(dir);
  const skipped: SkippedFile[] = [];
  const paths = await listTorrentFiles(dir, skipped);
  const outcomes = await mapBounded(paths, (path) => loadOne(dir, path), {
    limit: options.concurrency ?? 64,
  });

  const torrents: TorrentInfo[] = [];
  const pathOfHash = new Map<ByteString, string>();
  for (const outcome of outcomes) {
    if ("reason" in outcome) {
      skipped.push(outcome);
      continue;
    }
    const hashes = [outcome.infoHashV1, outcome.infoHashV2].filter((h) => h !== null);
    const earlier = hashes.map((h) => pathOfHash.get(h)).find((p) => p !== undefined);
    if (earlier !== undefined) {
      skipped.push({ path: outcome.path, reason: `duplicate info hash of ${earlier}` });
      continue;
    }
    for (const hash of hashes) pathOfHash.set(hash, outcome.path);
    torrents.push(outcome);
  }
  skipped.sort((a, b) => compare(a.path, b.path));
  return { allowlist: Allowlist.of(torrents), skipped };
}

async function assertDirectory(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Allowed torrents directory "${dir}" does not exist`, { cause: error });
    }
    throw new Error(`Allowed torrents directory "${dir}" cannot be read: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (!info.isDirectory) throw new Error(`Allowed torrents directory "${dir}" is not a directory`);
}

/** Relative paths of every torrent file below `root`, in path order. */
async function listTorrentFiles(root: string, skipped: SkippedFile[]): Promise<string[]> {
  const found: string[] = [];
  const visited = new Set<string>();

  const walk = async (rel: string): Promise<void> => {
    const abs = rel === "" ? root : join(root, rel);
    let entries: Deno.DirEntry[];
    try {
      // Real paths, not names, identify directories: two links to one directory, or a link to an
      // ancestor, would otherwise be walked again (forever, for the ancestor).
      const real = await Deno.realPath(abs);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await Array.fromAsync(Deno.readDir(abs));
    } catch (error) {
      skipped.push({ path: rel, reason: `unreadable directory: ${messageOf(error)}` });
      return;
    }
    entries.sort((a, b) => compare(a.name, b.name));
    for (const entry of entries) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      let { isDirectory, isFile } = entry;
      if (entry.isSymlink) {
        try {
          ({ isDirectory, isFile } = await Deno.stat(join(root, path)));
        } catch (error) {
          if (isTorrentName(entry.name)) {
            skipped.push({ path, reason: `unreadable: ${messageOf(error)}` });
          }
          continue;
        }
      }
      if (isDirectory) await walk(path);
      else if (isFile && isTorrentName(entry.name)) found.push(path);
    }
  };

  await walk("");
  return found.sort(compare);
}

async function loadOne(root: string, path: string): Promise<TorrentInfo | SkippedFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(join(root, path));
  } catch (error) {
    return { path, reason: `unreadable: ${messageOf(error)}` };
  }
  try {
    const parsed = parseTorrentFile(bytes);
    const hashes = infoHashesOf(parsed);
    return {
      name: parsed.name,
      size: parsed.size,
      secret: path.toLowerCase().endsWith(".secret.torrent"),
      infoHashV1: hashes.v1,
      infoHashV2: hashes.v2,
      path,
    };
  } catch (error) {
    if (error instanceof TorrentFileError) return { path, reason: error.message };
    throw error;
  }
}

/** `items.map(fn)` with at most `limit` calls pending at once; results keep the input order. */
async function mapBounded<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  { limit }: { limit: number },
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  return results;
}

function isTorrentName(name: string): boolean {
  return name.toLowerCase().endsWith(".torrent");
}

/** Code-unit order, so the load order (and which duplicate wins) never depends on the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
