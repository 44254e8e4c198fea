/**
 * The WebSocket wire (RFC 6455) for the one place Deno's own WebSocket server cannot be used: the
 * HTTPS listener, which runs on `node:https` (see `src/http/listener.ts`). The opening handshake's
 * accept value, server frames (never masked, one write each), and a reader of client frames that
 * refuses what a tracker never needs: unmasked frames, messages over a size limit (as soon as a
 * header announces one, before its payload is held), and reserved bits. Pure: bytes in, frames out.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Frame opcodes (RFC 6455 section 5.2). */
export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** The GUID of RFC 6455 section 1.3, appended to the client's key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`. */
export function websocketAccept(key: string): string {
  return createHash("sha1").update(key + HANDSHAKE_GUID).digest("base64");
}

/** A whole message or control frame from the client, unmasked. */
export interface ClientFrame {
  opcode: number;
  payload: Uint8Array;
}

/** Why the reader gave up: the close code and reason to send (RFC 6455 section 7.4.1). */
export class FrameError extends Error {
  readonly code: number;

  constructor(code: number, reason: string) {
    super(reason);
    this.name = "FrameError";
    this.code = code;
  }
}

/** One server frame, FIN set, unmasked. */
export function encodeServerFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + extended + payload.length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = payload.length;
  else if (extended === 2) {
    frame[1] = 126;
    frame[2] = payload.length >>> 8;
    frame[3] = payload.length & 0xff;
  } else {
    frame[1] = 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(payload.length));
  }
  frame.set(payload, 2 + extended);
  return frame;
}

/** A close frame's payload: the code, then the reason as UTF-8 (cut to fit 125 bytes). */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, 123);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/**
 * Reads client frames from the byte stream, joining fragmented messages. Holds at most one
 * message of `maxMessageBytes` plus one frame header; past that it throws `FrameError` 1009.
 */
export class ClientFrameReader {
  readonly #maxMessageBytes: number;
  #buffer: Uint8Array = new Uint8Array(0);
  /** Fragments of a message begun with FIN clear, and its opcode. */
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentOpcode = -1;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Takes bytes as they arrive; returns the whole frames they complete. */
  push(chunk: Uint8Array): ClientFrame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk.slice() : concat(this.#buffer, chunk);
    const frames: ClientFrame[] = [];
    let at = 0;
    const buffer = this.#buffer;
    for (;;) {
      if (buffer.length - at < 2) break;
      const first = buffer[at]!;
      const second = buffer[at + 1]!;
      if ((first & 0x70) !== 0) throw new FrameError(1002, "reserved bits set");
      if ((second & 0x80) === 0) throw new FrameError(1002, "client frames must be masked");
      const fin = (first & 0x80) !== 0;
      const opcode = first & 0x0f;
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffer.length - at < 4) break;
        length = (buffer[at + 2]! << 8) | buffer[at + 3]!;
        header = 4;
      } else if (length === 127) {
        if (buffer.length - at < 10) break;
        const big = new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8).getBigUint64(0);
        length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
        header = 10;
      }
      const control = opcode >= 0x8;
      if (control && (length > 125 || !fin)) {
        throw new FrameError(1002, "control frames are short and whole");
      }
      if (!control && this.#fragmentBytes + length > this.#maxMessageBytes) {
        throw new FrameError(1009, `message longer than ${this.#maxMessageBytes} bytes`);
      }
      if (buffer.length - at < header + 4 + length) break;
      const mask = buffer.subarray(at + header, at + header + 4);
      const payload = buffer.slice(at + header + 4, at + header + 4 + length);
      for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
      at += header + 4 + length;
      const frame = this.#join(fin, opcode, payload);
      if (frame !== null) frames.push(frame);
    }
    this.#buffer = at === buffer.length ? new Uint8Array(0) : buffer.slice(at);
    return frames;
  }

  /** A control frame as it is; data frames joined into one message at their final fragment. */
  #join(fin: boolean, opcode: number, payload: Uint8Array): ClientFrame | null {
    if (opcode >= 0x8) return { opcode, payload };
    if (opcode === OPCODE.continuation) {
      if (this.#fragmentOpcode === -1) throw new FrameError(1002, "continuation of nothing");
    } else {
      if (this.#fragmentOpcode !== -1) throw new FrameError(1002, "new message inside a message");
      if (opcode !== OPCODE.text && opcode !== OPCODE.binary) {
        throw new FrameError(1002, `unknown opcode ${opcode}`);
      }
      if (fin) return { opcode, payload };
      this.#fragmentOpcode = opcode;
    }
    this.#fragments.push(payload);
    this.#fragmentBytes += payload.length;
    if (!fin) return null;
    const message = { opcode: this.#fragmentOpcode, payload: concatAll(this.#fragments) };
    this.#fragments = [];
    this.#fragmentBytes = 0;
    this.#fragmentOpcode = -1;
    return message;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
