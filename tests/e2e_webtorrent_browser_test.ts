/**
 * WebTorrent in real browsers through NoBrake's WebSocket tracker (issue 16): two headless
 * Chromium pages load the npm `webtorrent` browser bundle; one seeds a file of seeded random
 * bytes, the other is given the magnet URI and downloads it over WebRTC on loopback, finding the
 * seeder only through the tracker's relay of offers and answers. The SHA-256 of what the leecher
 * received must equal the file's. NoBrake runs in this process (`websocket: true`, port 0):
 * - in open mode, where HTTP scrape and `/stats.json` must show both pages in the swarm during
 *   the transfer, and scrape neither of them after the browsers close;
 * - with an allowlist holding the torrent, whose info hash (of a `.torrent` written here) must be
 *   the one the browser made;
 * - over wss:// (the HTTPS listener, a self-signed certificate the browsers trust by its key) on a
 *   passkey path;
 * - with an allowlist without it, where the seeder page must be told why it is refused.
 *
 * The harness (`shareBetweenBrowsers`) takes any WebSocket tracker URL: it was first made to pass
 * against the npm `bittorrent-tracker` server, so a failure here points at the tracker rather than
 * at the browsers. `NOBRAKE_WEBTORRENT_DEBUG=*` turns on the bundle's debug log in the pages
 * (shown in the browsers' output on a failure). Skipped, with the reason in the test names, where
 * `/usr/bin/chromium` is missing or `NOBRAKE_SKIP_BROWSER=1` (as for the other browser test).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { seededRandom } from "./support/seeded_random.ts";
import { startTestServer, type TestServer } from "./support/test_server.ts";
import { makeCertificate } from "./support/tls_fixture.ts";
import { writeContentTorrent } from "./support/torrent_fixture.ts";
import {
  CHROMIUM,
  chromiumInstalled,
  openInChromium,
  startPageServer,
  trustKeyFlag,
  WEBTORRENT_VERSION,
} from "./support/webtorrent_pages.ts";

/** The shared file: 300 KiB in nineteen 16 KiB pieces, named as the peer page names it. */
const FILE_BYTES = 300 * 1024;
const FILE_NAME = "random.bin";
const PIECE_LENGTH = 16 * 1024;
const FILE = randomFile(16, FILE_BYTES);
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

/** The seeder page's query: the tracker, the piece length, and the debug log if asked for. */
function seedQuery(trackerUrl: string): Record<string, string> {
  return { role: "seed", tracker: trackerUrl, piece_length: String(PIECE_LENGTH), ...debugQuery() };
}

/** Namespaces of the bundle's debug log to turn on in the pages, from the environment. */
function debugQuery(): Record<string, string> {
  const namespaces = Deno.env.get("NOBRAKE_WEBTORRENT_DEBUG");
  return namespaces ? { debug: namespaces } : {};
}

/** Options of `shareBetweenBrowsers`. */
interface SharingOptions {
  /** The info hash the seeder's torrent must have, when the test knows it. */
  infoHash?: Uint8Array;
  /** Chromium flags beyond the usual ones. @default [] */
  browserFlags?: readonly string[];
  /** Runs after the download, while both pages are still open. */
  whileConnected?: (infoHash: Uint8Array) => Promise<void>;
}

/**
 * Seeds `FILE` in one Chromium and downloads it in another through the WebSocket tracker at
 * `trackerUrl`, and checks what the leecher received byte for byte (by SHA-256 and length).
 * Returns the torrent's info hash.
 */
async function shareBetweenBrowsers(
  trackerUrl: string,
  options: SharingOptions = {},
): Promise<Uint8Array> {
  const expected = createHash("sha256").update(FILE).digest("hex");
  await using pages = await startPageServer(FILE);
  const browser = { timeoutMs: BROWSER_TIMEOUT_MS, extraFlags: options.browserFlags ?? [] };
  await using seeder = await openInChromium(
    "seeder",
    pages.pageUrl(seedQuery(trackerUrl)),
    browser,
  );
  const seeding = await pages.waitFor("seed", "seeding", STEP_TIMEOUT_MS)
    .catch((error) => explain(error, [seeder]));
  const infoHash = Uint8Array.fromHex(String(seeding.infoHash));
  if (options.infoHash !== undefined) assert.deepEqual(infoHash, options.infoHash);
  const magnet = String(seeding.magnet);
  assert.ok(magnet.includes(`&tr=${encodeURIComponent(trackerUrl)}`), magnet);
  await using leecher = await openInChromium(
    "leecher",
    pages.pageUrl({ role: "leech", magnet, ...debugQuery() }),
    browser,
  );
  const done = await pages.waitFor("leech", "done", STEP_TIMEOUT_MS)
    .catch((error) => explain(error, [seeder, leecher]));
  assert.equal(done.length, FILE_BYTES, pages.describe());
  assert.equal(done.sha256, expected, pages.describe());
  await options.whileConnected?.(infoHash);
  return infoHash;
}

/** Rethrows `error` with the browsers' last output appended. */
function explain(error: unknown, browsers: { tail(): string }[]): never {
  const message = error instanceof Error ? error.message : String(error);
  throw new Error([message, ...browsers.map((browser) => browser.tail())].join("\n"));
}

/** NoBrake's WebSocket announce URL. */
function wsAnnounceUrl(tracker: TestServer): string {
  return `${tracker.baseUrl.replace(/^http:/, "ws:")}/announce`;
}

/** Peers of one torrent by HTTP scrape (WebSocket peers count there too). */
async function swarmSize(http: HttpTrackerClient, infoHash: Uint8Array): Promise<number> {
  const [counts] = await http.scrape([infoHash]);
  return counts.complete + counts.incomplete;
}

/** Re-checks `ready` every 50 ms until it holds; fails after 10 s. */
async function untilTrue(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A temporary directory, removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "nobrake-webtorrent-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Why the tests are ignored, for their names; empty when they run. */
const noChromium = !chromiumInstalled()
  ? ` (ignored: ${CHROMIUM} is not installed)`
  : Deno.env.get("NOBRAKE_SKIP_BROWSER") === "1"
  ? " (ignored: NOBRAKE_SKIP_BROWSER=1)"
  : "";
const withBrowsers = `webtorrent ${WEBTORRENT_VERSION} in two Chromium pages`;

Deno.test({
  name: `${withBrowsers} shares a file over WebRTC through NoBrake's ws:// tracker in open mode` +
    noChromium,
  ignore: noChromium !== "",
  async fn() {
    const tracker = await startTestServer({ config: { allowed: "*", websocket: true } });
    const http = new HttpTrackerClient(tracker.baseUrl);
    try {
      const infoHash = await shareBetweenBrowsers(wsAnnounceUrl(tracker), {
        async whileConnected(infoHash) {
          // Both pages announced before any byte moved: the leecher met the seeder through an
          // offer the tracker relayed.
          assert.equal(await swarmSize(http, infoHash), 2);
          const stats = await (await fetch(`${tracker.baseUrl}/stats.json`)).json();
          assert.equal(stats.totals.peers_websocket, 2, JSON.stringify(stats.totals));
        },
      });
      // The browsers are gone: their closed sockets take their peers out of the swarm.
      await untilTrue(
        async () => await swarmSize(http, infoHash) === 0,
        "the swarm to empty after both browsers stopped",
      );
    } finally {
      await tracker.close();
    }
  },
});

Deno.test({
  name: `${withBrowsers} shares a file through NoBrake's ws:// tracker whose allowlist holds it` +
    noChromium,
  ignore: noChromium !== "",
  async fn() {
    await using allowed = await tempDir();
    const infoHash = await writeContentTorrent(allowed.path, "random.torrent", {
      name: FILE_NAME,
      content: FILE,
      pieceLength: PIECE_LENGTH,
    });
    const tracker = await startTestServer({ config: { allowed: allowed.path, websocket: true } });
    try {
      await shareBetweenBrowsers(wsAnnounceUrl(tracker), { infoHash });
    } finally {
      await tracker.close();
    }
  },
});

Deno.test({
  name: `${withBrowsers} shares a file through NoBrake's wss:// tracker (HTTPS listener) on a` +
    ` passkey path${noChromium}`,
  ignore: noChromium !== "",
  async fn() {
    await using dir = await tempDir();
    const certificate = await makeCertificate(dir.path, "wss", 0x1616);
    await Deno.writeTextFile(`${dir.path}/passkeys.txt`, "browser-key\n");
    const tracker = await startTestServer({
      config: {
        allowed: "*",
        websocket: true,
        udp: false,
        tls_cert: certificate.certPath,
        tls_key: certificate.keyPath,
        passkeys: `${dir.path}/passkeys.txt`,
      },
    });
    try {
      const port = tracker.server.httpAddress.port;
      await shareBetweenBrowsers(`wss://127.0.0.1:${port}/browser-key/announce`, {
        // The certificate is self-signed: the browsers trust its key and no other.
        browserFlags: [trustKeyFlag(certificate.key)],
      });
    } finally {
      await tracker.close();
    }
  },
});

Deno.test({
  name: `webtorrent ${WEBTORRENT_VERSION} in Chromium is told why NoBrake's ws:// tracker refuses` +
    ` a torrent its allowlist does not hold${noChromium}`,
  ignore: noChromium !== "",
  async fn() {
    await using allowed = await tempDir();
    await writeContentTorrent(allowed.path, "other.torrent", {
      name: "other.bin",
      content: FILE.subarray(0, 1000),
      pieceLength: PIECE_LENGTH,
    });
    const tracker = await startTestServer({ config: { allowed: allowed.path, websocket: true } });
    try {
      await using pages = await startPageServer(FILE);
      await using seeder = await openInChromium(
        "seeder",
        pages.pageUrl(seedQuery(wsAnnounceUrl(tracker))),
        { timeoutMs: BROWSER_TIMEOUT_MS },
      );
      const refusal = await pages.waitFor(
        "seed",
        "warning",
        STEP_TIMEOUT_MS,
        (report) => String(report.message).includes("not allowed"),
      ).catch((error) => explain(error, [seeder]));
      assert.equal(refusal.message, "torrent is not allowed on this tracker");
      const seeding = await pages.waitFor("seed", "seeding", STEP_TIMEOUT_MS);
      const http = new HttpTrackerClient(tracker.baseUrl);
      assert.equal(await swarmSize(http, Uint8Array.fromHex(String(seeding.infoHash))), 0);
    } finally {
      await tracker.close();
    }
  },
});
