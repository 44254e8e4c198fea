/**
 * Redis goes away under load and comes back: two NoBrake processes (`main.ts` subprocesses) keep
 * answering while a Debian redis-server is killed and restarted on its port. While it is away an
 * HTTP announce gets a `failure reason` with BEP 31 `retry in` and a UDP announce an error packet;
 * no process crashes; each logs one line when Redis goes and one when it is back; `/metrics`
 * counts the store errors; every process recovers by itself; and every completion Redis
 * acknowledged before the kill is still counted after it (Redis with `appendfsync always`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { peerId } from "./support/behaviour_suite.ts";
import { decodeDict, HttpTrackerClient } from "./support/http_tracker_client.ts";
import { RedisServer } from "./support/redis_server.ts";
import { startConfiguredProcess, type TrackerProcess } from "./support/tracker_process.ts";
import { startTestServer } from "./support/test_server.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function metric(text: string, sample: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${sample} `));
  assert.ok(line !== undefined, `no ${sample} in /metrics`);
  return Number(line.split(" ")[1]);
}

Deno.test("Redis killed and restarted under load: every process refuses with retry in, logs once, and recovers by itself", async () => {
  await using redis = await RedisServer.start({ persistent: true });
  const dir = await Deno.makeTempDir({ prefix: "nobrake-faults-" });
  const processes: TrackerProcess[] = [];
  const udpClients: UdpTrackerClient[] = [];
  let loadRunning = true;
  let load: Promise<void> = Promise.resolve();
  try {
    for (const name of ["a", "b"]) {
      processes.push(await startConfiguredProcess(dir, name, { redis: redis.url(0) }));
    }
    const http: HttpTrackerClient[] = [];
    for (const process of processes) {
      http.push(new HttpTrackerClient(`http://127.0.0.1:${await process.port()}`));
      const udp = await process.waitForLine(/listening on udp:\/\/\S+:(\d+)/);
      udpClients.push(new UdpTrackerClient("127.0.0.1", Number(udp[1])));
    }
    const infoHash = crypto.getRandomValues(new Uint8Array(20));

    // Completions Redis acknowledged (an ok reply to `completed`), at both processes.
    let acknowledged = 0;
    for (let i = 0; i < 10; i++) {
      const reply = await http[i % 2].announce({
        infoHash,
        peerId: peerId(`done${i}`),
        port: 9000 + i,
        left: 0,
        event: "completed",
      });
      assert.ok(reply.ok, JSON.stringify(reply));
      acknowledged++;
    }

    // Load through the whole outage: every reply is an answer (ok, or a refusal with retry in),
    // never an internal error, and no request hangs past the client's timeout.
    const outcomes = { ok: 0, refused: 0 };
    load = (async () => {
      for (let i = 0; loadRunning; i++) {
        const query = HttpTrackerClient.announceQuery({
          infoHash,
          peerId: peerId(`load${i % 50}`),
          port: 10000 + (i % 50),
          left: 1,
        });
        const { status, body } = await http[i % 2].get(`/announce?${query}`);
        assert.equal(status, 200, `announce answered ${status}`);
        const reply = decodeDict(body);
        if (reply.has("failure reason")) {
          assert.equal(typeof reply.get("retry in"), "number", "a refusal carries retry in");
          outcomes.refused++;
        } else outcomes.ok++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await eventually("load announces answered", () => outcomes.ok >= 20);

    await redis.kill();
    await eventually("refusals while Redis is away", () => outcomes.refused >= 20);
    const udpDown = await udpClients[0].announce({
      infoHash,
      peerId: peerId("udp-down"),
      port: 9500,
      left: 1,
    });
    assert.equal(udpDown.ok, false);
    assert.match(udpDown.ok ? "" : udpDown.failure, /unavailable/);
    for (const process of processes) {
      await process.waitForLine(/Redis at .* is unavailable/);
    }

    await redis.restart();
    const okBefore = outcomes.ok;
    await eventually("announces succeed again at both", async () => {
      const replies = await Promise.all(
        http.map((client, i) =>
          client.announce({ infoHash, peerId: peerId(`back${i}`), port: 9600 + i, left: 1 })
        ),
      );
      return replies.every((reply) => reply.ok) && outcomes.ok > okBefore;
    });
    const udpBack = await udpClients[1].announce({
      infoHash,
      peerId: peerId("udp-back"),
      port: 9501,
      left: 1,
    });
    assert.ok(udpBack.ok, JSON.stringify(udpBack));
    loadRunning = false;
    await load;

    for (const process of processes) {
      await process.waitForLine(/Redis at .* is back/);
      const gone = process.lines.filter((line) => /is unavailable/.test(line)).length;
      const back = process.lines.filter((line) => /is back/.test(line)).length;
      assert.deepEqual({ gone, back }, { gone: 1, back: 1 }, process.lines.join("\n"));
    }
    for (const client of http) {
      const [counts] = await client.scrape([infoHash]);
      assert.equal(counts.downloaded, acknowledged, "every acknowledged completion is kept");
      const metrics = new TextDecoder().decode((await client.get("/metrics")).body);
      assert.ok(metric(metrics, "nobrake_store_errors_total") > 0, "store errors are counted");
    }
  } finally {
    loadRunning = false;
    await load.catch(() => {});
    for (const client of udpClients) client.close();
    for (const process of processes) await process.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Sends one command to Redis over a raw connection and returns its first reply line. */
async function redisCommand(port: number, command: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`${command}\r\n`));
    const buffer = new Uint8Array(256);
    const read = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).trim();
  } finally {
    conn.close();
  }
}

Deno.test("A Redis too slow to answer gets announces refused with retry in, not hung, then served again", async () => {
  await using redis = await RedisServer.start();
  const test = await startTestServer({ config: { redis: redis.url(0) } });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    const announce = (label: string) =>
      client.get(
        `/announce?${
          HttpTrackerClient.announceQuery({ infoHash, peerId: peerId(label), port: 7000, left: 1 })
        }`,
      );
    assert.equal(decodeDict((await announce("before")).body).get("failure reason"), undefined);
    // Writes (and so the announce script) wait until the pause ends, longer than a call may take.
    assert.equal(await redisCommand(redis.port, "CLIENT PAUSE 4000 WRITE"), "+OK");
    const slow = decodeDict((await announce("slow")).body);
    assert.match(new TextDecoder().decode(slow.get("failure reason") as Uint8Array), /unavailable/);
    assert.equal(typeof slow.get("retry in"), "number");
    await redisCommand(redis.port, "CLIENT UNPAUSE");
    await eventually("served again", async () => {
      return decodeDict((await announce("after")).body).get("failure reason") === undefined;
    });
  } finally {
    await test.close();
  }
});
