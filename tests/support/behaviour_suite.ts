/**
 * The behaviour suite every transport must pass: the same cases, written once against the
 * protocol-neutral `TrackerClient`, registered once per transport and address family by the
 * transport's server test (`http_server_test.ts`, `udp_server_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Tracker } from "../../src/core/tracker.ts";
import type { TrackerClient } from "./tracker_client.ts";

/** A running tracker and a client for it. */
export interface SuiteTarget {
  client: TrackerClient;
  /** Hashes the tracker serves (at least three; any hash in open mode). */
  allowed: Uint8Array[];
  /** A hash it refuses, or `null` in open mode. */
  forbidden: Uint8Array | null;
  /**
   * Moves the tracker's clock `seconds` forward and runs one whole expiry sweep at the new time,
   * so expiry is tested without waiting for it.
   */
  elapse(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/** How a case wants the tracker set up. */
export interface SuiteOptions {
  /** Peer expiry in seconds. @default 3600 */
  expirySeconds?: number;
}

/** Starts a fresh tracker for one case. */
export type StartTarget = (options: SuiteOptions) => Promise<SuiteTarget>;

/**
 * A clock for a target's tracker: real time plus the seconds `elapse` has added. `elapse` then
 * runs one whole sweep at the new time, as the server's sweep timer would once it fired.
 */
export function steppedClock(): {
  now: () => number;
  elapse: (tracker: Tracker, seconds: number) => Promise<void>;
} {
  let offset = 0;
  const now = () => Date.now() + offset;
  return {
    now,
    elapse(tracker, seconds) {
      offset += seconds * 1000;
      while (!tracker.sweep(now())) { /* the next slice */ }
      return Promise.resolve();
    },
  };
}

/** A 20-byte peer id from a label. */
export function peerId(label: string): Uint8Array {
  return new TextEncoder().encode(label.padEnd(20, "."));
}

/** Registers the suite's cases as Deno tests named `<name>: <case>`. */
export function registerBehaviourSuite(name: string, start: StartTarget): void {
  const test = (
    title: string,
    options: SuiteOptions,
    body: (target: SuiteTarget) => Promise<void>,
  ) => {
    Deno.test(`${name}: ${title}`, async () => {
      const target = await start(options);
      try {
        await body(target);
      } finally {
        target.client.close();
        await target.close();
      }
    });
  };

  test("two peers see each other", {}, async ({ client, allowed }) => {
    const infoHash = allowed[0];
    const first = await client.announce({
      infoHash,
      peerId: peerId("a"),
      port: 5001,
      left: 10,
      event: "started",
    });
    assert.ok(first.ok);
    assert.deepEqual(first.peers, []);
    const second = await client.announce({
      infoHash,
      peerId: peerId("b"),
      port: 5002,
      left: 10,
      event: "started",
    });
    assert.ok(second.ok);
    assert.deepEqual(second.peers.map((peer) => peer.port), [5001]);
    assert.equal(second.incomplete, 2);
    const again = await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 10 });
    assert.ok(again.ok);
    assert.deepEqual(again.peers.map((peer) => peer.port), [5002]);
  });

  test("stopped removes the peer", {}, async ({ client, allowed }) => {
    const infoHash = allowed[0];
    await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 10 });
    await client.announce({ infoHash, peerId: peerId("b"), port: 5002, left: 10 });
    const stopped = await client.announce({
      infoHash,
      peerId: peerId("a"),
      port: 5001,
      left: 10,
      event: "stopped",
    });
    assert.ok(stopped.ok);
    assert.deepEqual(stopped.peers, []);
    const left = await client.announce({ infoHash, peerId: peerId("b"), port: 5002, left: 10 });
    assert.ok(left.ok);
    assert.deepEqual(left.peers, []);
    assert.deepEqual(await client.scrape([infoHash]), [{
      complete: 0,
      incomplete: 1,
      downloaded: 0,
    }]);
  });

  test("completed counts once", {}, async ({ client, allowed }) => {
    const infoHash = allowed[1];
    await client.announce({
      infoHash,
      peerId: peerId("a"),
      port: 5001,
      left: 10,
      event: "started",
    });
    await client.announce({
      infoHash,
      peerId: peerId("a"),
      port: 5001,
      left: 0,
      event: "completed",
    });
    await client.announce({
      infoHash,
      peerId: peerId("a"),
      port: 5001,
      left: 0,
      event: "completed",
    });
    await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 0 });
    assert.deepEqual(await client.scrape([infoHash]), [{
      complete: 1,
      incomplete: 0,
      downloaded: 1,
    }]);
  });

  test("numwant=0 returns counts but no peers", {}, async ({ client, allowed }) => {
    const infoHash = allowed[0];
    await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 0 });
    const reply = await client.announce({
      infoHash,
      peerId: peerId("b"),
      port: 5002,
      left: 5,
      numwant: 0,
    });
    assert.ok(reply.ok);
    assert.deepEqual(reply.peers, []);
    assert.equal(reply.complete, 1);
    assert.equal(reply.incomplete, 1);
  });

  test("numwant limits the peers returned", {}, async ({ client, allowed }) => {
    const infoHash = allowed[2];
    for (let i = 0; i < 12; i++) {
      await client.announce({ infoHash, peerId: peerId(`p${i}`), port: 6000 + i, left: 5 });
    }
    const reply = await client.announce({
      infoHash,
      peerId: peerId("p0"),
      port: 6000,
      left: 5,
      numwant: 5,
    });
    assert.ok(reply.ok);
    assert.equal(reply.peers.length, 5);
    assert.equal(new Set(reply.peers.map((peer) => peer.port)).size, 5);
    assert.ok(!reply.peers.some((peer) => peer.port === 6000));
  });

  test("scrape counts seeders and leechers per hash", {}, async ({ client, allowed }) => {
    const [one, two] = allowed;
    await client.announce({ infoHash: one, peerId: peerId("s"), port: 5001, left: 0 });
    await client.announce({ infoHash: one, peerId: peerId("l"), port: 5002, left: 3 });
    await client.announce({ infoHash: two, peerId: peerId("l"), port: 5002, left: 3 });
    assert.deepEqual(await client.scrape([one, two]), [
      { complete: 1, incomplete: 1, downloaded: 0 },
      { complete: 0, incomplete: 1, downloaded: 0 },
    ]);
  });

  test(
    "a torrent not on the allowlist is refused (open mode: any torrent is served)",
    {},
    async ({ client, allowed, forbidden }) => {
      const infoHash = forbidden ?? allowed[0];
      const reply = await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 1 });
      // Open mode has no hash to refuse: it must serve an unknown one (this case once returned
      // green there without looking).
      if (forbidden === null) {
        assert.ok(reply.ok, reply.ok ? "" : reply.failure);
        return;
      }
      assert.equal(reply.ok, false);
      assert.match(reply.ok ? "" : reply.failure, /not allowed/);
    },
  );

  test("silent peers expire", { expirySeconds: 60 }, async ({ client, allowed, elapse }) => {
    const infoHash = allowed[0];
    await client.announce({ infoHash, peerId: peerId("a"), port: 5001, left: 10 });
    await elapse(59);
    assert.equal((await client.scrape([infoHash]))[0].incomplete, 1, "kept within the expiry");
    await client.announce({ infoHash, peerId: peerId("b"), port: 5002, left: 10 });
    assert.equal((await client.scrape([infoHash]))[0].incomplete, 2);
    // 61 s after its announce `a` is silent past the expiry; `b` spoke 2 s ago.
    await elapse(2);
    const reply = await client.announce({ infoHash, peerId: peerId("c"), port: 5003, left: 10 });
    assert.ok(reply.ok);
    assert.deepEqual(reply.peers.map((peer) => peer.port), [5002]);
    assert.equal((await client.scrape([infoHash]))[0].incomplete, 2);
  });
}
