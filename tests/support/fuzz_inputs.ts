/**
 * Input generators for the fuzz and property tests (`tests/fuzz_test.ts`), all driven by one
 * seeded source so a failure replays from its seed: valid announce and scrape queries with the
 * values they must parse to, random bencode values with a model of what they must decode to,
 * mutations of valid text and bytes (the parsers' corners), and request URLs for the HTTP handler.
 *
 * @module
 */
import type { AnnounceRequest } from "../../src/protocol/messages.ts";
import type { BencodeValue } from "../../src/protocol/bencode_encode.ts";
import { seededRandom } from "./seeded_random.ts";

/** A seeded source of random choices. */
export class Fuzz {
  readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.int(256));
  }
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX = "0123456789abcdef";

/** One char per byte (a `ByteString`). */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

/** Percent-encodes bytes, each unreserved byte left as is or escaped, in upper or lower case. */
export function escapeRandomly(fuzz: Fuzz, bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (UNRESERVED.test(char) && fuzz.chance(0.5)) out += char;
    else {
      const hex = HEX[byte >> 4] + HEX[byte & 15];
      out += "%" + (fuzz.chance(0.5) ? hex.toUpperCase() : hex);
    }
  }
  return out;
}

/** A decimal with up to `zeros` leading zeros, within the parser's 20 digits. */
function decimal(fuzz: Fuzz, value: number): string {
  const digits = String(value);
  return "0".repeat(Math.min(fuzz.int(3), 20 - digits.length)) + digits;
}

/** A count as clients send them: mostly small, sometimes up to 2^53 - 1. */
function count(fuzz: Fuzz): number {
  return fuzz.chance(0.8) ? fuzz.int(1 << 30) : Math.floor(fuzz.random() * Number.MAX_SAFE_INTEGER);
}

/** A valid announce query, its pairs in random order among unknown keys, and what it means. */
export function randomAnnounce(
  fuzz: Fuzz,
  limits: { numwantDefault: number; numwantMax: number },
): { query: string; expected: AnnounceRequest } {
  const infoHash = fuzz.bytes(20);
  const peerId = fuzz.bytes(20);
  const expected: AnnounceRequest = {
    infoHash: latin1(infoHash),
    peerId: latin1(peerId),
    port: 1 + fuzz.int(65535),
    uploaded: 0,
    downloaded: 0,
    left: count(fuzz),
    event: "none",
    numwant: limits.numwantDefault,
    compact: true,
    noPeerId: false,
    key: null,
    claimedIp: null,
    claimedIpv4: null,
    claimedIpv6: null,
  };
  const pairs: [string, string][] = [
    ["info_hash", escapeRandomly(fuzz, infoHash)],
    ["peer_id", escapeRandomly(fuzz, peerId)],
    ["port", decimal(fuzz, expected.port)],
    ["left", decimal(fuzz, expected.left)],
  ];
  if (fuzz.chance(0.7)) pairs.push(["uploaded", decimal(fuzz, expected.uploaded = count(fuzz))]);
  if (fuzz.chance(0.7)) {
    pairs.push(["downloaded", decimal(fuzz, expected.downloaded = count(fuzz))]);
  }
  if (fuzz.chance(0.6)) {
    const [text, event] = fuzz.pick(
      [
        ["", "none"],
        ["empty", "none"],
        ["started", "started"],
        ["completed", "completed"],
        ["stopped", "stopped"],
        ["paused", "paused"],
      ] as const,
    );
    pairs.push(["event", text]);
    expected.event = event;
  }
  if (fuzz.chance(0.5)) {
    const numwant = fuzz.int(1000);
    pairs.push(["numwant", decimal(fuzz, numwant)]);
    expected.numwant = Math.min(numwant, limits.numwantMax);
  }
  if (fuzz.chance(0.5)) {
    expected.compact = fuzz.chance(0.5);
    pairs.push(["compact", expected.compact ? "1" : "0"]);
  }
  if (fuzz.chance(0.3)) {
    expected.noPeerId = fuzz.chance(0.5);
    pairs.push(["no_peer_id", expected.noPeerId ? "1" : "0"]);
  }
  if (fuzz.chance(0.5)) {
    const key = fuzz.bytes(fuzz.int(65));
    pairs.push(["key", escapeRandomly(fuzz, key)]);
    expected.key = latin1(key);
  }
  if (fuzz.chance(0.2)) pairs.push(["trackerid", escapeRandomly(fuzz, fuzz.bytes(fuzz.int(65)))]);
  if (fuzz.chance(0.3)) {
    const address = fuzz.bytes(4);
    pairs.push(["ipv4", address.join(".")]);
    expected.claimedIpv4 = address;
  }
  if (fuzz.chance(0.3)) {
    const address = fuzz.bytes(16);
    const words = Array.from({ length: 8 }, (_, i) => (address[2 * i] << 8) | address[2 * i + 1]);
    pairs.push(["ipv6", escapeRandomly(fuzz, ascii(words.map((w) => w.toString(16)).join(":")))]);
    expected.claimedIpv6 = address;
  }
  for (let extra = fuzz.int(3); extra > 0; extra--) {
    pairs.push([`x${fuzz.int(1000)}`, escapeRandomly(fuzz, fuzz.bytes(fuzz.int(30)))]);
  }
  shuffle(fuzz, pairs);
  const query = pairs.map(([key, value]) =>
    `${fuzz.chance(0.1) ? escapeRandomly(fuzz, ascii(key)) : key}=${value}`
  ).join("&");
  return { query, expected };
}

/** A scrape query of up to 300 hashes (some repeated) among other keys, and the hashes it names. */
export function randomScrape(fuzz: Fuzz): { query: string; hashes: string[] } {
  const pool = Array.from(
    { length: 1 + fuzz.int(fuzz.chance(0.8) ? 30 : 300) },
    () => fuzz.bytes(20),
  );
  const pairs: string[] = [];
  const hashes = new Set<string>();
  for (let n = fuzz.chance(0.1) ? 0 : fuzz.int(fuzz.chance(0.8) ? 30 : 300); n > 0; n--) {
    const hash = fuzz.pick(pool);
    pairs.push(`info_hash=${escapeRandomly(fuzz, hash)}`);
    hashes.add(latin1(hash));
    if (fuzz.chance(0.05)) pairs.push(`x=${escapeRandomly(fuzz, fuzz.bytes(fuzz.int(20)))}`);
  }
  return { query: pairs.join("&"), hashes: [...hashes] };
}

/** A random bencode value, and its model: what decoding its encoding must give back. */
export function randomBencode(fuzz: Fuzz, depth = 0): { value: BencodeValue; model: unknown } {
  const kind = fuzz.int(depth >= 4 ? 2 : 4);
  if (kind === 0) {
    if (fuzz.chance(0.2)) {
      const big = BigInt(Math.floor((fuzz.random() - 0.5) * 2 ** 53)) * 2n ** BigInt(fuzz.int(80));
      return { value: big, model: `i${big}` };
    }
    const small = fuzz.int(2_000_001) - 1_000_000;
    return { value: small, model: `i${small}` };
  }
  if (kind === 1) {
    const bytes = fuzz.bytes(fuzz.chance(0.9) ? fuzz.int(40) : fuzz.int(5000));
    return { value: bytes, model: `s${latin1(bytes)}` };
  }
  if (kind === 2) {
    const items = Array.from({ length: fuzz.int(6) }, () => randomBencode(fuzz, depth + 1));
    return { value: items.map((item) => item.value), model: items.map((item) => item.model) };
  }
  const dict: Record<string, BencodeValue> = {};
  const model: Record<string, unknown> = {};
  for (let n = fuzz.int(6); n > 0; n--) {
    // Keys as text; the decoder keys by raw bytes, so the model keys by the UTF-8 bytes.
    const key = fuzz.chance(0.8)
      ? latin1(fuzz.bytes(fuzz.int(12))).replace(/[\x80-\xff]/g, "a")
      : String.fromCodePoint(...Array.from({ length: 1 + fuzz.int(4) }, () => fuzz.int(0xd000)));
    const item = randomBencode(fuzz, depth + 1);
    dict[key] = item.value;
    model[latin1(new TextEncoder().encode(key))] = item.model;
  }
  // The encoder sorts keys by their bytes, which is the order of their latin1 readings.
  const entries = Object.entries(model).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { value: dict, model: { dict: entries } };
}

/** Applies 1 to 4 random edits to text: deletions, insertions of tricky chars, repeats, cuts. */
export function mutateText(fuzz: Fuzz, text: string): string {
  const tricky = ["%", "%%", "%2", "%zz", "&", "=", "&&", "==", "+", "\0", "\xff", "\u0100", "?"];
  for (let edits = 1 + fuzz.int(4); edits > 0; edits--) {
    const at = fuzz.int(text.length + 1);
    switch (fuzz.int(5)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + 1 + fuzz.int(8));
        break;
      case 1:
        text = text.slice(0, at) + fuzz.pick(tricky) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + String.fromCharCode(fuzz.int(256)) + text.slice(at);
        break;
      case 3: {
        const piece = text.slice(at, at + fuzz.int(40));
        text = text.slice(0, at) + piece + "&" + piece + text.slice(at);
        break;
      }
      default:
        text = text.slice(0, at);
    }
  }
  return text;
}

/** Applies 1 to 4 random edits to bytes: flips, deletions, insertions, cuts. */
export function mutateBytes(fuzz: Fuzz, bytes: Uint8Array): Uint8Array {
  let out = [...bytes];
  const tricky = [0x69, 0x6c, 0x64, 0x65, 0x3a, 0x2d, 0x30, 0x39];
  for (let edits = 1 + fuzz.int(4); edits > 0; edits--) {
    const at = fuzz.int(out.length + 1);
    switch (fuzz.int(4)) {
      case 0:
        out[at] = fuzz.chance(0.5) ? fuzz.pick(tricky) : fuzz.int(256);
        break;
      case 1:
        out.splice(at, 1 + fuzz.int(4));
        break;
      case 2:
        out.splice(at, 0, ...Array.from({ length: 1 + fuzz.int(4) }, () => fuzz.pick(tricky)));
        break;
      default:
        out = out.slice(0, at);
    }
  }
  return Uint8Array.from(out.filter((byte) => byte !== undefined));
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function shuffle<T>(fuzz: Fuzz, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = fuzz.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}
