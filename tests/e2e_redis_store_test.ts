/**
 * `RedisSwarmStore` against a real Debian redis-server (one per file, a key prefix per test): the
 * rules the memory store keeps (completed counts, BEP 21 partial seeds, the hijack check, the
 * caps, family-first sampling, a seeder given leechers first, expiry) give the same answers, and
 * two stores on one Redis share their swarms.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AnnounceInput } from "../src/core/announce_input.ts";
import { ClientError } from "../src/protocol/client_error.ts";
import type { AnnounceEvent, AnnounceRequest } from "../src/protocol/messages.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { type RedisStoreOptions, RedisSwarmStore } from "../src/redis/redis_store.ts";
import { createClient } from "redis";
import { RedisServer } from "./support/redis_server.ts";

const redis = await RedisServer.start();
let prefixes = 0;

// However the file's tests end, the server goes with the test process.
globalThis.addEventListener("unload", () => redis.stopNow());

const HASH = "h".repeat(20);

function id(label: string): string {
  return label.padEnd(20, ".");
}

interface Announce {
  peer: string;
  address?: number[];
  port?: number;
  left?: number;
  event?: AnnounceEvent;
  numwant?: number;
  key?: string | null;
  hash?: string;
  udp?: boolean;
}

function input(a: Announce): AnnounceInput {
  const request: AnnounceRequest = {
    infoHash: a.hash ?? HASH,
    peerId: id(a.peer),
    port: a.port ?? 6881,
    uploaded: 0,
    downloaded: 0,
    left: a.left ?? 100,
    event: a.event ?? "none",
    numwant: a.numwant ?? 50,
    compact: true,
    noPeerId: false,
    key: a.key ?? null,
    claimedIp: null,
    claimedIpv4: null,
    claimedIpv6: null,
  };
  return {
    request,
    address: new Uint8Array(a.address ?? [10, 0, 0, 1]),
    connectionAddress: null,
    userAgent: "",
    wantPeerIds: false,
    transport: a.udp ? "udp" : "http",
  };
}

/** A store under a fresh prefix; closed after the body. */
async function withStore(
  options: Partial<RedisStoreOptions>,
  body: (store: RedisSwarmStore, open: () => Promise<RedisSwarmStore>) => Promise<void>,
): Promise<void> {
  const keyPrefix = `t${prefixes++}:`;
  const opened: RedisSwarmStore[] = [];
  const open = async () => {
    const store = await RedisSwarmStore.open({
      url: redis.url(0),
      logger: createMemoryLogger(),
      expirySeconds: 60,
      keyPrefix,
      ...options,
    });
    opened.push(store);
    return store;
  };
  try {
    await body(await open(), open);
  } finally {
    for (const store of opened) await store.close();
  }
}

const T0 = 1_000_000_000;

Deno.test({
  name: "RedisSwarmStore counts a completion once, and a leecher turning seeder counts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      await store.announce(input({ peer: "a", event: "started" }), T0);
      let result = await store.announce(input({ peer: "a", left: 0, event: "completed" }), T0);
      assert.equal(result.downloaded, 1);
      result = await store.announce(input({ peer: "a", left: 0, event: "completed" }), T0);
      assert.equal(result.downloaded, 1);
      await store.announce(input({ peer: "b", event: "started", address: [10, 0, 0, 2] }), T0);
      result = await store.announce(input({ peer: "b", left: 0, address: [10, 0, 0, 2] }), T0);
      assert.deepEqual(
        { complete: result.complete, incomplete: result.incomplete, downloaded: result.downloaded },
        { complete: 2, incomplete: 0, downloaded: 2 },
      );
      // A peer that starts as a seeder completed nothing here.
      result = await store.announce(
        input({ peer: "c", left: 0, event: "started", address: [10, 0, 0, 3] }),
        T0,
      );
      assert.equal(result.downloaded, 2);
      const [scrape] = await store.scrape([HASH]);
      assert.deepEqual(scrape, {
        infoHash: HASH,
        complete: 3,
        incomplete: 0,
        downloaders: 0,
        downloaded: 2,
      });
    }),
});

Deno.test({
  name: "RedisSwarmStore counts a paused peer as incomplete but not as a downloader (BEP 21)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      await store.announce(input({ peer: "a" }), T0);
      const result = await store.announce(
        input({ peer: "b", event: "paused", address: [10, 0, 0, 2] }),
        T0,
      );
      assert.equal(result.incomplete, 2);
      assert.equal(result.downloaders, 1);
      const stopped = await store.announce(
        input({ peer: "b", event: "stopped", address: [10, 0, 0, 2] }),
        T0,
      );
      assert.equal(stopped.downloaders, 1);
      assert.equal(stopped.incomplete, 1);
    }),
});

Deno.test({
  name: "RedisSwarmStore refuses a peer id from a new address unless the key matches",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      await store.announce(input({ peer: "a", key: "secret" }), T0);
      await assert.rejects(
        store.announce(input({ peer: "a", address: [10, 9, 9, 9] }), T0),
        (error) => error instanceof ClientError && error.reason === "hijack",
      );
      await assert.rejects(
        store.announce(input({ peer: "a", address: [10, 9, 9, 9], key: "other" }), T0),
        (error) => error instanceof ClientError && error.reason === "hijack",
      );
      const moved = await store.announce(
        input({ peer: "a", address: [10, 9, 9, 9], key: "secret" }),
        T0,
      );
      assert.equal(moved.incomplete, 1);
      // Same address, new port: no proof needed.
      await store.announce(input({ peer: "a", address: [10, 9, 9, 9], port: 7000 }), T0);
    }),
});

Deno.test({
  name: "RedisSwarmStore holds max_torrents and max_peers_per_torrent across two stores",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({ maxTorrents: 2, maxPeersPerTorrent: 2 }, async (a, open) => {
      const b = await open();
      await a.announce(input({ peer: "a", hash: "1".repeat(20) }), T0);
      await b.announce(input({ peer: "a", hash: "2".repeat(20) }), T0);
      await assert.rejects(
        a.announce(input({ peer: "a", hash: "3".repeat(20) }), T0),
        (error) => error instanceof ClientError && error.message.includes("too many torrents"),
      );
      await b.announce(input({ peer: "b", hash: "1".repeat(20), address: [10, 0, 0, 2] }), T0);
      await assert.rejects(
        a.announce(input({ peer: "c", hash: "1".repeat(20), address: [10, 0, 0, 3] }), T0),
        (error) => error instanceof ClientError && error.message === "swarm is full",
      );
      // A peer already in the full swarm still announces.
      await a.announce(input({ peer: "b", hash: "1".repeat(20), address: [10, 0, 0, 2] }), T0);
    }),
});

Deno.test({
  name:
    "RedisSwarmStore gives the requester's family first, never the requester, and a seeder leechers first",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      const v6 = (n: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), n];
      for (let i = 0; i < 3; i++) {
        await store.announce(input({ peer: `s4${i}`, left: 0, address: [10, 0, 1, i] }), T0);
        await store.announce(input({ peer: `l4${i}`, address: [10, 0, 2, i] }), T0);
        await store.announce(input({ peer: `l6${i}`, address: v6(i) }), T0);
      }
      const leecher = await store.announce(
        input({ peer: "l40", address: [10, 0, 2, 0], numwant: 7 }),
        T0,
      );
      assert.equal(leecher.peers4.length, 5 * 6, "every other IPv4 peer");
      assert.equal(leecher.peers6.length, 2 * 18, "then IPv6 peers");
      const seeder = await store.announce(
        input({ peer: "s40", left: 0, address: [10, 0, 1, 0], numwant: 3 }),
        T0,
      );
      const thirdBytes = [];
      for (let i = 0; i < seeder.peers4.length; i += 6) thirdBytes.push(seeder.peers4[i + 2]);
      assert.deepEqual(thirdBytes, [2, 2, 2], "leechers only: there are three");
      const six = await store.announce(input({ peer: "l60", address: v6(0), numwant: 50 }), T0);
      assert.equal(six.peers6.length, 2 * 18);
      assert.equal(six.peers4.length, 6 * 6);
    }),
});

Deno.test({
  name: "RedisSwarmStore samples at random, not the same peers each time",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      for (let i = 0; i < 60; i++) {
        await store.announce(input({ peer: `p${i}`, address: [10, 1, 0, i] }), T0);
      }
      const seen = new Set<number>();
      for (let round = 0; round < 10; round++) {
        const result = await store.announce(
          input({ peer: "p0", address: [10, 1, 0, 0], numwant: 5 }),
          T0,
        );
        assert.equal(result.peers4.length, 30);
        for (let i = 0; i < result.peers4.length; i += 6) seen.add(result.peers4[i + 3]);
      }
      assert.ok(!seen.has(0), "never the requester");
      assert.ok(seen.size > 10, `ten samples of five drew only ${seen.size} distinct peers`);
    }),
});

Deno.test({
  name:
    "RedisSwarmStore expires silent peers on announce and by sweep; open mode forgets empty swarms",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({ expirySeconds: 60 }, async (store) => {
      const other = "o".repeat(20);
      await store.announce(input({ peer: "a", left: 0, event: "completed" }), T0);
      await store.announce(input({ peer: "b", address: [10, 0, 0, 2] }), T0 + 30_000);
      await store.announce(input({ peer: "x", hash: other }), T0);
      const later = await store.announce(input({ peer: "b", address: [10, 0, 0, 2] }), T0 + 61_000);
      assert.equal(later.complete, 0, "the seeder went silent");
      assert.equal(later.incomplete, 1);
      assert.equal((await store.totals()).torrents, 2);
      await store.sweep(T0 + 200_000);
      const totals = await store.totals();
      assert.deepEqual(totals, {
        torrents: 0,
        seeders: 0,
        leechers: 0,
        ipv4: 0,
        ipv6: 0,
        http: 0,
        udp: 0,
        websocket: 0,
      });
      assert.deepEqual(await store.scrape(null), []);
    }),
});

Deno.test({
  name: "Two RedisSwarmStores on one Redis hand out each other's peers and agree on counts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (a, open) => {
      const b = await open();
      await a.announce(input({ peer: "a", udp: true }), T0);
      const fromB = await b.announce(input({ peer: "b", address: [10, 0, 0, 2] }), T0);
      assert.deepEqual([...fromB.peers4], [10, 0, 0, 1, 0x1a, 0xe1]);
      assert.deepEqual(await a.scrape([HASH]), await b.scrape([HASH]));
      assert.deepEqual(await a.totals(), await b.totals());
      assert.deepEqual(await a.totals(), {
        torrents: 1,
        seeders: 0,
        leechers: 2,
        ipv4: 2,
        ipv6: 0,
        http: 1,
        udp: 1,
        websocket: 0,
      });
    }),
});

Deno.test({
  name:
    "RedisSwarmStore keeps every peer's endpoint and id right through stops, role changes and new ports",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      // Peer i at 10.0.3.i; the expected endpoint of every peer still in the swarm, by label.
      const expected = new Map<string, string>();
      const endpoint = (i: number, port: number) => `10.0.3.${i}:${port}`;
      for (let i = 0; i < 20; i++) {
        await store.announce(input({ peer: `q${i}`, address: [10, 0, 3, i] }), T0);
        expected.set(`q${i}`, endpoint(i, 6881));
      }
      for (const i of [0, 19, 7, 8, 3]) {
        await store.announce(
          input({ peer: `q${i}`, address: [10, 0, 3, i], event: "stopped" }),
          T0,
        );
        expected.delete(`q${i}`);
      }
      for (const i of [1, 10, 18]) {
        await store.announce(input({ peer: `q${i}`, address: [10, 0, 3, i], left: 0 }), T0);
      }
      for (const i of [2, 11]) {
        await store.announce(input({ peer: `q${i}`, address: [10, 0, 3, i], port: 7000 }), T0);
        expected.set(`q${i}`, endpoint(i, 7000));
      }
      await store.announce(input({ peer: "q10", address: [10, 0, 3, 10], event: "stopped" }), T0);
      expected.delete("q10");
      const asker = { ...input({ peer: "asker", address: [10, 0, 9, 9], numwant: 200 }) };
      asker.wantPeerIds = true;
      const result = await store.announce(asker, T0);
      const seen = new Map<string, string>();
      for (let i = 0; i * 6 < result.peers4.length; i++) {
        const at = result.peers4.subarray(i * 6, i * 6 + 6);
        const id = new TextDecoder().decode(result.peerIds4!.subarray(i * 20, i * 20 + 20));
        seen.set(
          id.replace(/\.+$/, ""),
          `${at[0]}.${at[1]}.${at[2]}.${at[3]}:${at[4] * 256 + at[5]}`,
        );
      }
      assert.deepEqual(
        [...seen].sort(),
        [...expected].sort(),
      );
      assert.equal(result.complete, 2);
      assert.equal(result.incomplete, expected.size - 2 + 1);
    }),
});

Deno.test({
  name:
    "RedisSwarmStore connects with the password in the URL, and a wrong one fails the start without showing it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using locked = await RedisServer.start({ password: "s3cret pass" });
    const store = await RedisSwarmStore.open({
      url: locked.url(0),
      logger: createMemoryLogger(),
      expirySeconds: 60,
    });
    try {
      const result = await store.announce(input({ peer: "a" }), T0);
      assert.equal(result.incomplete, 1);
    } finally {
      await store.close();
    }
    const wrong = `redis://:not-it@127.0.0.1:${locked.port}/0`;
    await assert.rejects(
      RedisSwarmStore.open({ url: wrong, logger: createMemoryLogger(), expirySeconds: 60 }),
      (error: Error) =>
        /cannot reach Redis/.test(error.message) && !error.message.includes("not-it"),
    );
  },
});

Deno.test({
  name:
    "RedisSwarmStore loads its function library again when Redis has forgotten it (FUNCTION FLUSH)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({}, async (store) => {
      await store.announce(input({ peer: "a" }), T0);
      const admin = createClient({ url: redis.url(0) });
      await admin.connect();
      try {
        await admin.functionFlush();
      } finally {
        await admin.quit();
      }
      const result = await store.announce(input({ peer: "b", address: [10, 0, 0, 2] }), T0);
      assert.equal(result.incomplete, 2);
      assert.equal(result.peers4.length, 6);
      assert.equal(store.errors, 0);
    }),
});

Deno.test({
  name:
    "RedisSwarmStore keeps its last-seen index (one small handle per peer) in step with the slots through stops, role changes and expiry",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withStore({ expirySeconds: 60, keyPrefix: "handles:" }, async (store) => {
      // Peer i at 10.0.4.i, last seen at T0 + i s; even peers seed.
      const remaining = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const left = i % 2 === 0 ? 0 : 100;
        await store.announce(
          input({ peer: `r${i}`, address: [10, 0, 4, i], left }),
          T0 + i * 1000,
        );
        remaining.add(`r${i}`);
      }
      // At T0 + 40 s: three are seen again, one stops, one leecher turns seeder (a new slot).
      for (const i of [2, 5, 11]) {
        const left = i % 2 === 0 ? 0 : 100;
        await store.announce(input({ peer: `r${i}`, address: [10, 0, 4, i], left }), T0 + 40_000);
      }
      await store.announce(
        input({ peer: "r4", address: [10, 0, 4, 4], left: 0, event: "stopped" }),
        T0 + 40_000,
      );
      remaining.delete("r4");
      await store.announce(input({ peer: "r7", address: [10, 0, 4, 7], left: 0 }), T0 + 40_000);
      // The sweep at T0 + 71 s drops everyone last seen before T0 + 11 s: removals that move
      // other expiring peers' slots under the sweep's feet.
      await store.sweep(T0 + 71_000);
      for (const i of [0, 1, 3, 6, 8, 9, 10]) remaining.delete(`r${i}`);

      const asker = input({ peer: "asker", address: [10, 0, 9, 9], numwant: 200 });
      asker.wantPeerIds = true;
      const result = await store.announce(asker, T0 + 71_000);
      const seen = new Set<string>();
      for (let i = 0; i * 20 < result.peerIds4!.length; i++) {
        const id = new TextDecoder().decode(result.peerIds4!.subarray(i * 20, i * 20 + 20));
        seen.add(id.replace(/\.+$/, ""));
      }
      assert.deepEqual([...seen].sort(), [...remaining].sort());
      // Seeders left: 2, 12, 14, 16, 18 and 7 (turned seeder).
      assert.equal(result.complete, 6);
      assert.equal(result.incomplete, remaining.size - 6 + 1);

      const admin = createClient({ url: redis.url(0) });
      await admin.connect();
      try {
        const members = await admin.zRange(`handles:${HASH}z4`, 0, -1);
        assert.equal(members.length, remaining.size + 1, "one entry per peer, the asker's too");
        const seeders = 6, leechers = remaining.size - 6 + 1;
        const expected = [
          ...Array.from({ length: seeders }, (_, slot) => String(slot * 2 + 1)),
          ...Array.from({ length: leechers }, (_, slot) => String(slot * 2)),
        ];
        assert.deepEqual([...members].sort(), expected.sort(), "every slot's handle, no other");
      } finally {
        await admin.quit();
      }
      // The rest expire by their own last-seen seconds: at T0 + 80.5 s, those seen before T0 + 20 s.
      await store.sweep(T0 + 80_500);
      const late = await store.totals();
      assert.equal(late.seeders + late.leechers, 5, "r2, r5, r7, r11 and the asker");
      await store.sweep(T0 + 200_000);
      assert.equal((await store.totals()).torrents, 0);
      const check = createClient({ url: redis.url(0) });
      await check.connect();
      try {
        assert.equal(await check.exists(`handles:${HASH}z4`), 0, "the index goes with the peers");
      } finally {
        await check.quit();
      }
    }),
});
