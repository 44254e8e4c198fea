/**
 * A server-side WebSocket over a `node:net` socket, for the HTTPS listener (`node:https`, whose
 * upgrade requests `Deno.upgradeWebSocket` cannot take): the opening handshake, then text messages
 * in and out through `ws_frame.ts`, pings while idle, and the close handshake. It offers the few
 * members of the browser `WebSocket` the tracker uses (`readyState`, `bufferedAmount`, `send`,
 * `close`), so `ws_tracker.ts` serves both kinds of socket alike.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  ClientFrameReader,
  closePayload,
  encodeServerFrame,
  FrameError,
  OPCODE,
  websocketAccept,
} from "../protocol/ws_frame.ts";

/** What the socket reports to its owner. */
export interface NodeWebSocketEvents {
  /** A whole text message. */
  onText(text: string): void;
  /** A whole binary message (the tracker closes the socket). */
  onBinary(): void;
  /** The socket is gone, whichever side closed it. Called once. */
  onClose(): void;
}

/** How the socket is bounded. */
export interface NodeWebSocketOptions {
  /** Bytes of the largest message read; a longer one closes the socket (1009). */
  maxMessageBytes: number;
  /** Seconds between pings; a socket that sent nothing since the last one is dropped. */
  pingSeconds: number;
}

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** Milliseconds the client has to answer our close frame before the socket is destroyed. */
const CLOSE_WAIT_MS = 2_000;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Answers a WebSocket opening handshake on a raw socket (RFC 6455 section 4.2), or refuses it with
 * 400 and closes the socket. Returns the open socket, or `null` when refused.
 */
export function acceptNodeUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  events: NodeWebSocketEvents,
  options: NodeWebSocketOptions,
): NodeWebSocket | null {
  const key = request.headers["sec-websocket-key"];
  const version = request.headers["sec-websocket-version"];
  if (
    request.method !== "GET" || typeof key !== "string" || !/^[A-Za-z0-9+/]{22}==$/.test(key) ||
    version !== "13"
  ) {
    socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    return null;
  }
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
      `sec-websocket-accept: ${websocketAccept(key)}\r\n\r\n`,
  );
  const websocket = new NodeWebSocket(socket, events, options);
  if (head.length > 0) websocket.receive(head);
  return websocket;
}

/** An open server-side WebSocket on a `node:net` (or TLS) socket. */
export class NodeWebSocket {
  #readyState = OPEN;
  readonly #socket: Duplex;
  readonly #events: NodeWebSocketEvents;
  readonly #reader: ClientFrameReader;
  readonly #pinger: ReturnType<typeof setInterval>;
  /** Something arrived since the last ping. */
  #heard = true;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: Duplex, events: NodeWebSocketEvents, options: NodeWebSocketOptions) {
    this.#socket = socket;
    this.#events = events;
    this.#reader = new ClientFrameReader(options.maxMessageBytes);
    socket.on("data", (chunk: Uint8Array) => this.receive(chunk));
    socket.on("close", () => this.#closed());
    // An error is followed by "close"; without a listener it would be thrown.
    socket.on("error", () => {});
    this.#pinger = setInterval(() => this.#ping(), options.pingSeconds * 1000);
  }

  /** 1 while open, 2 while closing, 3 when closed (as `WebSocket.readyState`). */
  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes queued to the socket and not yet written. */
  get bufferedAmount(): number {
    return (this.#socket as unknown as { writableLength?: number }).writableLength ?? 0;
  }

  /** Sends one text message (nothing once closing). */
  send(text: string): void {
    if (this.#readyState !== OPEN) return;
    this.#socket.write(encodeServerFrame(OPCODE.text, encoder.encode(text)));
  }

  /** Starts the close handshake; the socket is destroyed if the client does not finish it. */
  close(code = 1000, reason = ""): void {
    if (this.#readyState !== OPEN) return;
    this.#readyState = CLOSING;
    this.#socket.write(encodeServerFrame(OPCODE.close, closePayload(code, reason)));
    this.#socket.end();
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), CLOSE_WAIT_MS);
  }

  /** Bytes from the client (also the bytes that came with the handshake). */
  receive(chunk: Uint8Array): void {
    if (this.#readyState === CLOSED) return;
    this.#heard = true;
    let frames;
    try {
      frames = this.#reader.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.close(error.code, error.message);
      return;
    }
    for (const frame of frames) {
      if (this.#readyState !== OPEN) return;
      switch (frame.opcode) {
        case OPCODE.text: {
          let text: string;
          try {
            text = utf8.decode(frame.payload);
          } catch {
            this.close(1007, "text message is not UTF-8");
            return;
          }
          this.#events.onText(text);
          break;
        }
        case OPCODE.binary:
          this.#events.onBinary();
          break;
        case OPCODE.ping:
          this.#socket.write(encodeServerFrame(OPCODE.pong, frame.payload));
          break;
        case OPCODE.close:
          // Echo the code, as RFC 6455 section 5.5.1 asks, and end.
          this.#readyState = CLOSING;
          this.#socket.end(encodeServerFrame(OPCODE.close, frame.payload.subarray(0, 2)));
          break;
        default:
          // A pong: hearing it is all it is for.
          break;
      }
    }
  }

  #ping(): void {
    if (!this.#heard) {
      this.#socket.destroy();
      return;
    }
    this.#heard = false;
    if (this.#readyState === OPEN) {
      this.#socket.write(encodeServerFrame(OPCODE.ping, new Uint8Array(0)));
    }
  }

  #closed(): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    clearInterval(this.#pinger);
    clearTimeout(this.#closeTimer);
    this.#events.onClose();
  }
}
