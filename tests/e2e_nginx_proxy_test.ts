/**
 * The README's nginx example ("Running behind a reverse proxy", the fenced block after
 * `<!-- nginx-example -->`): its `location` block, run in a real nginx (Debian package
 * `nginx-light` or `nginx`) in front of a real tracker. With nginx's address in `trusted_proxies`
 * the peer is listed under the client's address, a forged `X-Forwarded-For` changes nothing, and a
 * binary `info_hash` arrives byte for byte; without it, the peer is listed under nginx's address.
 * Where nginx is missing the tests are ignored and a `SKIP e2e_nginx_proxy_test:` line says so.
 *
 * nginx connects to the tracker from 127.0.0.2 (`proxy_bind`), so that the client (127.0.0.1) and
 * the proxy have different addresses on one machine.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeDict, HttpTrackerClient, percentEncodeAll } from "./support/http_tracker_client.ts";
import { startTestServer } from "./support/test_server.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const MARKER = "<!-- nginx-example -->";
const PROXY_ADDRESS = "127.0.0.2";

/** The `location / { ... }` block of the README's nginx example. */
function locationBlock(): string {
  const at = README.indexOf(MARKER);
  assert.ok(at >= 0, `README.md has no ${MARKER} marker`);
  const block = README.slice(at + MARKER.length).match(/^\s*```nginx\n([\s\S]*?)\n```/);
  assert.ok(block !== null, "no ```nginx block right after the marker");
  const location = block[1].match(/^( *)location \/ \{\n[\s\S]*?^\1\}/m);
  assert.ok(location !== null, "no location / block in the nginx example");
  return location[0];
}

async function findNginx(): Promise<string | null> {
  for (const candidate of ["nginx", "/usr/sbin/nginx"]) {
    try {
      const { success } = await new Deno.Command(candidate, {
        args: ["-v"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return candidate;
    } catch { /* not there */ }
  }
  return null;
}

const NGINX = await findNginx();
if (NGINX === null) {
  Deno.stdout.writeSync(
    new TextEncoder().encode(
      "SKIP e2e_nginx_proxy_test: nginx not found (apt-get install nginx-light)\n",
    ),
  );
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs nginx with the README's location block in front of `trackerPort` during `body`. */
async function withNginx(trackerPort: number, body: (base: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-nginx-" });
  // nginx run as root hands requests to workers running as nobody.
  await Deno.chmod(dir, 0o755);
  const port = freePort();
  const location = locationBlock().replace(
    "proxy_pass http://127.0.0.1:6969;",
    `proxy_pass http://127.0.0.1:${trackerPort};`,
  );
  assert.ok(location.includes(`:${trackerPort};`), "proxy_pass was substituted");
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  await Deno.writeTextFile(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")};
events { worker_connections 64; }
http {
  access_log off;
  ${temp("client_body")} ${temp("proxy")} ${temp("fastcgi")} ${temp("uwsgi")} ${temp("scgi")}
  server {
    listen 127.0.0.1:${port};
    proxy_bind ${PROXY_ADDRESS};
${location}
  }
}
`,
  );
  const child = new Deno.Command(NGINX!, {
    args: [
      "-e",
      join(dir, "error.log"),
      "-p",
      dir,
      "-c",
      join(dir, "nginx.conf"),
      "-g",
      "daemon off;",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          const log = await Deno.readTextFile(join(dir, "error.log")).catch(() => "");
          throw new Error(`nginx did not start: ${error}\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await body(`http://127.0.0.1:${port}`);
  } finally {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.status;
    clearTimeout(timer);
    await child.stderr.cancel();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every byte value in one info hash, to see it cross nginx unchanged. */
const INFO_HASH = Uint8Array.from({ length: 20 }, (_, i) => [0, 0x25, 0x2b, 0x26, 0xff][i % 5] ^ i);
const peerId = (n: number) => new TextEncoder().encode(`-NB0001-${String(n).padStart(12, "0")}`);

/** Announces through nginx with a forged header; returns its `external ip` and the listed peers. */
async function throughNginx(trustedProxies: string[]) {
  const tracker = await startTestServer({
    config: { trusted_proxies: trustedProxies, udp: false },
  });
  try {
    let externalIp = "";
    await withNginx(tracker.server.httpAddress.port, async (base) => {
      const query = HttpTrackerClient.announceQuery({
        infoHash: INFO_HASH,
        peerId: peerId(1),
        port: 6881,
        left: 1,
      });
      const response = await fetch(`${base}/announce?${query}`, {
        headers: { "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.8" },
        signal: AbortSignal.timeout(5000),
      });
      const reply = decodeDict(new Uint8Array(await response.arrayBuffer()));
      externalIp = [...(reply.get("external ip") as Uint8Array)].join(".");
    });
    const direct = new HttpTrackerClient(tracker.baseUrl);
    const seen = await direct.announce({
      infoHash: INFO_HASH,
      peerId: peerId(2),
      port: 1,
      left: 1,
    });
    assert.ok(seen.ok, `announce of ${percentEncodeAll(INFO_HASH)} failed`);
    return { externalIp, peers: seen.peers.map((peer) => `${peer.ip}:${peer.port}`) };
  } finally {
    await tracker.close();
  }
}

Deno.test({
  name: "nginx example: a trusted nginx names the client, and a forged header changes nothing",
  ignore: NGINX === null,
  async fn() {
    assert.deepEqual(await throughNginx([PROXY_ADDRESS]), {
      externalIp: "127.0.0.1",
      peers: ["127.0.0.1:6881"],
    });
  },
});

Deno.test({
  name: "nginx example: without trusted_proxies the peer is listed under nginx's address",
  ignore: NGINX === null,
  async fn() {
    assert.deepEqual(await throughNginx([]), {
      externalIp: PROXY_ADDRESS,
      peers: [`${PROXY_ADDRESS}:6881`],
    });
  },
});
