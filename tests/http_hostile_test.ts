/**
 * Hostile HTTP input against a real listening tracker: every request gets a well-formed answer
 * or a closed connection, and the tracker keeps serving everyone else.
 */
import assert from "node:assert/strict";
import {
  decodeDict,
  HttpTrackerClient,
  percentEncodeAll,
  textOf,
} from "./support/http_tracker_client.ts";
import { seededRandom } from "./support/seeded_random.ts";
import { startTestServer, type TestServer } from "./support/test_server.ts";

const peerId = new TextEncoder().encode("-HX0001-000000000000");

/** Sends raw bytes on a new connection; returns what came back before close or `timeoutMs`. */
async function rawExchange(
  port: number,
  request: Uint8Array | string,
  timeoutMs = 3000,
): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
  let text = "";
  const timer = setTimeout(() => connection.close(), timeoutMs);
  try {
    await connection.write(bytes).catch(() => {});
    const buffer = new Uint8Array(65536);
    for (;;) {
      const read = await connection.read(buffer).catch(() => null);
      if (read === null) break;
      text += new TextDecoder("latin1").decode(buffer.subarray(0, read));
      // One complete response is enough: the connection may stay open (keep-alive).
      const head = text.indexOf("\r\n\r\n");
      const length = text.match(/content-length: (\d+)/i);
      if (head !== -1 && length !== null && text.length >= head + 4 + Number(length[1])) break;
    }
  } finally {
    clearTimeout(timer);
    try {
      connection.close();
    } catch { /* closed by the timer */ }
  }
  return text;
}

/** The tracker still answers a normal announce. */
async function assertServing(test: TestServer): Promise<void> {
  const reply = await new HttpTrackerClient(test.baseUrl).announce({
    infoHash: crypto.getRandomValues(new Uint8Array(20)),
    peerId,
    port: 6881,
    left: 1,
  });
  assert.ok(reply.ok);
}

function statusOf(response: string): number | null {
  const match = response.match(/^HTTP\/1\.[01] (\d{3})/);
  return match === null ? null : Number(match[1]);
}

Deno.test("HTTP hostile: a 64 KB query string, 1,000 headers and NUL bytes are answered or closed", async () => {
  const test = await startTestServer();
  try {
    const port = test.server.httpAddress.port;
    const longQuery = `GET /announce?${"a=b&".repeat(16 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const headers = Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
    const cases = [
      longQuery,
      `GET /announce HTTP/1.1\r\nHost: x\r\n${headers}\r\n`,
      "GET /announce?info_hash=\0\0 HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /ann\0ounce HTTP/1.1\r\nHost: x\r\n\r\n",
      "\0\0\0\0\r\n\r\n",
      "GARBAGE\r\n\r\n",
    ];
    for (const request of cases) {
      const response = await rawExchange(port, request);
      const status = statusOf(response);
      // Either a well-formed HTTP answer or a closed connection with nothing sent.
      assert.ok(status !== null || response === "", `unexpected answer: ${response.slice(0, 80)}`);
      await assertServing(test);
    }
  } finally {
    await test.close();
  }
});

Deno.test("HTTP hostile: odd methods get 405 and HTTP/1.0 is answered", async () => {
  const test = await startTestServer();
  try {
    const port = test.server.httpAddress.port;
    for (const method of ["DELETE", "PATCH", "OPTIONS", "BREW"]) {
      const response = await rawExchange(port, `${method} /announce HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(statusOf(response), 405, method);
    }
    const old = await rawExchange(port, "GET /scrape HTTP/1.0\r\n\r\n");
    assert.equal(statusOf(old), 200);
    assert.ok(old.includes("d5:filesd"));
  } finally {
    await test.close();
  }
});

Deno.test("HTTP hostile: a half-sent request held open does not stop others being served", async () => {
  const test = await startTestServer();
  const stalled: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const connection = await Deno.connect({
        hostname: "127.0.0.1",
        port: test.server.httpAddress.port,
      });
      await connection.write(new TextEncoder().encode("GET /announce?info_hash=%01"));
      stalled.push(connection);
    }
    await assertServing(test);
  } finally {
    for (const connection of stalled) connection.close();
    await test.close();
  }
});

Deno.test("HTTP hostile: random query strings get a bencoded answer, never an internal error", async () => {
  const test = await startTestServer();
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const random = seededRandom(0xbadc0de);
    const keys = [
      "info_hash",
      "peer_id",
      "port",
      "left",
      "uploaded",
      "event",
      "numwant",
      "compact",
      "ip",
      "key",
    ];
    for (let round = 0; round < 300; round++) {
      const pairs: string[] = [];
      for (let i = Math.floor(random() * 8); i > 0; i--) {
        const key = random() < 0.8 ? keys[Math.floor(random() * keys.length)] : "zz";
        const value = percentEncodeAll(
          crypto.getRandomValues(new Uint8Array(Math.floor(random() * 25))),
        );
        pairs.push(random() < 0.1 ? `${key}=%${value.slice(1, 2)}` : `${key}=${value}`);
      }
      const { status, body } = await client.get(`/announce?${pairs.join("&")}`);
      assert.equal(status, 200, pairs.join("&"));
      const reply = decodeDict(body);
      assert.ok(reply.has("failure reason") || reply.has("peers"));
      assert.notEqual(textOf(reply, "failure reason"), "internal error");
    }
    assert.equal(test.logger.lines.filter((line) => / error /.test(line)).length, 0);
    await assertServing(test);
  } finally {
    await test.close();
  }
});
