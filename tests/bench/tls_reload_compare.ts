/**
 * Measures the two ways NoBrake could take up a renewed TLS certificate, and what each costs, so
 * the choice in `src/http/listener.ts` rests on figures:
 *
 * 1. swap under load: 8 clients open a fresh TLS connection per request in a loop while the
 *    certificate is swapped 20 times, 200 ms apart; every failed request is counted.
 *    - `Deno.serve` has no way to change its certificate: a second server on the same port
 *      (`reusePort`), then a graceful `shutdown()` of the first.
 *    - `node:https` swaps in place with `setSecureContext`.
 * 2. throughput on one small reply, with `wrk` (keep-alive, and a new connection per request),
 *    when `wrk` is installed: `Deno.serve` with TLS against NoBrake's HTTPS listener
 *    (`listenHttp`: `node:https` and the adapter to a fetch-style handler).
 *
 * ```sh
 * deno run --allow-all --unstable-net tests/bench/tls_reload_compare.ts
 * ```
 *
 * @module
 */
import { createServer } from "node:https";
import { listenHttp } from "../../src/http/listener.ts";
import { makeCertificate, type TestCertificate } from "../support/tls_fixture.ts";

/** One line to stdout (the lint rules keep `console` out of the code). */
function print(...parts: unknown[]): void {
  const text = parts.map((part) => typeof part === "string" ? part : JSON.stringify(part));
  Deno.stdout.writeSync(new TextEncoder().encode(text.join(" ") + "\n"));
}

const SWAPS = 20;
const CLIENTS = 8;
const BODY = new TextEncoder().encode("d8:completei1e10:incompletei1e8:intervali1800e5:peers0:e");

interface Swappable {
  port: number;
  swap(next: TestCertificate): Promise<void>;
  close(): Promise<void>;
}

function denoServe(first: TestCertificate): Swappable {
  const serve = (pem: TestCertificate, port: number) =>
    Deno.serve(
      { hostname: "127.0.0.1", port, reusePort: true, cert: pem.cert, key: pem.key, onListen() {} },
      () => new Response(BODY),
    );
  let current = serve(first, 0);
  const port = current.addr.port;
  return {
    port,
    async swap(next) {
      const old = current;
      current = serve(next, port);
      await old.shutdown();
    },
    close: () => current.shutdown(),
  };
}

async function nodeHttps(first: TestCertificate): Promise<Swappable> {
  const server = createServer({ cert: first.cert, key: first.key }, (_req, res) => res.end(BODY));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    swap(next) {
      server.setSecureContext({ cert: next.cert, key: next.key });
      return Promise.resolve();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function swapUnderLoad(
  name: string,
  server: Swappable,
  certs: TestCertificate[],
): Promise<void> {
  let stop = false;
  let ok = 0;
  const failures = new Map<string, number>();
  const request = new TextEncoder().encode(
    "GET /announce HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
  );
  const client = async () => {
    while (!stop) {
      let reason = "";
      try {
        const conn = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: server.port,
          caCerts: certs.map((c) => c.cert),
        });
        try {
          await conn.write(request);
          const buffer = new Uint8Array(1024);
          const n = await conn.read(buffer);
          const text = n === null ? "" : new TextDecoder().decode(buffer.subarray(0, n));
          if (!text.startsWith("HTTP/1.1 200")) reason = "closed before a reply";
        } finally {
          conn.close();
        }
      } catch (error) {
        reason = error instanceof Error ? error.name : String(error);
      }
      if (reason === "") ok++;
      else failures.set(reason, (failures.get(reason) ?? 0) + 1);
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  for (let i = 0; i < SWAPS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.swap(certs[(i + 1) % certs.length]);
  }
  stop = true;
  await Promise.all(clients);
  await server.close();
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  print(
    `${name.padEnd(34)} ${SWAPS} swaps: ${ok + failed} requests, ${failed} failed`,
    failures.size > 0 ? Object.fromEntries(failures) : "",
  );
}

async function wrk(name: string, port: number, extra: string[]): Promise<void> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", "-c16", "-d5s", ...extra, `https://127.0.0.1:${port}/announce`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const rate = new TextDecoder().decode(output.stdout).match(/Requests\/sec:\s+([\d.]+)/);
  print(`${name.padEnd(50)} ${rate?.[1] ?? "?"} requests/s`);
}

const dir = await Deno.makeTempDir({ prefix: "nobrake-tls-bench-" });
try {
  const certs = [await makeCertificate(dir, "a", 0xa1), await makeCertificate(dir, "b", 0xb2)];
  await swapUnderLoad("Deno.serve + reusePort + shutdown", denoServe(certs[0]), certs);
  await swapUnderLoad("node:https + setSecureContext", await nodeHttps(certs[0]), certs);
  let hasWrk = true;
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
  } catch {
    hasWrk = false;
    print("wrk is not installed: no throughput figures");
  }
  if (hasWrk) {
    for (
      const [label, extra] of [["keep-alive", []], ["new connection each", [
        "-H",
        "Connection: close",
      ]]] as const
    ) {
      const deno = denoServe(certs[0]);
      await wrk(`Deno.serve TLS, ${label}`, deno.port, [...extra]);
      await deno.close();
      const node = await listenHttp({
        hostname: "127.0.0.1",
        port: 0,
        tls: certs[0],
        handler: () => new Response(BODY),
      });
      await wrk(`NoBrake HTTPS listener (node:https), ${label}`, node.addr.port, [...extra]);
      await node.shutdown(1000);
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
