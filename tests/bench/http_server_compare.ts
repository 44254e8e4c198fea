/**
 * What `node:http` in Deno would give NoBrake's plain-HTTP listener against `Deno.serve`, so
 * `docs/operations.md` ("Slow and idle connections") and `docs/design.md` rest on figures (issue 9:
 * slow or idle connections must not pin resources forever):
 *
 * 1. which limits are enforced: a half-sent request and a silent connection under
 *    `headersTimeout`/`requestTimeout`, an idle keep-alive connection under `keepAliveTimeout`
 *    (and at the defaults), a third connection under `maxConnections = 2`; and the same half-sent
 *    request and idle keep-alive connection against `Deno.serve`, which has no such options;
 * 2. throughput on a trivial handler (a fixed 2-byte reply), with `wrk` for `--seconds` each
 *    (5 by default), keep-alive and a new connection per request, `--rounds` times alternating.
 *
 * ```sh
 * deno run --allow-all tests/bench/http_server_compare.ts [--seconds 5] [--rounds 3] [--wait 10]
 * ```
 *
 * Every server, socket and `wrk` run is bounded and closed before the next starts.
 *
 * @module
 */
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    wait: { type: "string", default: "10" },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const WAIT_MS = Number(values.wait) * 1000;

/** One line to stdout (the lint rules keep `console` out of the code). */
function print(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}

interface Running {
  port: number;
  close(): Promise<void>;
}

function denoServe(): Running {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("ok"),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

async function nodeHttp(setup: (server: http.Server) => void = () => {}): Promise<Running> {
  const server = http.createServer((_request, response) => response.end("ok"));
  setup(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Milliseconds until the server closes `conn`, or `null` when still open after `WAIT_MS`. */
async function closedAfter(conn: Deno.Conn): Promise<number | null> {
  const start = Date.now();
  const buffer = new Uint8Array(4096);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, WAIT_MS);
  try {
    while (await conn.read(buffer) !== null) { /* the reply to a full request */ }
  } catch { /* closed by the timer, or reset by the server */ }
  clearTimeout(timer);
  if (!timedOut) conn.close();
  return timedOut ? null : Date.now() - start;
}

/** Opens a connection and sends `text`; `""` sends nothing. */
async function open(port: number, text: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (text !== "") await conn.write(new TextEncoder().encode(text));
  return conn;
}

const HALF = "GET / HTTP/1.1\r\nHost: x\r\n";
const FULL = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const shown = (ms: number | null) => ms === null ? `still open after ${WAIT_MS} ms` : `${ms} ms`;

async function probeLimits(): Promise<void> {
  let server = await nodeHttp((s) => {
    s.headersTimeout = 2000;
    s.requestTimeout = 3000;
  });
  const [half, silent] = await Promise.all([open(server.port, HALF), open(server.port, "")]);
  const [a, b] = await Promise.all([closedAfter(half), closedAfter(silent)]);
  print(`node:http headersTimeout 2 s, requestTimeout 3 s: half-sent request ${shown(a)}`);
  print(`node:http headersTimeout 2 s, requestTimeout 3 s: silent connection ${shown(b)}`);
  await server.close();

  server = await nodeHttp((s) => s.keepAliveTimeout = 1000);
  print(
    `node:http keepAliveTimeout 1 s: idle keep-alive ${
      shown(await closedAfter(await open(server.port, FULL)))
    }`,
  );
  await server.close();
  server = await nodeHttp();
  print(
    `node:http defaults: idle keep-alive ${
      shown(await closedAfter(await open(server.port, FULL)))
    }`,
  );
  await server.close();

  server = await nodeHttp((s) => s.maxConnections = 2);
  const held = [await open(server.port, ""), await open(server.port, "")];
  await new Promise((resolve) => setTimeout(resolve, 300));
  const third = await open(server.port, FULL);
  const buffer = new Uint8Array(1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const got = await Promise.race([
    third.read(buffer).then((n) => n === null ? "closed" : "answered", () => "reset"),
    new Promise<string>((resolve) => timer = setTimeout(() => resolve("no answer in 3 s"), 3000)),
  ]);
  clearTimeout(timer);
  print(`node:http maxConnections 2, two connections open: a third one is ${got}`);
  for (const conn of [...held, third]) conn.close();
  await server.close();

  const deno = denoServe();
  const [denoHalf, denoIdle] = await Promise.all([open(deno.port, HALF), open(deno.port, FULL)]);
  const [c, d] = await Promise.all([closedAfter(denoHalf), closedAfter(denoIdle)]);
  print(`Deno.serve: half-sent request ${shown(c)}, idle keep-alive ${shown(d)}`);
  await deno.close();
}

async function wrk(port: number, extra: string[]): Promise<number | null> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", "-c16", `-d${SECONDS}s`, ...extra, `http://127.0.0.1:${port}/`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const rate = new TextDecoder().decode(output.stdout).match(/Requests\/sec:\s+([\d.]+)/);
  return rate === null ? null : Math.round(Number(rate[1]));
}

async function throughput(): Promise<void> {
  const modes = [["keep-alive", []], ["new connection each", ["-H", "Connection: close"]]] as const;
  const servers = [["Deno.serve", () => Promise.resolve(denoServe())], [
    "node:http",
    () => nodeHttp(),
  ]] as const;
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, extra] of modes) {
      for (const [name, start] of servers) {
        const server = await start();
        const rate = await wrk(server.port, [...extra]);
        await server.close();
        const key = `${name}, ${mode}`;
        results.set(key, [...results.get(key) ?? [], rate ?? NaN]);
      }
    }
  }
  for (const [key, rates] of results) {
    print(`${key.padEnd(34)} requests/s: ${rates.join(", ")}`);
  }
}

await probeLimits();
try {
  await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
  await throughput();
} catch (error) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
  print("wrk is not installed: no throughput figures");
}
