/**
 * Tests for `src/runtime/allowlist_loader.ts` over the fixture directory (whose expected hashes
 * libtorrent computed, see `tests/testdata/torrents/MANIFEST.md`) and over temporary directories,
 * and for `diffAllowlists()` from `src/core/allowlist.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Allowlist, diffAllowlists } from "../src/core/allowlist.ts";
import { byteStringToHex, hexToByteString } from "../src/protocol/byte_string.ts";
import { loadAllowlist } from "../src/runtime/allowlist_loader.ts";

const FIXTURES = fileURLToPath(new URL("./testdata/torrents/", import.meta.url));

/** `path → [v1 hex, v2 hex]` from MANIFEST.md (`-` for absent becomes `null`). */
function manifestHashes(): Map<string, [string | null, string | null]> {
  const text = Deno.readTextFileSync(join(FIXTURES, "MANIFEST.md"));
  const rows = text.split("\n").filter((line) => /^\| \S+\.torrent \|/.test(line));
  return new Map(rows.map((line) => {
    const [path, , , v1, v2] = line.slice(2).split(" | ");
    return [path, [v1 === "-" ? null : v1, v2 === "-" ? null : v2]];
  }));
}

const hex = (hash: string | null) => hash === null ? null : byteStringToHex(hash);

/** A fresh temporary directory, removed after `fn`. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake_allowlist_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadAllowlist() loads every good fixture, recursively, with libtorrent's hashes", async () => {
  const { allowlist, skipped } = await loadAllowlist(FIXTURES);
  const expected = manifestHashes();
  assert.equal(allowlist.open, false);
  assert.equal(allowlist.size, 6);
  assert.deepEqual(
    allowlist.torrents.map((t) => t.path),
    [...expected.keys()].sort(),
  );
  for (const torrent of allowlist.torrents) {
    assert.deepEqual(
      [hex(torrent.infoHashV1), hex(torrent.infoHashV2)],
      expected.get(torrent.path),
    );
  }
  // Both hashes of the hybrid torrent are allowed and lead to the same torrent.
  const [v1, v2] = expected.get("nested/hybrid.torrent")!;
  const hybrid = allowlist.get(hexToByteString(v1!)!);
  assert.equal(hybrid?.name, "hybriddata");
  assert.equal(allowlist.get(hexToByteString(v2!)!), hybrid);
  assert.equal([...allowlist.hashes()].length, 7);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0].path, "corrupt.torrent");
  assert.match(
    skipped[0].reason,
    /^not bencoded: String length 13 exceeds the 0 bytes left at byte 57$/,
  );
});

Deno.test("loadAllowlist() marks only *.secret.torrent files secret", async () => {
  const { allowlist } = await loadAllowlist(FIXTURES);
  const secret = allowlist.torrents.filter((t) => t.secret).map((t) => t.path);
  assert.deepEqual(secret, ["nested/deeper/friends.secret.torrent"]);
});

Deno.test("loadAllowlist() ignores files that are not .torrent", async () => {
  const { allowlist, skipped } = await loadAllowlist(FIXTURES);
  const seen = [...allowlist.torrents.map((t) => t.path), ...skipped.map((s) => s.path)];
  assert.ok(!seen.some((path) => path.endsWith("README.txt") || path.endsWith("MANIFEST.md")));
});

Deno.test("loadAllowlist() gives the same list at any concurrency", async () => {
  const one = await loadAllowlist(FIXTURES, { concurrency: 1 });
  const many = await loadAllowlist(FIXTURES, { concurrency: 1000 });
  assert.deepEqual(one.allowlist.torrents, many.allowlist.torrents);
  assert.deepEqual(one.skipped, many.skipped);
});

Deno.test("loadAllowlist() throws naming a missing directory", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "no_such_dir");
    await assert.rejects(loadAllowlist(missing), (error: Error) => {
      assert.equal(error.message, `Allowed torrents directory "${missing}" does not exist`);
      return true;
    });
  });
});

Deno.test("loadAllowlist() throws naming a path that is not a directory", async () => {
  const file = join(FIXTURES, "single_v1.torrent");
  await assert.rejects(
    loadAllowlist(file),
    new Error(`Allowed torrents directory "${file}" is not a directory`),
  );
});

Deno.test("loadAllowlist() keeps the first of two files with one info hash", async () => {
  await withTempDir(async (dir) => {
    await Deno.copyFile(join(FIXTURES, "single_v1.torrent"), join(dir, "b.torrent"));
    await Deno.mkdir(join(dir, "a"));
    await Deno.copyFile(join(FIXTURES, "single_v1.torrent"), join(dir, "a", "copy.torrent"));
    await Deno.copyFile(join(FIXTURES, "v2_only.torrent"), join(dir, "c.torrent"));
    const { allowlist, skipped } = await loadAllowlist(dir);
    assert.deepEqual(allowlist.torrents.map((t) => t.path), ["a/copy.torrent", "c.torrent"]);
    assert.deepEqual(skipped, [{
      path: "b.torrent",
      reason: "duplicate info hash of a/copy.torrent",
    }]);
  });
});

Deno.test("loadAllowlist() loads an empty directory as an empty list", async () => {
  await withTempDir(async (dir) => {
    const { allowlist, skipped } = await loadAllowlist(dir);
    assert.equal(allowlist.size, 0);
    assert.deepEqual(skipped, []);
  });
});

Deno.test({
  name: "loadAllowlist() follows symlinks but ends on a loop",
  ignore: Deno.build.os === "windows",
  fn: () =>
    withTempDir(async (dir) => {
      await Deno.mkdir(join(dir, "sub"));
      await Deno.copyFile(join(FIXTURES, "v2_only.torrent"), join(dir, "sub", "v2.torrent"));
      await Deno.symlink("..", join(dir, "sub", "up"));
      await Deno.symlink(join(FIXTURES, "single_v1.torrent"), join(dir, "linked.torrent"));
      await Deno.symlink(join(dir, "nowhere.torrent"), join(dir, "broken.torrent"));
      const { allowlist, skipped } = await loadAllowlist(dir);
      assert.deepEqual(allowlist.torrents.map((t) => t.path), ["linked.torrent", "sub/v2.torrent"]);
      assert.equal(skipped.length, 1);
      assert.equal(skipped[0].path, "broken.torrent");
      assert.match(skipped[0].reason, /^unreadable: /);
    }),
});

// Root reads every file regardless of mode, and Windows has no such modes; an ignored test says
// which in its name, so the summary's "ignored" has a reason beside it.
const NO_UNREADABLE_FILE = Deno.build.os === "windows"
  ? "Windows has no file modes"
  : Deno.uid() === 0
  ? "root reads every file"
  : null;

Deno.test({
  name: "loadAllowlist() skips an unreadable file with a reason" +
    (NO_UNREADABLE_FILE === null ? "" : ` (skipped: ${NO_UNREADABLE_FILE})`),
  ignore: NO_UNREADABLE_FILE !== null,
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "locked.torrent");
      await Deno.copyFile(join(FIXTURES, "single_v1.torrent"), path);
      await Deno.chmod(path, 0o000);
      const { allowlist, skipped } = await loadAllowlist(dir);
      assert.equal(allowlist.size, 0);
      assert.equal(skipped[0].path, "locked.torrent");
      assert.match(skipped[0].reason, /^unreadable: /);
    }),
});

Deno.test("diffAllowlists() reports hashes added and removed by a reload", async () => {
  const before = (await loadAllowlist(FIXTURES)).allowlist;
  const after = await (async () => {
    let list: Allowlist | undefined;
    await withTempDir(async (dir) => {
      await Deno.copyFile(join(FIXTURES, "single_v1.torrent"), join(dir, "single_v1.torrent"));
      await Deno.copyFile(join(FIXTURES, "nested/hybrid.torrent"), join(dir, "hybrid.torrent"));
      list = (await loadAllowlist(dir)).allowlist;
    });
    return list!;
  })();
  const expected = manifestHashes();
  const gone = ["nested/multi_v1.torrent", "nested/deeper/friends.secret.torrent"]
    .concat(["v2_only.torrent", "noncanonical.torrent"])
    .flatMap((path) => expected.get(path)!.filter((h) => h !== null));

  const shrink = diffAllowlists(before, after);
  assert.deepEqual(shrink.added, []);
  assert.deepEqual(shrink.removed.map(byteStringToHex).sort(), gone.sort());
  const grow = diffAllowlists(after, before);
  assert.deepEqual(grow.added.map(byteStringToHex).sort(), gone.sort());
  assert.deepEqual(grow.removed, []);
  assert.deepEqual(diffAllowlists(before, before), { added: [], removed: [] });
});

Deno.test("diffAllowlists() treats open mode as knowing no hashes", async () => {
  const list = (await loadAllowlist(FIXTURES)).allowlist;
  const open = Allowlist.openMode();
  assert.equal(diffAllowlists(open, list).added.length, 7);
  assert.equal(diffAllowlists(list, open).removed.length, 7);
  assert.deepEqual(diffAllowlists(open, open), { added: [], removed: [] });
});
