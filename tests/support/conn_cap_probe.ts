/**
 * A client for `e2e_nft_conn_cap_test.ts`, run inside the test's network namespace (the test
 * itself cannot join one): opens `count` TCP connections to `capped` and holds them, notes which
 * were refused, checks that a held one is still served, then asks once from `other`. Prints one
 * JSON line (`ProbeResult`) and closes everything.
 *
 * Usage: `deno run --allow-net conn_cap_probe.ts <capped host> <other host> <port> <count>`
 *
 * @module
 */

/** What the probe prints. */
export interface ProbeResult {
  /** One entry per attempt to `capped`, in order: "open", or the error's name. */
  attempts: string[];
  /** The status line a held connection to `capped` was answered with. */
  heldServed: string;
  /** The status line a connection to `other` was answered with, or the error's name. */
  otherServed: string;
}

const TIMEOUT_MS = 5_000;

/** Sends one request on `conn`, returns the first line of the answer and closes `conn`. */
async function statusLine(conn: Deno.Conn): Promise<string> {
  await conn.write(
    new TextEncoder().encode(
      "GET /stats.json HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n",
    ),
  );
  const buffer = new Uint8Array(256);
  const timer = setTimeout(() => conn.close(), TIMEOUT_MS);
  try {
    const read = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, read ?? 0)).split("\r\n")[0];
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

async function connect(hostname: string, port: number): Promise<Deno.Conn | string> {
  try {
    return await Deno.connect({ hostname, port, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

if (import.meta.main) {
  const [capped, other, portText, countText] = Deno.args;
  const port = Number(portText);
  const held: Deno.Conn[] = [];
  const result: ProbeResult = { attempts: [], heldServed: "", otherServed: "" };
  try {
    for (let i = 0; i < Number(countText); i++) {
      const conn = await connect(capped, port);
      if (typeof conn === "string") result.attempts.push(conn);
      else {
        held.push(conn);
        result.attempts.push("open");
      }
    }
    if (held.length > 0) result.heldServed = await statusLine(held.shift()!);
    const conn = await connect(other, port);
    result.otherServed = typeof conn === "string" ? conn : await statusLine(conn);
  } finally {
    for (const conn of held) conn.close();
  }
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
}
