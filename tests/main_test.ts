import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

const peerId = new TextEncoder().encode("-MT0001-000000000000");

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-main-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeConfig(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, "tracker.json");
  const config = {
    port: 0,
    ip: "127.0.0.1",
    allowed: "./allowed",
    interval: 60,
    expiry: 120,
    ...extra,
  };
  await Deno.writeTextFile(path, JSON.stringify(config));
  return path;
}

Deno.test("main: SIGHUP adds a new torrent and removes a deleted one; SIGTERM exits 0", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed", "sub"), { recursive: true });
    const kept = await writeTorrentFile(join(dir, "allowed"), "kept.torrent", "kept");
    const dropped = await writeTorrentFile(
      join(dir, "allowed", "sub"),
      "dropped.torrent",
      "dropped",
    );
    const tracker = new TrackerProcess([await writeConfig(dir)]);
    try {
      const client = new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`);
      await tracker.waitForLine(/\(2 torrents allowed, 0 files skipped\)/);
      const added = await writeTorrentFile(join(dir, "allowed", "sub"), "added.torrent", "added");
      await Deno.remove(join(dir, "allowed", "sub", "dropped.torrent"));
      assert.equal(
        (await client.announce({ infoHash: added, peerId, port: 1, left: 1 })).ok,
        false,
      );
      tracker.signal("SIGHUP");
      await tracker.waitForLine(new RegExp(`torrent ${added.toHex()} added`));
      await tracker.waitForLine(new RegExp(`torrent ${dropped.toHex()} deleted`));
      assert.ok((await client.announce({ infoHash: added, peerId, port: 1, left: 1 })).ok);
      assert.ok((await client.announce({ infoHash: kept, peerId, port: 1, left: 1 })).ok);
      assert.equal(
        (await client.announce({ infoHash: dropped, peerId, port: 1, left: 1 })).ok,
        false,
      );
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
    } finally {
      await tracker.close();
    }
  });
});

Deno.test("main: a reload whose directory is gone keeps the old allowlist and says why", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const kept = await writeTorrentFile(join(dir, "allowed"), "kept.torrent", "kept");
    const tracker = new TrackerProcess([await writeConfig(dir)]);
    try {
      const client = new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`);
      await Deno.remove(join(dir, "allowed"), { recursive: true });
      tracker.signal("SIGHUP");
      await tracker.waitForLine(/error reload failed, keeping the old allowlist: .*allowed/);
      assert.ok((await client.announce({ infoHash: kept, peerId, port: 1, left: 1 })).ok);
    } finally {
      await tracker.close();
    }
  });
});

Deno.test("main: watch_allowed reloads by itself when a torrent file appears", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const tracker = new TrackerProcess([await writeConfig(dir, { watch_allowed: true })]);
    try {
      const client = new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`);
      const added = await writeTorrentFile(join(dir, "allowed"), "new.torrent", "new");
      await tracker.waitForLine(new RegExp(`torrent ${added.toHex()} added`));
      assert.ok((await client.announce({ infoHash: added, peerId, port: 1, left: 1 })).ok);
    } finally {
      await tracker.close();
    }
  });
});

Deno.test("main: a missing allowed directory exits 2 with one line naming it", async () => {
  await withTempDir(async (dir) => {
    const tracker = new TrackerProcess([await writeConfig(dir, { allowed: "./nowhere" })]);
    try {
      assert.equal(await tracker.exitCode(), 2);
      assert.equal(tracker.lines.filter((line) => line !== "").length, 1);
      assert.match(tracker.lines[0], /nowhere/);
    } finally {
      await tracker.close();
    }
  });
});

Deno.test("main: a corrupt .torrent is skipped with a line naming it, and the rest load", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const good = await writeTorrentFile(join(dir, "allowed"), "good.torrent", "good");
    await Deno.writeTextFile(join(dir, "allowed", "bad.torrent"), "d4:info");
    const tracker = new TrackerProcess([await writeConfig(dir)]);
    try {
      const client = new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`);
      await tracker.waitForLine(/error skipped .*bad\.torrent: /);
      await tracker.waitForLine(/\(1 torrents allowed, 1 files skipped\)/);
      assert.ok((await client.announce({ infoHash: good, peerId, port: 1, left: 1 })).ok);
    } finally {
      await tracker.close();
    }
  });
});
