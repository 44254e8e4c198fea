import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";
import { TrackerProcess } from "./support/tracker_process.ts";
import { UdpTrackerClient } from "./support/udp_tracker_client.ts";

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

/**
 * Runs main with `log_level` set, refuses one HTTP and one UDP announce (a torrent not allowed),
 * stops it, and returns every stderr line.
 */
async function linesWithRefusals(logLevel: string): Promise<readonly string[]> {
  let lines: readonly string[] = [];
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    await writeTorrentFile(join(dir, "allowed"), "only.torrent", "only");
    const tracker = new TrackerProcess([
      await writeConfig(dir, { log_level: logLevel, udp_port: 0 }),
    ]);
    try {
      const unknown = new Uint8Array(20).fill(7);
      const http = new HttpTrackerClient(`http://127.0.0.1:${await tracker.port()}`);
      assert.equal(
        (await http.announce({ infoHash: unknown, peerId, port: 1, left: 1 })).ok,
        false,
      );
      const [, udpPort] = await tracker.waitForLine(/listening on udp:\/\/127\.0\.0\.1:(\d+)/);
      const udp = new UdpTrackerClient("127.0.0.1", Number(udpPort));
      try {
        const reply = await udp.announce({ infoHash: unknown, peerId, port: 1, left: 1 });
        assert.equal(reply.ok, false);
      } finally {
        udp.close();
      }
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
      lines = [...tracker.lines];
    } finally {
      await tracker.close();
    }
  });
  return lines;
}

Deno.test("main: log_level debug logs each refusal over HTTP and UDP with its reason and address", async () => {
  const lines = await linesWithRefusals("debug");
  const refusals = lines.filter((line) => / debug refused /.test(line));
  assert.equal(refusals.length, 2, lines.join("\n"));
  assert.match(refusals[0], / debug refused http 127\.0\.0\.1: .*not/);
  assert.match(refusals[1], / debug refused udp 127\.0\.0\.1:\d+: .*not/);
});

Deno.test("main: log_level info (the default) logs no refusal", async () => {
  const lines = await linesWithRefusals("info");
  assert.ok(lines.some((line) => / startup received SIGTERM/.test(line)), lines.join("\n"));
  assert.deepEqual(lines.filter((line) => / debug /.test(line)), []);
});

Deno.test("main: log_level error keeps only error lines", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    await Deno.writeTextFile(join(dir, "allowed", "bad.torrent"), "d4:info");
    const tracker = new TrackerProcess([await writeConfig(dir, { log_level: "error" })]);
    try {
      // The skipped file is logged before the listener starts; nothing else may follow it.
      await tracker.waitForLine(/ error skipped .*bad\.torrent: /);
      tracker.signal("SIGTERM");
      assert.equal(await tracker.exitCode(), 0);
      assert.ok(tracker.lines.length > 0);
      for (const line of tracker.lines) assert.match(line, /^\S+ error /);
    } finally {
      await tracker.close();
    }
  });
});

Deno.test("main: udp_ip binds UDP to its own address, HTTP stays on ip", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "allowed"));
    const hash = await writeTorrentFile(join(dir, "allowed"), "one.torrent", "one");
    const config = await writeConfig(dir, { udp_ip: "127.0.0.2", udp_port: 0 });
    const tracker = new TrackerProcess([config]);
    try {
      const httpPort = await tracker.port();
      await tracker.waitForLine(/listening on http:\/\/127\.0\.0\.1:\d+/);
      const [, udpPort] = await tracker.waitForLine(/listening on udp:\/\/127\.0\.0\.2:(\d+)/);
      const udp = new UdpTrackerClient("127.0.0.2", Number(udpPort));
      try {
        assert.ok((await udp.announce({ infoHash: hash, peerId, port: 1, left: 1 })).ok);
      } finally {
        udp.close();
      }
      const http = new HttpTrackerClient(`http://127.0.0.1:${httpPort}`);
      assert.ok((await http.announce({ infoHash: hash, peerId, port: 1, left: 1 })).ok);
    } finally {
      await tracker.close();
    }
  });
});
