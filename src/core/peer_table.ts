/**
 * Packed storage for the peers of one swarm and one address family.
 *
 * A plain object per peer in a `Map` costs several hundred bytes; here a peer is one fixed-size
 * record (64 bytes for IPv4, 80 for IPv6) plus about two bytes of index, and its compact endpoint
 * (BEP 23: address then port) is stored exactly as it goes on the wire, so a reply copies bytes
 * and builds nothing.
 *
 * Records live in blocks of 16, handed out by one pool per record size from 1 MiB pages and
 * handed back when a table shrinks or empties. A table grows a block at a time and never copies
 * its peers to a bigger array: with many swarms growing at once, per-table arrays that double
 * left the allocator holding freed arrays of every size, and RSS grew by three times the live
 * peer data (issue 8 measures RSS per peer at 1,000,000 peers over 10,000 torrents).
 *
 * Slots are dense and partitioned: seeders occupy `[0, seeders)`, leechers `[seeders, count)`, so
 * "leechers first for a seeder" and random sampling are range operations. A peer id → slot index
 * (open addressing, linear probing, backward-shift deletion) finds a peer without scanning. Slot
 * `count` is always free and used as scratch when two entries swap.
 *
 * @module
 */
import type { ByteString } from "../protocol/byte_string.ts";

/** Per-peer flag: left was 0 on the last announce. */
export const SEEDER = 1;
/** Per-peer flag: BEP 21 partial seed (announced `event=paused`). */
export const PARTIAL_SEED = 2;
/** Per-peer flag: this peer's completion was already counted in `downloaded`. */
export const COMPLETION_COUNTED = 4;
/** Per-peer flag: the last announce came over UDP (BEP 15), for stats. */
export const VIA_UDP = 8;

/** Records per block (a power of two): the unit a table grows and shrinks by. */
const BLOCK_RECORDS = 16;
const BLOCK_SHIFT = 4;
/** Blocks per page; a page is one ArrayBuffer, allocated once and never given back. */
const PAGE_BLOCKS = 1024;
const PAGE_SHIFT = 10;
/** Smallest index (cells); the index is kept at most half full. */
const MIN_INDEX = 8;

// Record layout, in bytes. Numbers first, so that each sits at a multiple of its size.
const LEFT = 0;
const UPLOADED = 8;
const DOWNLOADED = 16;
const SEEN_AT = 24;
const KEY_HASH = 28;
const AGENT = 32;
const PEER_ID = 36;
/** The endpoint (address then port), then one byte of flags. */
const ENDPOINT = 56;

/**
 * Fixed-size records for every table of one address family, in blocks of `BLOCK_RECORDS`. A
 * block id names page `id >> PAGE_SHIFT` and a block inside it; freed blocks are reused first.
 */
class RecordPool {
  /** Bytes per record: a multiple of 8, so the `Float64Array` views line up. */
  readonly recordSize: number;
  readonly bytes: Uint8Array[] = [];
  readonly words: Uint32Array[] = [];
  readonly signed: Int32Array[] = [];
  readonly doubles: Float64Array[] = [];
  readonly #free: number[] = [];
  #nextInPage = PAGE_BLOCKS;

  constructor(recordSize: number) {
    this.recordSize = recordSize;
  }

  allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#nextInPage === PAGE_BLOCKS) {
      const page = new ArrayBuffer(PAGE_BLOCKS * BLOCK_RECORDS * this.recordSize);
      this.bytes.push(new Uint8Array(page));
      this.words.push(new Uint32Array(page));
      this.signed.push(new Int32Array(page));
      this.doubles.push(new Float64Array(page));
      this.#nextInPage = 0;
    }
    return ((this.bytes.length - 1) << PAGE_SHIFT) | this.#nextInPage++;
  }

  release(block: number): void {
    this.#free.push(block);
  }
}

const POOLS = { 4: new RecordPool(64), 16: new RecordPool(80) } as const;

/**
 * Gives a table's blocks back to its pool when the table is garbage collected while it still
 * holds peers (a swarm dropped by an allowlist reload, a test's tracker); an emptied table gives
 * them back at once.
 */
const RECLAIM = new FinalizationRegistry<{ pool: RecordPool; blocks: number[] }>((held) => {
  for (const block of held.blocks) held.pool.release(block);
});

/** What an announce records about a peer, besides its id and endpoint. */
export interface PeerRecord {
  /** Seconds (any epoch, the same for every call). */
  seenAt: number;
  /** `SEEDER | PARTIAL_SEED | COMPLETION_COUNTED | VIA_UDP` bits. */
  flags: number;
  /** Hash of the client's `key`, 0 when it sent none. */
  keyHash: number;
  left: number;
  uploaded: number;
  downloaded: number;
  /** Interned user agent id. */
  agent: number;
}

/** The peers of one swarm in one address family (4 or 16 address bytes). */
export class PeerTable {
  readonly addressLength: 4 | 16;
  /** Bytes per compact endpoint: address then big-endian port. */
  readonly endpointSize: number;
  #count = 0;
  #seeders = 0;
  #partials = 0;
  readonly #pool: RecordPool;
  readonly #recordSize: number;
  readonly #flagsAt: number;
  /** Block ids of slots `[i * BLOCK_RECORDS, (i + 1) * BLOCK_RECORDS)`; the array is never replaced. */
  readonly #blocks: number[] = [];
  /** Open-addressing index: cell value is slot + 1, 0 is empty. Size is a power of two. */
  #index: Uint16Array | Int32Array = new Uint16Array(MIN_INDEX);
  /** The rare peers whose announce came from another address than the one listed. */
  #connectionAddresses: Map<ByteString, Uint8Array> | null = null;
  readonly #hashSeed: number;
  /** Page and byte offset of the slot last passed to `#locate`. */
  #page = 0;
  #at = 0;

  constructor(addressLength: 4 | 16, hashSeed: number) {
    this.addressLength = addressLength;
    this.endpointSize = addressLength + 2;
    this.#hashSeed = hashSeed | 0;
    this.#pool = POOLS[addressLength];
    this.#recordSize = this.#pool.recordSize;
    this.#flagsAt = ENDPOINT + this.endpointSize;
    RECLAIM.register(this, { pool: this.#pool, blocks: this.#blocks });
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
    const mask = index.length - 1;
    for (let cell = this.#hashOfString(peerId) & mask;; cell = (cell + 1) & mask) {
      const value = index[cell];
      if (value === 0) return -1;
      if (this.#idEquals(value - 1, peerId)) return value - 1;
    }
  }

  /** Adds a peer that `find` did not find; returns its slot. */
  insert(peerId: ByteString, address: Uint8Array, port: number, record: PeerRecord): number {
    // Room for the new slot and the scratch slot after it.
    while (this.#blocks.length << BLOCK_SHIFT < this.#count + 2) {
      this.#blocks.push(this.#pool.allocate());
    }
    if ((this.#count + 1) * 2 > this.#index.length) this.#reindex(this.#index.length * 2);
    let slot = this.#count;
    const bytes = this.#bytesOf(slot);
    const at = this.#at + PEER_ID;
    for (let i = 0; i < 20; i++) bytes[at + i] = peerId.charCodeAt(i);
    this.#count++;
    this.#indexInsert(slot);
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
    this.#indexDelete(slot);
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
    const keep = this.#count === 0 ? 0 : ((this.#count + 1) >> BLOCK_SHIFT) + 2;
    while (this.#blocks.length > keep) this.#pool.release(this.#blocks.pop() as number);
    if (this.#count * 8 < this.#index.length && this.#index.length > MIN_INDEX) {
      this.#reindex(this.#index.length / 2);
    }
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
    const entry = this.endpointSize;
    const recordSize = this.#recordSize;
    let written = 0;
    let slot = from + start;
    while (written < take) {
      if (slot === to) slot = from;
      if (slot === exclude) {
        slot++;
        continue;
      }
      // A run of slots in one block lies at one stride in one page: locate it once. Bytes are
      // copied in loops, as a view and a `set` per peer cost more than the copy itself.
      let end = Math.min((slot | (BLOCK_RECORDS - 1)) + 1, to, slot + take - written);
      if (exclude >= slot && exclude < end) end = exclude;
      const bytes = this.#bytesOf(slot);
      for (let at = this.#at; slot < end; slot++, at += recordSize, written++) {
        const target = offset + written * entry;
        for (let i = 0; i < entry; i++) out[target + i] = bytes[at + ENDPOINT + i];
        if (ids !== null) {
          const idTarget = (offset / entry + written) * 20;
          for (let i = 0; i < 20; i++) ids[idTarget + i] = bytes[at + PEER_ID + i];
        }
      }
    }
    return written;
  }

  /** The peer id in `slot`. */
  peerIdOf(slot: number): ByteString {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + PEER_ID;
    let id = "";
    for (let i = 0; i < 20; i++) id += String.fromCharCode(bytes[at + i]);
    return id;
  }

  /** The listed address bytes of `slot` (a copy). */
  addressOf(slot: number): Uint8Array {
    const bytes = this.#bytesOf(slot);
    return bytes.slice(this.#at + ENDPOINT, this.#at + ENDPOINT + this.addressLength);
  }

  /** The listed port of `slot`. */
  portOf(slot: number): number {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + ENDPOINT + this.addressLength;
    return (bytes[at] << 8) | bytes[at + 1];
  }

  /** True when `slot` lists exactly this address. */
  hasAddress(slot: number, address: Uint8Array): boolean {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + ENDPOINT;
    for (let i = 0; i < this.addressLength; i++) {
      if (bytes[at + i] !== address[i]) return false;
    }
    return true;
  }

  /** What the last announce of `slot` recorded. */
  recordOf(slot: number): PeerRecord {
    this.#locate(slot);
    const pool = this.#pool;
    const at = this.#at;
    const words = pool.words[this.#page];
    const doubles = pool.doubles[this.#page];
    return {
      seenAt: words[(at + SEEN_AT) >> 2],
      flags: pool.bytes[this.#page][at + this.#flagsAt],
      keyHash: pool.signed[this.#page][(at + KEY_HASH) >> 2],
      left: doubles[(at + LEFT) >> 3],
      uploaded: doubles[(at + UPLOADED) >> 3],
      downloaded: doubles[(at + DOWNLOADED) >> 3],
      agent: words[(at + AGENT) >> 2],
    };
  }

  /** Flags of `slot` (cheaper than `recordOf` on the hot path). */
  flagsOf(slot: number): number {
    const bytes = this.#bytesOf(slot);
    return bytes[this.#at + this.#flagsAt];
  }

  /** Key hash of `slot`. */
  keyHashOf(slot: number): number {
    this.#locate(slot);
    return this.#pool.signed[this.#page][(this.#at + KEY_HASH) >> 2];
  }

  /** Remembers (or forgets, with `null`) the connection address of a peer listed elsewhere. */
  setConnectionAddress(peerId: ByteString, address: Uint8Array | null): void {
    if (address === null) {
      this.#connectionAddresses?.delete(peerId);
      return;
    }
    (this.#connectionAddresses ??= new Map()).set(peerId, address);
  }

  /** The connection address of a peer whose listed address was claimed with `ip=`. */
  connectionAddressOf(peerId: ByteString): Uint8Array | null {
    return this.#connectionAddresses?.get(peerId) ?? null;
  }

  /** Points `#page` and `#at` at the record of `slot`. */
  #locate(slot: number): void {
    const block = this.#blocks[slot >> BLOCK_SHIFT];
    this.#page = block >> PAGE_SHIFT;
    const record = ((block & (PAGE_BLOCKS - 1)) << BLOCK_SHIFT) | (slot & (BLOCK_RECORDS - 1));
    this.#at = record * this.#recordSize;
  }

  /** `#locate(slot)`, returning the bytes of its page. */
  #bytesOf(slot: number): Uint8Array {
    this.#locate(slot);
    return this.#pool.bytes[this.#page];
  }

  #seenAtOf(slot: number): number {
    this.#locate(slot);
    return this.#pool.words[this.#page][(this.#at + SEEN_AT) >> 2];
  }

  #writeEndpoint(slot: number, address: Uint8Array, port: number): void {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + ENDPOINT;
    const length = this.addressLength;
    for (let i = 0; i < length; i++) bytes[at + i] = address[i];
    bytes[at + length] = port >> 8;
    bytes[at + length + 1] = port & 0xff;
  }

  #writeRecord(slot: number, record: PeerRecord): void {
    this.#locate(slot);
    const pool = this.#pool;
    const at = this.#at;
    const words = pool.words[this.#page];
    const doubles = pool.doubles[this.#page];
    words[(at + SEEN_AT) >> 2] = record.seenAt;
    pool.bytes[this.#page][at + this.#flagsAt] = record.flags;
    if (record.flags & PARTIAL_SEED) this.#partials++;
    pool.signed[this.#page][(at + KEY_HASH) >> 2] = record.keyHash;
    doubles[(at + LEFT) >> 3] = record.left;
    doubles[(at + UPLOADED) >> 3] = record.uploaded;
    doubles[(at + DOWNLOADED) >> 3] = record.downloaded;
    words[(at + AGENT) >> 2] = record.agent;
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
    const scratch = this.#count;
    this.#move(a, scratch);
    this.#move(b, a);
    this.#move(scratch, b);
  }

  /** Copies the record of `from` over `to` and repoints the index; `from` becomes garbage. */
  #move(from: number, to: number): void {
    this.#index[this.#cellOf(from)] = to + 1;
    this.#locate(from);
    // As 32-bit words: copying the floats as floats could rewrite a NaN's bits.
    const source = this.#pool.words[this.#page];
    const sourceAt = this.#at >> 2;
    this.#locate(to);
    const target = this.#pool.words[this.#page];
    const targetAt = this.#at >> 2;
    for (let i = 0, n = this.#recordSize >> 2; i < n; i++) {
      target[targetAt + i] = source[sourceAt + i];
    }
  }

  /** Rebuilds the index with `cells` cells (a power of two). */
  #reindex(cells: number): void {
    // 16-bit cells while every slot + 1 fits in them: half the index memory of small swarms.
    this.#index = cells <= 0x10000 ? new Uint16Array(cells) : new Int32Array(cells);
    for (let slot = 0; slot < this.#count; slot++) this.#indexInsert(slot);
  }

  #indexInsert(slot: number): void {
    const index = this.#index;
    const mask = index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (index[cell] !== 0) cell = (cell + 1) & mask;
    index[cell] = slot + 1;
  }

  /** Backward-shift deletion: no tombstones, so probes never lengthen over time. */
  #indexDelete(slot: number): void {
    const index = this.#index;
    const mask = index.length - 1;
    let hole = this.#cellOf(slot);
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

  #cellOf(slot: number): number {
    const index = this.#index;
    const mask = index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (index[cell] !== slot + 1) cell = (cell + 1) & mask;
    return cell;
  }

  #idEquals(slot: number, peerId: ByteString): boolean {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + PEER_ID;
    for (let i = 0; i < 20; i++) if (bytes[at + i] !== peerId.charCodeAt(i)) return false;
    return true;
  }

  // FNV-1a, seeded per process so that clients cannot choose peer ids that all collide.
  #hashOfString(peerId: ByteString): number {
    let hash = this.#hashSeed ^ 0x811c9dc5;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }

  #hashOfSlot(slot: number): number {
    const bytes = this.#bytesOf(slot);
    const at = this.#at + PEER_ID;
    let hash = this.#hashSeed ^ 0x811c9dc5;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ bytes[at + i], 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }
}
