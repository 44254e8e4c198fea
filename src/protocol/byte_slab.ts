/**
 * Fresh small byte arrays for the request path, carved from shared slabs.
 *
 * In Deno 2.9 (V8 15) every `new Uint8Array(n)` gets its own off-heap backing store, however small:
 * measured at about 0.2 µs each on the benchmark machine, where a view on an existing buffer costs
 * about 0.04 µs (`tests/bench/README.md`, "Why slabs"). A request that allocated a 4-byte address
 * and a reply or two paid more for those allocations than for parsing its query. A `ByteSlab`
 * hands out views instead: zeroed, never handed out twice (a slab is never reused, only replaced
 * when full), so a view stays valid for as long as anyone holds it.
 *
 * The price: a view keeps its whole slab alive. Carve only what is short-lived (a request's
 * address, a reply); whoever keeps bytes for long (a table, a map) keeps a copy.
 *
 * @module
 */

/** Hands out zeroed byte views from slabs of `slabSize` bytes. */
export class ByteSlab {
  readonly #slabSize: number;
  // Starts "full", so the first carve allocates the first slab.
  #slab = new ArrayBuffer(0);
  #used: number;

  /** `slabSize` bytes per slab; a request for more than an eighth of that gets its own array. */
  constructor(slabSize: number) {
    this.#slabSize = slabSize;
    this.#used = slabSize;
  }

  /** A fresh zeroed view of `length` bytes. */
  carve(length: number): Uint8Array<ArrayBuffer> {
    if (length > this.#slabSize >> 3) return new Uint8Array(length);
    if (this.#used + length > this.#slabSize) {
      this.#slab = new ArrayBuffer(this.#slabSize);
      this.#used = 0;
    }
    const view = new Uint8Array(this.#slab, this.#used, length);
    this.#used += length;
    return view;
  }
}
