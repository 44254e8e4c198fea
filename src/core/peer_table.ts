/**
 * Packed storage for the peers of one swarm and one address family.
 *
 * A plain object per peer in a `Map` costs several hundred bytes; here a peer is one slot across a
 * few typed arrays (about 60 bytes plus its index cell), and its compact endpoint (BEP 23: address
 * then port) is stored exactly as it goes on the wire, so a reply copies bytes and builds nothing.
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

const MIN_CAPACITY = 4;

/** What an announce records about a peer, besides its id and endpoint. */
export interface PeerRecord {
  /** Seconds (any epoch, the same for every call). */
  seenAt: number;
  /** `SEEDER | PARTIAL_SEED | COMPLETION_COUNTED` bits. */
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
  #capacity = 0;
  #peerIds = new Uint8Array(0);
  #endpoints = new Uint8Array(0);
  #seenAt = new Uint32Array(0);
  #flags = new Uint8Array(0);
  #keyHashes = new Int32Array(0);
  #left = new Float64Array(0);
  #uploaded = new Float64Array(0);
  #downloaded = new Float64Array(0);
  #agents = new Uint32Array(0);
  /** Open-addressing index: cell value is slot + 1, 0 is empty. Size is a power of two. */
  #index = new Int32Array(0);
  /** The rare peers whose announce came from another address than the one listed. */
  #connectionAddresses: Map<ByteString, Uint8Array> | null = null;
  readonly #hashSeed: number;

  constructor(addressLength: 4 | 16, hashSeed: number) {
    this.addressLength = addressLength;
    this.endpointSize = addressLength + 2;
    this.#hashSeed = hashSeed | 0;
    this.#resize(MIN_CAPACITY);
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
    const mask = this.#index.length - 1;
    for (let cell = this.#hashOfString(peerId) & mask;; cell = (cell + 1) & mask) {
      const value = this.#index[cell];
      if (value === 0) return -1;
      if (this.#idEquals(value - 1, peerId)) return value - 1;
    }
  }

  /** Adds a peer that `find` did not find; returns its slot. */
  insert(peerId: ByteString, address: Uint8Array, port: number, record: PeerRecord): number {
    if (this.#count + 2 > this.#capacity) this.#resize(this.#capacity * 2);
    let slot = this.#count;
    for (let i = 0; i < 20; i++) this.#peerIds[slot * 20 + i] = peerId.charCodeAt(i);
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
    if (this.#flags[slot] & PARTIAL_SEED) this.#partials--;
    this.#writeRecord(slot, record);
    const isSeeder = (record.flags & SEEDER) !== 0;
    return wasSeeder === isSeeder ? slot : this.#moveAcrossPartition(slot, isSeeder);
  }

  /** Removes the peer in `slot`. Other peers may move to other slots. */
  remove(slot: number): void {
    this.#indexDelete(slot);
    if (this.#flags[slot] & PARTIAL_SEED) this.#partials--;
    if (this.#connectionAddresses !== null) this.#connectionAddresses.delete(this.peerIdOf(slot));
    const last = this.#count - 1;
    if (slot < this.#seeders) {
      const lastSeeder = this.#seeders - 1;
      if (slot !== lastSeeder) this.#move(lastSeeder, slot);
      if (lastSeeder !== last) this.#move(last, lastSeeder);
      this.#seeders--;
    } else if (slot !== last) this.#move(last, slot);
    this.#count--;
    if (this.#count * 4 < this.#capacity && this.#capacity > MIN_CAPACITY) {
      this.#resize(Math.max(MIN_CAPACITY, this.#capacity / 2));
    }
  }

  /** Removes every peer last seen before `cutoff` seconds; returns how many. */
  removeSeenBefore(cutoff: number): number {
    let removed = 0;
    // Backwards: removal only moves entries from higher slots, which were already checked.
    for (let slot = this.#count - 1; slot >= 0; slot--) {
      if (slot < this.#count && this.#seenAt[slot] < cutoff) {
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
    let written = 0;
    for (let i = 0; written < take; i++) {
      const slot = from + ((start + i) % size);
      if (slot === exclude) continue;
      out.set(
        this.#endpoints.subarray(slot * entry, slot * entry + entry),
        offset + written * entry,
      );
      if (ids !== null) {
        const target = (offset / entry + written) * 20;
        ids.set(this.#peerIds.subarray(slot * 20, slot * 20 + 20), target);
      }
      written++;
    }
    return written;
  }

  /** The peer id in `slot`. */
  peerIdOf(slot: number): ByteString {
    let id = "";
    for (let i = 0; i < 20; i++) id += String.fromCharCode(this.#peerIds[slot * 20 + i]);
    return id;
  }

  /** The listed address bytes of `slot` (a copy). */
  addressOf(slot: number): Uint8Array {
    const at = slot * this.endpointSize;
    return this.#endpoints.slice(at, at + this.addressLength);
  }

  /** The listed port of `slot`. */
  portOf(slot: number): number {
    const at = slot * this.endpointSize + this.addressLength;
    return (this.#endpoints[at] << 8) | this.#endpoints[at + 1];
  }

  /** True when `slot` lists exactly this address. */
  hasAddress(slot: number, address: Uint8Array): boolean {
    const at = slot * this.endpointSize;
    for (let i = 0; i < this.addressLength; i++) {
      if (this.#endpoints[at + i] !== address[i]) return false;
    }
    return true;
  }

  /** What the last announce of `slot` recorded. */
  recordOf(slot: number): PeerRecord {
    return {
      seenAt: this.#seenAt[slot],
      flags: this.#flags[slot],
      keyHash: this.#keyHashes[slot],
      left: this.#left[slot],
      uploaded: this.#uploaded[slot],
      downloaded: this.#downloaded[slot],
      agent: this.#agents[slot],
    };
  }

  /** Flags of `slot` (cheaper than `recordOf` on the hot path). */
  flagsOf(slot: number): number {
    return this.#flags[slot];
  }

  /** Key hash of `slot`. */
  keyHashOf(slot: number): number {
    return this.#keyHashes[slot];
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

  #writeEndpoint(slot: number, address: Uint8Array, port: number): void {
    const at = slot * this.endpointSize;
    this.#endpoints.set(address, at);
    this.#endpoints[at + this.addressLength] = port >> 8;
    this.#endpoints[at + this.addressLength + 1] = port & 0xff;
  }

  #writeRecord(slot: number, record: PeerRecord): void {
    this.#seenAt[slot] = record.seenAt;
    this.#flags[slot] = record.flags;
    if (record.flags & PARTIAL_SEED) this.#partials++;
    this.#keyHashes[slot] = record.keyHash;
    this.#left[slot] = record.left;
    this.#uploaded[slot] = record.uploaded;
    this.#downloaded[slot] = record.downloaded;
    this.#agents[slot] = record.agent;
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

  /** Copies every field of `from` over `to` and repoints the index; `from` becomes garbage. */
  #move(from: number, to: number): void {
    this.#index[this.#cellOf(from)] = to + 1;
    this.#peerIds.copyWithin(to * 20, from * 20, from * 20 + 20);
    const entry = this.endpointSize;
    this.#endpoints.copyWithin(to * entry, from * entry, from * entry + entry);
    this.#seenAt[to] = this.#seenAt[from];
    this.#flags[to] = this.#flags[from];
    this.#keyHashes[to] = this.#keyHashes[from];
    this.#left[to] = this.#left[from];
    this.#uploaded[to] = this.#uploaded[from];
    this.#downloaded[to] = this.#downloaded[from];
    this.#agents[to] = this.#agents[from];
  }

  #resize(capacity: number): void {
    const grow = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(
      old: T,
      make: (length: number) => T,
      width: number,
    ): T => {
      const fresh = make(capacity * width);
      fresh.set(old.subarray(0, this.#count * width) as unknown as ArrayLike<number>);
      return fresh;
    };
    this.#peerIds = grow(this.#peerIds, (n) => new Uint8Array(n), 20);
    this.#endpoints = grow(this.#endpoints, (n) => new Uint8Array(n), this.endpointSize);
    this.#seenAt = grow(this.#seenAt, (n) => new Uint32Array(n), 1);
    this.#flags = grow(this.#flags, (n) => new Uint8Array(n), 1);
    this.#keyHashes = grow(this.#keyHashes, (n) => new Int32Array(n), 1);
    this.#left = grow(this.#left, (n) => new Float64Array(n), 1);
    this.#uploaded = grow(this.#uploaded, (n) => new Float64Array(n), 1);
    this.#downloaded = grow(this.#downloaded, (n) => new Float64Array(n), 1);
    this.#agents = grow(this.#agents, (n) => new Uint32Array(n), 1);
    this.#capacity = capacity;
    // Load factor at most one half keeps linear probes short.
    this.#index = new Int32Array(capacity * 2);
    for (let slot = 0; slot < this.#count; slot++) this.#indexInsert(slot);
  }

  #indexInsert(slot: number): void {
    const mask = this.#index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (this.#index[cell] !== 0) cell = (cell + 1) & mask;
    this.#index[cell] = slot + 1;
  }

  /** Backward-shift deletion: no tombstones, so probes never lengthen over time. */
  #indexDelete(slot: number): void {
    const mask = this.#index.length - 1;
    let hole = this.#cellOf(slot);
    for (let cell = (hole + 1) & mask; this.#index[cell] !== 0; cell = (cell + 1) & mask) {
      const home = this.#hashOfSlot(this.#index[cell] - 1) & mask;
      // The entry at `cell` may fill the hole unless its home lies cyclically in (hole, cell].
      const stays = hole <= cell ? hole < home && home <= cell : hole < home || home <= cell;
      if (stays) continue;
      this.#index[hole] = this.#index[cell];
      hole = cell;
    }
    this.#index[hole] = 0;
  }

  #cellOf(slot: number): number {
    const mask = this.#index.length - 1;
    let cell = this.#hashOfSlot(slot) & mask;
    while (this.#index[cell] !== slot + 1) cell = (cell + 1) & mask;
    return cell;
  }

  #idEquals(slot: number, peerId: ByteString): boolean {
    const at = slot * 20;
    for (let i = 0; i < 20; i++) if (this.#peerIds[at + i] !== peerId.charCodeAt(i)) return false;
    return true;
  }

  // FNV-1a, seeded per process so that clients cannot choose peer ids that all collide.
  #hashOfString(peerId: ByteString): number {
    let hash = this.#hashSeed ^ 0x811c9dc5;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }

  #hashOfSlot(slot: number): number {
    let hash = this.#hashSeed ^ 0x811c9dc5;
    const at = slot * 20;
    for (let i = 0; i < 20; i++) hash = Math.imul(hash ^ this.#peerIds[at + i], 0x01000193);
    return (hash ^ (hash >>> 15)) >>> 0;
  }
}
