/**
 * Announce reply encoding: `encodeAnnounceReply` of a 50-peer compact reply (BEP 23) against
 * `npm:bencode` encoding the same dictionary as the baseline, so the ratio says what the
 * hand-written writer saves. Both outputs are checked equal once before timing.
 *
 * Run: `deno bench --allow-all tests/bench/reply_bench.ts`.
 *
 * @module
 */
import bencode from "bencode";
import type { AnnounceResult } from "../../src/protocol/messages.ts";
import { encodeAnnounceReply } from "../../src/protocol/http_reply.ts";

const PEERS = new Uint8Array(50 * 6).map((_, i) => (i * 37 + 11) & 0xff);
const RESULT: AnnounceResult = {
  complete: 30,
  incomplete: 70,
  downloaders: 70,
  downloaded: 12,
  peers4: PEERS,
  peers6: new Uint8Array(0),
  peerIds4: null,
  peerIds6: null,
};
const OPTIONS = {
  interval: 1800,
  minInterval: 900,
  compact: true,
  noPeerId: true,
  externalIp: new Uint8Array([127, 0, 0, 1]),
};
const PLAIN = {
  complete: 30,
  downloaded: 12,
  "external ip": OPTIONS.externalIp,
  incomplete: 70,
  interval: 1800,
  "min interval": 900,
  peers: PEERS,
};

const ours = encodeAnnounceReply(RESULT, OPTIONS);
const theirs = bencode.encode(PLAIN);
if (ours.length !== theirs.length || ours.some((byte, i) => byte !== theirs[i])) {
  throw new Error("encodeAnnounceReply() and npm:bencode disagree on the same reply");
}

// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

Deno.bench("npm:bencode encode", { group: "announce reply, 50 peers", baseline: true }, () => {
  sink += bencode.encode(PLAIN).length;
});

Deno.bench("encodeAnnounceReply()", { group: "announce reply, 50 peers" }, () => {
  sink += encodeAnnounceReply(RESULT, OPTIONS).length;
});
