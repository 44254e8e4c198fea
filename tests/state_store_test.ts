/**
 * Tests for `src/state/state_store.ts` on real files: what is saved comes back; saved peers are
 * read once; counts written behind survive a reopen; a damaged, foreign or newer file is moved
 * aside with one log line and replaced; a locked file or an impossible place leaves the tracker
 * without a state file, never crashed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { SwarmRow } from "../src/state/swarm_state.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { openStateStore } from "../src/state/state_store.ts";
import { id20 } from "./support/announce_fixtures.ts";

const NOW = Date.UTC(2026, 0, 26, 14, 1, 15);

async function withDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-state-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function open(path: string) {
  const logger = createMemoryLogger({ now: () => NOW });
  const opened = openStateStore(path, { logger, now: () => NOW });
  return { opened, logger };
}

const ROWS: SwarmRow[] = [
  {
    infoHash: id20("t1"),
    downloaded: 3,
    peers: [
      {
        peerId: id20("p4"),
        address: new Uint8Array([192, 0, 2, 1]),
        port: 6881,
        seenAt: 1_800_000_000,
        flags: 5,
        keyHash: -123456,
        left: 0,
        uploaded: 2 ** 40,
        downloaded: 17,
      },
      {
        peerId: id20("p6"),
        address: Uint8Array.from({ length: 16 }, (_, i) => i),
        port: 51413,
        seenAt: 1_800_000_001,
        flags: 2,
        keyHash: 0,
        left: 12.5,
        uploaded: 0,
        downloaded: 0,
      },
    ],
  },
  { infoHash: id20("t2"), downloaded: 0, peers: [] },
  { infoHash: id20("t3"), downloaded: 9, peers: [] },
];

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

Deno.test("StateStore saves swarms and reads them back once; counts stay", () =>
  withDir((dir) => {
    const path = join(dir, "state.sqlite");
    const first = open(path);
    assert.deepEqual([...first.opened!.rows], []);
    first.opened!.store.saveAll(ROWS, [[id20("held"), 4]]);
    first.opened!.store.close();

    const second = open(path);
    const byHash = new Map([...second.opened!.rows].map((row) => [row.infoHash, row]));
    // t2 had neither a count nor peers: nothing to keep.
    assert.deepEqual([...byHash.keys()].sort(), [id20("held"), id20("t1"), id20("t3")]);
    assert.deepEqual(byHash.get(id20("t1")), ROWS[0]);
    assert.deepEqual(byHash.get(id20("held")), {
      infoHash: id20("held"),
      downloaded: 4,
      peers: [],
    });
    second.opened!.store.close();

    // Peers are read once: a crash after this start must not bring back peers of an older stop.
    const third = open(path);
    assert.deepEqual(
      [...third.opened!.rows].map((row) => [row.infoHash, row.downloaded, row.peers.length]).sort(),
      [[id20("held"), 4, 0], [id20("t1"), 3, 0], [id20("t3"), 9, 0]],
    );
    third.opened!.store.close();
    assert.deepEqual(first.logger.lines, []);
  }));

Deno.test("StateStore.writeCounts() upserts and deletes counts", () =>
  withDir((dir) => {
    const path = join(dir, "state.sqlite");
    const { opened } = open(path);
    opened!.store.writeCounts({ upserts: [[id20("a"), 1], [id20("b"), 2]], deletes: [] });
    opened!.store.writeCounts({ upserts: [[id20("a"), 5]], deletes: [id20("b"), id20("zz")] });
    opened!.store.writeCounts({ upserts: [], deletes: [] });
    opened!.store.close();
    const again = open(path);
    assert.deepEqual([...again.opened!.rows], [{ infoHash: id20("a"), downloaded: 5, peers: [] }]);
    again.opened!.store.close();
  }));

/** Opens `path` (prepared by `damage`), expecting it moved aside and replaced by an empty file. */
function assertMovedAside(dir: string, damage: (path: string) => void, reason: RegExp): void {
  const path = join(dir, "state.sqlite");
  damage(path);
  const before = Deno.readFileSync(path);
  const { opened, logger } = open(path);
  assert.ok(opened !== null);
  assert.deepEqual([...opened.rows], []);
  opened.store.writeCounts({ upserts: [[id20("new"), 1]], deletes: [] });
  opened.store.close();
  const aside = `${path}.corrupt-20260126T140115Z`;
  assert.equal(logger.lines.length, 1);
  assert.match(logger.lines[0], / error state file .*state\.sqlite is unreadable \(/);
  assert.match(logger.lines[0], reason);
  assert.ok(logger.lines[0].endsWith(`moved aside to ${aside}, starting empty`), logger.lines[0]);
  assert.deepEqual(Deno.readFileSync(aside), before, "the bad file is kept as it was");
  assert.ok(names(dir).includes("state.sqlite"));
}

Deno.test("openStateStore() moves a file that is not SQLite aside", () =>
  withDir((dir) => {
    assertMovedAside(
      dir,
      (path) => Deno.writeTextFileSync(path, "x".repeat(5000)),
      /not a database/,
    );
  }));

Deno.test("openStateStore() moves a truncated file aside", () =>
  withDir((dir) => {
    assertMovedAside(dir, (path) => {
      const { opened } = open(path);
      const many: SwarmRow[] = Array.from({ length: 2000 }, (_, i) => ({
        infoHash: id20(`t${i}`),
        downloaded: i + 1,
        peers: [],
      }));
      opened!.store.saveAll(many);
      opened!.store.close();
      // A checkpoint on close moved everything into the main file; cut it short.
      const bytes = Deno.readFileSync(path);
      Deno.writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
      assert.deepEqual(names(dir), ["state.sqlite"]);
    }, /malformed|integrity|corrupt|not a database/i);
  }));

Deno.test("openStateStore() moves aside a file with rows it did not write", () =>
  withDir((dir) => {
    assertMovedAside(dir, (path) => {
      open(path).opened!.store.close();
      const db = new DatabaseSync(path);
      db.prepare("INSERT INTO torrents VALUES (?, ?)").run(new Uint8Array(19), 1);
      db.close();
    }, /not 20 bytes/);
  }));

Deno.test("openStateStore() finds a peer blob of a bad length at open, not at restore", () =>
  withDir((dir) => {
    assertMovedAside(dir, (path) => {
      open(path).opened!.store.close();
      const db = new DatabaseSync(path);
      db.prepare("INSERT INTO peers VALUES (?, 4, ?)").run(new Uint8Array(20), new Uint8Array(60));
      db.close();
    }, /not a whole number/);
  }));

Deno.test("StateStore rows can be iterated again, each time equal", () =>
  withDir((dir) => {
    const path = join(dir, "state.sqlite");
    const first = open(path);
    first.opened!.store.saveAll(ROWS);
    first.opened!.store.close();
    const { opened } = open(path);
    const once = [...opened!.rows];
    assert.deepEqual(once.find((row) => row.infoHash === id20("t1")), ROWS[0]);
    assert.deepEqual([...opened!.rows], once);
    opened!.store.close();
  }));

Deno.test("openStateStore() moves aside a file of a newer schema", () =>
  withDir((dir) => {
    assertMovedAside(dir, (path) => {
      const db = new DatabaseSync(path);
      db.exec("PRAGMA user_version = 99; CREATE TABLE x (y)");
      db.close();
    }, /newer NoBrake \(schema 99\)/);
  }));

Deno.test("openStateStore() leaves a file another tracker holds alone", () =>
  withDir((dir) => {
    const path = join(dir, "state.sqlite");
    const holder = open(path);
    holder.opened!.store.writeCounts({ upserts: [[id20("a"), 1]], deletes: [] });
    const second = open(path);
    assert.equal(second.opened, null);
    assert.match(second.logger.lines[0], /state file .* is in use by another process/);
    holder.opened!.store.close();
    assert.deepEqual(names(dir), ["state.sqlite"]);
  }));

Deno.test("openStateStore() runs without a file where none can be made", () =>
  withDir((dir) => {
    const { opened, logger } = open(join(dir, "missing", "state.sqlite"));
    assert.equal(opened, null);
    assert.match(logger.lines[0], /cannot create state file .*missing.*: running without one/);
  }));
