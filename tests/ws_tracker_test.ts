/**
 * The WebSocket tracker over real sockets: a NoBrake listening on port 0 in this process, and
 * Deno's `WebSocket` as the client. Offers are relayed, answers go back only to the offerer,
 * scrape counts WebSocket peers (over WebSocket and over HTTP), and a stop or a closed socket
 * takes a peer out of its swarms.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./support/test_server.ts";
import {
  bounded,
  id20,
  maskedTextFrame,
  openWsClient,
  serverTextFrame,
  type TestWsClient,
  WS_HANDSHAKE,
} from "./support/ws_client.ts";
import { makeCertificate } from "./support/tls_fixture.ts";
import type { BDict } from "../src/protocol/bencode_decode.ts";
import { decodeDict } from "./support/http_tracker_client.ts";

const HASH = id20("h");
const OFFER = { type: "offer", sdp: "v=0 offer" };
const ANSWER = { type: "answer", sdp: "v=0 answer" };

function wsUrl(server: TestServer, path = "/announce"): string {
  return server.baseUrl.replace("http://", "ws://") + path;
}

async function withServer(
  test: (server: TestServer, open: () => Promise<TestWsClient>) => Promise<void>,
  config: Record<string, unknown> = {},
): Promise<void> {
  const server = await startTestServer({ config });
  const clients: TestWsClient[] = [];
  try {
    await test(server, async () => {
      const client = await openWsClient(wsUrl(server));
      clients.push(client);
      return client;
    });
  } finally {
    for (const client of clients) await client.close();
    await server.close();
  }
}

function announce(peerId: string, extra: Record<string, unknown> = {}) {
  return { action: "announce", info_hash: HASH, peer_id: peerId, left: 100, ...extra };
}

Deno.test("ws tracker relays an offer to another peer and its answer back to the offerer", async () => {
  await withServer(async (_server, open) => {
    const a = await open();
    const b = await open();
    a.send(announce(id20("a"), { event: "started", offers: [], numwant: 5 }));
    const replyA = await a.next();
    assert.equal(replyA.action, "announce");
    assert.equal(replyA.info_hash, HASH);
    assert.equal(replyA.incomplete, 1);
    assert.equal(typeof replyA.interval, "number");

    b.send(announce(id20("b"), {
      event: "started",
      numwant: 5,
      offers: [{ offer_id: id20("1"), offer: OFFER }, { offer_id: id20("2"), offer: OFFER }],
    }));
    const replyB = await b.next();
    assert.deepEqual([replyB.complete, replyB.incomplete], [0, 2]);

    // One offer only: A is the one other peer, and an offer goes to a peer once.
    const offer = await a.next();
    assert.deepEqual(offer, {
      action: "announce",
      info_hash: HASH,
      peer_id: id20("b"),
      offer_id: id20("1"),
      offer: OFFER,
    });

    a.send(announce(id20("a"), { to_peer_id: id20("b"), offer_id: id20("1"), answer: ANSWER }));
    const answer = await b.next();
    assert.deepEqual(answer, {
      action: "announce",
      info_hash: HASH,
      peer_id: id20("a"),
      offer_id: id20("1"),
      answer: ANSWER,
    });
    // The answer is not an announce: A gets no reply for it.
    assert.equal(a.queued, 0);
  });
});

Deno.test("ws tracker refuses an answer to an offer the peer was not sent, and relays nothing", async () => {
  await withServer(async (_server, open) => {
    const a = await open();
    const b = await open();
    a.send(announce(id20("a")));
    await a.next();
    b.send(announce(id20("b")));
    await b.next();
    a.send(announce(id20("a"), { to_peer_id: id20("b"), offer_id: id20("9"), answer: ANSWER }));
    const refusal = await a.next();
    assert.equal(refusal["failure reason"], "answer to an offer this peer was not sent");
    assert.equal(refusal.info_hash, HASH);
    // B got nothing: ask it for a scrape and see that the scrape reply is its next message.
    b.send({ action: "scrape", info_hash: HASH });
    assert.equal((await b.next()).action, "scrape");
  });
});

Deno.test("ws tracker: an answer goes once only, and only from the peer the offer was sent to", async () => {
  await withServer(async (_server, open) => {
    const a = await open();
    const b = await open();
    const c = await open();
    a.send(announce(id20("a")));
    await a.next();
    b.send(announce(id20("b"), { offers: [{ offer_id: id20("1"), offer: OFFER }] }));
    await b.next();
    await a.next(); // the offer
    // C, on another socket, claims to answer under A's name: refused.
    c.send(announce(id20("a"), { to_peer_id: id20("b"), offer_id: id20("1"), answer: ANSWER }));
    assert.match(String((await c.next())["failure reason"]), /not sent/);
    a.send(announce(id20("a"), { to_peer_id: id20("b"), offer_id: id20("1"), answer: ANSWER }));
    assert.ok((await b.next()).answer);
    a.send(announce(id20("a"), { to_peer_id: id20("b"), offer_id: id20("1"), answer: ANSWER }));
    assert.match(String((await a.next())["failure reason"]), /not sent/);
  });
});

Deno.test("ws tracker scrape counts WebSocket peers over WebSocket and over HTTP", async () => {
  await withServer(async (server, open) => {
    const a = await open();
    a.send(announce(id20("a"), { left: 0 }));
    await a.next();
    const b = await open();
    b.send(announce(id20("b")));
    await b.next();
    b.send({ action: "scrape", info_hash: [HASH] });
    const scrape = await b.next();
    assert.deepEqual(scrape, {
      action: "scrape",
      files: { [HASH]: { complete: 1, incomplete: 1, downloaded: 0 } },
    });
    const http = await fetch(`${server.baseUrl}/scrape`);
    const files = decodeDict(new Uint8Array(await http.arrayBuffer())).get("files") as BDict;
    const entry = files.get(HASH) as BDict;
    assert.deepEqual([entry.get("complete"), entry.get("incomplete")], [1, 1]);
  });
});

Deno.test("ws tracker: stopped, and a closed socket, take the peer out of the swarm", async () => {
  await withServer(async (server, open) => {
    const a = await open();
    const b = await open();
    a.send(announce(id20("a")));
    await a.next();
    b.send(announce(id20("b")));
    assert.equal((await b.next()).incomplete, 2);
    a.send(announce(id20("a"), { event: "stopped" }));
    assert.equal((await a.next()).incomplete, 1);
    await b.close();
    // The close is handled when the server sees it: poll, bounded.
    const swarms = server.server.webSockets!;
    for (let i = 0; i < 100 && swarms.countsOf(HASH) !== null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(swarms.countsOf(HASH), null);
  });
});

Deno.test("ws tracker: passkey paths work as over HTTP; no key or a wrong one is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-ws-passkeys-" });
  const file = `${dir}/passkeys.txt`;
  await Deno.writeTextFile(file, "good-key\n");
  try {
    await withServer(async (server) => {
      const client = await openWsClient(wsUrl(server, "/good-key/announce"));
      try {
        client.send(announce(id20("a")));
        assert.equal((await client.next()).incomplete, 1);
      } finally {
        await client.close();
      }
      for (const path of ["/announce", "/bad-key/announce"]) {
        await assert.rejects(openWsClient(wsUrl(server, path)), /could not open/);
      }
    }, { passkeys: file, udp: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ws tracker: a torrent not on the allowlist is refused with retry in", async () => {
  const server = await startTestServer({ allowedTorrents: 1 });
  const client = await openWsClient(wsUrl(server));
  try {
    client.send(announce(id20("a")));
    const reply = await client.next();
    assert.equal(reply["failure reason"], "torrent is not allowed on this tracker");
    assert.equal(reply["retry in"], 3600);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("ws tracker: rate_limit counts WebSocket announces and refuses with retry in", async () => {
  await withServer(async (_server, open) => {
    const client = await open();
    const refusals: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      client.send(announce(id20("a")));
      const reply = await client.next();
      if (reply["failure reason"] !== undefined) refusals.push(reply["retry in"]);
    }
    assert.ok(refusals.length > 0, "some announces are refused");
    assert.ok(refusals.every((retryIn) => typeof retryIn === "number" && retryIn > 0));
  }, { rate_limit: 3 });
});

Deno.test("ws tracker: websocket false leaves /announce to HTTP", async () => {
  await withServer(async (server) => {
    await assert.rejects(openWsClient(wsUrl(server)), /could not open/);
    assert.equal(server.server.webSockets, null);
  }, { websocket: false });
});

Deno.test("ws tracker counts in /stats.json and /metrics under the websocket protocol", async () => {
  await withServer(async (server, open) => {
    const client = await open();
    client.send(announce(id20("a")));
    await client.next();
    client.send({ action: "scrape" });
    await client.next();
    client.send("garbage");
    await client.next();
    const stats = await (await fetch(`${server.baseUrl}/stats.json`)).json();
    assert.equal(stats.requests.announces.websocket, 1);
    assert.equal(stats.requests.scrapes.websocket, 1);
    assert.equal(stats.requests.failures.websocket.malformed, 1);
    assert.equal(stats.totals.peers_websocket, 1);
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.match(metrics, /nobrake_announces_total\{protocol="websocket"\} 1/);
    assert.match(metrics, /nobrake_websocket_peers 1/);
  });
});

Deno.test("ws tracker serves wss:// on the HTTPS listener (node:https), passkeys and all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-wss-" });
  try {
    const certificate = await makeCertificate(dir, "wss", 0x3003);
    await Deno.writeTextFile(`${dir}/passkeys.txt`, "wss-key\n");
    const server = await startTestServer({
      config: {
        tls_cert: certificate.certPath,
        tls_key: certificate.keyPath,
        passkeys: `${dir}/passkeys.txt`,
        udp: false,
      },
    });
    const port = server.server.httpAddress.port;
    const exchange = async (path: string, message: unknown) => {
      const connection = await Deno.connectTls({
        hostname: "127.0.0.1",
        port,
        caCerts: [certificate.cert],
      });
      try {
        await connection.write(new TextEncoder().encode(WS_HANDSHAKE.replace("/announce", path)));
        let received = new Uint8Array(0);
        const buffer = new Uint8Array(4096);
        let sent = false;
        for (let reads = 0; reads < 20; reads++) {
          const read = await bounded(connection.read(buffer), 5_000, "reading");
          if (read === null) break;
          received = new Uint8Array([...received, ...buffer.subarray(0, read)]);
          const text = new TextDecoder("latin1").decode(received);
          const end = text.indexOf("\r\n\r\n");
          if (end === -1) continue;
          if (!text.startsWith("HTTP/1.1 101")) return { head: text.slice(0, end), reply: null };
          if (!sent) {
            await connection.write(maskedTextFrame(JSON.stringify(message)));
            sent = true;
          }
          const reply = serverTextFrame(received.subarray(end + 4));
          if (reply !== null) return { head: text.slice(0, end), reply: JSON.parse(reply) };
        }
        return { head: "", reply: null };
      } finally {
        connection.close();
      }
    };
    try {
      const ok = await exchange("/wss-key/announce", announce(id20("s")));
      assert.match(ok.head, /^HTTP\/1\.1 101/);
      assert.deepEqual([ok.reply?.action, ok.reply?.info_hash, ok.reply?.incomplete], [
        "announce",
        HASH,
        1,
      ]);
      const refused = await exchange("/other/announce", announce(id20("t")));
      assert.match(refused.head, /^HTTP\/1\.1 403/);
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
