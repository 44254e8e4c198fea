/**
 * The state file: an SQLite database (`node:sqlite`, built into Deno) holding every torrent's
 * `downloaded` count and, after a graceful stop, the live peers. The rows and their meaning are
 * `src/state/swarm_state.ts`; this module only reads and writes them.
 *
 * - Counts are written behind, in one transaction per period (`writeCounts`), in WAL mode with
 *   `synchronous = FULL`: a committed count survives a crash of the process and of the machine.
 * - `saveAll` replaces everything with a full snapshot (graceful stop).
 * - The file is opened in exclusive locking mode, so a second tracker cannot share it.
 *
 * Opening never throws. A file that cannot be read as a state file (not SQLite, damaged, a newer
 * schema, bad rows) is logged, renamed to `<name>.corrupt-<timestamp>` and replaced by an empty
 * one. A file locked by another process, or a place where no file can be made, is logged and the
 * tracker runs without a state file.
 *
 * @module
 */
import { oneLineMessageOf } from "../protocol/error_message.ts";
import { existsSync, renameSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import type { CountChanges, SwarmRow } from "./swarm_state.ts";
import { bytesToByteString, type ByteString, byteStringToBytes } from "../protocol/byte_string.ts";
import { decodeSavedPeers, encodeSavedPeers, savedPeerCount } from "./saved_peers.ts";
import type { Logger } from "../runtime/logger.ts";

/** The schema this code writes (SQLite `user_version`). */
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS torrents (
    info_hash BLOB PRIMARY KEY NOT NULL,
    downloaded INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS peers (
    info_hash BLOB NOT NULL,
    family INTEGER NOT NULL,
    records BLOB NOT NULL,
    PRIMARY KEY (info_hash, family)
  ) WITHOUT ROWID;`;

/** An open state file and what it held when opened. */
export interface OpenedState {
  store: StateStore;
  /**
   * Every saved swarm, counts and peers, for `importSwarms`; may be iterated again. The file is
   * read and checked whole at open, but each swarm's peers are decoded only as an iteration
   * reaches it: decoding a million saved peers up front kept a million objects alive at once,
   * and collecting them took most of a restore (`tests/bench/startup_restore.ts`).
   */
  rows: Iterable<SwarmRow>;
}

/** Options for `openStateStore`. */
export interface OpenStateOptions {
  logger: Logger;
  /** Milliseconds since the epoch, for the name of a file moved aside. @default Date.now */
  now?: () => number;
}

/**
 * Opens (or creates) the state file at `path` and reads it whole; the saved peers are then cleared,
 * so a crash later cannot bring back peers of an older stop. Returns `null` when the tracker has to
 * run without a state file; the log says why.
 */
export function openStateStore(path: string, options: OpenStateOptions): OpenedState | null {
  const { logger } = options;
  try {
    return openAndRead(path);
  } catch (error) {
    const reason = oneLineMessageOf(error);
    if (/database is locked/i.test(reason)) {
      logger.log("error", `state file ${path} is in use by another process: running without one`);
      return null;
    }
    if (!existsSync(path)) {
      logger.log("error", `cannot create state file ${path}: ${reason}: running without one`);
      return null;
    }
    const aside = `${path}.corrupt-${timestamp((options.now ?? Date.now)())}`;
    try {
      moveAside(path, aside);
    } catch (moveError) {
      logger.log(
        "error",
        `state file ${path} is unreadable (${reason}) and cannot be moved aside ` +
          `(${oneLineMessageOf(moveError)}): running without one`,
      );
      return null;
    }
    logger.log(
      "error",
      `state file ${path} is unreadable (${reason}): moved aside to ${aside}, starting empty`,
    );
    try {
      return openAndRead(path);
    } catch (retryError) {
      logger.log("error", `cannot create state file ${path}: ${oneLineMessageOf(retryError)}`);
      return null;
    }
  }
}

/** An open state file. Every method throws on an I/O error; the caller logs and goes on. */
export class StateStore {
  readonly path: string;
  readonly #db: DatabaseSync;

  constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Writes changed counts in one durable transaction. */
  writeCounts(changes: CountChanges): void {
    if (changes.upserts.length === 0 && changes.deletes.length === 0) return;
    this.#transaction(() => {
      const upsert = this.#upsertStatement();
      for (const [infoHash, count] of changes.upserts) {
        upsert.run(byteStringToBytes(infoHash), count);
      }
      const remove = this.#db.prepare("DELETE FROM torrents WHERE info_hash = ?");
      for (const infoHash of changes.deletes) remove.run(byteStringToBytes(infoHash));
    });
  }

  /**
   * Replaces the whole file with `rows` (counts and peers) and `held` counts (of torrents with
   * no swarm: open mode's kept counts, `Tracker.keptCounts`), in one transaction.
   */
  saveAll(rows: Iterable<SwarmRow>, held: Iterable<[ByteString, number]> = []): void {
    this.#transaction(() => {
      this.#db.exec("DELETE FROM torrents; DELETE FROM peers;");
      const upsert = this.#upsertStatement();
      const insertPeers = this.#db.prepare("INSERT INTO peers VALUES (?, ?, ?)");
      for (const row of rows) {
        const infoHash = byteStringToBytes(row.infoHash);
        if (row.downloaded > 0) upsert.run(infoHash, row.downloaded);
        for (const family of [4, 6] as const) {
          const length = family === 4 ? 4 : 16;
          const peers = row.peers.filter((peer) => peer.address.length === length);
          if (peers.length > 0) insertPeers.run(infoHash, family, encodeSavedPeers(peers, length));
        }
      }
      for (const [infoHash, count] of held) upsert.run(byteStringToBytes(infoHash), count);
    });
  }

  /** Closes the file; later calls throw. */
  close(): void {
    this.#db.close();
  }

  #upsertStatement() {
    return this.#db.prepare(
      "INSERT INTO torrents VALUES (?, ?) " +
        "ON CONFLICT (info_hash) DO UPDATE SET downloaded = excluded.downloaded",
    );
  }

  #transaction(body: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      body();
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

function openAndRead(path: string): OpenedState {
  const db = new DatabaseSync(path);
  try {
    // Exclusive before the first access: no shared-memory index, and no second process.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    // Checked before anything writes, so a file moved aside is kept exactly as it was found.
    const check = db.prepare("PRAGMA quick_check").get() as Record<string, unknown> | undefined;
    if (check?.quick_check !== "ok") throw new Error(`integrity check: ${check?.quick_check}`);
    const version = Number((db.prepare("PRAGMA user_version").get() ?? {}).user_version);
    if (version > SCHEMA_VERSION) throw new Error(`written by a newer NoBrake (schema ${version})`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("BEGIN IMMEDIATE");
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    const rows = readRows(db);
    db.exec("DELETE FROM peers");
    db.exec("COMMIT");
    return { store: new StateStore(path, db), rows };
  } catch (error) {
    try {
      db.close();
    } catch { /* already unusable */ }
    throw error;
  }
}

/** A saved swarm as read: its peers still packed, v4 and v6 apart (`null` for none). */
interface PackedRow {
  infoHash: ByteString;
  downloaded: number;
  records4: Uint8Array | null;
  records6: Uint8Array | null;
}

/**
 * Every saved swarm; throws on any row that is not as this code writes them. Every blob's length
 * is checked here, so a bad file is found at open, as before, even though peers are decoded later.
 */
function readRows(db: DatabaseSync): Iterable<SwarmRow> {
  const rows = new Map<ByteString, PackedRow>();
  const rowFor = (infoHash: unknown): PackedRow => {
    if (!(infoHash instanceof Uint8Array) || infoHash.length !== 20) {
      throw new Error("a saved info hash is not 20 bytes");
    }
    const key = bytesToByteString(infoHash);
    let row = rows.get(key);
    if (row === undefined) {
      rows.set(key, row = { infoHash: key, downloaded: 0, records4: null, records6: null });
    }
    return row;
  };
  for (const { info_hash, downloaded } of db.prepare("SELECT * FROM torrents").iterate()) {
    if (typeof downloaded !== "number" || !Number.isSafeInteger(downloaded) || downloaded < 0) {
      throw new Error(`a saved count is not a non-negative integer: ${String(downloaded)}`);
    }
    rowFor(info_hash).downloaded = downloaded;
  }
  for (const { info_hash, family, records } of db.prepare("SELECT * FROM peers").iterate()) {
    if ((family !== 4 && family !== 6) || !(records instanceof Uint8Array)) {
      throw new Error("a saved peer list is malformed");
    }
    savedPeerCount(records, family === 4 ? 4 : 16);
    // (info_hash, family) is the primary key: each is set at most once.
    if (family === 4) rowFor(info_hash).records4 = records;
    else rowFor(info_hash).records6 = records;
  }
  const packed = [...rows.values()];
  return { [Symbol.iterator]: () => unpackRows(packed) };
}

/** Decodes one swarm's peers at a time: IPv4 first, then IPv6, as they were read before. */
function* unpackRows(packed: readonly PackedRow[]): Generator<SwarmRow> {
  for (const { infoHash, downloaded, records4, records6 } of packed) {
    const v4 = records4 === null ? [] : decodeSavedPeers(records4, 4);
    const peers = records6 === null ? v4 : v4.concat(decodeSavedPeers(records6, 16));
    yield { infoHash, downloaded, peers };
  }
}

/** Renames the file and its write-ahead log, keeping them a pair SQLite can open together. */
function moveAside(path: string, aside: string): void {
  renameSync(path, aside);
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  }
}

/** `20260126T140115Z`: sorts by time and is safe in a file name. */
function timestamp(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}
