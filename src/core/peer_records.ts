/**
 * How a peer is stored: one fixed-size record (50 bytes for IPv4, 62 for IPv6: a 6 or 18-byte
 * endpoint and a 44-byte body) in blocks of 8, drawn from per-tracker pools of large pages. The
 * layout, the per-peer flags and the pools live here; the operations on one swarm's peers
 * (`PeerTable`) live in `peer_table.ts`.
 *
 * A plain object per peer in a `Map` costs several hundred bytes; here a peer is one record plus
 * about two bytes of index, and its compact endpoint (BEP 23: address then port) is stored exactly
 * as it goes on the wire, so a reply copies bytes and builds nothing.
 *
 * `left`, `uploaded` and `downloaded` are kept as 32-bit floats: they are shown on /stats and
 * nothing else reads them (whether a peer seeds is the `SEEDER` flag, set from the exact `left`
 * of the announce), and a float32 keeps 7 significant digits, more than a display of "1.46 GiB"
 * needs, at half the bytes of a float64. Values past 2^24 come back rounded to that precision.
 *
 * Records live in blocks of 8, handed out by one pool per record size from pages of 1024 blocks
 * and handed back when a table shrinks or empties. A table grows a block at a time and never
 * copies its peers to a bigger array: with many swarms growing at once, per-table arrays that
 * double left the allocator holding freed arrays of every size, and RSS grew by three times the
 * live peer data (issue 8 measures RSS per peer at 1,000,000 peers over 10,000 torrents). Blocks
 * of 8 rather than 16 halve what a small swarm (most swarms are small) holds unused.
 *
 * Pools belong to a tracker (`createRecordPools`): a tracker that is dropped takes its pages with
 * it, and one that drops a swarm with peers gives its blocks back (`PeerTable.clear`).
 *
 * @module
 */

/** Per-peer flag: left was 0 on the last announce. */
export const SEEDER = 1;
/** Per-peer flag: BEP 21 partial seed (announced `event=paused`). */
export const PARTIAL_SEED = 2;
/** Per-peer flag: this peer's completion was already counted in `downloaded`. */
export const COMPLETION_COUNTED = 4;
/** Per-peer flag: the last announce came over UDP (BEP 15), for stats. */
export const VIA_UDP = 8;

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

/** Records per block (a power of two): the unit a table grows and shrinks by. */
export const BLOCK_RECORDS = 8;
export const BLOCK_SHIFT = 3;
/** Blocks per page; a page is one ArrayBuffer, allocated once and never given back. */
export const PAGE_BLOCKS = 1024;
export const PAGE_SHIFT = 10;

// Block layout. A block of 8 records keeps their 8 compact endpoints side by side first (48 bytes
// for IPv4, one or two cache lines), then the 8 record bodies: a reply copies the endpoints of a
// run of peers, and reading them from one region instead of one line per record made sampling 50
// of 100 peers, over more tables than a core's cache holds, about 30 % cheaper together with the
// two-byte copy in `PeerTable.sample` (tests/bench/README.md, "Parsing bytes; sampling
// endpoints").
//
// Body layout, in bytes from the body's start. 32-bit numbers first, each at a multiple of 4.
export const SEEN_AT = 0;
export const KEY_HASH = 4;
export const LEFT = 8;
export const UPLOADED = 12;
export const DOWNLOADED = 16;
/** 16 bits, little-endian: the string pool holds at most 4096 user agents. */
export const AGENT = 20;
export const PEER_ID = 22;
/** One byte of flags. */
export const FLAGS = 42;
/** Bytes per body: the flags byte, rounded up to a multiple of 4 so the 32-bit views line up. */
export const BODY_SIZE = (FLAGS + 1 + 3) & ~3;

/**
 * Fixed-size records for every table of one address family, in blocks of `BLOCK_RECORDS`. A
 * block id names page `id >> PAGE_SHIFT` and a block inside it; freed blocks are reused first.
 */
export class RecordPool {
  /** 4 or 16 address bytes. */
  readonly addressLength: 4 | 16;
  /** Bytes per compact endpoint: address then big-endian port. */
  readonly endpointSize: number;
  /** Bytes of a block's endpoint region (a multiple of 4); its bodies start there. */
  readonly bodiesAt: number;
  /** Bytes per block: the endpoints, then the bodies. */
  readonly blockSize: number;
  readonly bytes: Uint8Array[] = [];
  readonly words: Uint32Array[] = [];
  readonly signed: Int32Array[] = [];
  readonly floats: Float32Array[] = [];
  /** One body's words and one endpoint, where `PeerTable` parks an entry while two swap. */
  readonly scratch: Uint32Array;
  readonly scratchEndpoint: Uint8Array;
  readonly #free: number[] = [];
  #nextInPage = PAGE_BLOCKS;

  constructor(addressLength: 4 | 16) {
    this.addressLength = addressLength;
    this.endpointSize = addressLength + 2;
    this.bodiesAt = (BLOCK_RECORDS * this.endpointSize + 3) & ~3;
    this.blockSize = this.bodiesAt + BLOCK_RECORDS * BODY_SIZE;
    this.scratch = new Uint32Array(BODY_SIZE >> 2);
    this.scratchEndpoint = new Uint8Array(this.endpointSize);
  }

  allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#nextInPage === PAGE_BLOCKS) {
      const page = new ArrayBuffer(PAGE_BLOCKS * this.blockSize);
      this.bytes.push(new Uint8Array(page));
      this.words.push(new Uint32Array(page));
      this.signed.push(new Int32Array(page));
      this.floats.push(new Float32Array(page));
      this.#nextInPage = 0;
    }
    return ((this.bytes.length - 1) << PAGE_SHIFT) | this.#nextInPage++;
  }

  release(block: number): void {
    this.#free.push(block);
  }
}

/** The record pools of one tracker, by address length. */
export interface RecordPools {
  4: RecordPool;
  16: RecordPool;
}

/** Fresh pools for a tracker's tables. */
export function createRecordPools(): RecordPools {
  return { 4: new RecordPool(4), 16: new RecordPool(16) };
}
