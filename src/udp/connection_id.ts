/**
 * BEP 15 connection ids: proof that a UDP client receives packets at the address it sends from,
 * so that announces (whose replies are bigger than the requests) cannot be aimed at a spoofed
 * victim. An id is a keyed MAC (SipHash-2-4 under a random 128-bit secret made at start) of the
 * client's address, port and a one-minute time slot. Nothing is stored per client: an id is
 * checked by recomputing it, so a flood of connect requests costs no memory, and an id cannot be
 * guessed or forged without the secret.
 *
 * BEP 15: "Trackers should accept the connection ID until two minutes after it has been sent."
 * The current slot and the two before it are accepted, so an id lives between 2 and 3 minutes.
 *
 * Owns the ids and the MAC; knows nothing of packets. Time is passed in (milliseconds).
 *
 * @module
 */

/** Length of a time slot. */
export const SLOT_MS = 60_000;
/** Slots accepted: the current one and the two before it (at least 2 minutes, BEP 15). */
export const SLOTS_ACCEPTED = 3;

/** Options for `ConnectionIds`. */
export interface ConnectionIdsOptions {
  /** The 16-byte secret. @default 16 bytes from `crypto.getRandomValues` */
  key?: Uint8Array;
}

/** Issues and checks connection ids. One per process; ids die with it (clients reconnect). */
export class ConnectionIds {
  readonly #key: Uint8Array;
  /** slot (4) · port (2) · zero (2) · address as IPv6 (16): three SipHash words. */
  readonly #message = new Uint8Array(24);
  readonly #view = new DataView(this.#message.buffer);

  constructor(options: ConnectionIdsOptions = {}) {
    const key = options.key ?? crypto.getRandomValues(new Uint8Array(16));
    if (key.length !== 16) throw new RangeError(`key must be 16 bytes, got ${key.length}`);
    this.#key = key.slice();
  }

  /** The id for a client at `address` (4 or 16 bytes) and `port`, at time `now`. */
  issue(address: Uint8Array, port: number, now: number): bigint {
    return this.#mac(address, port, slotOf(now));
  }

  /** Whether `id` was issued to this address and port within the accepted slots before `now`. */
  verify(id: bigint, address: Uint8Array, port: number, now: number): boolean {
    const slot = slotOf(now);
    for (let age = 0; age < SLOTS_ACCEPTED; age++) {
      if (this.#mac(address, port, slot - age) === id) return true;
    }
    return false;
  }

  #mac(address: Uint8Array, port: number, slot: number): bigint {
    const message = this.#message;
    this.#view.setUint32(0, slot >>> 0);
    this.#view.setUint16(4, port);
    // An IPv4 address is written IPv4-mapped, so both spellings of one client get one id.
    if (address.length === 4) {
      message.fill(0, 8, 18);
      message[18] = 0xff;
      message[19] = 0xff;
      message.set(address, 20);
    } else {
      message.set(address, 8);
    }
    return sipHash24(this.#key, message);
  }
}

function slotOf(now: number): number {
  return Math.floor(now / SLOT_MS);
}

// SipHash-2-4 (Aumasson & Bernstein, 2012): a PRF made for short inputs under a secret key.
// Written with 32-bit halves, as JavaScript has no fast 64-bit integers. Exported for its
// published test vectors. (HMAC from `node:crypto` was measured at tens of µs per call here.)

/** The 64 bits of state: v0..v3, high then low half each. */
const state = new Uint32Array(8);

/** SipHash-2-4 of `message` under a 16-byte `key`, as the 64-bit value (little-endian words). */
export function sipHash24(key: Uint8Array, message: Uint8Array): bigint {
  const k0h = word(key, 4);
  const k0l = word(key, 0);
  const k1h = word(key, 12);
  const k1l = word(key, 8);
  const s = state;
  s[0] = k0h ^ 0x736f6d65;
  s[1] = k0l ^ 0x70736575;
  s[2] = k1h ^ 0x646f7261;
  s[3] = k1l ^ 0x6e646f6d;
  s[4] = k0h ^ 0x6c796765;
  s[5] = k0l ^ 0x6e657261;
  s[6] = k1h ^ 0x74656462;
  s[7] = k1l ^ 0x79746573;
  const whole = message.length - (message.length % 8);
  for (let i = 0; i < whole; i += 8) compress(word(message, i + 4), word(message, i));
  // The last block: the remaining bytes, little-endian, with the length in the top byte.
  let lastHigh = (message.length & 0xff) << 24;
  let lastLow = 0;
  for (let i = whole; i < message.length; i++) {
    const shift = ((i - whole) % 4) * 8;
    if (i - whole < 4) lastLow |= message[i] << shift;
    else lastHigh |= message[i] << shift;
  }
  compress(lastHigh >>> 0, lastLow >>> 0);
  s[5] ^= 0xff;
  for (let round = 0; round < 4; round++) sipRound(s);
  const high = (s[0] ^ s[2] ^ s[4] ^ s[6]) >>> 0;
  const low = (s[1] ^ s[3] ^ s[5] ^ s[7]) >>> 0;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Four bytes little-endian from `offset`. */
function word(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

/** One message word `m`: v3 ^= m; two SipRounds; v0 ^= m. */
function compress(high: number, low: number): void {
  const s = state;
  s[6] ^= high;
  s[7] ^= low;
  sipRound(s);
  sipRound(s);
  s[0] ^= high;
  s[1] ^= low;
}

function sipRound(s: Uint32Array): void {
  add(s, 0, 2); // v0 += v1
  rotate(s, 2, 13);
  xor(s, 2, 0);
  swapHalves(s, 0); // v0 = rotl(v0, 32)
  add(s, 4, 6); // v2 += v3
  rotate(s, 6, 16);
  xor(s, 6, 4);
  add(s, 0, 6); // v0 += v3
  rotate(s, 6, 21);
  xor(s, 6, 0);
  add(s, 4, 2); // v2 += v1
  rotate(s, 2, 17);
  xor(s, 2, 4);
  swapHalves(s, 4); // v2 = rotl(v2, 32)
}

/** s[a] += s[b], 64-bit, wrapping. */
function add(s: Uint32Array, a: number, b: number): void {
  const low = (s[a + 1] + s[b + 1]) >>> 0;
  s[a] = s[a] + s[b] + (low < s[a + 1] ? 1 : 0);
  s[a + 1] = low;
}

/** s[a] ^= s[b]. */
function xor(s: Uint32Array, a: number, b: number): void {
  s[a] ^= s[b];
  s[a + 1] ^= s[b + 1];
}

/** s[a] = rotl(s[a], bits), for 0 < bits < 32. */
function rotate(s: Uint32Array, a: number, bits: number): void {
  const high = s[a];
  const low = s[a + 1];
  s[a] = (high << bits) | (low >>> (32 - bits));
  s[a + 1] = (low << bits) | (high >>> (32 - bits));
}

function swapHalves(s: Uint32Array, a: number): void {
  const high = s[a];
  s[a] = s[a + 1];
  s[a + 1] = high;
}
