/**
 * HTTPS end to end with a real `main.ts` process, `curl` and `openssl s_client` (Debian packages
 * `curl` and `openssl`): the tracker serves its certificate; after the files are replaced and
 * SIGHUP, new connections get the new certificate (checked by serial) while a keep-alive connection
 * opened before goes on working; a bad certificate on reload is refused and the good one stays.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeDict, percentEncodeAll } from "./support/http_tracker_client.ts";
import { RawHttpConnection } from "./support/raw_http.ts";
import { makeCertificate, servedSerial } from "./support/tls_fixture.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

const QUERY = `info_hash=${percentEncodeAll(new Uint8Array(20).fill(1))}` +
  `&peer_id=${percentEncodeAll(new Uint8Array(20).fill(2))}&port=6881&left=1`;

/** `curl` trusting only `caCert`: the body, or `null` when the TLS check fails. */
async function curl(url: string, caCert: string): Promise<Uint8Array | null> {
  const output = await new Deno.Command("curl", {
    args: ["--silent", "--show-error", "--max-time", "10", "--cacert", caCert, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.success) return output.stdout;
  const stderr = new TextDecoder().decode(output.stderr);
  // 60: the peer's certificate cannot be verified with the given CA (curl's exit codes).
  if (output.code === 60) return null;
  throw new Error(`curl failed (${output.code}): ${stderr}`);
}

Deno.test("tls: HTTPS serves, and SIGHUP swaps the certificate for new connections only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-tls-e2e-" });
  let tracker: TrackerProcess | null = null;
  let keptAlive: RawHttpConnection | null = null;
  try {
    const first = await makeCertificate(dir, "first", 0x1001);
    const second = await makeCertificate(dir, "second", 0x2002);
    await Deno.copyFile(first.certPath, join(dir, "tls.crt"));
    await Deno.copyFile(first.keyPath, join(dir, "tls.key"));
    const config = join(dir, "tracker.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        port: 0,
        ip: "127.0.0.1",
        allowed: "*",
        interval: 60,
        expiry: 120,
        udp: false,
        state_file: null,
        tls_cert: "./tls.crt",
        tls_key: "./tls.key",
      }),
    );
    tracker = new TrackerProcess([config]);
    const port = await tracker.port();
    await tracker.waitForLine(/listening on https:\/\/127\.0\.0\.1:/);
    await tracker.waitForLine(/startup TLS certificate serial 1001, SHA-256 /);
    const url = `https://127.0.0.1:${port}/announce?${QUERY}`;

    const reply = await curl(url, first.certPath);
    assert.ok(reply !== null, "curl trusts the first certificate");
    assert.equal(decodeDict(reply).get("interval"), 60);
    assert.equal(await servedSerial(port), first.serial);
    keptAlive = new RawHttpConnection(
      await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [first.cert] }),
    );
    assert.match((await keptAlive.get(`/announce?${QUERY}`)).status, / 200 /);

    // Renewal: the files are replaced in place, then SIGHUP.
    await Deno.copyFile(second.certPath, join(dir, "tls.crt"));
    await Deno.copyFile(second.keyPath, join(dir, "tls.key"));
    tracker.signal("SIGHUP");
    await tracker.waitForLine(/startup TLS certificate reloaded: serial 2002, /);

    assert.equal(await servedSerial(port), second.serial);
    assert.ok(await curl(url, second.certPath) !== null, "new connections get the new one");
    assert.equal(await curl(url, first.certPath), null, "and no longer the old one");
    const again = await keptAlive.get(`/announce?${QUERY}`);
    assert.match(again.status, / 200 /, "the keep-alive connection opened before goes on");
    assert.equal(decodeDict(new TextEncoder().encode(again.body)).get("interval"), 60);

    // A broken renewal is refused; the certificate in use stays.
    await Deno.writeTextFile(join(dir, "tls.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n");
    tracker.signal("SIGHUP");
    await tracker.waitForLine(/error TLS reload failed, keeping the old certificate: .*tls\.crt/);
    assert.equal(await servedSerial(port), second.serial);
    await Deno.copyFile(first.keyPath, join(dir, "tls.key"));
    await Deno.copyFile(second.certPath, join(dir, "tls.crt"));
    tracker.signal("SIGHUP");
    await tracker.waitForLine(/error TLS reload failed, .*does not belong to the certificate/);
    assert.equal(await servedSerial(port), second.serial);

    keptAlive.close();
    keptAlive = null;
    tracker.signal("SIGTERM");
    assert.equal(await tracker.exitCode(), 0);
  } finally {
    keptAlive?.close();
    await tracker?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: a missing certificate stops the start with one line naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-tls-e2e-" });
  const config = join(dir, "tracker.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      port: 0,
      ip: "127.0.0.1",
      allowed: "*",
      interval: 60,
      expiry: 120,
      state_file: null,
      tls_cert: "./missing.crt",
      tls_key: "./missing.key",
    }),
  );
  const tracker = new TrackerProcess([config]);
  try {
    assert.equal(await tracker.exitCode(), 2);
    const lines = tracker.lines.filter((line) => line !== "");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /cannot read TLS certificate ".*missing\.crt": no such file/);
  } finally {
    await tracker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
