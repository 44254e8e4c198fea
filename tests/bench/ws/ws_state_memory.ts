/**
 * NoBrake's own memory per WebSocket peer, apart from the runtime's socket: the JavaScript heap
 * that `WsSwarms` holds for `--peers` connections (10,000 by default), each one peer in one of
 * `--torrents` swarms, each announcing `--offers` offers (10, the cap) that then wait unanswered
 * on other peers' connections; measured after a forced garbage collection.
 * `ws_bench.ts --phases memory` measures the whole server, runtime sockets included.
 *
 * ```sh
 * deno run --v8-flags=--expose-gc tests/bench/ws/ws_state_memory.ts [--peers 10000] \
 *   [--torrents 1000] [--offers 10]
 * ```
 *
 * @module
 */
import { Allowlist } from "../../../src/core/allowlist.ts";
import { WsConnection, WsSwarms } from "../../../src/core/ws_swarms.ts";
import type { WsAnnounce } from "../../../src/protocol/ws_request.ts";

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const peers = option("peers", 10_000);
const torrents = option("torrents", 1_000);
const offersPerAnnounce = option("offers", 10);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

function id20(prefix: string, n: number): string {
  return (prefix + String(n)).padEnd(20, "\x00").slice(0, 20);
}

function heapUsed(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

const swarms = new WsSwarms<object>({ allowlist: () => Allowlist.openMode(), expirySeconds: 3600 });
const connections: WsConnection<object>[] = [];
const before = heapUsed();
const now = Date.now();
for (let i = 0; i < peers; i++) {
  // The socket itself is the runtime's: a small object stands for it here.
  const connection = new WsConnection<object>({});
  connections.push(connection);
  const request: WsAnnounce = {
    action: "announce",
    infoHash: id20("t", i % torrents),
    peerId: id20("p", i),
    event: "started",
    left: 1000,
    uploaded: 0,
    downloaded: 0,
    // Offers go out from every announce; each lands as a pending offer on another peer.
    offers: Array.from({ length: offersPerAnnounce }, (_, k) => ({
      offerId: id20(`o${k}-`, i),
      offer: { type: "offer", sdp: "" },
    })),
    answer: null,
  };
  swarms.announce(connection, request, now);
}
const after = heapUsed();
let pending = 0;
for (const connection of connections) pending += connection.pending.size;
Deno.stdout.writeSync(
  new TextEncoder().encode(
    `${peers} peers in ${swarms.swarmCount} swarms, ${pending} pending offers: ` +
      `${((after - before) / peers).toFixed(0)} bytes of heap per peer\n`,
  ),
);
