/**
 * Interned strings for per-peer text that repeats across peers (user agents): a peer slot keeps a
 * small integer instead of a string. The pool is bounded so that strangers sending unique user
 * agents cannot grow it forever: past the cap, new strings share one "other" id.
 *
 * @module
 */

/** A bounded string → id pool. Id 0 is the empty string. */
export class StringPool {
  readonly #ids = new Map<string, number>([["", 0]]);
  readonly #strings: string[] = [""];
  readonly #maxEntries: number;
  readonly #maxLength: number;

  /** `maxEntries` distinct strings are kept; each is cut to `maxLength` chars. */
  constructor(options: { maxEntries: number; maxLength: number }) {
    this.#maxEntries = options.maxEntries;
    this.#maxLength = options.maxLength;
  }

  /** The id of `text` (cut to the length cap), adding it while the pool has room. */
  intern(text: string): number {
    if (text.length > this.#maxLength) text = text.slice(0, this.#maxLength);
    const known = this.#ids.get(text);
    if (known !== undefined) return known;
    if (this.#strings.length >= this.#maxEntries) return this.#overflowId();
    const id = this.#strings.length;
    this.#strings.push(text);
    this.#ids.set(text, id);
    return id;
  }

  /** The string behind an id. */
  lookup(id: number): string {
    return this.#strings[id] ?? "";
  }

  #overflowId(): number {
    const other = "(other)";
    const known = this.#ids.get(other);
    if (known !== undefined) return known;
    // Reuse the last entry's slot so the pool never exceeds its cap.
    const id = this.#strings.length - 1;
    this.#ids.delete(this.#strings[id]);
    this.#strings[id] = other;
    this.#ids.set(other, id);
    return id;
  }
}
