/**
 * Hostile and broken WebSocket clients against a real listening tracker: every bad message gets a
 * `failure reason` or a close with a reason, never a crash, and the tracker keeps serving the
 * others. Dead sockets (no pong) and silent ones are closed and leave their swarms.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Allowlist } from "../src/core/allowlist.ts";
import { Tracker } from "../src/core/tracker.ts";
import { WsSwarms } from "../src/core/ws_swarms.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import {
  createWsTracker,
  MAX_CLIENT_ERRORS,
  MAX_MESSAGE_CHARS,
  type TrackerSocket,
  type WsTracker,
} from "../src/ws/ws_tracker.ts";
import { startTestServer, type TestServer } from "./support/test_server.ts";
import {
  bounded,
  id20,
  maskedTextFrame,
  openWsClient,
  type TestWsClient,
  WS_HANDSHAKE,
} from "./support/ws_client.ts";

const HASH = id20("h");

function wsUrl(server: TestServer): string {
  return server.baseUrl.replace("http://", "ws://") + "/announce";
}

async function withClient(test: (client: TestWsClient, server: TestServer) => Promise<void>) {
  const server = await startTestServer();
  const client = await openWsClient(wsUrl(server));
  try {
    await test(client, server);
  } finally {
    await client.close();
    await server.close();
  }
}

/** The tracker still answers a well-formed announce on a fresh socket. */
async function assertStillServing(server: TestServer): Promise<void> {
  const probe = await openWsClient(wsUrl(server));
  try {
    probe.send({ action: "announce", info_hash: id20("p"), peer_id: id20("p"), left: 1 });
    assert.equal((await probe.next()).incomplete, 1);
  } finally {
    await probe.close();
  }
}

Deno.test("ws hostile: malformed messages get a failure reason and the socket stays open", async () => {
  await withClient(async (client, server) => {
    const cases: [unknown, RegExp][] = [
      ["{not json", /not JSON/],
      ["42", /JSON object/],
      [{ action: "announce", info_hash: HASH.slice(1), peer_id: id20("a") }, /got 19/],
      [{ action: "announce", info_hash: HASH, peer_id: 7 }, /peer_id must be a string/],
      [{ action: "announce", info_hash: HASH, peer_id: id20("a"), left: "lots" }, /left/],
      [{ action: "announce", info_hash: HASH, peer_id: id20("a"), offers: "x" }, /offers/],
      [{ action: "explode" }, /action/],
      [{ action: "scrape", info_hash: [1, 2] }, /info_hash must be a string/],
      [{
        action: "announce",
        info_hash: HASH,
        peer_id: id20("a"),
        to_peer_id: id20("b"),
        offer_id: id20("c"),
        answer: { type: "answer", sdp: "x" },
      }, /offer this peer was not sent/],
    ];
    for (const [message, reason] of cases) {
      client.send(message);
      const reply = await client.next();
      assert.match(String(reply["failure reason"]), reason, JSON.stringify(message));
    }
    assert.equal(client.socket.readyState, WebSocket.OPEN);
    await assertStillServing(server);
  });
});

Deno.test("ws hostile: a message over the size limit closes the socket with 1009 and a reason", async () => {
  await withClient(async (client, server) => {
    client.send("x".repeat(1024 * 1024));
    const closed = await client.closed();
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, new RegExp(`longer than ${MAX_MESSAGE_CHARS}`));
    await assertStillServing(server);
  });
});

Deno.test("ws hostile: a binary message closes the socket with 1003", async () => {
  await withClient(async (client) => {
    client.socket.send(new Uint8Array([1, 2, 3]));
    const closed = await client.closed();
    assert.equal(closed.code, 1003);
    assert.match(closed.reason, /binary/);
  });
});

Deno.test("ws hostile: hundreds of offers in one announce relay at most the cap", async () => {
  await withClient(async (client, server) => {
    const receivers: TestWsClient[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const receiver = await openWsClient(wsUrl(server));
        receivers.push(receiver);
        receiver.send({
          action: "announce",
          info_hash: HASH,
          peer_id: id20(String.fromCharCode(97 + i)),
        });
        await receiver.next();
      }
      // As many offers as one message under the size limit holds.
      const offers = Array.from({ length: 900 }, (_, i) => ({
        offer_id: String(i).padStart(20, "0"),
        offer: { type: "offer", sdp: "" },
      }));
      const text = JSON.stringify({
        action: "announce",
        info_hash: HASH,
        peer_id: id20("S"),
        numwant: 900,
        offers,
      });
      assert.ok(text.length < MAX_MESSAGE_CHARS, "the flood fits one message");
      client.send(text);
      assert.equal((await client.next()).incomplete, 13);
      // Twelve other peers, at most ten offers, at most one each: a scrape reply ends each queue.
      let relayed = 0;
      for (const receiver of receivers) {
        receiver.send({ action: "scrape", info_hash: HASH });
        for (
          let message = await receiver.next();
          message.action !== "scrape";
          message = await receiver.next()
        ) {
          assert.equal(message.peer_id, id20("S"));
          relayed++;
        }
      }
      assert.equal(relayed, 10);
    } finally {
      for (const receiver of receivers) await receiver.close();
    }
  });
});

Deno.test("ws hostile: a socket that keeps sending refused messages is closed with 1008", async () => {
  await withClient(async (client) => {
    for (let i = 0; i < MAX_CLIENT_ERRORS; i++) client.send("nope");
    const closed = await client.closed();
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /too many refused/);
  });
});

/** A transport on its own listener, with a clock the test moves. */
function standalone(pingSeconds: number) {
  let clock = 1_700_000_000_000;
  const swarms = new WsSwarms<TrackerSocket>({
    allowlist: () => Allowlist.openMode(),
    expirySeconds: 3600,
  });
  const tracker = new Tracker({ expirySeconds: 3600, extraCounts: swarms });
  const transport: WsTracker = createWsTracker({
    tracker,
    swarms,
    logger: createMemoryLogger(),
    now: () => clock,
    settings: { interval: 120, pingSeconds, silentCloseSeconds: 300 },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => transport.upgrade(request, { address: new Uint8Array(4), key: null }),
  );
  return {
    swarms,
    transport,
    url: `ws://127.0.0.1:${server.addr.port}/announce`,
    port: server.addr.port,
    advance(ms: number) {
      clock += ms;
    },
    async close() {
      transport.closeAll();
      await server.shutdown();
    },
  };
}

Deno.test("ws: a socket silent past silentCloseSeconds is closed and leaves its swarms", async () => {
  const setup = standalone(60);
  const client = await openWsClient(setup.url);
  try {
    client.send({ action: "announce", info_hash: HASH, peer_id: id20("a"), left: 1 });
    await client.next();
    assert.equal(setup.transport.closeSilent(), 0);
    setup.advance(301_000);
    assert.equal(setup.transport.closeSilent(), 1);
    const closed = await client.closed();
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /no message/);
    assert.equal(setup.swarms.countsOf(HASH), null);
    assert.equal(setup.transport.openCount, 0);
  } finally {
    await client.close();
    await setup.close();
  }
});

Deno.test("ws: a dead socket (no pong) is closed by ping and leaves its swarms", async () => {
  const setup = standalone(1);
  const connection = await Deno.connect({ hostname: "127.0.0.1", port: setup.port });
  try {
    await connection.write(new TextEncoder().encode(WS_HANDSHAKE));
    const buffer = new Uint8Array(4096);
    const first = await bounded(connection.read(buffer), 5_000, "reading the handshake");
    assert.match(new TextDecoder().decode(buffer.subarray(0, first ?? 0)), /101/);
    const announce = JSON.stringify({ action: "announce", info_hash: HASH, peer_id: id20("d") });
    await connection.write(maskedTextFrame(announce));
    for (let i = 0; i < 100 && setup.swarms.countsOf(HASH) === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(setup.swarms.countsOf(HASH)?.incomplete, 1);
    // Read (and never answer) until the server gives up on the socket: the read ends.
    for (let reads = 0; reads < 100; reads++) {
      const read = await bounded(connection.read(buffer), 15_000, "waiting for the close")
        .catch(() => null);
      if (read === null) break;
    }
    for (let i = 0; i < 100 && setup.transport.openCount > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(setup.transport.openCount, 0);
    assert.equal(setup.swarms.countsOf(HASH), null);
  } finally {
    try {
      connection.close();
    } catch {
      // Already closed by the server's side.
    }
    await setup.close();
  }
});
