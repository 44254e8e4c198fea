/**
 * The allowlist: which info hashes the tracker serves, and what it knows of each torrent.
 *
 * An `Allowlist` is immutable. Reloading builds a new one aside (see `src/runtime/`) and swaps it
 * into the tracker in one assignment, so a request never sees half a list. Open mode (`"*"`) is an
 * allowlist that admits every hash and knows no torrent.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";

/** What the tracker knows of one allowed torrent, from its `.torrent` file. */
export interface TorrentInfo {
  /** The `info.name`, as UTF-8 text (may be any string: escape it before display). */
  name: string;
  /** Total size in bytes over all files. */
  size: number;
  /** Hidden from full scrapes and /stats unless asked for by hash (`*.secret.torrent`). */
  secret: boolean;
  /** SHA-1 of `info` (v1); `null` for a v2-only torrent. 20 raw bytes. */
  infoHashV1: ByteString | null;
  /** First 20 bytes of SHA-256 of `info` (BEP 52); `null` for a v1-only torrent. */
  infoHashV2: ByteString | null;
  /** Path of the `.torrent` file, relative to the allowed directory. */
  path: string;
}

/** An immutable set of allowed torrents, or open mode. */
export class Allowlist {
  readonly #byHash: ReadonlyMap<ByteString, TorrentInfo>;
  readonly #torrents: readonly TorrentInfo[];
  /** True in open mode: every info hash is allowed. */
  readonly open: boolean;

  private constructor(open: boolean, torrents: readonly TorrentInfo[]) {
    this.open = open;
    this.#torrents = torrents;
    const byHash = new Map<ByteString, TorrentInfo>();
    for (const torrent of torrents) {
      if (torrent.infoHashV1 !== null) byHash.set(torrent.infoHashV1, torrent);
      if (torrent.infoHashV2 !== null) byHash.set(torrent.infoHashV2, torrent);
    }
    this.#byHash = byHash;
  }

  /** Open mode: any info hash is tracked. */
  static openMode(): Allowlist {
    return new Allowlist(true, []);
  }

  /** A list admitting exactly these torrents (both hashes of a hybrid torrent). */
  static of(torrents: readonly TorrentInfo[]): Allowlist {
    return new Allowlist(false, torrents);
  }

  /** Whether announces for this hash are served. */
  allows(infoHash: ByteString): boolean {
    return this.open || this.#byHash.has(infoHash);
  }

  /** The torrent this hash belongs to, if the list knows it. */
  get(infoHash: ByteString): TorrentInfo | undefined {
    return this.#byHash.get(infoHash);
  }

  /** Every known torrent, secret ones included, in load order. */
  get torrents(): readonly TorrentInfo[] {
    return this.#torrents;
  }

  /** Every allowed hash (two per hybrid torrent). */
  hashes(): IterableIterator<ByteString> {
    return this.#byHash.keys();
  }

  /** Number of allowed torrents (a hybrid torrent counts once). */
  get size(): number {
    return this.#torrents.length;
  }
}

/**
 * Hashes that `after` allows and `before` did not (`added`), and the reverse (`removed`), so a
 * reload can be logged and swarms of removed torrents dropped. Open mode has no hashes of its own:
 * diffing against it reports only the other list's hashes.
 */
export function diffAllowlists(
  before: Allowlist,
  after: Allowlist,
): { added: ByteString[]; removed: ByteString[] } {
  const added: ByteString[] = [];
  const removed: ByteString[] = [];
  for (const hash of after.hashes()) if (before.get(hash) === undefined) added.push(hash);
  for (const hash of before.hashes()) if (after.get(hash) === undefined) removed.push(hash);
  return { added, removed };
}
