/**
 * `NodeWebSocket` on a real `node:http` server's upgrade (the same path as the HTTPS listener's,
 * without TLS), with Deno's `WebSocket` and a raw socket as clients.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { acceptNodeUpgrade, type NodeWebSocket } from "../src/ws/node_websocket.ts";
import { bounded, openWsClient, WS_HANDSHAKE } from "./support/ws_client.ts";

interface Harness {
  url: string;
  port: number;
  texts: string[];
  binaries: number;
  closes: number;
  closed: Promise<void>;
  close(): Promise<void>;
}

async function harness(pingSeconds = 60): Promise<Harness> {
  const closedOnce = Promise.withResolvers<void>();
  const state: Harness = {
    url: "",
    port: 0,
    texts: [],
    binaries: 0,
    closes: 0,
    closed: closedOnce.promise,
    close: async () => {},
  };
  const server = createServer((_request, response) => response.end("plain"));
  const sockets = new Set<Duplex>();
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    sockets.add(socket);
    let websocket: NodeWebSocket | null = null;
    websocket = acceptNodeUpgrade(request, socket, head, {
      onText: (text) => {
        state.texts.push(text);
        websocket?.send(`echo ${text}`);
        if (text === "bye") websocket?.close(4000, "asked to");
      },
      onBinary: () => state.binaries++,
      onClose: () => {
        state.closes++;
        closedOnce.resolve();
      },
    }, { maxMessageBytes: 1000, pingSeconds });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `ws://127.0.0.1:${state.port}/announce`;
  state.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

Deno.test("NodeWebSocket answers the handshake, echoes text, and closes with a code", async () => {
  const state = await harness();
  const client = await openWsClient(state.url);
  try {
    // The echoes are not JSON: read them raw instead of through the test client's queue.
    const replies: string[] = [];
    const two = Promise.withResolvers<void>();
    client.socket.onmessage = (event) => {
      replies.push(String(event.data));
      if (replies.length === 2) two.resolve();
    };
    client.send("héllo");
    client.send(JSON.stringify({ a: 1 }));
    await bounded(two.promise, 5_000, "two echoes");
    assert.deepEqual(replies, ["echo héllo", 'echo {"a":1}']);
    client.socket.send(new Uint8Array([1]));
    client.send("bye");
    const closed = await client.closed();
    assert.deepEqual([closed.code, closed.reason], [4000, "asked to"]);
    await bounded(state.closed, 5_000, "onClose");
    assert.equal(state.closes, 1);
    assert.equal(state.binaries, 1);
  } finally {
    await client.close();
    await state.close();
  }
});

Deno.test("NodeWebSocket closes with 1009 on a message over its limit", async () => {
  const state = await harness();
  const client = await openWsClient(state.url);
  try {
    client.send("x".repeat(5000));
    const closed = await client.closed();
    assert.equal(closed.code, 1009);
    await bounded(state.closed, 5_000, "onClose");
    assert.deepEqual(state.texts, []);
  } finally {
    await client.close();
    await state.close();
  }
});

Deno.test("acceptNodeUpgrade() refuses a handshake without a key with 400", async () => {
  const state = await harness();
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: state.port });
  try {
    await connection.write(
      new TextEncoder().encode(WS_HANDSHAKE.replace(/Sec-WebSocket-Key: [^\r]*\r\n/, "")),
    );
    const buffer = new Uint8Array(1024);
    const read = await bounded(connection.read(buffer), 5_000, "reading the refusal");
    assert.match(new TextDecoder().decode(buffer.subarray(0, read ?? 0)), /^HTTP\/1\.1 400/);
  } finally {
    connection.close();
    await state.close();
  }
});

Deno.test("NodeWebSocket drops a socket that answers no ping", async () => {
  const state = await harness(1);
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: state.port });
  try {
    await connection.write(new TextEncoder().encode(WS_HANDSHAKE));
    const buffer = new Uint8Array(1024);
    // Read (pings included) and never answer, until the server drops the socket.
    for (let reads = 0; reads < 50; reads++) {
      const read = await bounded(connection.read(buffer), 10_000, "reading").catch(() => null);
      if (read === null) break;
    }
    await bounded(state.closed, 10_000, "onClose");
    assert.equal(state.closes, 1);
  } finally {
    connection.close();
    await state.close();
  }
});
