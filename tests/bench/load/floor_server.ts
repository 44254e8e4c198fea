/**
 * The floor of issue 8: the cheapest HTTP server Deno can be, `Deno.serve` answering every request
 * with one fixed bencoded 50-peer announce reply of the same shape and size NoBrake sends
 * (counts, `external ip`, intervals, 300 bytes of compact peers). Whatever NoBrake spends above
 * this is the tracker's own cost, so the load runner reports NoBrake as a ratio of this server.
 *
 * The scrape floor (`scrape` argument) answers one fixed single-hash scrape reply instead, so
 * scrape is compared with the same cheapest server. The floor never reads the request: even
 * `request.url` has a cost, and that cost is part of what NoBrake must earn back.
 *
 * The UDP floor (`udp` argument) is the same idea for BEP 15: a `Deno.listenDatagram` loop that
 * answers a connect with a fixed connection id and anything else with one fixed 50-peer announce
 * response (20 + 300 bytes, NoBrake's size), the request's transaction id copied in so that the
 * client can match it. It reads the 16-byte header and nothing more: Deno's UDP echo path.
 *
 * Run: `deno run --allow-net tests/bench/load/floor_server.ts [port] [mode]`, mode one of
 * `announce` (the default), `scrape`, `read`, `read-url`, `read-address`, `udp`
 * (`udp` needs `--unstable-net`, which the repository's `deno.json` turns on). It prints
 * `listening <port>` on stdout once bound (port 0, the default, picks a free port) and serves
 * until killed.
 *
 * @module
 */

/** Peers in the fixed reply: the `numwant=50` the load generator asks for. */
export const FLOOR_PEERS = 50;
/** First port of the fixed peers (the generator's peers use ports from here on). */
export const FLOOR_BASE_PORT = 10_000;

/** The fixed reply: what NoBrake answers a `compact=1 numwant=50` announce in a full swarm. */
export function floorReply(): Uint8Array<ArrayBuffer> {
  const peers = new Uint8Array(FLOOR_PEERS * 6);
  for (let i = 0; i < FLOOR_PEERS; i++) {
    peers.set([127, 0, 0, 1, (FLOOR_BASE_PORT + i) >> 8, (FLOOR_BASE_PORT + i) & 0xff], i * 6);
  }
  const head = "d8:completei30e10:downloadedi2e11:external ip4:";
  const middle = "10:incompletei70e8:intervali1800e12:min intervali900e5:peers300:";
  const parts = [
    new TextEncoder().encode(head),
    new Uint8Array([127, 0, 0, 1]),
    new TextEncoder().encode(middle),
    peers,
    new TextEncoder().encode("e"),
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The fixed scrape reply: one torrent's counts (BEP 48). */
export function floorScrapeReply(): Uint8Array<ArrayBuffer> {
  const hash = "\x01".repeat(20);
  const text = `d5:filesd20:${hash}d8:completei30e10:downloadedi2e11:downloadersi70e` +
    "10:incompletei70eeee";
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** The UDP floor's announce response: BEP 15 header (transaction id 0) then 50 compact peers. */
export function floorUdpReply(): Uint8Array<ArrayBuffer> {
  const http = floorReply();
  const peers = http.subarray(http.length - 1 - FLOOR_PEERS * 6, http.length - 1);
  const out = new Uint8Array(20 + peers.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1);
  view.setUint32(8, 1800);
  view.setUint32(12, 70);
  view.setUint32(16, 30);
  out.set(peers, 20);
  return out;
}

/** Serves the UDP floor on `port` until the process is killed. */
async function serveUdpFloor(port: number): Promise<void> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  Deno.stdout.writeSync(
    new TextEncoder().encode(`listening ${(conn.addr as Deno.NetAddr).port}\n`),
  );
  const announce = floorUdpReply();
  const connect = new Uint8Array(16);
  new DataView(connect.buffer).setBigUint64(8, 0x0123456789abcdefn);
  const buffer = new Uint8Array(2048);
  for (;;) {
    const [packet, from] = await conn.receive(buffer);
    if (packet.length < 16) continue;
    // Action 0 is a connect; the transaction id (bytes 12-15) goes to bytes 4-7 of the answer.
    const reply = packet[11] === 0 ? connect : announce;
    reply[4] = packet[12];
    reply[5] = packet[13];
    reply[6] = packet[14];
    reply[7] = packet[15];
    await conn.send(reply, from);
  }
}

if (import.meta.main && Deno.args[1] === "udp") {
  await serveUdpFloor(Number(Deno.args[0] ?? "0"));
} else if (import.meta.main) {
  const mode = Deno.args[1] ?? "announce";
  const body = mode === "scrape" ? floorScrapeReply() : floorReply();
  const headers = { "content-type": "text/plain" };
  const port = Number(Deno.args[0] ?? "0");
  let seen = 0;
  // `read`: the same fixed reply, after reading what any tracker must read (the URL, the client
  // address) and the user agent NoBrake keeps for /stats. It measures what looking at a request
  // costs in Deno.serve, apart from any tracker work. `read-url` and `read-address` read one of
  // them each, to tell their costs apart (tests/bench/load/callgrind_announce.sh).
  const handler = mode === "read"
    ? (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
      seen += request.url.length + (request.headers.get("user-agent") ?? "").length +
        info.remoteAddr.hostname.length;
      return new Response(body, { headers });
    }
    : mode === "read-url"
    ? (request: Request) => {
      seen += request.url.length;
      return new Response(body, { headers });
    }
    : mode === "read-address"
    ? (_request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
      seen += info.remoteAddr.hostname.length;
      return new Response(body, { headers });
    }
    : () => new Response(body, { headers });
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => Deno.stdout.writeSync(new TextEncoder().encode(`listening ${port}\n`)),
  }, handler);
  globalThis.addEventListener("unload", () => {
    if (seen < 0) Deno.exit(1);
  });
}
