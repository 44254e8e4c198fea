/**
 * WebTorrent in real browsers through a WebSocket tracker (issue 16): two headless Chromium
 * pages load the npm `webtorrent` browser bundle; one seeds a file of seeded random bytes, the
 * other is given the magnet URI and downloads it over WebRTC on loopback, finding the seeder only
 * through the tracker's relay of offers and answers. The SHA-256 of what the leecher received
 * must equal the file's.
 *
 * `NOBRAKE_WEBTORRENT_DEBUG=*` turns on the bundle's debug log in both pages (shown in the
 * browsers' output on a failure). Skipped, with the reason in its name, only where
 * `/usr/bin/chromium` is missing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import Server from "bittorrent-tracker/server";
import { seededRandom } from "./support/seeded_random.ts";
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

/**
 * Seeds a file in one Chromium and downloads it in another through the WebSocket tracker at
 * `trackerUrl`, and checks what the leecher received byte for byte (by SHA-256 and length).
 */
async function shareBetweenBrowsers(trackerUrl: string): Promise<void> {
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
}

/** Rethrows `error` with the browsers' last output appended. */
function explain(error: unknown, browsers: { tail(): string }[]): never {
  const message = error instanceof Error ? error.message : String(error);
  throw new Error([message, ...browsers.map((browser) => browser.tail())].join("\n"));
}

const noChromium = chromiumInstalled() ? "" : ` (ignored: ${CHROMIUM} is not installed)`;

Deno.test({
  name: `webtorrent ${WEBTORRENT_VERSION} in two Chromium pages shares a file over WebRTC through` +
    ` the npm bittorrent-tracker server (stand-in)${noChromium}`,
  ignore: noChromium !== "",
  async fn() {
    const server = new Server({ udp: false, http: false, ws: true, stats: false });
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.once("listening", () => resolve(server.ws.address().port));
      server.listen(0, "127.0.0.1");
    });
    try {
      await shareBetweenBrowsers(`ws://127.0.0.1:${port}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
});
