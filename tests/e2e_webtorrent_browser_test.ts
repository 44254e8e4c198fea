/**
 * WebTorrent in real browsers through a WebSocket tracker (issue 16): two headless Chromium
 * pages load the npm `webtorrent` browser bundle; one seeds a file of seeded random bytes, the
 * other is given the magnet URI and downloads it over WebRTC on loopback, finding the seeder only
 * through the tracker's relay of offers and answers. The SHA-256 of what the leecher received
 * must equal the file's. The tracker is NoBrake, started in this process in open mode with
 * `websocket: true`; around the download the test checks by HTTP scrape that both pages were in
 * its swarm, and that closing the browsers took them out.
 *
 * The harness (`shareBetweenBrowsers`) takes any WebSocket tracker URL: it was first made to pass
 * against the npm `bittorrent-tracker` server, so a failure here points at the tracker, not at
 * the browsers.
 *
 * `NOBRAKE_WEBTORRENT_DEBUG=*` turns on the bundle's debug log in both pages (shown in the
 * browsers' output on a failure). Skipped, with the reason in its name, only where
 * `/usr/bin/chromium` is missing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { seededRandom } from "./support/seeded_random.ts";
import { startTestServer } from "./support/test_server.ts";
import {
  CHROMIUM,
  chromiumInstalled,
  openInChromium,
  startPageServer,
  WEBTORRENT_VERSION,
} from "./support/webtorrent_pages.ts";

/** The shared file: 300 KiB, nineteen 16 KiB pieces. */
const FILE_BYTES = 300 * 1024;
/** Each step (the seeder's magnet, the leecher's download) must finish within this. */
const STEP_TIMEOUT_MS = 60_000;
/** A browser is killed after this however the test goes. */
const BROWSER_TIMEOUT_MS = 2 * STEP_TIMEOUT_MS + 30_000;

function randomFile(seed: number, length: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** Namespaces of the bundle's debug log to turn on in the pages, from the environment. */
function debugQuery(): Record<string, string> {
  const namespaces = Deno.env.get("NOBRAKE_WEBTORRENT_DEBUG");
  return namespaces ? { debug: namespaces } : {};
}

/** What `shareBetweenBrowsers` may run while both pages are still open. */
type WhileConnected = (infoHash: Uint8Array) => Promise<void>;

/**
 * Seeds a file in one Chromium and downloads it in another through the WebSocket tracker at
 * `trackerUrl`, and checks what the leecher received byte for byte (by SHA-256 and length).
 * `whileConnected` runs after the download, before the browsers are stopped.
 */
async function shareBetweenBrowsers(
  trackerUrl: string,
  whileConnected: WhileConnected = async () => {},
): Promise<void> {
  const file = randomFile(16, FILE_BYTES);
  const expected = createHash("sha256").update(file).digest("hex");
  await using pages = await startPageServer(file);
  await using seeder = await openInChromium(
    "seeder",
    pages.pageUrl({ role: "seed", tracker: trackerUrl, ...debugQuery() }),
    BROWSER_TIMEOUT_MS,
  );
  const seeding = await pages.waitFor("seed", "seeding", STEP_TIMEOUT_MS)
    .catch((error) => explain(error, [seeder]));
  const magnet = String(seeding.magnet);
  assert.ok(magnet.includes(`&tr=${encodeURIComponent(trackerUrl)}`), magnet);
  await using leecher = await openInChromium(
    "leecher",
    pages.pageUrl({ role: "leech", magnet, ...debugQuery() }),
    BROWSER_TIMEOUT_MS,
  );
  const done = await pages.waitFor("leech", "done", STEP_TIMEOUT_MS)
    .catch((error) => explain(error, [seeder, leecher]));
  assert.equal(done.length, FILE_BYTES, pages.describe());
  assert.equal(done.sha256, expected, pages.describe());
  await whileConnected(Uint8Array.fromHex(String(seeding.infoHash)));
}

/** Re-checks `ready` every 50 ms until it holds; fails after 10 s. */
async function untilTrue(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rethrows `error` with the browsers' last output appended. */
function explain(error: unknown, browsers: { tail(): string }[]): never {
  const message = error instanceof Error ? error.message : String(error);
  throw new Error([message, ...browsers.map((browser) => browser.tail())].join("\n"));
}

const noChromium = chromiumInstalled() ? "" : ` (ignored: ${CHROMIUM} is not installed)`;

Deno.test({
  name: `webtorrent ${WEBTORRENT_VERSION} in two Chromium pages shares a file over WebRTC through` +
    ` NoBrake's ws:// tracker${noChromium}`,
  ignore: noChromium !== "",
  async fn() {
    // Open mode: the torrent is made inside the seeder page.
    const tracker = await startTestServer({ config: { allowed: "*", websocket: true } });
    const http = new HttpTrackerClient(tracker.baseUrl);
    let infoHash: Uint8Array = new Uint8Array();
    try {
      await shareBetweenBrowsers(
        `${tracker.baseUrl.replace(/^http:/, "ws:")}/announce`,
        async (hash) => {
          infoHash = hash;
          // Both pages announced before any byte moved (the leecher met the seeder through its
          // offer, relayed by the tracker), and the seeder announced as complete.
          const [counts] = await http.scrape([hash]);
          assert.equal(counts.complete + counts.incomplete, 2, JSON.stringify(counts));
          assert.ok(counts.complete >= 1, JSON.stringify(counts));
        },
      );
      // The browsers are gone: their closed sockets take their peers out of the swarm.
      await untilTrue(async () => {
        const [counts] = await http.scrape([infoHash]);
        return counts.complete + counts.incomplete === 0;
      }, "the swarm to empty after both browsers stopped");
    } finally {
      await tracker.close();
    }
  },
});
