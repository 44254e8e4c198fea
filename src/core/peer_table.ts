/**
 * The peers of one swarm in one address family: `PeerTable`, a dense array of the fixed-size
 * records that `peer_records.ts` lays out and pools.
 *
 * Slots are dense and partitioned: seeders occupy `[0, seeders)`, leechers `[seeders, count)`, so
 * "leechers first for a seeder" and random sampling are range operations. Past `SMALL_TABLE`
 * peers a peer id → slot index (open addressing, linear probing, backward-shift deletion) finds a
 * peer without scanning; a smaller table has no index and is scanned, since most swarms are small
 * and an index is a typed array of its own (about 200 bytes of V8 objects whatever its size). Two
 * entries swap through one scratch record per pool.
 *
 * A table grows a block of records at a time and never copies its peers to a bigger array (see
 * `peer_records.ts` for why); it gives blocks back as it shrinks, and all of them on `clear`.
 *
 * The record layout, the flags and the pools are defined in `peer_records.ts`; import them from
 * there.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";
import * as layout from "./peer_records.ts";
import type { PeerRecord, RecordPool, RecordPools } from "./peer_records.ts";

// The layout as constants of this module, read in the inner loops: V8 folds a module's own
// constants into the code it compiles but reads an imported binding from its cell on each use.
// With the imports used directly, the split from `peer_records.ts` measured slower; with these,
// as fast as the single module it was (same-sitting `deno bench`, both orders).
const AGENT = layout.AGENT;
const BLOCK_RECORDS = layout.BLOCK_RECORDS;
const BLOCK_SHIFT = layout.BLOCK_SHIFT;
const BODY_SIZE = layout.BODY_SIZE;
const DOWNLOADED = layout.DOWNLOADED;
const FLAGS = layout.FLAGS;
const KEY_HASH = layout.KEY_HASH;
const LEFT = layout.LEFT;
const PAGE_BLOCKS = layout.PAGE_BLOCKS;
const PAGE_SHIFT = layout.PAGE_SHIFT;
const PARTIAL_SEED = layout.PARTIAL_SEED;
const PEER_ID = layout.PEER_ID;
const SEEDER = layout.SEEDER;
const SEEN_AT = layout.SEEN_AT;
const UPLOADED = layout.UPLOADED;

/** Largest table without an index; an index is built past it and dropped at half of it. */
const SMALL_TABLE = 8;
/** Smallest index (cells); the index is kept at most half full. */
const MIN_INDEX = 32;

/*
 * Where a slot's record lives: its block id (`#blockOf`) names the page (`block >> PAGE_SHIFT`),
 * and `bodyAt`/`endpointAt` give the byte offsets of its body and its endpoint in that page. They
 * are returned, not left in fields: a tracker holds one table per swarm and family, most of them
 * small, and three more fields each would cost more memory than the recomputation costs time.
 */

/** Byte offset, in its page, of the body of `slot`, whose block is `block`. */
function bodyAt(pool: RecordPool, block: number, slot: number): number {
  return (block & (PAGE_BLOCKS - 1)) * pool.blockSize + pool.bodiesAt +
    (slot & (BLOCK_RECORDS - 1)) * BODY_SIZE;
}

/** Byte offset, in its page, of the endpoint of `slot`, whose block is `block`. */
function endpointAt(pool: RecordPool, block: number, slot: number): number {
  return (block & (PAGE_BLOCKS - 1)) * pool.blockSize +
    (slot & (BLOCK_RECORDS - 1)) * pool.endpointSize;
}

/** The peers of one swarm in one address family (4 or 16 address bytes). */
export class PeerTable {
  // Few fields: a tracker holds one table per swarm, most of them small.
  #count = 0;
  #seeders = 0;
  #partials = 0;
  readonly #pool: RecordPool;
  /**
   * Block ids of slots `[i * BLOCK_RECORDS, (i + 1) * BLOCK_RECORDS)`. Short arrays are copied to
   * grow, so they stay exactly as long as they need to be (`push` would make room for 16 more).
   */
  #blocks: number[] = [];
  /**
   * Open-addressing index: cell value is slot + 1, 0 is empty. Size is a power of two. `null`
   * while the table has at most `SMALL_TABLE` peers.
   */
  #index: Uint16Array | Int32Array | null = null;
  /** The rare peers whose announce came from another address than the one listed. */
  #connectionAddresses: Map<ByteString, Uint8Array> | null = null;
  readonly #hashSeed: number;

  /** A table for `addressLength`-byte addresses, drawing records from `pools`. */
  constructor(addressLength: 4 | 16, hashSeed: number, pools: RecordPools) {
    this.#hashSeed = hashSeed | 0;
    this.#pool = pools[addressLength];
  }

  /** 4 or 16 address bytes. */
  get addressLength(): 4 | 16 {
    return this.#pool.addressLength;
  }

  /** Bytes per compact endpoint: address then big-endian port. */
  get endpointSize(): number {
    return this.#pool.endpointSize;
  }

  /** Number of peers. */
  get count(): number {
    return this.#count;
  }

  /** Number of seeders; they occupy slots `[0, seeders)`. */
  get seeders(): number {
    return this.#seeders;
  }

  /** Number of BEP 21 partial seeds (all of them leechers). */
  get partialSeeds(): number {
    return this.#partials;
  }

  /** The slot of this peer id, or -1. */
  find(peerId: ByteString): number {
    const index = this.#index;
    if (index === null) {
      for (let slot = 0; slot < this.#count; slot++) if (this.#idEquals(slot, peerId)) return slot;
      return -1;
    }
    const mask = index.length - 1;
    for (let cell = this.#hashOfString(peerId) & mask;; cell = (cell + 1) & mask) {
      const value = index[cell];
      if (value === 0) return -1;
      if (this.#idEquals(value - 1, peerId)) return value - 1;
    }
  }

  /** Adds a peer that `find` did not find; returns its slot. */
  insert(peerId: ByteString, address: Uint8Array, port: number, record: PeerRecord): number {
    while (this.#blocks.length << BLOCK_SHIFT < this.#count + 1) {
      const block = this.#pool.allocate();
      if (this.#blocks.length < 16) this.#blocks = this.#blocks.concat(block);
      else this.#blocks.push(block);
    }
    let slot = this.#count;
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const bytes = pool.bytes[block >> PAGE_SHIFT];
    const at = bodyAt(pool, block, slot) + PEER_ID;
    for (let i = 0; i < 20; i++) bytes[at + i] = peerId.charCodeAt(i);
    this.#count++;
    const index = this.#index;
    if (index !== null) {
      if (this.#count * 2 > index.length) this.#reindex(index.length * 2);
      else this.#indexInsert(index, slot);
    } else if (this.#count > SMALL_TABLE) this.#reindex(MIN_INDEX);
    this.#writeEndpoint(slot, address, port);
    this.#writeRecord(slot, record);
    if (record.flags & SEEDER) slot = this.#moveAcrossPartition(slot, true);
    return slot;
  }

  /** Updates a found peer; returns its slot, which changes when it becomes or stops being a seeder. */
  update(slot: number, address: Uint8Array, port: number, record: PeerRecord): number {
    const wasSeeder = slot < this.#seeders;
    this.#writeEndpoint(slot, address, port);
    if (this.flagsOf(slot) & PARTIAL_SEED) this.#partials--;
    this.#writeRecord(slot, record);
    const isSeeder = (record.flags & SEEDER) !== 0;
    return wasSeeder === isSeeder ? slot : this.#moveAcrossPartition(slot, isSeeder);
  }

  /** Removes the peer in `slot`. Other peers may move to other slots. */
  remove(slot: number): void {
    if (this.#index !== null) this.#indexDelete(this.#index, slot);
    if (this.flagsOf(slot) & PARTIAL_SEED) this.#partials--;
    if (this.#connectionAddresses !== null) this.#connectionAddresses.delete(this.peerIdOf(slot));
    const last = this.#count - 1;
    if (slot < this.#seeders) {
      const lastSeeder = this.#seeders - 1;
      if (slot !== lastSeeder) this.#move(lastSeeder, slot);
      if (lastSeeder !== last) this.#move(last, lastSeeder);
      this.#seeders--;
    } else if (slot !== last) this.#move(last, slot);
    this.#count--;
    // Give back blocks beyond one spare (none when empty), so a table near a block boundary
    // does not take and return the same block on every join and leave.
    const keep = this.#count === 0 ? 0 : ((this.#count - 1) >> BLOCK_SHIFT) + 2;
    while (this.#blocks.length > keep) this.#pool.release(this.#blocks.pop() as number);
    const index = this.#index;
    if (index === null) return;
    if (this.#count <= SMALL_TABLE >> 1) this.#index = null;
    else if (this.#count * 8 < index.length && index.length > MIN_INDEX) {
      this.#reindex(index.length / 2);
    }
  }

  /** Removes every peer and gives every block back to the pool (a swarm being dropped). */
  clear(): void {
    for (const block of this.#blocks) this.#pool.release(block);
    this.#blocks = [];
    this.#index = null;
    this.#count = 0;
    this.#seeders = 0;
    this.#partials = 0;
    this.#connectionAddresses = null;
  }

  /** Removes every peer last seen before `cutoff` seconds; returns how many. */
  removeSeenBefore(cutoff: number): number {
    let removed = 0;
    // Backwards: removal only moves entries from higher slots, which were already checked.
    for (let slot = this.#count - 1; slot >= 0; slot--) {
      if (slot < this.#count && this.#seenAtOf(slot) < cutoff) {
        this.remove(slot);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Copies up to `want` endpoints from slots `[from, to)` into `out` at `offset`, starting at a
   * random slot and wrapping, skipping slot `exclude`. Peer ids go to `ids` when given.
   * Returns how many were copied.
   */
  sample(
    range: { from: number; to: number; want: number; exclude: number; random: () => number },
    out: Uint8Array,
    offset: number,
    ids: Uint8Array | null,
  ): number {
    const { from, to, want, exclude } = range;
    const size = to - from;
    if (size <= 0 || want <= 0) return 0;
    const available = size - (exclude >= from && exclude < to ? 1 : 0);
    const take = Math.min(want, available);
    const start = take === available ? 0 : Math.floor(range.random() * size);
    const pool = this.#pool;
    const entry = pool.endpointSize;
    let written = 0;
    let slot = from + start;
    while (written < take) {
      if (slot === to) slot = from;
      if (slot === exclude) {
        slot++;
        continue;
      }
      // A run of slots in one block has its endpoints side by side: locate it once and copy
      // them in one loop, as a view and a `set` cost more than the copy itself.
      let end = Math.min((slot | (BLOCK_RECORDS - 1)) + 1, to, slot + take - written);
      if (exclude >= slot && exclude < end) end = exclude;
      const block = this.#blockOf(slot);
      const bytes = pool.bytes[block >> PAGE_SHIFT];
      const runBytes = (end - slot) * entry;
      const target = offset + written * entry;
      // Two bytes a step: endpoints are 6 or 18 bytes, and this loop is the largest single part
      // of a reply's cost in the core (tests/bench/README.md, "Parsing bytes; sampling
      // endpoints").
      const source = endpointAt(pool, block, slot);
      for (let i = 0; i < runBytes; i += 2) {
        out[target + i] = bytes[source + i];
        out[target + i + 1] = bytes[source + i + 1];
      }
      if (ids !== null) {
        const bodies = bodyAt(pool, block, slot);
        for (let at = bodies, n = written; n < written + end - slot; n++, at += BODY_SIZE) {
          const idTarget = (offset / entry + n) * 20;
          for (let i = 0; i < 20; i++) ids[idTarget + i] = bytes[at + PEER_ID + i];
        }
      }
      written += end - slot;
      slot = end;
    }
    return written;
  }

  /** The peer id in `slot`. */
  peerIdOf(slot: number): ByteString {
    const block = this.#blockOf(slot);
    const bytes = this.#pool.bytes[block >> PAGE_SHIFT];
    const at = bodyAt(this.#pool, block, slot) + PEER_ID;
    let id = "";
    for (let i = 0; i < 20; i++) id += String.fromCharCode(bytes[at + i]);
    return id;
  }

  /** The listed address bytes of `slot` (a copy). */
  addressOf(slot: number): Uint8Array {
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const at = endpointAt(pool, block, slot);
    return pool.bytes[block >> PAGE_SHIFT].slice(at, at + pool.addressLength);
  }

  /** The listed port of `slot`. */
  portOf(slot: number): number {
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const bytes = pool.bytes[block >> PAGE_SHIFT];
    const at = endpointAt(pool, block, slot) + pool.addressLength;
    return (bytes[at] << 8) | bytes[at + 1];
  }

  /** True when `slot` lists exactly this address. */
  hasAddress(slot: number, address: Uint8Array): boolean {
    const block = this.#blockOf(slot);
    const bytes = this.#pool.bytes[block >> PAGE_SHIFT];
    const at = endpointAt(this.#pool, block, slot);
    for (let i = 0, n = this.#pool.addressLength; i < n; i++) {
      if (bytes[at + i] !== address[i]) return false;
    }
    return true;
  }

  /** What the last announce of `slot` recorded. */
  recordOf(slot: number): PeerRecord {
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const page = block >> PAGE_SHIFT;
    const at = bodyAt(pool, block, slot);
    const bytes = pool.bytes[page];
    const floats = pool.floats[page];
    return {
      seenAt: pool.words[page][(at + SEEN_AT) >> 2],
      flags: bytes[at + FLAGS],
      keyHash: pool.signed[page][(at + KEY_HASH) >> 2],
      left: floats[(at + LEFT) >> 2],
      uploaded: floats[(at + UPLOADED) >> 2],
      downloaded: floats[(at + DOWNLOADED) >> 2],
      agent: bytes[at + AGENT] | (bytes[at + AGENT + 1] << 8),
    };
  }

  /** Flags of `slot` (cheaper than `recordOf` on the hot path). */
  flagsOf(slot: number): number {
    const block = this.#blockOf(slot);
    return this.#pool.bytes[block >> PAGE_SHIFT][bodyAt(this.#pool, block, slot) + FLAGS];
  }

  /** Interned user agent id of `slot` (cheaper than `recordOf`). */
  agentOf(slot: number): number {
    const block = this.#blockOf(slot);
    const bytes = this.#pool.bytes[block >> PAGE_SHIFT];
    const at = bodyAt(this.#pool, block, slot) + AGENT;
    return bytes[at] | (bytes[at + 1] << 8);
  }

  /** Key hash of `slot`. */
  keyHashOf(slot: number): number {
    const block = this.#blockOf(slot);
    const at = bodyAt(this.#pool, block, slot) + KEY_HASH;
    return this.#pool.signed[block >> PAGE_SHIFT][at >> 2];
  }

  /** Remembers (or forgets, with `null`) the connection address of a peer listed elsewhere. */
  setConnectionAddress(peerId: ByteString, address: Uint8Array | null): void {
    if (address === null) {
      this.#connectionAddresses?.delete(peerId);
      return;
    }
    // A copy: the caller's bytes may be a view that keeps a whole slab alive (`byte_slab.ts`).
    (this.#connectionAddresses ??= new Map()).set(peerId, address.slice());
  }

  /** The connection address of a peer whose listed address was claimed with `ip=`. */
  connectionAddressOf(peerId: ByteString): Uint8Array | null {
    return this.#connectionAddresses?.get(peerId) ?? null;
  }

  /** The id of the block holding `slot` (its page is `block >> PAGE_SHIFT`). */
  #blockOf(slot: number): number {
    return this.#blocks[slot >> BLOCK_SHIFT];
  }

  #seenAtOf(slot: number): number {
    const block = this.#blockOf(slot);
    const at = bodyAt(this.#pool, block, slot) + SEEN_AT;
    return this.#pool.words[block >> PAGE_SHIFT][at >> 2];
  }

  #writeEndpoint(slot: number, address: Uint8Array, port: number): void {
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const bytes = pool.bytes[block >> PAGE_SHIFT];
    const at = endpointAt(pool, block, slot);
    const length = pool.addressLength;
    for (let i = 0; i < length; i++) bytes[at + i] = address[i];
    bytes[at + length] = port >> 8;
    bytes[at + length + 1] = port & 0xff;
  }

  #writeRecord(slot: number, record: PeerRecord): void {
    const pool = this.#pool;
    const block = this.#blockOf(slot);
    const page = block >> PAGE_SHIFT;
    const at = bodyAt(pool, block, slot);
    const bytes = pool.bytes[page];
    const floats = pool.floats[page];
    pool.words[page][(at + SEEN_AT) >> 2] = record.seenAt;
    bytes[at + FLAGS] = record.flags;
    if (record.flags & PARTIAL_SEED) this.#partials++;
    pool.signed[page][(at + KEY_HASH) >> 2] = record.keyHash;
    // Rounded to float32 (see the module doc): shown on /stats, never compared.
    floats[(at + LEFT) >> 2] = record.left;
    floats[(at + UPLOADED) >> 2] = record.uploaded;
    floats[(at + DOWNLOADED) >> 2] = record.downloaded;
    bytes[at + AGENT] = record.agent & 0xff;
    bytes[at + AGENT + 1] = (record.agent >> 8) & 0xff;
  }

  /** Swaps `slot` with the partition boundary so it lands among seeders or leechers. */
  #moveAcrossPartition(slot: number, toSeeders: boolean): number {
    const target = toSeeders ? this.#seeders : this.#seeders - 1;
    if (toSeeders) this.#seeders++;
    else this.#seeders--;
    if (target !== slot) this.#swap(slot, target);
    return target;
  }

  #swap(a: number, b: number): void {
    const index = this.#index;
    const cellA = index === null ? -1 : this.#cellOf(index, a);
    const cellB = index === null ? -1 : this.#cellOf(index, b);
    const pool = this.#pool;
    const scratch = pool.scratch;
    const scratchEndpoint = pool.scratchEndpoint;
    // As 32-bit words: copying the floats as floats could rewrite a NaN's bits.
    let block = this.#blockOf(a);
    let words = pool.words[block >> PAGE_SHIFT];
    let bytes = pool.bytes[block >> PAGE_SHIFT];
    let at = bodyAt(pool, block, a) >> 2;
    let endpoint = endpointAt(pool, block, a);
    for (let i = 0; i < scratch.length; i++) scratch[i] = words[at + i];
    for (let i = 0; i < scratchEndpoint.length; i++) scratchEndpoint[i] = bytes[endpoint + i];
    this.#copy(b, a);
    block = this.#blockOf(b);
    words = pool.words[block >> PAGE_SHIFT];
    bytes = pool.bytes[block >> PAGE_SHIFT];
    at = bodyAt(pool, block, b) >> 2;
    endpoint = endpointAt(pool, block, b);
    for (let i = 0; i < scratch.length; i++) words[at + i] = scratch[i];
    for (let i = 0; i < scratchEndpoint.length; i++) bytes[endpoint + i] = scratchEndpoint[i];
    if (index !== null) {
      index[cellA] = b + 1;
      index[cellB] = a + 1;
    }
  }

  /** Copies the record of `from` over `to` and repoints the index; `from` becomes garbage. */
  #move(from: number, to: number): void {
    const index = this.#index;
    if (index !== null) index[this.#cellOf(index, from)] = to + 1;
    this.#copy(from, to);
  }

  /** Copies the record of `from` over `to` (body as 32-bit words); the index is the caller's. */
  #copy(from: number, to: number): void {
    const pool = this.#pool;
    const fromBlock = this.#blockOf(from);
    const source = pool.words[fromBlock >> PAGE_SHIFT];
    const sourceBytes = pool.bytes[fromBlock >> PAGE_SHIFT];
    const sourceAt = bodyAt(pool, fromBlock, from) >> 2;
    const sourceEndpoint = endpointAt(pool, fromBlock, from);
    const toBlock = this.#blockOf(to);
    const target = pool.words[toBlock >> PAGE_SHIFT];
    const targetBytes = pool.bytes[toBlock >> PAGE_SHIFT];
    const targetAt = bodyAt(pool, toBlock, to) >> 2;
    const targetEndpoint = endpointAt(pool, toBlock, to);
    for (let i = 0; i < BODY_SIZE >> 2; i++) target[targetAt + i] = source[sourceAt + i];
    for (let i = 0; i < pool.endpointSize; i++) {
      targetBytes[targetEndpoint + i] = sourceBytes[sourceEndpoint + i];
    }
  }

  /** Rebuilds the index with `cells` cells (a power of two). */
  #reindex(cells: number): void {
    // 16-bit cells while every slot + 1 fits in them: half the index memory of small swarms.
    const index = cells <= 0x10000 ? new Uint16Array(cells) : new Int32Array(cells);
    this.#index = index;
    for (let slot = 0; slot < this.#count; slot++) this.#indexInsert(index, slot);
  }

  #indexInsert(index: Uint16Array | Int32Array, slot: number): void {
    const mask = index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (index[cell] !== 0) cell = (cell + 1) & mask;
    index[cell] = slot + 1;
  }

  /** Backward-shift deletion: no tombstones, so probes never lengthen over time. */
  #indexDelete(index: Uint16Array | Int32Array, slot: number): void {
    const mask = index.length - 1;
    let hole = this.#cellOf(index, slot);
    for (let cell = (hole + 1) & mask; index[cell] !== 0; cell = (cell + 1) & mask) {
      const home = this.#hashOfSlot(index[cell] - 1) & mask;
      // The entry at `cell` may fill the hole unless its home lies cyclically in (hole, cell].
      const stays = hole <= cell ? hole < home && home <= cell : hole < home || home <= cell;
      if (stays) continue;
      index[hole] = index[cell];
      hole = cell;
    }
    index[hole] = 0;
  }

  #cellOf(index: Uint16Array | Int32Array, slot: number): number {
    const mask = index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (index[cell] !== slot + 1) cell = (cell + 1) & mask;
    return cell;
  }

  #idEquals(slot: number, peerId: ByteString): boolean {
    const block = this.#blockOf(slot);
    const bytes = this.#pool.bytes[block >> PAGE_SHIFT];
    const at = bodyAt(this.#pool, block, slot) + PEER_ID;
    // From the end: ids of one client share their first bytes (`-LT2060-`), not their last.
    for (let i = 19; i >= 0; i--) if (bytes[at + i] !== peerId.charCodeAt(i)) return false;
    return true;
  }

  // FNV-1a, seeded per process so that clients cannot choose peer ids that all collide.
  #hashOfString(peerId: ByteString): number {
    let hash = this.#hashSeed ^ 0x811c9dc5;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }

  #hashOfSlot(slot: number): number {
    const block = this.#blockOf(slot);
    const bytes = this.#pool.bytes[block >> PAGE_SHIFT];
    const at = bodyAt(this.#pool, block, slot) + PEER_ID;
    let hash = this.#hashSeed ^ 0x811c9dc5;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ bytes[at + i], 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }
}
