import assert from "node:assert/strict";
import { Allowlist, type TorrentInfo } from "../src/core/allowlist.ts";
import { Tracker } from "../src/core/tracker.ts";
import {
  MAX_PEERS_PER_CONNECTION,
  MAX_PENDING_OFFERS,
  OFFER_ANSWER_SECONDS,
  WsConnection,
  WsSwarms,
  type WsSwarmsOptions,
} from "../src/core/ws_swarms.ts";
import { ClientError } from "../src/protocol/client_error.ts";
import type { WsAnnounce } from "../src/protocol/ws_request.ts";
import { seededRandom } from "./support/seeded_random.ts";

const HASH = "h".repeat(20);
const OTHER_HASH = "o".repeat(20);
const OFFER = { type: "offer", sdp: "v=0" };
const ANSWER = { type: "answer", sdp: "v=0 a" };
const T0 = 1_700_000_000_000;

function id(char: string): string {
  return char.repeat(20);
}

function swarms(options: Partial<WsSwarmsOptions> = {}, allowlist = Allowlist.openMode()) {
  return new WsSwarms<string>({
    allowlist: () => allowlist,
    expirySeconds: 600,
    random: seededRandom(7),
    ...options,
  });
}

function announce(peerId: string, extra: Partial<WsAnnounce> = {}): WsAnnounce {
  return {
    action: "announce",
    infoHash: HASH,
    peerId,
    event: "none",
    left: 10,
    uploaded: 0,
    downloaded: 0,
    offers: [],
    answer: null,
    ...extra,
  };
}

function offers(count: number, prefix = "o") {
  return Array.from({ length: count }, (_, i) => ({
    offerId: (prefix + i).padEnd(20, "_"),
    offer: OFFER,
  }));
}

function answerFrom(peerId: string, toPeerId: string, offerId: string): WsAnnounce {
  return announce(peerId, { answer: { toPeerId, offerId, answer: ANSWER } });
}

function refusal(run: () => unknown, message: RegExp, reason?: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ClientError);
    assert.match(error.message, message);
    if (reason !== undefined) assert.equal(error.reason, reason);
    return true;
  });
}

Deno.test("WsSwarms relays each offer to a different other peer, never to the sender", () => {
  const core = swarms();
  const connections = ["a", "b", "c", "d"].map((name) => new WsConnection(name));
  for (const [i, connection] of connections.entries()) {
    core.announce(connection, announce(id(String(i))), T0);
  }
  const sender = new WsConnection("sender");
  const result = core.announce(sender, announce(id("s"), { offers: offers(10) }), T0);
  // Four other peers: four offers go out, one each, the rest are not relayed.
  assert.equal(result.deliveries.length, 4);
  assert.deepEqual(new Set(result.deliveries.map((d) => d.to)), new Set(["a", "b", "c", "d"]));
  assert.deepEqual(result.deliveries.map((d) => d.offerId), offers(4).map((o) => o.offerId));
  assert.deepEqual(result.counts, { complete: 0, incomplete: 5, downloaders: 5, downloaded: 0 });
});

Deno.test("WsSwarms sends a seeder's offers to leechers only", () => {
  const core = swarms();
  core.announce(new WsConnection("seed1"), announce(id("1"), { left: 0 }), T0);
  core.announce(new WsConnection("leech"), announce(id("2")), T0);
  const result = core.announce(
    new WsConnection("seed2"),
    announce(id("3"), { left: 0, offers: offers(5) }),
    T0,
  );
  assert.deepEqual(result.deliveries.map((d) => d.to), ["leech"]);
});

Deno.test("WsSwarms forwards an answer to the offerer only for an offer that peer was sent, once", () => {
  const core = swarms();
  const a = new WsConnection("a");
  const b = new WsConnection("b");
  core.announce(a, announce(id("a")), T0);
  const [delivery] = core.announce(b, announce(id("b"), { offers: offers(1) }), T0).deliveries;
  assert.equal(delivery?.to, "a");
  const offerId = delivery!.offerId;

  // Not sent to B itself, not under another peer id, not for an unknown offer.
  refusal(() => core.answer(b, answerFrom(id("b"), id("a"), offerId), T0), /not sent/);
  refusal(() => core.answer(a, answerFrom(id("x"), id("b"), offerId), T0), /not sent/);
  refusal(() => core.answer(a, answerFrom(id("a"), id("b"), id("?")), T0), /not sent/);
  refusal(() => core.answer(a, answerFrom(id("a"), id("c"), offerId), T0), /not sent/);
  const other = answerFrom(id("a"), id("b"), offerId);
  other.infoHash = OTHER_HASH;
  refusal(() => core.answer(a, other, T0), /not sent/);

  assert.deepEqual(core.answer(a, answerFrom(id("a"), id("b"), offerId), T0 + 1000), {
    to: "b",
    infoHash: HASH,
    fromPeerId: id("a"),
    offerId,
    answer: ANSWER,
  });
  refusal(() => core.answer(a, answerFrom(id("a"), id("b"), offerId), T0), /not sent/);
});

Deno.test("WsSwarms refuses an answer after OFFER_ANSWER_SECONDS, and drops one for a gone offerer", () => {
  const core = swarms();
  const a = new WsConnection("a");
  const b = new WsConnection("b");
  core.announce(a, announce(id("a")), T0);
  const [first] = core.announce(b, announce(id("b"), { offers: offers(1, "x") }), T0).deliveries;
  const late = T0 + (OFFER_ANSWER_SECONDS + 1) * 1000;
  refusal(() => core.answer(a, answerFrom(id("a"), id("b"), first!.offerId), late), /expired/);

  const [second] = core.announce(b, announce(id("b"), { offers: offers(1, "y") }), T0).deliveries;
  core.leave(b);
  assert.equal(core.answer(a, answerFrom(id("a"), id("b"), second!.offerId), T0), null);
});

Deno.test("WsSwarms refuses a peer id held by another connection (hijack)", () => {
  const core = swarms();
  core.announce(new WsConnection("a"), announce(id("a")), T0);
  refusal(
    () => core.announce(new WsConnection("b"), announce(id("a"), { event: "stopped" }), T0),
    /in use by another connection/,
    "hijack",
  );
  assert.equal(core.countsOf(HASH)?.incomplete, 1);
});

Deno.test("WsSwarms lets one connection hold several peers (a shared WebTorrent socket)", () => {
  const core = swarms();
  const shared = new WsConnection("shared");
  core.announce(shared, announce(id("a")), T0);
  core.announce(shared, announce(id("b")), T0);
  core.announce(shared, announce(id("c"), { infoHash: OTHER_HASH }), T0);
  assert.equal(core.countsOf(HASH)?.incomplete, 2);
  core.leave(shared);
  assert.equal(core.countsOf(HASH), null);
  assert.equal(core.countsOf(OTHER_HASH), null);
  assert.equal(core.swarmCount, 0);
});

Deno.test("WsSwarms: stopped takes the peer out; a stop for an unknown swarm creates none", () => {
  const core = swarms();
  const a = new WsConnection("a");
  assert.equal(core.announce(a, announce(id("a"), { event: "stopped" }), T0).counts.incomplete, 0);
  assert.equal(core.swarmCount, 0);
  core.announce(a, announce(id("a")), T0);
  core.announce(a, announce(id("a"), { event: "stopped" }), T0);
  assert.equal(core.swarmCount, 0);
  assert.equal(a.joined.size, 0);
});

Deno.test("WsSwarms counts a completion once per peer, and partial seeds apart", () => {
  const core = swarms();
  const a = new WsConnection("a");
  core.announce(a, announce(id("a")), T0);
  core.announce(a, announce(id("a"), { left: 0, event: "completed" }), T0);
  core.announce(a, announce(id("a"), { left: 0, event: "completed" }), T0);
  core.announce(new WsConnection("b"), announce(id("b"), { event: "paused" }), T0);
  assert.deepEqual(core.countsOf(HASH), {
    complete: 1,
    incomplete: 1,
    downloaders: 0,
    downloaded: 1,
  });
});

Deno.test("WsSwarms applies the allowlist and the caps", () => {
  const listed: TorrentInfo = {
    name: "t",
    size: 1,
    secret: false,
    infoHashV1: HASH,
    infoHashV2: null,
    path: "t.torrent",
  };
  const allowlisted = swarms({}, Allowlist.of([listed]));
  refusal(
    () =>
      allowlisted.announce(new WsConnection("a"), announce(id("a"), { infoHash: OTHER_HASH }), T0),
    /not allowed/,
    "not_allowed",
  );
  const small = swarms({ maxTorrents: 1, maxPeersPerTorrent: 1 });
  small.announce(new WsConnection("a"), announce(id("a")), T0);
  refusal(() => small.announce(new WsConnection("b"), announce(id("b")), T0), /swarm is full/);
  refusal(
    () => small.announce(new WsConnection("c"), announce(id("c"), { infoHash: OTHER_HASH }), T0),
    /too many torrents/,
    "full",
  );
  const core = swarms();
  const busy = new WsConnection("busy");
  for (let i = 0; i < MAX_PEERS_PER_CONNECTION; i++) {
    core.announce(busy, announce(String(i).padStart(20, "p")), T0);
  }
  refusal(() => core.announce(busy, announce(id("z")), T0), /at most 256 peers/);
});

Deno.test("WsSwarms holds at most MAX_PENDING_OFFERS offers per connection, dropping the oldest", () => {
  const core = swarms();
  const target = new WsConnection("target");
  core.announce(target, announce(id("t")), T0);
  const sender = new WsConnection("sender");
  const total = MAX_PENDING_OFFERS + 5;
  for (let i = 0; i < total; i++) {
    core.announce(sender, announce(id("s"), { offers: offers(1, `n${i}-`) }), T0);
  }
  assert.equal(target.pending.size, MAX_PENDING_OFFERS);
  refusal(
    () => core.answer(target, answerFrom(id("t"), id("s"), offers(1, "n0-")[0]!.offerId), T0),
    /not sent/,
  );
  const newest = offers(1, `n${total - 1}-`)[0]!.offerId;
  assert.equal(core.answer(target, answerFrom(id("t"), id("s"), newest), T0)?.to, "sender");
});

Deno.test("WsSwarms.sweep() drops silent peers and swarms no longer allowed", () => {
  let allowlist = Allowlist.openMode();
  const core = new WsSwarms<string>({ allowlist: () => allowlist, expirySeconds: 60 });
  const a = new WsConnection("a");
  core.announce(a, announce(id("a")), T0);
  core.announce(a, announce(id("b"), { infoHash: OTHER_HASH }), T0 + 50_000);
  assert.equal(core.sweep(T0 + 90_000), true);
  assert.equal(core.countsOf(HASH), null);
  assert.equal(core.countsOf(OTHER_HASH)?.incomplete, 1);
  assert.equal(a.joined.size, 1);
  allowlist = Allowlist.of([]);
  core.sweep(T0 + 90_000);
  assert.equal(core.swarmCount, 0);
  assert.equal(a.joined.size, 0);
});

Deno.test("Tracker.scrape() adds WebSocket counts, and a full scrape lists WebSocket-only swarms", () => {
  const core = swarms();
  const tracker = new Tracker({ expirySeconds: 600, extraCounts: core });
  core.announce(new WsConnection("a"), announce(id("a"), { left: 0 }), T0);
  tracker.announce({
    request: {
      infoHash: HASH,
      peerId: id("t"),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 5,
      event: "started",
      numwant: 10,
      compact: true,
      noPeerId: false,
      key: null,
      claimedIp: null,
      claimedIpv4: null,
      claimedIpv6: null,
    },
    address: new Uint8Array([127, 0, 0, 1]),
    connectionAddress: null,
    userAgent: "test",
    wantPeerIds: false,
  }, T0);
  core.announce(new WsConnection("b"), announce(id("b"), { infoHash: OTHER_HASH }), T0);
  const byHash = new Map(tracker.scrape(null).map((entry) => [entry.infoHash, entry]));
  assert.deepEqual([byHash.get(HASH)?.complete, byHash.get(HASH)?.incomplete], [1, 1]);
  assert.deepEqual([byHash.get(OTHER_HASH)?.complete, byHash.get(OTHER_HASH)?.incomplete], [0, 1]);
});
