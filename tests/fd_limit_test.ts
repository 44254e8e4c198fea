/**
 * Running out of file descriptors (issue 9: slow or idle connections must not take the tracker
 * down). Each open connection holds a descriptor, so a client that opens enough of them reaches
 * the process's limit (`LimitNOFILE=` under systemd). In Deno 2.9.6 `Deno.serve` then ends its
 * accept loop with "Too many open files" and, before the fix, that unhandled rejection ended the
 * whole tracker. The tracker here runs under a low `ulimit -n`; a client holds connections until
 * it is refused, lets them go, and the tracker must still be running, serve again, and still
 * hold the swarm it had. (Plain HTTP only: HTTPS, served by `node:https`, does not recover; see
 * the README, "Slow and idle connections".)
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

/** Low enough to reach quickly, high enough for Deno's own descriptors and the UDP socket. */
const FILE_LIMIT = 96;
/** More than the limit: the tracker must run out before the client stops. */
const MAX_HELD = 400;

Deno.test("bug: running out of file descriptors no longer ends the tracker; it serves again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-fd-" });
  const config = join(dir, "tracker.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      ip: "127.0.0.1",
      port: 0,
      allowed: "*",
      interval: 60,
      expiry: 120,
      state_file: null,
    }),
  );
  const tracker = new TrackerProcess([config], { fileLimit: FILE_LIMIT });
  const held: Deno.Conn[] = [];
  try {
    const port = await tracker.port();
    const client = new HttpTrackerClient(`http://127.0.0.1:${port}`);
    const infoHash = new Uint8Array(20).fill(7);
    const announce = (id: number) =>
      client.announce({ infoHash, peerId: new Uint8Array(20).fill(id), port: 6881, left: 1 });
    assert.ok((await announce(1)).ok, "served before");

    // Hold connections until the tracker refuses one (its listener is gone) or MAX_HELD.
    let refused = false;
    while (!refused && held.length < MAX_HELD) {
      try {
        held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        refused = true;
      }
      // Give the accept loop time to take each one, so descriptors run out on its side.
      if (held.length % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await tracker.waitForLine(/error HTTP listener stopped accepting connections: .*open files/);

    for (const conn of held.splice(0)) conn.close();
    await tracker.waitForLine(/error HTTP listener listening again on port \d+/, 15_000);
    assert.ok((await announce(2)).ok, "served after the connections closed");
    const reply = await announce(3);
    assert.ok(reply.ok);
    assert.equal(reply.incomplete, 3, "the swarm from before is still there");
  } finally {
    for (const conn of held) conn.close();
    await tracker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
