/**
 * Reverse proxies and passkeys against a real listening tracker (tests/support/test_server.ts):
 * `X-Forwarded-For` from a trusted proxy sets the address other peers get, a forged one from
 * anyone else does not; passkeys are required, and a reload swaps the list.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";

const INFO_HASH = new Uint8Array(20).fill(0x42);
const peerId = (n: number) => new TextEncoder().encode(`-NB0001-${String(n).padStart(12, "0")}`);

async function announcedAs(
  trustedProxies: string[],
  headers: Record<string, string>,
): Promise<string[]> {
  const test = await startTestServer({ config: { trusted_proxies: trustedProxies } });
  try {
    const query = HttpTrackerClient.announceQuery({
      infoHash: INFO_HASH,
      peerId: peerId(1),
      port: 6881,
      left: 1,
    });
    const response = await fetch(`${test.baseUrl}/announce?${query}`, { headers });
    await response.body?.cancel();
    const client = new HttpTrackerClient(test.baseUrl);
    const reply = await client.announce({
      infoHash: INFO_HASH,
      peerId: peerId(2),
      port: 1,
      left: 1,
    });
    assert.ok(reply.ok);
    return reply.peers.map((peer) => `${peer.ip}:${peer.port}`);
  } finally {
    await test.close();
  }
}

Deno.test("proxy: a trusted proxy's X-Forwarded-For names the peer other peers are given", async () => {
  assert.deepEqual(
    await announcedAs(["127.0.0.1"], { "x-forwarded-for": "203.0.113.1, 198.51.100.7" }),
    ["198.51.100.7:6881"],
  );
  assert.deepEqual(await announcedAs(["127.0.0.0/8"], { "x-real-ip": "198.51.100.8" }), [
    "198.51.100.8:6881",
  ]);
});

Deno.test("proxy: a forged X-Forwarded-For from an untrusted address changes nothing", async () => {
  const forged = { "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.8" };
  assert.deepEqual(await announcedAs(["10.0.0.0/8"], forged), ["127.0.0.1:6881"]);
  assert.deepEqual(await announcedAs([], forged), ["127.0.0.1:6881"]);
});

Deno.test("passkeys: required on announce and scrape, and swapped by a reload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-passkeys-e2e-" });
  const file = join(dir, "passkeys.txt");
  await Deno.writeTextFile(file, "# members\nalice\n");
  const test = await startTestServer({ config: { passkeys: file, udp: false } });
  try {
    const client = new HttpTrackerClient(test.baseUrl);
    const request = { infoHash: INFO_HASH, peerId: peerId(1), port: 1, left: 1 };
    const query = HttpTrackerClient.announceQuery(request);
    const failureOf = async (path: string) => {
      const { body } = await client.get(path);
      const text = new TextDecoder("latin1").decode(body);
      return text.match(/14:failure reason\d+:(.*?)e?$/)?.[1] ?? null;
    };
    assert.equal(await failureOf(`/announce/alice?${query}`), null);
    assert.equal(await failureOf(`/announce?${query}&passkey=alice`), null);
    assert.match((await failureOf(`/announce?${query}`))!, /needs a passkey/);
    assert.match((await failureOf(`/announce/bob?${query}`))!, /unknown passkey/);
    assert.equal(await failureOf(`/scrape/alice`), null);
    assert.match((await failureOf(`/scrape`))!, /needs a passkey/);
    assert.ok(test.logger.lines.some((line) => /startup 1 passkeys loaded from /.test(line)));

    await Deno.writeTextFile(file, "bob\n");
    await test.server.reload();
    assert.match((await failureOf(`/announce/alice?${query}`))!, /unknown passkey/);
    assert.equal(await failureOf(`/announce/bob?${query}`), null);

    // A list that cannot be read on reload is logged and the old one stays.
    await Deno.remove(file);
    await test.server.reload();
    assert.ok(
      test.logger.lines.some((line) => /passkey reload failed, keeping the old list/.test(line)),
    );
    assert.equal(await failureOf(`/announce/bob?${query}`), null);
  } finally {
    await test.close();
    await Deno.remove(dir, { recursive: true });
  }
});
