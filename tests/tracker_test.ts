import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { ClientError } from "../src/protocol/client_error.ts";
import { Tracker } from "../src/core/tracker.ts";
import { announceInput, id20, seededRandom, splitEndpoints } from "./support/announce_fixtures.ts";

const T0 = 1_700_000_000_000;

function openTracker(options: Partial<ConstructorParameters<typeof Tracker>[0]> = {}) {
  return new Tracker({ expirySeconds: 60, random: seededRandom(1), ...options });
}

function torrent(label: string, extra: Partial<TorrentInfo> = {}): TorrentInfo {
  return {
    name: label,
    size: 1000,
    secret: false,
    infoHashV1: id20(label),
    infoHashV2: null,
    path: `${label}.torrent`,
    ...extra,
  };
}

Deno.test("announce() lets two peers see each other and never lists the requester", () => {
  const tracker = openTracker();
  const first = tracker.announce(announceInput("t", "a", { address: "10.0.0.1", port: 1001 }), T0);
  assert.deepEqual(splitEndpoints(first.peers4, 6), []);
  assert.equal(first.incomplete, 1);
  const second = tracker.announce(announceInput("t", "b", { address: "10.0.0.2", port: 1002 }), T0);
  assert.deepEqual(splitEndpoints(second.peers4, 6), ["10.0.0.1:1001"]);
  const again = tracker.announce(announceInput("t", "a", { address: "10.0.0.1", port: 1001 }), T0);
  assert.deepEqual(splitEndpoints(again.peers4, 6), ["10.0.0.2:1002"]);
  assert.equal(again.incomplete, 2);
  assert.equal(again.complete, 0);
});

Deno.test("announce() with event=stopped removes the peer and returns no peers", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "a", { address: "10.0.0.1" }), T0);
  tracker.announce(announceInput("t", "b", { address: "10.0.0.2" }), T0);
  const stopped = tracker.announce(
    announceInput("t", "a", { address: "10.0.0.1", event: "stopped" }),
    T0,
  );
  assert.equal(stopped.peers4.length, 0);
  assert.equal(stopped.incomplete, 1);
  const other = tracker.announce(announceInput("t", "b", { address: "10.0.0.2" }), T0);
  assert.equal(other.peers4.length, 0);
});

Deno.test("announce() counts a completion once per peer", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "a", { left: 10 }), T0);
  const done = tracker.announce(announceInput("t", "a", { left: 0, event: "completed" }), T0);
  assert.equal(done.downloaded, 1);
  assert.equal(done.complete, 1);
  const repeated = tracker.announce(announceInput("t", "a", { left: 0, event: "completed" }), T0);
  assert.equal(repeated.downloaded, 1);
  const regular = tracker.announce(announceInput("t", "a", { left: 0 }), T0);
  assert.equal(regular.downloaded, 1);
});

Deno.test("announce() counts a leecher turning seeder without a completed event", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "a", { left: 10 }), T0);
  const result = tracker.announce(announceInput("t", "a", { left: 0 }), T0);
  assert.equal(result.downloaded, 1);
  assert.equal(result.complete, 1);
  assert.equal(result.incomplete, 0);
});

Deno.test("announce() does not count a peer that starts as a seeder", () => {
  const tracker = openTracker();
  const result = tracker.announce(announceInput("t", "a", { left: 0, event: "started" }), T0);
  assert.equal(result.downloaded, 0);
  assert.equal(result.complete, 1);
});

Deno.test("announce() with event=paused marks a BEP 21 partial seed", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "a", { left: 10, event: "paused" }), T0);
  tracker.announce(announceInput("t", "b", { left: 10 }), T0);
  const [entry] = tracker.scrape([id20("t")]);
  assert.equal(entry.incomplete, 2);
  assert.equal(entry.downloaders, 1);
  // BEP 21: the peer must repeat `paused` on every announce to stay a partial seed.
  tracker.announce(announceInput("t", "a", { left: 10 }), T0);
  assert.equal(tracker.scrape([id20("t")])[0].downloaders, 2);
});

Deno.test("announce() with numwant=0 returns no peers but counts", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "a", { address: "10.0.0.1" }), T0);
  const result = tracker.announce(announceInput("t", "b", { address: "10.0.0.2", numwant: 0 }), T0);
  assert.equal(result.peers4.length, 0);
  assert.equal(result.incomplete, 2);
});

Deno.test("announce() samples numwant distinct peers, never the requester", () => {
  const tracker = openTracker();
  for (let i = 0; i < 30; i++) {
    tracker.announce(announceInput("t", `p${i}`, { address: `10.0.1.${i}`, port: 2000 + i }), T0);
  }
  for (let round = 0; round < 20; round++) {
    const result = tracker.announce(
      announceInput("t", "p7", { address: "10.0.1.7", port: 2007, numwant: 10 }),
      T0,
    );
    const peers = splitEndpoints(result.peers4, 6);
    assert.equal(peers.length, 10);
    assert.equal(new Set(peers).size, 10);
    assert.ok(!peers.includes("10.0.1.7:2007"));
  }
});

Deno.test("announce() gives a seeder leechers before other seeders", () => {
  const tracker = openTracker();
  for (let i = 0; i < 10; i++) {
    tracker.announce(announceInput("t", `s${i}`, { address: `10.0.2.${i}`, left: 0 }), T0);
  }
  for (let i = 0; i < 3; i++) {
    tracker.announce(announceInput("t", `l${i}`, { address: `10.0.3.${i}`, left: 5 }), T0);
  }
  const result = tracker.announce(
    announceInput("t", "s0", { address: "10.0.2.0", left: 0, numwant: 5 }),
    T0,
  );
  const peers = splitEndpoints(result.peers4, 6);
  assert.equal(peers.length, 5);
  assert.equal(peers.filter((peer) => peer.startsWith("10.0.3.")).length, 3);
  assert.ok(!peers.includes("10.0.2.0:6881"));
});

Deno.test("announce() keeps IPv4 and IPv6 peers apart and fills from the other family (BEP 7)", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "v6", { address: "2001:db8::1", port: 7000 }), T0);
  const fromV4 = tracker.announce(
    announceInput("t", "v4", { address: "10.0.0.1", port: 7001 }),
    T0,
  );
  assert.equal(fromV4.peers4.length, 0);
  assert.deepEqual(splitEndpoints(fromV4.peers6, 18), ["20010db8000000000000000000000001:7000"]);
  const fromV6 = tracker.announce(
    announceInput("t", "v6", { address: "2001:db8::1", port: 7000 }),
    T0,
  );
  assert.deepEqual(splitEndpoints(fromV6.peers4, 6), ["10.0.0.1:7001"]);
  assert.equal(fromV6.peers6.length, 0);
});

Deno.test("announce() returns peer ids in order with the peers when asked", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "alpha", { address: "10.0.0.1", port: 1 }), T0);
  const result = tracker.announce(
    announceInput("t", "beta", { address: "10.0.0.2", wantPeerIds: true }),
    T0,
  );
  assert.ok(result.peerIds4 !== null);
  assert.equal(new TextDecoder().decode(result.peerIds4), id20("alpha"));
  assert.deepEqual(splitEndpoints(result.peers4, 6), ["10.0.0.1:1"]);
});

Deno.test("announce() refuses a peer_id taken from another address without the same key", () => {
  const tracker = openTracker();
  tracker.announce(announceInput("t", "victim", { address: "10.0.0.1", port: 1, key: "k1" }), T0);
  assert.throws(
    () =>
      tracker.announce(
        announceInput("t", "victim", { address: "10.6.6.6", port: 2, event: "stopped" }),
        T0,
      ),
    (error) => error instanceof ClientError && /in use/.test(error.message),
  );
  assert.throws(
    () =>
      tracker.announce(
        announceInput("t", "victim", { address: "10.6.6.6", port: 2, key: "k2" }),
        T0,
      ),
    ClientError,
  );
  const other = tracker.announce(announceInput("t", "other", { address: "10.0.0.9" }), T0);
  assert.deepEqual(splitEndpoints(other.peers4, 6), ["10.0.0.1:1"]);
  // The same key proves the same client: it may move.
  tracker.announce(announceInput("t", "victim", { address: "10.0.0.5", port: 3, key: "k1" }), T0);
  const moved = tracker.announce(announceInput("t", "other", { address: "10.0.0.9" }), T0);
  assert.deepEqual(splitEndpoints(moved.peers4, 6), ["10.0.0.5:3"]);
});

Deno.test("sweep() drops peers silent longer than the expiry, exactly", () => {
  const tracker = openTracker({ expirySeconds: 60 });
  tracker.announce(announceInput("t", "old", { address: "10.0.0.1" }), T0);
  tracker.announce(announceInput("t", "new", { address: "10.0.0.2" }), T0 + 30_000);
  tracker.sweep(T0 + 60_000);
  assert.equal(tracker.scrape([id20("t")])[0].incomplete, 2);
  tracker.sweep(T0 + 61_000);
  assert.equal(tracker.scrape([id20("t")])[0].incomplete, 1);
  tracker.sweep(T0 + 91_000);
  assert.equal(tracker.swarmCount, 0);
});

Deno.test("sweep() works in slices and completes over several calls", () => {
  const tracker = openTracker({ expirySeconds: 10 });
  for (let t = 0; t < 50; t++) {
    for (let p = 0; p < 10; p++) {
      tracker.announce(announceInput(`t${t}`, `p${p}`, { address: `10.0.${t}.${p}` }), T0);
    }
  }
  let calls = 0;
  while (!tracker.sweep(T0 + 20_000, 30)) calls++;
  assert.ok(calls >= 10, `expected many slices, got ${calls}`);
  assert.equal(tracker.swarmCount, 0);
});

Deno.test("sweep() in open mode drops a swarm but keeps its completed count for scrape and its next swarm (issue 14)", () => {
  const tracker = openTracker({ expirySeconds: 10 });
  for (const peer of ["a", "b", "c"]) {
    tracker.announce(announceInput("t", peer, { left: 0, event: "completed" }), T0);
  }
  tracker.sweep(T0 + 20_000);
  assert.equal(tracker.swarmCount, 0);
  assert.deepEqual(
    tracker.scrape([id20("t")]).map((entry) => [entry.complete, entry.downloaded]),
    [[0, 3]],
  );
  // A stopped announce without a swarm answers the count and creates nothing.
  const stopped = tracker.announce(announceInput("t", "z", { event: "stopped" }), T0 + 20_000);
  assert.equal(stopped.downloaded, 3);
  assert.equal(tracker.swarmCount, 0);
  const back = tracker.announce(announceInput("t", "d", { left: 0, event: "completed" }), T0);
  assert.equal(back.downloaded, 4);
  assert.equal(tracker.scrape([id20("t")])[0].downloaded, 4);
});

Deno.test("open mode keeps at most maxTorrents counts without a swarm, the oldest going first", () => {
  const tracker = openTracker({ expirySeconds: 10, maxTorrents: 2 });
  for (const [at, label] of [[0, "first"], [1, "second"], [2, "third"]] as const) {
    tracker.announce(announceInput(label, "a", { left: 0, event: "completed" }), T0);
    // Swept one at a time, so the counts are kept in this order.
    tracker.sweep(T0 + (20 + at) * 1000);
  }
  assert.equal(tracker.keptCountSize, 2);
  assert.deepEqual(
    tracker.scrape([id20("first"), id20("second"), id20("third")]).map((e) => e.downloaded),
    [0, 1, 1],
  );
  // A kept count taken back by its swarm leaves room.
  tracker.announce(announceInput("second", "b"), T0 + 30_000);
  assert.equal(tracker.keptCountSize, 1);
  assert.deepEqual([...tracker.keptCounts()].map(([hash]) => hash), [id20("third")]);
});

Deno.test("restoreCount() keeps a count without a swarm, and replaceAllowlist() drops counts no longer allowed", () => {
  const tracker = openTracker();
  assert.equal(tracker.restoreCount(id20("kept"), 5), true);
  assert.equal(tracker.restoreCount(id20("gone"), 2), true);
  assert.equal(tracker.swarmCount, 0);
  assert.equal(tracker.scrape([id20("kept")])[0].downloaded, 5);
  tracker.replaceAllowlist(Allowlist.of([torrent("kept")]));
  assert.deepEqual([...tracker.keptCounts()], [[id20("kept"), 5]]);
  assert.equal(tracker.restoreCount(id20("gone"), 2), false);
});

Deno.test("sweep() keeps an allowed torrent's empty swarm while it has a completed count", () => {
  const allowlist = Allowlist.of([torrent("kept"), torrent("fresh")]);
  const tracker = openTracker({ allowlist, expirySeconds: 10 });
  tracker.announce(announceInput("kept", "a", { left: 0, event: "completed" }), T0);
  tracker.announce(announceInput("fresh", "b"), T0);
  tracker.sweep(T0 + 20_000);
  assert.deepEqual(
    tracker.scrape([id20("kept"), id20("fresh")]).map((
      entry,
    ) => [entry.complete, entry.downloaded]),
    [[0, 1], [0, 0]],
  );
  assert.equal(tracker.swarmCount, 1);
});

Deno.test("announce() refuses a torrent that is not allowed, with retry in", () => {
  const tracker = openTracker({ allowlist: Allowlist.of([torrent("ok")]) });
  tracker.announce(announceInput("ok", "a"), T0);
  assert.throws(
    () => tracker.announce(announceInput("nope", "a"), T0),
    (error) =>
      error instanceof ClientError && error.retryIn !== null && /not allowed/.test(error.message),
  );
});

Deno.test("announce() in open mode refuses new torrents past max_torrents but serves existing ones", () => {
  const tracker = openTracker({ maxTorrents: 5 });
  for (let i = 0; i < 5; i++) tracker.announce(announceInput(`t${i}`, "a"), T0);
  for (let i = 5; i < 50; i++) {
    assert.throws(() => tracker.announce(announceInput(`t${i}`, "a"), T0), /too many torrents/);
  }
  assert.equal(tracker.swarmCount, 5);
  assert.equal(tracker.announce(announceInput("t0", "b"), T0).incomplete, 2);
});

Deno.test("announce() refuses new peers past max_peers_per_torrent; known peers still announce", () => {
  const tracker = openTracker({ maxPeersPerTorrent: 3 });
  for (let i = 0; i < 3; i++) {
    tracker.announce(announceInput("t", `p${i}`, { address: `10.0.0.${i}` }), T0);
  }
  assert.throws(
    () => tracker.announce(announceInput("t", "p9", { address: "10.0.0.9" }), T0),
    /swarm is full/,
  );
  assert.equal(
    tracker.announce(announceInput("t", "p1", { address: "10.0.0.1" }), T0).incomplete,
    3,
  );
});

Deno.test("scrape() reports requested hashes, skips disallowed ones and hides secret torrents from a full scrape", () => {
  const allowlist = Allowlist.of([torrent("public"), torrent("hidden", { secret: true })]);
  const tracker = openTracker({ allowlist });
  tracker.announce(announceInput("hidden", "a", { left: 0 }), T0);
  const full = tracker.scrape(null).map((entry) => entry.infoHash);
  assert.deepEqual(full, [id20("public")]);
  const named = tracker.scrape([id20("hidden"), id20("unknown")]);
  assert.deepEqual(named.map((entry) => [entry.infoHash, entry.complete]), [[id20("hidden"), 1]]);
});

Deno.test("replaceAllowlist() drops swarms of removed torrents and keeps the others intact", () => {
  const tracker = openTracker({ allowlist: Allowlist.of([torrent("keep"), torrent("drop")]) });
  tracker.announce(announceInput("keep", "a"), T0);
  tracker.announce(announceInput("drop", "a"), T0);
  tracker.replaceAllowlist(Allowlist.of([torrent("keep"), torrent("add")]));
  assert.equal(tracker.swarm(id20("drop")), undefined);
  assert.equal(tracker.scrape([id20("keep")])[0].incomplete, 1);
  assert.throws(() => tracker.announce(announceInput("drop", "b"), T0), /not allowed/);
  assert.equal(tracker.announce(announceInput("add", "b"), T0).incomplete, 1);
});

Deno.test("announce() on a new torrent loses no peer when many peers join at once", () => {
  const tracker = openTracker();
  for (let i = 0; i < 1000; i++) {
    tracker.announce(
      announceInput("t", `peer${i}`, {
        address: `10.${i >> 8}.${i & 255}.1`,
        left: i % 3 === 0 ? 0 : 5,
      }),
      T0,
    );
  }
  const [entry] = tracker.scrape([id20("t")]);
  assert.equal(entry.complete + entry.incomplete, 1000);
  assert.equal(entry.complete, 334);
});

Deno.test("announce() keeps swarm counts consistent under a long random workload", () => {
  const random = seededRandom(42);
  const tracker = openTracker({ random: seededRandom(7) });
  const model = new Map<string, boolean>();
  for (let step = 0; step < 20_000; step++) {
    const n = Math.floor(random() * 300);
    const peer = `p${n}`;
    const roll = random();
    const address = `10.1.${n % 250}.${Math.floor(n / 250) + 1}`;
    if (roll < 0.15) {
      tracker.announce(announceInput("t", peer, { address, event: "stopped" }), T0);
      model.delete(peer);
    } else {
      const seeder = roll > 0.6;
      tracker.announce(
        announceInput("t", peer, { address, left: seeder ? 0 : 9, numwant: 20 }),
        T0,
      );
      model.set(peer, seeder);
    }
  }
  const seeders = [...model.values()].filter(Boolean).length;
  const entry = tracker.scrape([id20("t")])[0] ?? { complete: 0, incomplete: 0 };
  assert.equal(entry.complete, seeders);
  assert.equal(entry.incomplete, model.size - seeders);
});

Deno.test("announce() reads a lazy user agent for a new peer, on started, and while unknown", () => {
  const tracker = new Tracker({ expirySeconds: 60, random: seededRandom(1) });
  const reads: string[] = [];
  const announce = (agent: string, fields: Parameters<typeof announceInput>[2] = {}) => {
    const input = announceInput("lazy", "a", fields);
    tracker.announce({
      ...input,
      userAgent: () => {
        reads.push(agent);
        return agent;
      },
    }, 1_000);
  };
  const agentNow = () => {
    const table = tracker.swarm(id20("lazy"))!.tableFor(4);
    return tracker.userAgent(table.recordOf(table.find(id20("a"))).agent);
  };
  announce("client/1.0", { event: "started" });
  assert.deepEqual(reads, ["client/1.0"], "a new peer's agent is read");
  announce("client/1.1");
  assert.deepEqual(reads, ["client/1.0"], "a regular announce keeps the agent known");
  assert.equal(agentNow(), "client/1.0");
  announce("client/2.0", { event: "started" });
  assert.equal(agentNow(), "client/2.0", "a restarted client is read again");
  // A string is recorded on every announce, as before (UDP passes "").
  tracker.announce({ ...announceInput("lazy", "a"), userAgent: "" }, 1_000);
  assert.equal(agentNow(), "");
  announce("client/3.0");
  assert.equal(agentNow(), "client/3.0", "an unknown agent is read on the next announce");
});
