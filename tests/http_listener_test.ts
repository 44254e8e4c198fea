/**
 * Tests for `src/http/listener.ts` on real sockets: plain HTTP and HTTPS serve the handler
 * with the client's address; a new certificate reaches new connections while an open keep-alive
 * connection and a request in flight go on with the old one; shutdown lets requests in flight
 * finish and is bounded by its timeout.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type HttpListener, type ListenerHandler, listenHttp } from "../src/http/listener.ts";
import { RawHttpConnection } from "./support/raw_http.ts";
import { makeCertificate, type TestCertificate } from "./support/tls_fixture.ts";

/** Answers `/slow` after `release()` is called, everything else at once with the client address. */
function gatedHandler() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  let arrived: () => void = () => {};
  const slowArrived = new Promise<void>((resolve) => arrived = resolve);
  const handler: ListenerHandler = async (request, info) => {
    const url = new URL(request.url);
    if (url.pathname === "/slow") {
      arrived();
      await gate;
    }
    return new Response(
      `${request.method} ${url.pathname}${url.search} from ${info.remoteAddr.hostname}`,
      {
        headers: { "x-agent": request.headers.get("user-agent") ?? "" },
      },
    );
  };
  return { handler, release: () => release(), slowArrived };
}

async function withCertificates(
  body: (first: TestCertificate, second: TestCertificate) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-tls-" });
  try {
    await body(
      await makeCertificate(dir, "first", 0x1001),
      await makeCertificate(dir, "second", 0x2002),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Whether a TLS handshake to `port` succeeds trusting only `cert`. */
async function handshakeTrusting(port: number, cert: string): Promise<boolean> {
  try {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [cert] });
    try {
      await conn.handshake();
      return true;
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

for (const secure of [false, true]) {
  const scheme = secure ? "https" : "http";

  Deno.test(`listenHttp() ${scheme}: serves the handler with the client address`, () =>
    withCertificates(async (first) => {
      const { handler } = gatedHandler();
      const listener = await listenHttp({
        hostname: "127.0.0.1",
        port: 0,
        tls: secure ? first : null,
        handler,
      });
      const client = Deno.createHttpClient({ caCerts: [first.cert] });
      try {
        assert.equal(listener.scheme, scheme);
        const base = `${scheme}://127.0.0.1:${listener.addr.port}`;
        const response = await fetch(`${base}/announce?info_hash=%00%ff&x=1`, {
          client,
          headers: { "user-agent": "test agent" },
        });
        assert.equal(await response.text(), "GET /announce?info_hash=%00%ff&x=1 from 127.0.0.1");
        assert.equal(response.headers.get("x-agent"), "test agent");
        const head = await fetch(`${base}/x`, { client, method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), "");
      } finally {
        client.close();
        await listener.shutdown(1000);
      }
    }));

  Deno.test(`listenHttp() ${scheme}: shutdown lets a request in flight finish, then refuses`, () =>
    withCertificates(async (first) => {
      const { handler, release, slowArrived } = gatedHandler();
      const listener = await listenHttp({
        hostname: "127.0.0.1",
        port: 0,
        tls: secure ? first : null,
        handler,
      });
      const client = Deno.createHttpClient({ caCerts: [first.cert] });
      const base = `${scheme}://127.0.0.1:${listener.addr.port}`;
      try {
        const slow = fetch(`${base}/slow`, { client }).then((response) => response.text());
        await slowArrived;
        const stopping = listener.shutdown(5000);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const fresh = Deno.createHttpClient({ caCerts: [first.cert] });
        await assert.rejects(() => fetch(`${base}/late`, { client: fresh }));
        fresh.close();
        release();
        assert.equal(await slow, "GET /slow from 127.0.0.1");
        assert.equal(await stopping, true);
      } finally {
        release();
        client.close();
      }
    }));
}

Deno.test("listenHttp() https: shutdown past its timeout closes what is left", () =>
  withCertificates(async (first) => {
    const { handler, release, slowArrived } = gatedHandler();
    const listener = await listenHttp({ hostname: "127.0.0.1", port: 0, tls: first, handler });
    const client = Deno.createHttpClient({ caCerts: [first.cert] });
    try {
      // Settled into a value at once: the fetch fails while shutdown runs, and a rejection with no
      // handler yet would be reported as uncaught (seen as a flaky failure of the next test).
      const slow = fetch(`https://127.0.0.1:${listener.addr.port}/slow`, { client })
        .then(() => "answered", () => "failed");
      await slowArrived;
      const started = performance.now();
      assert.equal(await listener.shutdown(200), false);
      assert.ok(performance.now() - started < 2000);
      assert.equal(await slow, "failed");
    } finally {
      release();
      client.close();
    }
  }));

Deno.test("listenHttp() https: shutdown past its timeout closes a connection stuck in its handshake", () =>
  withCertificates(async (first) => {
    const listener = await listenHttp({
      hostname: "127.0.0.1",
      port: 0,
      tls: first,
      handler: () => new Response("x"),
    });
    // A TCP connection that never starts TLS: the HTTP layer does not know of it.
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    try {
      const started = performance.now();
      assert.equal(await listener.shutdown(200), false);
      assert.ok(performance.now() - started < 2000);
      assert.equal(await stuck.read(new Uint8Array(1)), null, "closed by the server");
    } finally {
      stuck.close();
    }
  }));

Deno.test("listenHttp() https: a new certificate reaches new connections; open ones go on", () =>
  withCertificates(async (first, second) => {
    const { handler, release, slowArrived } = gatedHandler();
    let listener: HttpListener | null = null;
    const connections: RawHttpConnection[] = [];
    const client = Deno.createHttpClient({ caCerts: [first.cert] });
    try {
      listener = await listenHttp({ hostname: "127.0.0.1", port: 0, tls: first, handler });
      const port = listener.addr.port;
      const open = async () => {
        const conn = new RawHttpConnection(
          await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [first.cert] }),
        );
        connections.push(conn);
        return conn;
      };
      const keptAlive = await open();
      assert.equal((await keptAlive.get("/before")).body, "GET /before from 127.0.0.1");
      const slow = fetch(`https://127.0.0.1:${port}/slow`, { client }).then((r) => r.text());
      await slowArrived;
      assert.ok(await handshakeTrusting(port, first.cert));
      assert.ok(!await handshakeTrusting(port, second.cert));

      listener.setCertificate(second);

      assert.ok(await handshakeTrusting(port, second.cert), "a new connection gets the new one");
      assert.ok(!await handshakeTrusting(port, first.cert));
      assert.equal((await keptAlive.get("/after")).body, "GET /after from 127.0.0.1");
      release();
      assert.equal(await slow, "GET /slow from 127.0.0.1");
    } finally {
      release();
      for (const conn of connections) conn.close();
      client.close();
      await listener?.shutdown(1000);
    }
  }));

Deno.test("listenHttp() https: a request Request refuses gets 400 and is not an error", () =>
  withCertificates(async (first) => {
    const errors: unknown[] = [];
    const listener = await listenHttp({
      hostname: "127.0.0.1",
      port: 0,
      tls: first,
      handler: () => new Response("x"),
      onError: (error) => errors.push(error),
    });
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      caCerts: [first.cert],
    });
    try {
      await conn.write(new TextEncoder().encode("TRACE / HTTP/1.1\r\nHost: x\r\n\r\n"));
      const buffer = new Uint8Array(1024);
      const n = await conn.read(buffer);
      assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);
      assert.deepEqual(errors, []);
    } finally {
      conn.close();
      await listener.shutdown(1000);
    }
  }));

Deno.test("listenHttp() plain: refuses to take a certificate", async () => {
  const listener = await listenHttp({
    hostname: "127.0.0.1",
    port: 0,
    tls: null,
    handler: () => new Response("x"),
  });
  try {
    assert.throws(() => listener.setCertificate({ cert: "", key: "" }), /plain HTTP/);
  } finally {
    await listener.shutdown(1000);
  }
});
