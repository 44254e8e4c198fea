import assert from "node:assert/strict";
import {
  registerBehaviourSuite,
  steppedClock,
  type SuiteOptions,
} from "./support/behaviour_suite.ts";
import type { BDict } from "../src/protocol/bencode_decode.ts";
import {
  decodeDict,
  HttpTrackerClient,
  percentEncodeAll,
  textOf,
} from "./support/http_tracker_client.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";
import { startTestServer, type TestServerOptions } from "./support/test_server.ts";

function randomHash(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(20));
}

function httpTarget(serverOptions: TestServerOptions) {
  return async (options: SuiteOptions) => {
    const expiry = options.expirySeconds;
    const clock = steppedClock();
    const server = await startTestServer({
      ...serverOptions,
      config: { ...serverOptions.config, ...(expiry ? { expiry } : {}) },
      now: clock.now,
    });
    const allowlisted = server.allowed.length > 0;
    return {
      client: new HttpTrackerClient(server.baseUrl),
      allowed: allowlisted ? server.allowed : [randomHash(), randomHash(), randomHash()],
      forbidden: allowlisted ? randomHash() : null,
      elapse: (seconds: number) => clock.elapse(server.server.tracker, seconds),
      close: () => server.close(),
    };
  };
}

registerBehaviourSuite("HTTP over IPv4, open mode", httpTarget({}));
registerBehaviourSuite("HTTP over IPv4, allowlist", httpTarget({ allowedTorrents: 3 }));
registerBehaviourSuite(
  "HTTP over IPv6",
  httpTarget({ config: { ip: "::1", family: "AF_INET6" }, connectHost: "::1" }),
);

const peerIdA = new TextEncoder().encode("-TEST01-aaaaaaaaaaaa");
const peerIdB = new TextEncoder().encode("-TEST01-bbbbbbbbbbbb");

function announcePath(infoHash: Uint8Array, peerId: Uint8Array, extra = ""): string {
  const query = HttpTrackerClient.announceQuery({ infoHash, peerId, port: 7000, left: 5 });
  // The first occurrence of a key wins, so an override of `compact` replaces the default one.
  return `/announce?${
    extra.includes("compact=") ? query.replace("&compact=1", "") : query
  }${extra}`;
}

Deno.test("HTTP announce with compact=0 lists peers as dictionaries, without peer id when asked", async () => {
  const test = await startTestServer();
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const infoHash = randomHash();
    await client.get(announcePath(infoHash, peerIdA));
    const full = decodeDict((await client.get(announcePath(infoHash, peerIdB, "&compact=0"))).body);
    const [peer] = full.get("peers") as BDict[];
    assert.equal(textOf(peer, "ip"), "127.0.0.1");
    assert.equal(peer.get("port"), 7000);
    assert.deepEqual(peer.get("peer id"), peerIdA);
    const bare = decodeDict(
      (await client.get(announcePath(infoHash, peerIdB, "&compact=0&no_peer_id=1"))).body,
    );
    assert.equal((bare.get("peers") as BDict[])[0].has("peer id"), false);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP announce reports the external ip (BEP 24) and the intervals", async () => {
  const test = await startTestServer({ config: { interval: 900 } });
  try {
    const reply = decodeDict(
      (await new HttpTrackerClient(test.baseUrl).get(announcePath(randomHash(), peerIdA))).body,
    );
    assert.deepEqual(reply.get("external ip"), new Uint8Array([127, 0, 0, 1]));
    assert.equal(reply.get("interval"), 900);
    assert.equal(reply.get("min interval"), 450);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP on a dual-stack listener sees IPv4 clients as IPv4, unmapped", async () => {
  const test = await startTestServer({ config: { ip: null, family: "AF_INET6" } });
  try {
    const v4 = new HttpTrackerClient(`http://127.0.0.1:${test.server.httpAddress.port}`);
    const v6 = new HttpTrackerClient(`http://[::1]:${test.server.httpAddress.port}`);
    const infoHash = randomHash();
    const first = decodeDict((await v4.get(announcePath(infoHash, peerIdA))).body);
    assert.deepEqual(first.get("external ip"), new Uint8Array([127, 0, 0, 1]));
    const second = await v6.announce({ infoHash, peerId: peerIdB, port: 7001, left: 5 });
    assert.ok(second.ok);
    assert.deepEqual(second.peers, [{ ip: "127.0.0.1", port: 7000 }]);
    const third = await v4.announce({ infoHash, peerId: peerIdA, port: 7000, left: 5 });
    assert.ok(third.ok);
    assert.deepEqual(third.peers, [{ ip: "0:0:0:0:0:0:0:1", port: 7001 }]);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP malformed announces get a failure reason and the server keeps serving", async () => {
  const test = await startTestServer();
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const good = HttpTrackerClient.announceQuery({
      infoHash: randomHash(),
      peerId: peerIdA,
      port: 7000,
      left: 1,
    });
    const without = (key: string) =>
      good.split("&").filter((pair) => !pair.startsWith(`${key}=`)).join("&");
    const cases: [string, RegExp][] = [
      ["", /missing info_hash/],
      [without("info_hash"), /missing info_hash/],
      [without("peer_id"), /missing peer_id/],
      [without("port"), /missing port/],
      [without("left"), /missing left/],
      [
        good.replace(/info_hash=(%..){20}/, "info_hash=" + "%aa".repeat(19)),
        /info_hash must be 20 bytes, got 19/,
      ],
      [
        good.replace(/info_hash=(%..){20}/, "info_hash=" + "%aa".repeat(21)),
        /info_hash must be 20 bytes, got 21/,
      ],
      [good.replace(/peer_id=(%..){20}/, "peer_id=short"), /peer_id must be 20 bytes/],
      [good.replace("port=7000", "port=0"), /invalid port/],
      [good.replace("port=7000", "port=65536"), /invalid port/],
      [good.replace("left=1", "left=-1"), /left must be a non-negative integer/],
      [good.replace("left=1", "left=1.5"), /left must be a non-negative integer/],
      [
        good.replace("uploaded=0", "uploaded=" + "9".repeat(30)),
        /uploaded must be a non-negative integer/,
      ],
      [good + "&event=finished", /invalid event/],
      [good + "&numwant=ten", /numwant must be a non-negative integer/],
      [good.replace("compact=1", "compact=2"), /compact must be 0 or 1/],
      [good + "&info_hash=" + "%bb".repeat(20), /exactly one info_hash/],
      [good.replace("info_hash=%", "info_hash=%zz%"), /malformed percent-encoding/],
      [good + "&key=" + "k".repeat(65), /key is longer/],
    ];
    for (const [query, expected] of cases) {
      const { status, body } = await client.get(`/announce?${query}`);
      assert.equal(status, 200, query);
      assert.match(textOf(decodeDict(body), "failure reason") ?? "", expected, query);
    }
    const fine = await client.announce({
      infoHash: randomHash(),
      peerId: peerIdA,
      port: 7000,
      left: 1,
    });
    assert.ok(fine.ok);
    assert.equal(test.logger.lines.filter((line) => / error /.test(line)).length, 0);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP answers unknown paths with 404 and other methods with 405", async () => {
  const test = await startTestServer();
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    assert.equal((await client.get("/nothing")).status, 404);
    assert.equal((await client.get("/")).status, 404);
    assert.equal((await client.get("/announce", { method: "POST", body: "x" })).status, 405);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP noscrape and nostats turn those endpoints off", async () => {
  const test = await startTestServer({ config: { noscrape: 1, nostats: true } });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    assert.equal((await client.get("/scrape")).status, 404);
    assert.equal((await client.get("/stats")).status, 404);
    assert.equal((await client.get(announcePath(randomHash(), peerIdA))).status, 200);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP /stats escapes a hostile user agent and names the torrent", async () => {
  const test = await startTestServer({ allowedTorrents: 1 });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const hostile = `"><img src=x onerror=alert(1)>`;
    await client.get(announcePath(test.allowed[0], peerIdA), {
      headers: { "user-agent": hostile },
    });
    const { status, body } = await client.get("/stats");
    const html = new TextDecoder().decode(body);
    assert.equal(status, 200);
    assert.ok(!html.includes(hostile));
    assert.ok(html.includes("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert.ok(html.includes("torrent 0"));
    assert.ok(html.includes("127.0.0.1:7000"));
  } finally {
    await test.close();
  }
});

Deno.test("HTTP secret torrents are hidden from full scrape and /stats but visible by hash", async () => {
  const test = await startTestServer({ allowedTorrents: 1 });
  try {
    const secret = await writeTorrentFile(
      test.allowedDir!,
      "hidden.secret.torrent",
      "very secret name",
    );
    await test.server.reload();
    const client = new HttpTrackerClient(test.baseUrl);
    const announced = await client.announce({
      infoHash: secret,
      peerId: peerIdA,
      port: 7000,
      left: 0,
    });
    assert.ok(announced.ok);
    const files = decodeDict((await client.get("/scrape")).body).get("files") as BDict;
    assert.deepEqual([...files.keys()], [String.fromCharCode(...test.allowed[0])]);
    assert.deepEqual(await client.scrape([secret]), [{
      complete: 1,
      incomplete: 0,
      downloaded: 0,
    }]);
    const all = new TextDecoder().decode((await client.get("/stats")).body);
    assert.ok(!all.includes("very secret name"));
    const one = new TextDecoder().decode(
      (await client.get(`/stats?info_hash=${percentEncodeAll(secret)}`)).body,
    );
    assert.ok(one.includes("very secret name"));
  } finally {
    await test.close();
  }
});

Deno.test("HTTP reload adds a new torrent and removes a deleted one, logging both", async () => {
  const test = await startTestServer({ allowedTorrents: 2 });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const added = await writeTorrentFile(test.allowedDir!, "sub-new.torrent", "new one");
    const before = await client.announce({ infoHash: added, peerId: peerIdA, port: 7000, left: 1 });
    assert.equal(before.ok, false);
    await Deno.remove(`${test.allowedDir}/t1.torrent`);
    await test.server.reload();
    assert.ok(
      (await client.announce({ infoHash: added, peerId: peerIdA, port: 7000, left: 1 })).ok,
    );
    assert.equal(
      (await client.announce({ infoHash: test.allowed[1], peerId: peerIdA, port: 7000, left: 1 }))
        .ok,
      false,
    );
    assert.ok(
      (await client.announce({ infoHash: test.allowed[0], peerId: peerIdA, port: 7000, left: 1 }))
        .ok,
    );
    const log = test.logger.lines.join("\n");
    assert.match(log, new RegExp(` torrent ${added.toHex()} added`));
    assert.match(log, new RegExp(` torrent ${test.allowed[1].toHex()} deleted`));
  } finally {
    await test.close();
  }
});

Deno.test("HTTP ignores ip= unless trust_ip_param is set, and /stats then shows both addresses", async () => {
  for (const trust of [false, true]) {
    const test = await startTestServer({ config: { trust_ip_param: trust } });
    try {
      const client = new HttpTrackerClient(test.baseUrl);
      const infoHash = randomHash();
      await client.get(announcePath(infoHash, peerIdA, "&ip=192.0.2.7"));
      const reply = await client.announce({ infoHash, peerId: peerIdB, port: 7001, left: 1 });
      assert.ok(reply.ok);
      assert.deepEqual(reply.peers, [{ ip: trust ? "192.0.2.7" : "127.0.0.1", port: 7000 }]);
      const html = new TextDecoder().decode((await client.get("/stats")).body);
      assert.equal(html.includes("192.0.2.7:7000") && html.includes("127.0.0.1"), trust);
    } finally {
      await test.close();
    }
  }
});

Deno.test("HTTP concurrent announces on a new torrent lose no peer", async () => {
  const test = await startTestServer();
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const infoHash = randomHash();
    const ids = Array.from(
      { length: 200 },
      (_, i) => new TextEncoder().encode(`-CC0001-${String(i).padStart(12, "0")}`),
    );
    const replies = await Promise.all(
      ids.map((peerId, i) => client.announce({ infoHash, peerId, port: 10000 + i, left: i % 2 })),
    );
    assert.ok(replies.every((reply) => reply.ok));
    assert.deepEqual(await client.scrape([infoHash]), [{
      complete: 100,
      incomplete: 100,
      downloaded: 0,
    }]);
  } finally {
    await test.close();
  }
});

Deno.test("HTTP pipelined requests on one connection are all answered in order", async () => {
  const test = await startTestServer();
  const connection = await Deno.connect({
    hostname: "127.0.0.1",
    port: test.server.httpAddress.port,
  });
  try {
    const infoHash = randomHash();
    const request = (peer: Uint8Array) =>
      `GET ${announcePath(infoHash, peer)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    await connection.write(
      new TextEncoder().encode(request(peerIdA) + request(peerIdB) + request(peerIdA)),
    );
    let text = "";
    const buffer = new Uint8Array(65536);
    const deadline = Date.now() + 5000;
    while ((text.match(/HTTP\/1\.1 200/g) ?? []).length < 3 || !text.endsWith("e")) {
      assert.ok(Date.now() < deadline, "pipelined replies did not all arrive");
      const read = await connection.read(buffer);
      if (read === null) break;
      text += new TextDecoder("latin1").decode(buffer.subarray(0, read));
    }
    const incompletes = [...text.matchAll(/10:incompletei(\d+)e/g)].map((match) =>
      Number(match[1])
    );
    assert.deepEqual(incompletes, [1, 2, 2]);
  } finally {
    connection.close();
    await test.close();
  }
});

Deno.test("HTTP log_announces writes one client line per announce", async () => {
  const test = await startTestServer({ config: { log_announces: true } });
  try {
    const infoHash = randomHash();
    await new HttpTrackerClient(test.baseUrl).get(
      announcePath(infoHash, peerIdA, "&event=started"),
    );
    const lines = test.logger.lines.filter((line) => line.split(" ")[1] === "client");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      new RegExp(`^\\S+Z client 127\\.0\\.0\\.1 ${infoHash.toHex()} started `),
    );
  } finally {
    await test.close();
  }
});
