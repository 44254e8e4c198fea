import assert from "node:assert/strict";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";

Deno.test("reloading the allowlist while announcing fails no announce and loses no peer", async () => {
  const test = await startTestServer({ allowedTorrents: 200 });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const workers = 8;
    const perWorker = 150;
    let reloads = 0;
    let maxLatencyMs = 0;
    let announcing = true;
    const reloader = (async () => {
      while (announcing) {
        await test.server.reload();
        reloads++;
      }
    })();
    const failures: string[] = [];
    await Promise.all(Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; i < perWorker; i++) {
        const infoHash = test.allowed[(worker * perWorker + i) % test.allowed.length];
        const peerId = new TextEncoder().encode(
          `-RL0001-${String(worker * perWorker + i).padStart(12, "0")}`,
        );
        const started = performance.now();
        const reply = await client.announce({ infoHash, peerId, port: 6000 + worker, left: 1 });
        maxLatencyMs = Math.max(maxLatencyMs, performance.now() - started);
        if (!reply.ok) failures.push(reply.failure);
      }
    }));
    announcing = false;
    await reloader;
    assert.deepEqual(failures, []);
    assert.ok(reloads >= 2, `expected reloads during the run, got ${reloads}`);
    const counts = await client.scrape(test.allowed);
    assert.equal(counts.reduce((sum, entry) => sum + entry.incomplete, 0), workers * perWorker);
    // Reported, not asserted: tests never assert on timing.
    // deno-lint-ignore no-console
    console.log(
      `${workers * perWorker} announces, ${reloads} reloads, slowest announce ${
        maxLatencyMs.toFixed(1)
      } ms`,
    );
  } finally {
    await test.close();
  }
});
