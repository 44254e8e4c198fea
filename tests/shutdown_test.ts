/**
 * Graceful shutdown of a real `main.ts` process: SIGINT and SIGTERM stop accepting, save the state,
 * flush the log and exit 0; the wait for connections is bounded by `shutdown_timeout`; a second
 * signal exits at once with 1. A connection that never finishes its TLS handshake keeps the
 * graceful stop waiting, which is what these tests use to hold it open.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCertificate } from "./support/tls_fixture.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-shutdown-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeConfig(dir: string, extra: Record<string, unknown>): Promise<string> {
  const path = join(dir, "tracker.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      port: 0,
      ip: "127.0.0.1",
      allowed: "*",
      interval: 60,
      expiry: 120,
      udp: false,
      ...extra,
    }),
  );
  return path;
}

/** A config serving HTTPS, so that a bare TCP connection can hold the graceful stop open. */
async function tlsConfig(dir: string, extra: Record<string, unknown>): Promise<string> {
  const certificate = await makeCertificate(dir, "tls", 0x42);
  return await writeConfig(dir, {
    tls_cert: certificate.certPath,
    tls_key: certificate.keyPath,
    ...extra,
  });
}

/** Polls `path` until it matches `pattern`; throws after `timeoutMs`. */
async function waitForFile(path: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${path} never matched ${pattern}:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`shutdown: ${signal} saves the state, flushes the log file and exits 0`, async () => {
    await withTempDir(async (dir) => {
      const log = join(dir, "tracker.log");
      const tracker = new TrackerProcess([await writeConfig(dir, { logfile: "./tracker.log" })]);
      try {
        await waitForFile(log, /listening on http:/);
        tracker.signal(signal);
        assert.equal(await tracker.exitCode(), 0);
        const text = await Deno.readTextFile(log);
        assert.match(text, new RegExp(`startup received ${signal}, shutting down\n`));
        assert.match(text, /startup state saved to .*nobrake-state\.sqlite: 0 swarms, 0 peers\n/);
        assert.ok(text.endsWith(" startup stopped\n"), "the last line is flushed");
      } finally {
        await tracker.close();
      }
    });
  });
}

Deno.test("shutdown: stops accepting at once and waits at most shutdown_timeout", async () => {
  await withTempDir(async (dir) => {
    const tracker = new TrackerProcess([await tlsConfig(dir, { shutdown_timeout: 2 })]);
    let stuck: Deno.Conn | null = null;
    try {
      const port = await tracker.port();
      stuck = await Deno.connect({ hostname: "127.0.0.1", port });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      tracker.signal("SIGTERM");
      await tracker.waitForLine(/received SIGTERM, shutting down/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await assert.rejects(
        () => Deno.connect({ hostname: "127.0.0.1", port }),
        Deno.errors.ConnectionRefused,
      );
      assert.equal(await tracker.exitCode(), 0);
      const took = Date.now() - started;
      assert.ok(took >= 1500 && took < 8000, `took ${took} ms`);
      await tracker.waitForLine(/error requests still in flight after shutdown_timeout \(2 s\)/);
      await tracker.waitForLine(/startup state saved to /);
    } finally {
      stuck?.close();
      await tracker.close();
    }
  });
});

Deno.test("shutdown: a second signal exits at once with 1", async () => {
  await withTempDir(async (dir) => {
    const tracker = new TrackerProcess([await tlsConfig(dir, { shutdown_timeout: 60 })]);
    let stuck: Deno.Conn | null = null;
    try {
      const port = await tracker.port();
      stuck = await Deno.connect({ hostname: "127.0.0.1", port });
      await new Promise((resolve) => setTimeout(resolve, 200));
      tracker.signal("SIGTERM");
      await tracker.waitForLine(/received SIGTERM, shutting down/);
      const started = Date.now();
      tracker.signal("SIGINT");
      assert.equal(await tracker.exitCode(), 1);
      assert.ok(Date.now() - started < 5000);
      await tracker.waitForLine(/startup received SIGINT again, exiting at once/);
      assert.ok(!tracker.lines.some((line) => /state saved/.test(line)));
    } finally {
      stuck?.close();
      await tracker.close();
    }
  });
});
