/**
 * End-to-end tests of the UDP tracker: a real NoBrake (`startTrackerServer`, HTTP and UDP on
 * port 0) and real UDP sockets. The shared behaviour suite runs over UDP on IPv4 and IPv6; peers
 * cross protocols and scrape counts agree between HTTP and UDP; a dual-stack `"::"` listener sees
 * IPv4 clients unmapped; and hostile datagrams (truncated, oversized, wrong action, forged
 * connection id, random bytes) neither stop the listener nor draw replies they should not.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encodeConnectResponse } from "../src/protocol/udp_packet.ts";
import {
  registerBehaviourSuite,
  steppedClock,
  type SuiteOptions,
} from "./support/behaviour_suite.ts";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { seededRandom } from "./support/seeded_random.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "./support/test_server.ts";
import type { ClientAnnounce, TrackerClient } from "./support/tracker_client.ts";
import {
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseResponse,
  UdpTrackerClient,
} from "./support/udp_tracker_client.ts";

function randomHash(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(20));
}

function peerId(label: string): Uint8Array {
  return new TextEncoder().encode(label.padEnd(20, "."));
}

/** A tracker with HTTP and UDP on free ports; `host` is where clients reach it. */
async function startBoth(options: TestServerOptions & { host?: string } = {}): Promise<TestServer> {
  return await startTestServer({
    ...options,
    connectHost: options.host ?? options.connectHost,
    config: { udp_port: 0, ...options.config },
  });
}

function udpClient(test: TestServer, host = "127.0.0.1"): UdpTrackerClient {
  const address = test.server.udpAddress;
  assert.ok(address !== null, "UDP is on");
  return new UdpTrackerClient(host, address.port);
}

function udpTarget(serverOptions: TestServerOptions, host: string) {
  return async (options: SuiteOptions) => {
    const expiry = options.expirySeconds;
    const clock = steppedClock();
    const test = await startBoth({
      ...serverOptions,
      config: { ...serverOptions.config, ...(expiry ? { expiry } : {}) },
      now: clock.now,
    });
    const allowlisted = test.allowed.length > 0;
    return {
      client: udpClient(test, host),
      allowed: allowlisted ? test.allowed : [randomHash(), randomHash(), randomHash()],
      forbidden: allowlisted ? randomHash() : null,
      elapse: (seconds: number) => clock.elapse(test.server.tracker, seconds),
      close: () => test.close(),
    };
  };
}

registerBehaviourSuite("UDP over IPv4, open mode", udpTarget({}, "127.0.0.1"));
registerBehaviourSuite("UDP over IPv4, allowlist", udpTarget({ allowedTorrents: 3 }, "127.0.0.1"));
registerBehaviourSuite(
  "UDP over IPv6",
  udpTarget({ config: { ip: "::1", family: "AF_INET6" } }, "::1"),
);

/** Runs `body` with a fresh tracker and closes every client and the tracker afterwards. */
async function withTracker(
  options: TestServerOptions & { host?: string },
  body: (test: TestServer, clients: TrackerClient[]) => Promise<void> | void,
): Promise<void> {
  const test = await startBoth(options);
  const clients: TrackerClient[] = [];
  try {
    await body(test, clients);
  } finally {
    for (const client of clients) client.close();
    await test.close();
  }
}

for (
  const [family, host, config] of [
    ["IPv4", "127.0.0.1", {}],
    ["IPv6", "::1", { ip: "::1", family: "AF_INET6" }],
  ] as const
) {
  Deno.test(`UDP and HTTP share swarms over ${family}: peers cross, scrapes agree`, async () => {
    await withTracker({ config, host }, async (test, clients) => {
      const udp = udpClient(test, host);
      const http = new HttpTrackerClient(test.baseUrl);
      clients.push(udp, http);
      const infoHash = randomHash();
      const base: Omit<ClientAnnounce, "peerId" | "port"> = { infoHash, left: 10 };
      const first = await udp.announce({ ...base, peerId: peerId("udp"), port: 5001 });
      assert.ok(first.ok);
      assert.deepEqual(first.peers, []);
      const second = await http.announce({ ...base, peerId: peerId("http"), port: 5002, left: 0 });
      assert.ok(second.ok);
      assert.deepEqual(second.peers.map((peer) => peer.port), [5001]);
      const again = await udp.announce({ ...base, peerId: peerId("udp"), port: 5001 });
      assert.ok(again.ok);
      assert.deepEqual(again.peers.map((peer) => peer.port), [5002]);
      assert.equal(again.peers[0].ip.includes(":"), family === "IPv6");
      assert.equal(again.complete, 1);
      assert.equal(again.incomplete, 1);
      const expected = [{ complete: 1, incomplete: 1, downloaded: 0 }];
      assert.deepEqual(await udp.scrape([infoHash]), expected);
      assert.deepEqual(await http.scrape([infoHash]), expected);
      // Both transports are counted in the one stats sink.
      const counts = test.server.counters.snapshot(Date.now());
      assert.equal(counts.announces.udp, 2);
      assert.equal(counts.announces.http, 1);
    });
  });
}

Deno.test('UDP on "::" serves IPv4 and IPv6 clients, IPv4 ones unmapped', async () => {
  // No `ip`: the family alone picks "::", as an operator's config would.
  await withTracker({ config: { ip: null, family: "AF_INET6" } }, async (test, clients) => {
    assert.equal(test.server.udpAddress?.hostname, "::");
    const v4 = udpClient(test, "127.0.0.1");
    const v6 = udpClient(test, "::1");
    const http = new HttpTrackerClient(`http://[::1]:${test.server.httpAddress.port}`);
    clients.push(v4, v6, http);
    const infoHash = randomHash();
    assert.ok((await v4.announce({ infoHash, peerId: peerId("v4"), port: 5004, left: 1 })).ok);
    assert.ok((await v6.announce({ infoHash, peerId: peerId("v6"), port: 5006, left: 1 })).ok);
    // HTTP lists both families: the IPv4 client is 127.0.0.1, not ::ffff:127.0.0.1.
    const seen = await http.announce({ infoHash, peerId: peerId("h"), port: 5008, left: 1 });
    assert.ok(seen.ok);
    assert.deepEqual(
      seen.peers.map((peer) => `${peer.ip} ${peer.port}`).sort(),
      ["0:0:0:0:0:0:0:1 5006", "127.0.0.1 5004"],
    );
  });
});

Deno.test("UDP can be turned off", async () => {
  await withTracker({ config: { udp: false } }, (test) => {
    assert.equal(test.server.udpAddress, null);
    assert.ok(!test.logger.lines.some((line) => line.includes("udp://")));
  });
});

Deno.test("UDP start-up line names the bound address", async () => {
  await withTracker({}, (test) => {
    const port = test.server.udpAddress?.port;
    assert.ok(
      test.logger.lines.some((line) => line.endsWith(`listening on udp://127.0.0.1:${port}`)),
      test.logger.lines.join("\n"),
    );
  });
});

Deno.test("UDP listener survives hostile datagrams and answers only what it should", async () => {
  await withTracker({}, async (test, clients) => {
    const client = udpClient(test);
    clients.push(client);
    const connectionId = await client.connect();
    const infoHash = randomHash();
    const announce = (id: bigint, transactionId: number) =>
      encodeAnnounceRequest({
        connectionId: id,
        transactionId,
        infoHash,
        peerId: peerId("victim"),
        downloaded: 0n,
        left: 1n,
        uploaded: 0n,
        event: 2,
        ip: new Uint8Array(4),
        key: 0,
        numwant: -1,
        port: 5001,
      });
    const wrongAction = encodeConnectRequest(1);
    wrongAction[11] = 7;
    const random = seededRandom(0xbad);
    const noise = Array.from(
      { length: 200 },
      () => Uint8Array.from({ length: Math.floor(random() * 200) }, () => random() * 256),
    );
    const unanswered = [
      new Uint8Array(0),
      encodeConnectRequest(2).subarray(0, 15), // truncated below a transaction id
      new Uint8Array(5000), // oversized
      new Uint8Array(65_507), // the largest IPv4 datagram
      wrongAction,
      encodeConnectResponse(3, 0n), // a response sent back at us
      announce(connectionId ^ 0xffn, 4), // forged connection id
      encodeScrapeRequest(0n, 5, [infoHash]),
      announce(connectionId, 6).subarray(0, 60).map((byte, i) => i < 8 ? byte ^ 1 : byte),
      ...noise,
    ];
    /** Sends `packet` and returns the very next datagram back: no reply to anything before. */
    const nextReply = async (packet: Uint8Array) => {
      await client.sendRaw(packet);
      const reply = await client.receiveRaw(2000);
      assert.ok(reply !== null, "no reply");
      return parseResponse(reply);
    };
    // A connect round trip now and then: the socket queue is FIFO, so when its reply is back the
    // listener has handled everything sent before it, and the kernel's receive buffer (which a
    // burst of 200 datagrams overflows) never drops a hostile datagram before the handler sees it.
    let sync = 100;
    for (const [i, packet] of unanswered.entries()) {
      await client.sendRaw(packet);
      if (packet.length > 1000 || i % 20 === 19) {
        const transactionId = sync++;
        assert.deepEqual(
          await nextReply(encodeConnectRequest(transactionId)),
          { action: "connect", transactionId, connectionId },
        );
      }
    }
    // A malformed request under a valid id is told what is wrong.
    assert.deepEqual(await nextReply(announce(connectionId, 7).subarray(0, 60)), {
      action: "error",
      transactionId: 7,
      message: "announce of 60 bytes, expected at least 98",
    });
    // Every datagram reached the handler and was refused, as a client error, not a bug.
    const failures = test.server.counters.snapshot(Date.now()).failures.udp;
    assert.equal(failures.malformed, unanswered.length + 1);
    assert.equal(failures.internal, 0);
    // Nothing else came back: every hostile datagram was dropped.
    assert.equal(await client.receiveRaw(300), null);
    // The listener still serves, and nothing the strangers sent was taken for a bug.
    const served = await client.exchange(announce(connectionId, 8));
    assert.equal(served.action, "announce");
    assert.deepEqual(await client.scrape([infoHash]), [{
      complete: 0,
      incomplete: 1,
      downloaded: 0,
    }]);
    assert.deepEqual(test.logger.lines.filter((line) => / error /.test(line)), []);
  });
});
