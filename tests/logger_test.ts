/**
 * Tests for `src/runtime/logger.ts`: the line format, buffering and when it is flushed, files and
 * stderr, and the memory logger.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createLogger,
  createMemoryLogger,
  formatLogLine,
  keepsMode,
} from "../src/runtime/logger.ts";

/** 2026-11-26T13:45:00.999Z: the milliseconds must not show. */
const T0 = Date.UTC(2026, 10, 26, 13, 45, 0, 999);
const now = () => T0;

/** Runs `fn` with the path of a log file in a fresh temporary directory. */
async function withLogPath(fn: (path: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(join(dir, "tracker.log"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("formatLogLine() writes date, mode and details, space separated", () => {
  assert.equal(
    formatLogLine(T0, "client", "192.0.2.1 2D4E42303030312D started"),
    "2026-11-26T13:45:00Z client 192.0.2.1 2D4E42303030312D started",
  );
  assert.equal(
    formatLogLine(0, "startup", "NoBrake 0.1.0"),
    "1970-01-01T00:00:00Z startup NoBrake 0.1.0",
  );
  // The per-second cache must not serve a stale date.
  assert.equal(formatLogLine(T0 + 1, "stats", "x"), "2026-11-26T13:45:01Z stats x");
});

Deno.test("formatLogLine() escapes control characters so a line cannot be forged", () => {
  assert.equal(
    formatLogLine(T0, "error", "agent\n2026-01-01T00:00:00Z startup\tx\x7f"),
    "2026-11-26T13:45:00Z error agent\\x0a2026-01-01T00:00:00Z startup\\x09x\\x7f",
  );
  assert.equal(formatLogLine(T0, "scrape", "ünïcode ok"), "2026-11-26T13:45:00Z scrape ünïcode ok");
});

Deno.test("createLogger() writes nothing to the file before a flush", async () => {
  await withLogPath((path) => {
    const logger = createLogger({ path, now, flushIntervalMs: 60_000 });
    try {
      logger.log("startup", "NoBrake");
      logger.log("client", "192.0.2.1 AB no_event");
      assert.equal(Deno.readTextFileSync(path), "");
      logger.flush();
      assert.equal(
        Deno.readTextFileSync(path),
        "2026-11-26T13:45:00Z startup NoBrake\n2026-11-26T13:45:00Z client 192.0.2.1 AB no_event\n",
      );
    } finally {
      logger.close();
    }
  });
});

Deno.test("createLogger() appends to an existing file", async () => {
  await withLogPath((path) => {
    Deno.writeTextFileSync(path, "old line\n");
    const logger = createLogger({ path, now });
    logger.log("startup", "again");
    logger.close();
    assert.equal(Deno.readTextFileSync(path), "old line\n2026-11-26T13:45:00Z startup again\n");
  });
});

Deno.test("createLogger() flushes by itself once the buffer passes 64 KiB", async () => {
  await withLogPath((path) => {
    const logger = createLogger({ path, now, flushIntervalMs: 60_000 });
    try {
      const details = "x".repeat(1000);
      let logged = 0;
      while (Deno.statSync(path).size === 0) {
        logger.log("client", details);
        logged++;
        assert.ok(logged < 100, "flushed by 100 kB");
      }
      const lineLength = formatLogLine(T0, "client", details).length + 1;
      assert.equal(logged, Math.ceil(64 * 1024 / lineLength));
      // Whole lines only.
      assert.equal(
        Deno.readTextFileSync(path),
        `${formatLogLine(T0, "client", details)}\n`.repeat(logged),
      );
    } finally {
      logger.close();
    }
  });
});

Deno.test("createLogger() flushes on its timer", async () => {
  await withLogPath(async (path) => {
    const logger = createLogger({ path, now, flushIntervalMs: 10 });
    try {
      logger.log("torrent", "0123 added");
      assert.equal(Deno.readTextFileSync(path), "");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(Deno.readTextFileSync(path), "2026-11-26T13:45:00Z torrent 0123 added\n");
    } finally {
      logger.close();
    }
  });
});

Deno.test("createLogger() drops debug lines unless debug is on", async () => {
  await withLogPath((path) => {
    const quiet = createLogger({ path, now });
    assert.equal(quiet.debugEnabled, false);
    quiet.log("debug", "hidden");
    quiet.log("error", "shown");
    quiet.close();
    const verbose = createLogger({ path, now, debug: true });
    assert.equal(verbose.debugEnabled, true);
    verbose.log("debug", "shown too");
    verbose.close();
    assert.equal(
      Deno.readTextFileSync(path),
      "2026-11-26T13:45:00Z error shown\n2026-11-26T13:45:00Z debug shown too\n",
    );
  });
});

Deno.test("createLogger() level: info drops debug, debug keeps it, error keeps only errors", async () => {
  await withLogPath((path) => {
    for (const level of ["info", "debug", "error"] as const) {
      const logger = createLogger({ path, now, level });
      assert.equal(logger.debugEnabled, level === "debug");
      logger.log("startup", `${level}: startup`);
      logger.log("client", `${level}: client`);
      logger.log("debug", `${level}: debug`);
      logger.log("error", `${level}: error`);
      logger.close();
    }
    const details = Deno.readTextFileSync(path).trimEnd().split("\n").map((line) =>
      line.split(" ").slice(2).join(" ")
    );
    assert.deepEqual(details, [
      "info: startup",
      "info: client",
      "info: error",
      "debug: startup",
      "debug: client",
      "debug: debug",
      "debug: error",
      "error: error",
    ]);
  });
});

Deno.test("keepsMode() is the level rule createMemoryLogger() applies too", () => {
  assert.equal(keepsMode("info", "debug"), false);
  assert.equal(keepsMode("debug", "debug"), true);
  assert.equal(keepsMode("error", "startup"), false);
  assert.equal(keepsMode("error", "error"), true);
  const logger = createMemoryLogger({ now, level: "error" });
  logger.log("startup", "hidden");
  logger.log("error", "shown");
  assert.deepEqual(logger.lines, ["2026-11-26T13:45:00Z error shown"]);
});

Deno.test("createLogger() close() flushes, and later lines are dropped", async () => {
  await withLogPath((path) => {
    const logger = createLogger({ path, now, flushIntervalMs: 60_000 });
    logger.log("startup", "once");
    logger.close();
    logger.log("startup", "after close");
    logger.flush();
    logger.close();
    assert.equal(Deno.readTextFileSync(path), "2026-11-26T13:45:00Z startup once\n");
  });
});

Deno.test("createLogger() throws an error naming a log file it cannot open", async () => {
  await withLogPath((path) => {
    const bad = join(path, "no", "such", "dir.log");
    assert.throws(() => createLogger({ path: bad }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.startsWith(`cannot open log file "${bad}": `), error.message);
      return true;
    });
  });
});

Deno.test("createLogger() writes to stderr, and flushes when the process ends", async () => {
  // A subprocess, so the test runner's own stderr is left alone. It neither flushes nor closes:
  // the unref'd timer must not keep it alive, and the "unload" flush must not lose the lines.
  const logger = new URL("../src/runtime/logger.ts", import.meta.url).href;
  const code = `
    import { createLogger } from ${JSON.stringify(logger)};
    const log = createLogger({ path: null, now: () => ${T0}, flushIntervalMs: 60000 });
    log.log("startup", "to stderr");
    log.log("client", "192.0.2.1 AB started");
  `;
  const started = Date.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(Date.now() - started < 30_000, "the timer did not keep the process alive");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(new TextDecoder().decode(output.stdout), "");
  assert.equal(
    new TextDecoder().decode(output.stderr),
    "2026-11-26T13:45:00Z startup to stderr\n2026-11-26T13:45:00Z client 192.0.2.1 AB started\n",
  );
});

Deno.test("createMemoryLogger() keeps formatted lines, debug included by default", () => {
  const logger = createMemoryLogger({ now });
  assert.equal(logger.debugEnabled, true);
  logger.log("scrape", "192.0.2.1");
  logger.log("debug", "client error: bad info_hash");
  logger.flush();
  logger.close();
  assert.deepEqual(logger.lines, [
    "2026-11-26T13:45:00Z scrape 192.0.2.1",
    "2026-11-26T13:45:00Z debug client error: bad info_hash",
  ]);
  const quiet = createMemoryLogger({ now, debug: false });
  quiet.log("debug", "hidden");
  assert.deepEqual(quiet.lines, []);
});

Deno.test({
  name: "createLogger() survives a failing write and reports it once on stderr",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // /dev/full fails every write with ENOSPC: a full disk must not break announces.
    const logger = new URL("../src/runtime/logger.ts", import.meta.url).href;
    const code = `
      import { createLogger } from ${JSON.stringify(logger)};
      const log = createLogger({ path: "/dev/full", now: () => ${T0} });
      log.log("startup", "lost");
      log.flush();
      log.log("startup", "lost again");
      log.flush();
      log.close();
      console.log("still running");
    `;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(output.stdout), "still running\n");
    const stderr = new TextDecoder().decode(output.stderr);
    assert.match(stderr, /^2026-11-26T13:45:00Z error log file "\/dev\/full": .+\n$/);
  },
});
