/**
 * Several NoBrake processes (`main.ts` as real subprocesses) on one Debian redis-server: a peer
 * announced at A (over HTTP or UDP) is handed out by B, and scrape, /stats.json and /metrics
 * totals and completed counts are equal at both; two processes on one HTTP port (`reusePort`)
 * both serve it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { decodeDict, HttpTrackerClient } from "./support/http_tracker_client.ts";
import { peerId } from "./support/behaviour_suite.ts";
import { RedisServer } from "./support/redis_server.ts";
import { startConfiguredProcess, type TrackerProcess } from "./support/tracker_process.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

const redis = await RedisServer.start();
globalThis.addEventListener("unload", () => redis.stopNow());

async function udpPortOf(tracker: TrackerProcess): Promise<number> {
  const match = await tracker.waitForLine(/UDP tracker .* listening on udp:\/\/\S+:(\d+)/);
  return Number(match[1]);
}

/** The value of one sample of the /metrics text, e.g. `nobrake_seeders`. */
function metric(text: string, sample: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${sample} `));
  assert.ok(line !== undefined, `no ${sample} in /metrics`);
  return Number(line.split(" ")[1]);
}

Deno.test("two processes on one Redis: peers at A are handed out by B, and every count agrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-two-" });
  const processes: TrackerProcess[] = [];
  const clients: { close(): void }[] = [];
  try {
    const url = redis.url(1);
    processes.push(await startConfiguredProcess(dir, "a", { redis: url }));
    processes.push(await startConfiguredProcess(dir, "b", { redis: url }));
    const [a, b] = processes;
    const httpA = new HttpTrackerClient(`http://127.0.0.1:${await a.port()}`);
    const httpB = new HttpTrackerClient(`http://127.0.0.1:${await b.port()}`);
    const udpA = new UdpTrackerClient("127.0.0.1", await udpPortOf(a));
    clients.push(httpA, httpB, udpA);
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    const hex = infoHash.toHex();

    const seeder = await httpA.announce({
      infoHash,
      peerId: peerId("seeder"),
      port: 7001,
      left: 0,
      event: "completed",
    });
    assert.ok(seeder.ok, JSON.stringify(seeder));
    const udpLeecher = await udpA.announce({
      infoHash,
      peerId: peerId("udp-leecher"),
      port: 7002,
      left: 5,
      event: "started",
    });
    assert.ok(udpLeecher.ok, JSON.stringify(udpLeecher));
    const atB = await httpB.announce({
      infoHash,
      peerId: peerId("b"),
      port: 7003,
      left: 5,
      event: "started",
    });
    assert.ok(atB.ok, JSON.stringify(atB));
    assert.deepEqual(atB.peers.map((peer) => peer.port).sort(), [7001, 7002]);
    assert.equal(atB.complete, 1);
    assert.equal(atB.incomplete, 2);

    const scrapes = [await httpA.scrape([infoHash]), await httpB.scrape([infoHash])];
    assert.deepEqual(scrapes[0], [{ complete: 1, incomplete: 2, downloaded: 1 }]);
    assert.deepEqual(scrapes[1], scrapes[0]);

    const totals = [];
    for (const client of [httpA, httpB]) {
      const json = JSON.parse(new TextDecoder().decode((await client.get("/stats.json")).body));
      const page = await client.get("/stats");
      assert.equal(page.status, 200);
      assert.ok(new TextDecoder().decode(page.body).includes(hex), "/stats lists the torrent");
      const metrics = new TextDecoder().decode((await client.get("/metrics")).body);
      totals.push({
        stats: json.totals,
        torrent: (({ complete, incomplete, downloaders, downloaded }) => ({
          complete,
          incomplete,
          downloaders,
          downloaded,
        }))(json.torrents[0]),
        seeders: metric(metrics, "nobrake_seeders"),
        leechers: metric(metrics, "nobrake_leechers"),
        storeErrors: metric(metrics, "nobrake_store_errors_total"),
      });
    }
    assert.deepEqual(totals[1], totals[0]);
    assert.deepEqual(totals[0].torrent, {
      complete: 1,
      incomplete: 2,
      downloaders: 2,
      downloaded: 1,
    });
    assert.equal(totals[0].stats.peers_udp, 1);
    assert.equal(totals[0].stats.peers, 3);
    assert.equal(totals[0].seeders, 1);
    assert.equal(totals[0].leechers, 2);
    assert.equal(totals[0].storeErrors, 0);
  } finally {
    for (const client of clients) client.close();
    for (const process of processes) await process.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes with redis set share one HTTP port, both serving it, and one UDP port", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-port-" });
  const processes: TrackerProcess[] = [];
  try {
    const url = redis.url(2);
    const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const udpPort = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const first = await startConfiguredProcess(dir, "a", {
      redis: url,
      log_announces: true,
      udp_port: udpPort,
    });
    processes.push(first);
    const port = await first.port();
    const second = await startConfiguredProcess(dir, "b", {
      redis: url,
      log_announces: true,
      udp_port: udpPort,
      port,
    });
    processes.push(second);
    assert.equal(await second.port(), port);
    // Both bound the UDP port (Deno's reuseAddress); the one bound last receives the datagrams.
    for (const process of processes) assert.equal(await udpPortOf(process), udpPort);
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    // A new connection per announce: the kernel spreads connections, not requests.
    const peers = 40;
    for (let i = 0; i < peers; i++) {
      const query = HttpTrackerClient.announceQuery({
        infoHash,
        peerId: peerId(`p${i}`),
        port: 8000 + i,
        left: 1,
      });
      const response = await fetch(`http://127.0.0.1:${port}/announce?${query}`, {
        headers: { connection: "close" },
      });
      const reply = decodeDict(new Uint8Array(await response.arrayBuffer()));
      assert.equal(reply.get("failure reason"), undefined);
    }
    // Log lines are written in batches: wait (bounded) until every announce has its line.
    const logged = () =>
      processes.map((process) => process.lines.filter((line) => line.includes(" client ")).length);
    const deadline = Date.now() + 10_000;
    while (logged()[0] + logged()[1] < peers && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const served = logged();
    assert.equal(served[0] + served[1], peers, `announces logged: ${served}`);
    assert.ok(served[0] > 0 && served[1] > 0, `one process served all: ${served}`);
    const client = new HttpTrackerClient(`http://127.0.0.1:${port}`);
    const udp = new UdpTrackerClient("127.0.0.1", udpPort);
    try {
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 0, incomplete: peers, downloaded: 0 },
      ]);
      const overUdp = await udp.announce({ infoHash, peerId: peerId("udp"), port: 9000, left: 1 });
      assert.ok(overUdp.ok, JSON.stringify(overUdp));
      assert.equal(overUdp.incomplete, peers + 1);
    } finally {
      client.close();
      udp.close();
    }
  } finally {
    for (const process of processes) await process.close();
    await Deno.remove(dir, { recursive: true });
  }
});
