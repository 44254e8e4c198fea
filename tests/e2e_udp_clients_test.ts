/**
 * Real BitTorrent clients complete downloads through NoBrake's UDP tracker (BEP 15) alone: the
 * `.torrent`'s only tracker is `udp://127.0.0.1:PORT/announce`, or `udp://[::1]:PORT/announce`,
 * and every other way of finding peers is off. NoBrake runs as an operator runs it
 * (`deno run main.ts CONFIG`), with HTTP and UDP on the same port number.
 *
 * That UDP, and only UDP, was used is shown three ways (see `support/swarm_run.ts`):
 * `/stats.json` counts announces over UDP and none over HTTP and lists the live peers under UDP;
 * the announce log marks every announce of the torrent as UDP; and the scrape counts are read over
 * UDP and agree with HTTP's.
 *
 * Cases: IPv4, a libtorrent seeder and two leechers, libtorrent and aria2 (aria2 speaks UDP
 * trackers only through its IPv4 DHT, switched on here with an empty routing table and no entry
 * point; the torrent is private, so aria2 keeps it off that DHT anyway). IPv6, a libtorrent seeder
 * and a libtorrent leecher on `[::1]`: aria2 has no UDP tracker over IPv6 (its UDP tracker client
 * is tied to the IPv4 DHT), so it is not in that case. qBittorrent and Transmission over UDP are
 * in `e2e_client_matrix_test.ts`.
 *
 * Missing clients fail these tests unless `NOBRAKE_SKIP_REAL_CLIENTS=1` (see
 * `support/client_gate.ts`).
 *
 * @module
 */
import { clientGate } from "./support/client_gate.ts";
import { runSwarm } from "./support/swarm_run.ts";

const gate = await clientGate("UDP real-client tests", ["libtorrent", "aria2", "mktorrent"]);

gate.test(
  "libtorrent and aria2 leechers download from a libtorrent seeder through udp://127.0.0.1 alone",
  () =>
    runSwarm({
      transport: "udp",
      family: "ipv4",
      name: "udp4.bin",
      files: { "udp4.bin": 300_000 },
      payloadSeed: 41,
      seeder: "libtorrent",
      leechers: ["libtorrent", "aria2"],
    }),
);

gate.test(
  "a libtorrent leecher downloads a multi-file torrent from a libtorrent seeder through udp://[::1] alone",
  () =>
    runSwarm({
      transport: "udp",
      family: "ipv6",
      name: "udp6",
      files: { "one.bin": 200_000, "disc2/two.bin": 70_001, "disc2/notes.txt": 17 },
      payloadSeed: 43,
      seeder: "libtorrent",
      leechers: ["libtorrent"],
    }),
  { ignore: gate.ipv6Missing !== null },
);
