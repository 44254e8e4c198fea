/**
 * A minimal WebSocket tracker client for tests: Deno's `WebSocket`, messages queued as they come,
 * and every wait bounded by a timeout so a test fails instead of hanging.
 *
 * @module
 */

/** A message as the tracker sent it (parsed JSON). */
export type WsMessage = Record<string, unknown>;

/** One open test socket. */
export interface TestWsClient {
  socket: WebSocket;
  /** Sends a value as JSON, or a string as it is. */
  send(message: unknown): void;
  /** The next message, parsed; throws after `timeoutMs`. */
  next(timeoutMs?: number): Promise<WsMessage>;
  /** Resolves with the close event (code and reason); throws after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  /** Messages received and not yet taken by `next`. */
  readonly queued: number;
  close(): Promise<void>;
}

/** A 20-char binary string made of one repeated code point (a readable test id). */
export function id20(char: string): string {
  return char.repeat(20);
}

/** Opens a socket to `url` and waits for it to be open. */
export async function openWsClient(url: string, timeoutMs = 5_000): Promise<TestWsClient> {
  const socket = new WebSocket(url);
  const queue: WsMessage[] = [];
  const waiters: ((message: WsMessage) => void)[] = [];
  const closing = Promise.withResolvers<{ code: number; reason: string }>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as WsMessage;
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(message);
    else queue.push(message);
  };
  socket.onclose = (event) => closing.resolve({ code: event.code, reason: event.reason });
  socket.onerror = () => {};
  const opened = Promise.withResolvers<void>();
  socket.onopen = () => opened.resolve();
  socket.addEventListener("close", () => opened.reject(new Error(`could not open ${url}`)));
  await bounded(opened.promise, timeoutMs, `opening ${url}`);
  return {
    socket,
    send(message) {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    next(wait = 5_000) {
      const ready = queue.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      const { promise, resolve } = Promise.withResolvers<WsMessage>();
      waiters.push(resolve);
      return bounded(promise, wait, "waiting for a message").catch((error) => {
        waiters.splice(waiters.indexOf(resolve), 1);
        throw error;
      });
    },
    closed(wait = 5_000) {
      return bounded(closing.promise, wait, "waiting for the socket to close");
    },
    get queued() {
      return queue.length;
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await bounded(closing.promise, 5_000, "closing").catch(() => {});
    },
  };
}

/** Rejects when `promise` takes longer than `ms`; always clears its timer. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An opening handshake for `/announce` (RFC 6455 section 4.1), for raw-socket tests. */
export const WS_HANDSHAKE = "GET /announce HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

/** A masked client text frame (RFC 6455 section 5.2), for a client that never answers pings. */
export function maskedTextFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  if (payload.length > 125) throw new Error("short frames only");
  const mask = [1, 2, 3, 4];
  const frame = new Uint8Array(6 + payload.length);
  frame.set([0x81, 0x80 | payload.length, ...mask]);
  payload.forEach((byte, i) => frame[6 + i] = byte ^ mask[i % 4]!);
  return frame;
}

/** The text of the first (unmasked, unfragmented) server text frame in `bytes`, or `null`. */
export function serverTextFrame(bytes: Uint8Array): string | null {
  if (bytes.length < 2 || bytes[0] !== 0x81) return null;
  let length = bytes[1]! & 0x7f;
  let start = 2;
  if (length === 126) {
    length = (bytes[2]! << 8) | bytes[3]!;
    start = 4;
  }
  if (bytes.length < start + length) return null;
  return new TextDecoder().decode(bytes.subarray(start, start + length));
}
