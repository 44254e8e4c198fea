/**
 * Bencode encoding (BEP 3), by hand: replies are small and hot, and a writer that appends to one
 * reusable buffer is several times faster than a general encoder (see `docs/design.md`).
 * `BencodeWriter` is the low-level append API the reply encoders use; `encodeBencode` encodes
 * a plain value for everything that is not on the hot path.
 *
 * @module
 */

/** A value `encodeBencode` accepts. Text strings are UTF-8; `Uint8Array` is raw bytes. */
export type BencodeValue =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BencodeValue[]
  | { readonly [key: string]: BencodeValue | undefined };

const textEncoder = new TextEncoder();

/** Appends bencode tokens to a growable buffer; `finish()` copies out the bytes written. */
export class BencodeWriter {
  #buffer: Uint8Array<ArrayBuffer>;
  #length = 0;

  constructor(initialCapacity = 1024) {
    this.#buffer = new Uint8Array(initialCapacity);
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  reset(): this {
    this.#length = 0;
    return this;
  }

  /** Writes ASCII text as is (bencode punctuation, decimal digits, ASCII keys). */
  raw(ascii: string): this {
    this.#reserve(ascii.length);
    for (let i = 0; i < ascii.length; i++) this.#buffer[this.#length++] = ascii.charCodeAt(i);
    return this;
  }

  /** `i<n>e`. Only integers are valid bencode. */
  integer(value: number | bigint): this {
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new TypeError(`bencode integers must be whole numbers, got ${value}`);
    }
    if (typeof value === "number" && value >= 0 && value <= 0xffff_ffff) {
      // The common case (counts, intervals) as digits straight into the buffer, no string.
      this.#reserve(12);
      this.#buffer[this.#length++] = 0x69; // "i"
      this.#digits(value);
      this.#buffer[this.#length++] = 0x65; // "e"
      return this;
    }
    // Past 1e21 a number prints in exponent form ("1e+21"), which is not bencode.
    const digits = typeof value === "number" && Math.abs(value) >= 1e21 ? BigInt(value) : value;
    return this.raw(`i${digits}e`);
  }

  /** Writes bytes as they are, e.g. a constant key encoded once with `asciiBytes`. */
  rawBytes(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /** `<len>:<bytes>` from raw bytes. */
  bytes(value: Uint8Array): this {
    this.#reserve(value.length + 11);
    this.#digits(value.length);
    this.#buffer[this.#length++] = 0x3a; // ":"
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** `<len>:<bytes>` from a byte string (one char per byte), e.g. an info hash. */
  byteString(value: string): this {
    this.#reserve(11);
    this.#digits(value.length);
    this.#buffer[this.#length++] = 0x3a; // ":"
    return this.raw(value);
  }

  /** `<len>:<utf-8 bytes>` from text. */
  text(value: string): this {
    // ASCII text is by far the common case and needs no encoder.
    // deno-lint-ignore no-control-regex
    if (/^[\x00-\x7f]*$/.test(value)) return this.byteString(value);
    return this.bytes(textEncoder.encode(value));
  }

  /**
   * The bytes written so far, as a view of the writer's own buffer: valid only until the next
   * write. For a consumer that copies at once, such as `new Response(view)` (the Fetch standard's
   * "extract a body" copies a BufferSource), it saves `finish()`'s copy.
   */
  view(): Uint8Array<ArrayBuffer> {
    return this.#buffer.subarray(0, this.#length);
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buffer.slice(0, this.#length);
  }

  /** Decimal digits of a whole number from 0 to 2^32 - 1; the caller reserved 10 bytes. */
  #digits(value: number): void {
    const buffer = this.#buffer;
    let width = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) width++;
    let at = this.#length + width;
    this.#length = at;
    let rest = value;
    do {
      buffer[--at] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < this.#length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

/** The bytes of ASCII text, for constant keys written often with `BencodeWriter.rawBytes`. */
export function asciiBytes(ascii: string): Uint8Array {
  return Uint8Array.from(ascii, (char) => char.charCodeAt(0));
}

/** Encodes a plain value. Dictionary keys are sorted by their UTF-8 bytes; `undefined` skipped. */
export function encodeBencode(value: BencodeValue): Uint8Array<ArrayBuffer> {
  const writer = new BencodeWriter();
  write(writer, value);
  return writer.finish();
}

function write(writer: BencodeWriter, value: BencodeValue): void {
  if (typeof value === "number" || typeof value === "bigint") writer.integer(value);
  else if (typeof value === "string") writer.text(value);
  else if (value instanceof Uint8Array) writer.bytes(value);
  else if (Array.isArray(value)) {
    writer.raw("l");
    for (const item of value as readonly BencodeValue[]) write(writer, item);
    writer.raw("e");
  } else {
    const dict = value as { readonly [key: string]: BencodeValue | undefined };
    const keys = Object.keys(dict).filter((key) => dict[key] !== undefined);
    const encoded = keys.map((key) => ({ key, bytes: textEncoder.encode(key) }));
    encoded.sort((a, b) => compareBytes(a.bytes, b.bytes));
    writer.raw("d");
    for (const { key, bytes } of encoded) {
      writer.bytes(bytes);
      write(writer, dict[key] as BencodeValue);
    }
    writer.raw("e");
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
