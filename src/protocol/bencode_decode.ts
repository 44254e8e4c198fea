/**
 * A strict bencode decoder (BEP 3) that remembers where each dictionary value came from.
 *
 * A torrent's info hash is the hash of the `info` value's bytes exactly as they appear in the
 * file; re-encoding a decoded value would sort its keys and give a wrong hash for files whose keys
 * are out of order. So a decoded dictionary (`BDict`) keeps, for each key, the `[start, end)` span
 * of its value in the input, and `rawOf("info")` hands back those very bytes.
 *
 * Strict means: integers without leading zeros or `-0`, string lengths that fit in the input,
 * string keys only and no key twice, a nesting limit, and nothing after the top-level value. Key
 * order is NOT enforced, because real `.torrent` files are sometimes out of order and must still
 * hash to their true value. This module owns decoding only; it never encodes.
 *
 * @module
 */
import { bytesToByteString, type ByteString } from "./byte_string.ts";

/**
 * A decoded bencode value: an integer (`number` when it is a safe integer, else `bigint`), a byte
 * string (a `subarray` of the input, not a copy), a list, or a dictionary.
 */
export type BValue = number | bigint | Uint8Array | BValue[] | BDict;

/** Where a value lies in the decoded input: bytes `[start, end)`. */
export interface BSpan {
  /** Offset of the value's first byte. */
  readonly start: number;
  /** Offset just past the value's last byte. */
  readonly end: number;
}

/** Options for {@linkcode decodeBencode}. */
export interface DecodeOptions {
  /**
   * Deepest nesting of lists and dictionaries accepted; deeper input is rejected rather than
   * risking the call stack on hostile files.
   * @default {64}
   */
  maxDepth?: number;
}

/** Malformed bencode. `offset` is the byte at which decoding gave up. */
export class BencodeError extends Error {
  /** Offset in the input of the offending byte (the input length for a truncated input). */
  readonly offset: number;

  constructor(reason: string, offset: number) {
    super(`${reason} at byte ${offset}`);
    this.name = "BencodeError";
    this.offset = offset;
  }
}

/**
 * A decoded dictionary. Keys are byte strings (one char per raw byte, so a UTF-8 key appears as
 * its latin1 reading); each value remembers its raw span in the input.
 */
export class BDict {
  readonly #source: Uint8Array;
  readonly #entries: ReadonlyMap<ByteString, { value: BValue; span: BSpan }>;

  /** Built by {@linkcode decodeBencode}; `entries` must hold spans into `source`. */
  constructor(
    source: Uint8Array,
    entries: ReadonlyMap<ByteString, { value: BValue; span: BSpan }>,
  ) {
    this.#source = source;
    this.#entries = entries;
  }

  /** The value under `key`, if present. */
  get(key: ByteString): BValue | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Whether `key` is present. */
  has(key: ByteString): boolean {
    return this.#entries.has(key);
  }

  /** The `[start, end)` span of the value under `key` in the decoded input. */
  spanOf(key: ByteString): BSpan | undefined {
    return this.#entries.get(key)?.span;
  }

  /** The exact input bytes of the value under `key` (a `subarray`, not a copy). */
  rawOf(key: ByteString): Uint8Array | undefined {
    const span = this.spanOf(key);
    return span === undefined ? undefined : this.#source.subarray(span.start, span.end);
  }

  /** Keys in input order (which need not be sorted). */
  keys(): IterableIterator<ByteString> {
    return this.#entries.keys();
  }

  /** `[key, value]` pairs in input order. */
  *entries(): IterableIterator<[ByteString, BValue]> {
    for (const [key, entry] of this.#entries) yield [key, entry.value];
  }

  /** Number of keys. */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Decodes one bencoded value that must fill `bytes` exactly.
 *
 * @throws {BencodeError} on any malformed, truncated, too deep or trailing input.
 */
export function decodeBencode(bytes: Uint8Array, options: DecodeOptions = {}): BValue {
  const decoder = new Decoder(bytes, options.maxDepth ?? 64);
  const value = decoder.value(0);
  decoder.expectEnd();
  return value;
}

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_I = 0x69;
const CH_L = 0x6c;

/** Integers of at most this many digits are exact in a double, so skip `BigInt` for them. */
const FAST_DIGITS = 15;

/** One pass over one input; `#pos` only moves forward. */
class Decoder {
  readonly #bytes: Uint8Array;
  readonly #maxDepth: number;
  #pos = 0;

  constructor(bytes: Uint8Array, maxDepth: number) {
    this.#bytes = bytes;
    this.#maxDepth = maxDepth;
  }

  value(depth: number): BValue {
    const byte = this.#peek();
    if (byte === CH_I) return this.#integer();
    if (byte >= CH_0 && byte <= CH_9) return this.#string();
    if (byte === CH_L || byte === CH_D) {
      if (depth >= this.#maxDepth) {
        throw new BencodeError(`Nesting deeper than ${this.#maxDepth}`, this.#pos);
      }
      return byte === CH_L ? this.#list(depth + 1) : this.#dict(depth + 1);
    }
    throw new BencodeError(`Unexpected byte ${describe(byte)}`, this.#pos);
  }

  expectEnd(): void {
    if (this.#pos !== this.#bytes.length) {
      throw new BencodeError("Trailing data after the value", this.#pos);
    }
  }

  /** The byte at the cursor; running off the end is always a truncation. */
  #peek(): number {
    if (this.#pos >= this.#bytes.length) {
      throw new BencodeError("Unexpected end of input", this.#pos);
    }
    return this.#bytes[this.#pos];
  }

  /** `i<digits>e`, BEP 3: no leading zeros, no `-0`, at least one digit. */
  #integer(): number | bigint {
    const start = ++this.#pos;
    if (this.#peek() === CH_MINUS) this.#pos++;
    const digitsStart = this.#pos;
    this.#digits("integer");
    const digitsEnd = this.#pos;
    const first = this.#bytes[digitsStart];
    if (first === CH_0 && digitsEnd - digitsStart > 1) {
      throw new BencodeError("Integer has a leading zero", digitsStart);
    }
    if (first === CH_0 && digitsStart > start) {
      throw new BencodeError('Integer is "-0"', start);
    }
    if (this.#peek() !== CH_E) {
      throw new BencodeError(`Unexpected byte ${describe(this.#peek())} in integer`, this.#pos);
    }
    this.#pos++;
    const negative = digitsStart > start;
    if (digitsEnd - digitsStart <= FAST_DIGITS) {
      let n = 0;
      for (let i = digitsStart; i < digitsEnd; i++) n = n * 10 + (this.#bytes[i] - CH_0);
      return negative ? -n : n;
    }
    const big = BigInt(bytesToByteString(this.#bytes, start, digitsEnd));
    const asNumber = Number(big);
    return Number.isSafeInteger(asNumber) ? asNumber : big;
  }

  /** `<length>:<bytes>`; the length has no leading zeros and must fit in what is left. */
  #string(): Uint8Array {
    const start = this.#pos;
    this.#digits("string length");
    const digitsEnd = this.#pos;
    if (this.#bytes[start] === CH_0 && digitsEnd - start > 1) {
      throw new BencodeError("String length has a leading zero", start);
    }
    if (this.#peek() !== CH_COLON) {
      throw new BencodeError(
        `Expected ":" after string length, got ${describe(this.#peek())}`,
        this.#pos,
      );
    }
    this.#pos++;
    let length = 0;
    for (let i = start; i < digitsEnd; i++) length = length * 10 + (this.#bytes[i] - CH_0);
    const left = this.#bytes.length - this.#pos;
    if (length > left) {
      throw new BencodeError(`String length ${length} exceeds the ${left} bytes left`, start);
    }
    const value = this.#bytes.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return value;
  }

  /** Advances over one or more ASCII digits. */
  #digits(what: string): void {
    const start = this.#pos;
    while (this.#pos < this.#bytes.length) {
      const byte = this.#bytes[this.#pos];
      if (byte < CH_0 || byte > CH_9) break;
      this.#pos++;
    }
    if (this.#pos === start) {
      throw new BencodeError(`Expected a digit in ${what}, got ${describe(this.#peek())}`, start);
    }
  }

  #list(depth: number): BValue[] {
    this.#pos++;
    const items: BValue[] = [];
    while (this.#peek() !== CH_E) items.push(this.value(depth));
    this.#pos++;
    return items;
  }

  #dict(depth: number): BDict {
    this.#pos++;
    const entries = new Map<ByteString, { value: BValue; span: BSpan }>();
    while (this.#peek() !== CH_E) {
      const keyStart = this.#pos;
      const byte = this.#peek();
      if (byte < CH_0 || byte > CH_9) {
        throw new BencodeError("Dictionary key is not a string", keyStart);
      }
      const keyBytes = this.#string();
      const key = bytesToByteString(keyBytes);
      // A repeated key would make "the" value, and so the torrent's meaning, ambiguous.
      if (entries.has(key)) {
        throw new BencodeError(`Duplicate dictionary key ${JSON.stringify(key)}`, keyStart);
      }
      if (this.#peek() === CH_E) {
        throw new BencodeError(`Dictionary key ${JSON.stringify(key)} has no value`, this.#pos);
      }
      const start = this.#pos;
      const value = this.value(depth);
      entries.set(key, { value, span: { start, end: this.#pos } });
    }
    this.#pos++;
    return new BDict(this.#bytes, entries);
  }
}

/** A byte for an error message: printable ASCII in quotes, anything else in hex. */
function describe(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? JSON.stringify(String.fromCharCode(byte))
    : `0x${byte.toString(16).padStart(2, "0")}`;
}
