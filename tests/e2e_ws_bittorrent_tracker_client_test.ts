/**
 * End to end with a real WebTorrent tracker client: two npm `bittorrent-tracker` clients announce
 * one torrent to NoBrake over ws://, and each sees the other: the second's offer reaches the
 * first, whose answer reaches the second (the client emits `peer` for each). Then scrape.
 *
 * The client's WebRTC is `fake_webrtc.ts` (Deno has none, and the Node WebRTC packages fetch a
 * native binary from outside the npm registry): the tracker relays descriptions and never looks
 * inside them. The client is the 10.0 line of `bittorrent-tracker` (pinned as
 * `bittorrent-tracker-client`): its WebSocket tracker speaks the same messages as 11.x, whose
 * client imports a native WebRTC module at load.
 *
 * @module
 */
import assert from "node:assert/strict";
import Client from "bittorrent-tracker-client";
import { startTestServer } from "./support/test_server.ts";
import { FAKE_WEBRTC } from "./support/fake_webrtc.ts";
import { bounded } from "./support/ws_client.ts";

const INFO_HASH = "aa".repeat(20);
const PEER_A = "2d4e423030312d" + "a1".repeat(13);
const PEER_B = "2d4e423030312d" + "b2".repeat(13);

/** The client's events this test reads. */
interface TrackerClient {
  on(event: string, listener: (value: never) => void): void;
  once(event: string, listener: (value: never) => void): void;
  start(): void;
  scrape(): void;
  destroy(callback?: () => void): void;
}

/** Errors the clients emitted; the test ends by asserting there were none. */
const clientErrors: string[] = [];

function newClient(announce: string, peerId: string): TrackerClient {
  const ClientClass = Client as unknown as new (options: Record<string, unknown>) => TrackerClient;
  const client = new ClientClass({
    infoHash: INFO_HASH,
    peerId,
    announce: [announce],
    port: 6881,
    wrtc: FAKE_WEBRTC,
  });
  client.on("error", (error: Error) => clientErrors.push(error.message));
  return client;
}

function nextEvent<T>(client: TrackerClient, event: string): Promise<T> {
  const { promise, resolve } = Promise.withResolvers<T>();
  client.once(event, (value: never) => resolve(value as T));
  return bounded(promise, 10_000, `waiting for the client's ${event} event`);
}

Deno.test({
  name:
    "npm bittorrent-tracker clients exchange an offer and its answer through NoBrake over ws://",
  // The npm client keeps timers of its own (reconnects, offer timeouts) past destroy().
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const url = server.baseUrl.replace("http://", "ws://") + "/announce";
    // The client shares one socket per announce URL in a process; two browsers have two sockets,
    // so B's URL differs (by a query the tracker ignores).
    const a = newClient(url, PEER_A);
    const b = newClient(`${url}?browser=b`, PEER_B);
    try {
      const firstUpdate = nextEvent<{ incomplete: number }>(a, "update");
      a.start();
      assert.equal((await firstUpdate).incomplete, 1);

      // B announces with offers; the one other peer, A, is sent one and answers it.
      const aMeetsB = nextEvent<{ id: string }>(a, "peer");
      const bMeetsA = nextEvent<{ id: string }>(b, "peer");
      const secondUpdate = nextEvent<{ incomplete: number }>(b, "update");
      b.start();
      assert.equal((await secondUpdate).incomplete, 2);
      assert.equal((await aMeetsB).id, PEER_B);
      assert.equal((await bMeetsA).id, PEER_A);

      const scraped = nextEvent<{ infoHash: string; complete: number; incomplete: number }>(
        b,
        "scrape",
      );
      b.scrape();
      const scrape = await scraped;
      assert.equal(scrape.infoHash, INFO_HASH);
      assert.deepEqual([scrape.complete, scrape.incomplete], [0, 2]);
      assert.deepEqual(clientErrors, []);
    } finally {
      await Promise.all(
        [a, b].map((client) =>
          bounded(new Promise<void>((resolve) => client.destroy(resolve)), 5_000, "destroy")
            .catch(() => {})
        ),
      );
      await server.close();
    }
  },
});
