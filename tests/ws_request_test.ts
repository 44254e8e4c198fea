import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { MAX_SDP_LENGTH, parseWsRequest, twentyByteString } from "../src/protocol/ws_request.ts";

const LIMITS = { maxOffers: 10 };
const HASH = "\x00\x01\x7f\x80\xff".repeat(4);
const PEER = "-WW0001-" + "\xe9".repeat(12);
const OFFER = { type: "offer", sdp: "v=0" };

function parse(value: unknown) {
  return parseWsRequest(typeof value === "string" ? value : JSON.stringify(value), LIMITS);
}

function refused(value: unknown, message: RegExp): void {
  assert.throws(() => parse(value), (error: unknown) => {
    assert.ok(error instanceof ClientError, `not a ClientError: ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("parseWsRequest() reads an announce with binary-string ids as they are", () => {
  const request = parse({
    action: "announce",
    info_hash: HASH,
    peer_id: PEER,
    event: "started",
    left: 1000,
    uploaded: 1,
    downloaded: 2,
    numwant: 5,
    offers: [{ offer_id: PEER, offer: { ...OFFER, extra: "dropped" } }],
  });
  assert.deepEqual(request, {
    action: "announce",
    infoHash: HASH,
    peerId: PEER,
    event: "started",
    left: 1000,
    uploaded: 1,
    downloaded: 2,
    offers: [{ offerId: PEER, offer: OFFER }],
    answer: null,
  });
});

Deno.test("parseWsRequest() takes left null (unknown) and update/empty/absent events", () => {
  const base = { action: "announce", info_hash: HASH, peer_id: PEER };
  const unknownLeft = parse({ ...base, left: null });
  assert.equal(unknownLeft.action === "announce" && unknownLeft.left, null);
  for (const event of [undefined, "update", "empty", ""]) {
    const request = parse({ ...base, event });
    assert.equal(request.action === "announce" && request.event, "none");
  }
  const paused = parse({ ...base, event: "paused", left: "12" });
  assert.deepEqual(paused.action === "announce" && [paused.event, paused.left], ["paused", 12]);
});

Deno.test("parseWsRequest() relays at most numwant offers, and at most the cap", () => {
  const offers = Array.from({ length: 5000 }, () => ({ offer_id: PEER, offer: OFFER }));
  const base = { action: "announce", info_hash: HASH, peer_id: PEER, offers };
  const capped = parse(base);
  assert.equal(capped.action === "announce" && capped.offers.length, 10);
  const two = parse({ ...base, numwant: 2 });
  assert.equal(two.action === "announce" && two.offers.length, 2);
});

Deno.test("parseWsRequest() reads an answer, and no offers with it", () => {
  const request = parse({
    action: "announce",
    info_hash: HASH,
    peer_id: PEER,
    to_peer_id: HASH,
    offer_id: PEER,
    answer: { type: "answer", sdp: "v=0 a" },
    offers: [{ offer_id: PEER, offer: OFFER }],
  });
  assert.ok(request.action === "announce");
  assert.deepEqual(request.answer, {
    toPeerId: HASH,
    offerId: PEER,
    answer: { type: "answer", sdp: "v=0 a" },
  });
  assert.deepEqual(request.offers, []);
});

Deno.test("parseWsRequest() reads a scrape of one hash, a list, or all", () => {
  assert.deepEqual(parse({ action: "scrape", info_hash: HASH }), {
    action: "scrape",
    infoHashes: [HASH],
  });
  assert.deepEqual(parse({ action: "scrape", info_hash: [HASH, PEER, HASH] }), {
    action: "scrape",
    infoHashes: [HASH, PEER],
  });
  assert.deepEqual(parse({ action: "scrape" }), { action: "scrape", infoHashes: null });
  assert.deepEqual(parse({ action: "scrape", info_hash: [] }), {
    action: "scrape",
    infoHashes: null,
  });
  refused({ action: "scrape", info_hash: Array(257).fill(HASH) }, /at most 256/);
});

Deno.test("parseWsRequest() refuses what is not a well-formed request", () => {
  const base = { action: "announce", info_hash: HASH, peer_id: PEER };
  refused("not json", /not JSON/);
  refused("[1,2]", /JSON object/);
  refused("null", /JSON object/);
  refused({ ...base, action: "connect" }, /action must be/);
  refused({ ...base, info_hash: HASH.slice(1) }, /info_hash must be 20 bytes, got 19/);
  refused({ ...base, peer_id: 12 }, /peer_id must be a string/);
  refused({ ...base, info_hash: "\u0100" + HASH.slice(1) }, /code points 0-255/);
  refused({ ...base, event: "constructor" }, /event must be/);
  refused({ ...base, event: 1 }, /event must be/);
  refused({ ...base, left: -1 }, /left must be/);
  refused({ ...base, left: 1.5 }, /left must be/);
  refused({ ...base, uploaded: "1e3" }, /uploaded must be/);
  refused({ ...base, offers: {} }, /offers must be an array/);
  refused({ ...base, offers: [null] }, /each offer/);
  refused({ ...base, offers: [{ offer_id: PEER, offer: { type: "answer", sdp: "" } }] }, /type/);
  refused({ ...base, offers: [{ offer_id: PEER.slice(1), offer: OFFER }] }, /offer_id/);
  refused({ ...base, numwant: -1, offers: [] }, /numwant/);
  refused({ ...base, answer: { type: "answer", sdp: "" } }, /to_peer_id must be a string/);
  refused(
    { ...base, to_peer_id: PEER, offer_id: PEER, answer: { type: "answer", sdp: 5 } },
    /sdp string/,
  );
  refused(
    {
      ...base,
      offers: [{ offer_id: PEER, offer: { ...OFFER, sdp: "x".repeat(MAX_SDP_LENGTH + 1) } }],
    },
    /longer than/,
  );
});

Deno.test("twentyByteString() names the field and the length it got", () => {
  assert.equal(twentyByteString("a".repeat(20), "x"), "a".repeat(20));
  assert.throws(
    () => twentyByteString("a".repeat(21), "offer_id"),
    /offer_id must be 20 bytes, got 21/,
  );
});
