/**
 * /stats in a real browser: starts a tracker with live swarms, loads the page in Debian's
 * `chromium` (headless, no downloaded browser), checks the DOM a person would see, and saves a
 * phone-width screenshot (390×844) and a desktop one under `tests/artifacts/` (ignored by git),
 * printing their paths.
 *
 * Without `/usr/bin/chromium` the test fails, unless `NOBRAKE_SKIP_BROWSER=1` says to skip it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpTrackerClient } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";
import { writeTorrentFile } from "./support/torrent_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const HOSTILE_AGENT = `"><img src=x onerror=alert(1)>`;

function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const skip = Deno.env.get("NOBRAKE_SKIP_BROWSER") === "1";

/** Runs headless chromium with `args` on `url`; returns its stdout. */
async function chromium(url: string, args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "nobrake-chromium-" });
  try {
    const output = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        ...args,
        url,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, `chromium exited with ${output.code}: ${stderr.slice(-2000)}`);
    return new TextDecoder().decode(output.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

Deno.test({
  name: "/stats in headless chromium shows torrents, peers and charts, and fits a phone",
  ignore: skip,
  async fn() {
    assert.ok(
      chromiumInstalled(),
      `${CHROMIUM} is not installed (apt-get install chromium), or set NOBRAKE_SKIP_BROWSER=1`,
    );
    const dir = await Deno.makeTempDir({ prefix: "nobrake-browser-" });
    const hashes = [
      await writeTorrentFile(dir, "debian.torrent", "debian-12.5.0-amd64-netinst.iso"),
      await writeTorrentFile(dir, "script.torrent", "<script>alert(1)</script>"),
    ];
    const server = await startTestServer({ config: { allowed: dir } });
    try {
      const client = new HttpTrackerClient(server.baseUrl);
      const tracker = server.server.tracker;
      const history = server.server.history;
      const start = Date.now() - 50 * 60_000;
      // A swarm that grows over the last hour, sampled as the minute timer would have.
      for (let i = 0; i < 8; i++) {
        const peerId = new TextEncoder().encode(`-QB4600-${String(i).padStart(12, "0")}`);
        const agent = i === 3
          ? HOSTILE_AGENT
          : i % 2 === 0
          ? "qBittorrent/4.6.0"
          : "Transmission/4.0.5";
        await client.get(
          `/announce?${
            HttpTrackerClient.announceQuery({
              infoHash: hashes[0],
              peerId,
              port: 7000 + i,
              left: i % 3 === 0 ? 0 : 1000 - i * 100,
            })
          }`,
          { headers: { "user-agent": agent } },
        );
        history.sample(tracker, start + i * 6 * 60_000);
      }
      await client.announce({
        infoHash: hashes[1],
        peerId: new TextEncoder().encode("-TR4050-aaaaaaaaaaaa"),
        port: 7100,
        left: 500,
      });
      await client.scrape([hashes[0]]);

      const url = `${server.baseUrl}/stats`;
      const dom = await chromium(url, ["--dump-dom"]);
      assert.match(dom, /debian-12\.5\.0-amd64-netinst\.iso/);
      // Escaped names and agents reach the DOM as text, never as elements.
      assert.ok(dom.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
      assert.ok(!/<img/i.test(dom), "a user agent became an element");
      assert.ok(dom.includes("&lt;img src=x onerror=alert(1)&gt;"));
      const peerRows = dom.match(/<tr><td>127\.0\.0\.1:7\d\d\d</g) ?? [];
      assert.equal(peerRows.length, 9);
      assert.match(dom, /<svg class="chart"[^>]*role="img"/);
      assert.match(dom, /<polyline class="seeders" points="[^"]+ [^"]+"/);
      assert.match(dom, /<li>Torrents: 2<\/li>/);
      assert.match(dom, /<li>Peers: 9<\/li>/);

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const phone = join(ARTIFACTS.pathname, "stats_phone.png");
      const desktop = join(ARTIFACTS.pathname, "stats_desktop.png");
      await chromium(url, [`--screenshot=${phone}`, "--window-size=390,844"]);
      await chromium(url, [`--screenshot=${desktop}`, "--window-size=1280,1000"]);
      for (const path of [phone, desktop]) {
        const png = await Deno.readFile(path);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${path} is not a PNG`);
        // deno-lint-ignore no-console
        console.log(`screenshot: ${path}`);
      }
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
