/**
 * The state file across real restarts of `main.ts` (tests/support/tracker_process.ts): completed
 * counts survive `kill -9` in allowlist and open mode (in open mode a count with no swarm is
 * answered by a scrape before any peer comes back); live peers survive SIGTERM and a restart; a
 * corrupt state file is moved aside with one log line and the tracker starts empty.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { steppedClock } from "./support/behaviour_suite.ts";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

/** More than the state file's one-second write period, with room for a loaded machine. */
const COUNT_WRITTEN_MS = 2500;

const peer = (n: number) => new TextEncoder().encode(`-NB0001-${String(n).padStart(12, "0")}`);

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-restart-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeConfig(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, "tracker.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      port: 0,
      ip: "127.0.0.1",
      allowed: "./allowed",
      interval: 60,
      expiry: 600,
      udp: false,
      ...extra,
    }),
  );
  return path;
}

/** Runs the tracker on `config` for the length of `body`, always ending the process. */
async function running(
  config: string,
  body: (client: HttpTrackerClient, tracker: TrackerProcess) => Promise<void>,
): Promise<void> {
  const tracker = new TrackerProcess([config]);
  try {
    await body(new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`), tracker);
  } finally {
    await tracker.close();
  }
}

/** One leecher that completes, and one that stays, on `infoHash`: downloaded becomes 1. */
async function completeOnce(client: HttpTrackerClient, infoHash: Uint8Array): Promise<void> {
  assert.ok((await client.announce({ infoHash, peerId: peer(1), port: 6881, left: 10 })).ok);
  assert.ok((await client.announce({ infoHash, peerId: peer(2), port: 6882, left: 10 })).ok);
  const done = await client.announce({
    infoHash,
    peerId: peer(1),
    port: 6881,
    left: 0,
    event: "completed",
  });
  assert.ok(done.ok);
  assert.deepEqual((await client.scrape([infoHash]))[0].downloaded, 1);
}

Deno.test("state: downloaded counts survive kill -9 (allowlist mode)", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const infoHash = await writeTorrentFile(join(dir, "allowed"), "a.torrent", "a");
    const config = await writeConfig(dir);
    await running(config, async (client, tracker) => {
      await completeOnce(client, infoHash);
      await new Promise((resolve) => setTimeout(resolve, COUNT_WRITTEN_MS));
      tracker.signal("SIGKILL");
      assert.notEqual(await tracker.exitCode(), 0);
      assert.ok(!tracker.lines.some((line) => /state saved/.test(line)), "no graceful save");
    });
    await running(config, async (client, tracker) => {
      await tracker.waitForLine(/state from .*nobrake-state\.sqlite: 1 swarms and 0 peers/);
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 0, incomplete: 0, downloaded: 1 },
      ]);
      assert.ok((await client.announce({ infoHash, peerId: peer(3), port: 1, left: 1 })).ok);
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 0, incomplete: 1, downloaded: 1 },
      ]);
    });
  });
});

Deno.test("state: downloaded counts survive kill -9 in open mode, answered before any announce (issue 14)", async () => {
  await withTempDir(async (dir) => {
    const config = await writeConfig(dir, { allowed: "*" });
    const infoHash = new Uint8Array(20).fill(7);
    await running(config, async (client, tracker) => {
      for (const n of [1, 2, 3]) {
        const done = await client.announce({
          infoHash,
          peerId: peer(n),
          port: 6880 + n,
          left: 0,
          event: "completed",
        });
        assert.ok(done.ok);
      }
      assert.equal((await client.scrape([infoHash]))[0].downloaded, 3);
      await new Promise((resolve) => setTimeout(resolve, COUNT_WRITTEN_MS));
      tracker.signal("SIGKILL");
      await tracker.exitCode();
    });
    await running(config, async (client, tracker) => {
      await tracker.waitForLine(/state from .*: 0 swarms and 0 peers restored.* 1 counts kept/);
      // No peer came back yet: the count is answered all the same.
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 0, incomplete: 0, downloaded: 3 },
      ]);
      // The swarm that forms again starts from it, with no wait for a write period.
      assert.ok((await client.announce({ infoHash, peerId: peer(4), port: 1, left: 1 })).ok);
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 0, incomplete: 1, downloaded: 3 },
      ]);
    });
  });
});

Deno.test("state: peers survive SIGTERM and a restart", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const infoHash = await writeTorrentFile(join(dir, "allowed"), "a.torrent", "a");
    const config = await writeConfig(dir);
    await running(config, async (client, tracker) => {
      await completeOnce(client, infoHash);
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
      await tracker.waitForLine(/state saved to .*: 1 swarms, 2 peers/);
    });
    await running(config, async (client, tracker) => {
      await tracker.waitForLine(/1 swarms and 2 peers restored, 0 peers expired/);
      assert.deepEqual(await client.scrape([infoHash]), [
        { complete: 1, incomplete: 1, downloaded: 1 },
      ]);
      const newcomer = await client.announce({ infoHash, peerId: peer(9), port: 9, left: 1 });
      assert.ok(newcomer.ok);
      assert.deepEqual(
        newcomer.peers.map((p) => `${p.ip}:${p.port}`).sort(),
        ["127.0.0.1:6881", "127.0.0.1:6882"],
      );
    });
  });
});

for (const mode of ["open mode", "allowlist"] as const) {
  Deno.test(`state: a count whose peers all expired survives a graceful restart (${mode}, issue 14)`, async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(join(dir, "allowed"));
      const listed = await writeTorrentFile(join(dir, "allowed"), "a.torrent", "a");
      const infoHash = mode === "open mode" ? new Uint8Array(20).fill(9) : listed;
      const config = {
        allowed: mode === "open mode" ? "*" : join(dir, "allowed"),
        state_file: join(dir, "state.sqlite"),
        expiry: 600,
      };
      const clock = steppedClock();
      const first = await startTestServer({ config, now: clock.now });
      try {
        const client = new HttpTrackerClient(first.baseUrl);
        for (const n of [1, 2, 3]) {
          const done = await client.announce({
            infoHash,
            peerId: peer(n),
            port: 6880 + n,
            left: 0,
            event: "completed",
          });
          assert.ok(done.ok);
        }
        // Every peer falls silent: open mode lets the swarm go, the count must stay.
        await clock.elapse(first.server.tracker, 601);
        assert.deepEqual(await client.scrape([infoHash]), [
          { complete: 0, incomplete: 0, downloaded: 3 },
        ]);
        client.close();
      } finally {
        await first.close();
      }
      const second = await startTestServer({ config });
      try {
        const client = new HttpTrackerClient(second.baseUrl);
        assert.deepEqual(await client.scrape([infoHash]), [
          { complete: 0, incomplete: 0, downloaded: 3 },
        ]);
        assert.ok((await client.announce({ infoHash, peerId: peer(4), port: 1, left: 1 })).ok);
        assert.deepEqual(await client.scrape([infoHash]), [
          { complete: 0, incomplete: 1, downloaded: 3 },
        ]);
        client.close();
      } finally {
        await second.close();
      }
    });
  });
}

Deno.test("state: peers older than expiry are not brought back", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const infoHash = await writeTorrentFile(join(dir, "allowed"), "a.torrent", "a");
    const config = {
      allowed: join(dir, "allowed"),
      state_file: join(dir, "state.sqlite"),
      expiry: 600,
    };
    const first = await startTestServer({ config });
    try {
      await completeOnce(new HttpTrackerClient(first.baseUrl), infoHash);
    } finally {
      await first.close();
    }
    // The same file 601 s later on the tracker's clock (passed in, not waited for): every saved
    // peer is too old.
    const second = await startTestServer({ config, now: () => Date.now() + 601_000 });
    try {
      assert.ok(
        second.logger.lines.some((line) =>
          /1 swarms and 0 peers restored, 2 peers expired/.test(line)
        ),
        second.logger.lines.join("\n"),
      );
      const client = new HttpTrackerClient(second.baseUrl);
      assert.deepEqual((await client.scrape([infoHash]))[0].downloaded, 1);
    } finally {
      await second.close();
    }
  });
});

Deno.test("state: a corrupt state file is moved aside with one line, and the tracker starts", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const infoHash = await writeTorrentFile(join(dir, "allowed"), "a.torrent", "a");
    await Deno.writeTextFile(join(dir, "nobrake-state.sqlite"), "not a database ".repeat(400));
    await running(await writeConfig(dir), async (client, tracker) => {
      const [line] = await tracker.waitForLine(
        /error state file .*nobrake-state\.sqlite is unreadable \(.+\): moved aside to (.*)\.corrupt-\d{8}T\d{6}Z, starting empty/,
      );
      assert.ok((await client.announce({ infoHash, peerId: peer(1), port: 1, left: 1 })).ok);
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
      const aside = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".corrupt-"));
      assert.equal(aside.length, 1, line);
      assert.equal(
        await Deno.readTextFile(join(dir, aside[0].name)),
        "not a database ".repeat(400),
      );
    });
  });
});

Deno.test("state: state_file null keeps nothing on disk", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    await running(await writeConfig(dir, { state_file: null }), async (_client, tracker) => {
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
    });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "allowed",
      "tracker.json",
    ]);
  });
});
