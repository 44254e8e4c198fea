/**
 * Tests for `src/server/reloader.ts`: a reload swaps in the rebuilt allowlist and logs the
 * difference; a directory that cannot be read keeps the old list; reloads asked for together run
 * one after the other.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config.ts";
import { Tracker } from "../src/core/tracker.ts";
import { AccessFiles } from "../src/runtime/access_files.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { createReloader, loadAllowlistLogged } from "../src/server/reloader.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";

async function withReloader(
  body: (parts: {
    dir: string;
    tracker: Tracker;
    logger: ReturnType<typeof createMemoryLogger>;
    reload: () => Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-reloader-" });
  try {
    await writeTorrentFile(dir, "first.torrent", "first");
    const logger = createMemoryLogger();
    const config = parseConfig(
      JSON.stringify({ port: 0, allowed: dir, interval: 60, expiry: 120 }),
      "t.json",
    );
    const { allowlist } = await loadAllowlistLogged(dir, logger);
    const tracker = new Tracker({ allowlist, expirySeconds: 120 });
    const reloader = createReloader({
      tracker,
      access: await AccessFiles.load(config, logger),
      listener: { setCertificate: () => assert.fail("no certificate is configured") },
      logger,
      allowedDir: dir,
      watch: false,
    });
    try {
      await body({ dir, tracker, logger, reload: reloader.reload });
    } finally {
      reloader.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("createReloader() reload() swaps in the rebuilt allowlist and logs what changed", async () => {
  await withReloader(async ({ dir, tracker, logger, reload }) => {
    assert.equal(tracker.allowlist.size, 1);
    const added = await writeTorrentFile(dir, "second.torrent", "second");
    await reload();
    assert.equal(tracker.allowlist.size, 2);
    assert.ok(logger.lines.some((line) => line.endsWith(`torrent ${added.toHex()} added`)));
    assert.ok(
      logger.lines.some((line) => line.endsWith("reloaded: 2 torrents allowed, 0 files skipped")),
    );
  });
});

Deno.test("createReloader() keeps the old allowlist when the directory is gone", async () => {
  await withReloader(async ({ dir, tracker, logger, reload }) => {
    const before = tracker.allowlist;
    await Deno.remove(dir, { recursive: true });
    await reload();
    assert.equal(tracker.allowlist, before);
    assert.ok(
      logger.lines.some((line) => / error reload failed, keeping the old allowlist: /.test(line)),
    );
  });
});

Deno.test("createReloader() runs reloads asked for together one after the other", async () => {
  await withReloader(async ({ dir, tracker, logger, reload }) => {
    await writeTorrentFile(dir, "second.torrent", "second");
    await Promise.all([reload(), reload(), reload()]);
    assert.equal(tracker.allowlist.size, 2);
    const summaries = logger.lines.filter((line) => / torrent reloaded: /.test(line));
    assert.equal(summaries.length, 3);
    // Only the first saw a change; the two after it found the list as it left it.
    assert.equal(logger.lines.filter((line) => / added$/.test(line)).length, 1);
  });
});
