import assert from "node:assert/strict";
import {
  encodeWsAnnounceReply,
  encodeWsAnswer,
  encodeWsFailure,
  encodeWsOffer,
  encodeWsScrapeReply,
} from "../src/protocol/ws_reply.ts";
import { parseWsRequest } from "../src/protocol/ws_request.ts";

// Every byte value, so the JSON escaping of control characters and the high half is covered.
const HASH = Array.from({ length: 20 }, (_, i) => String.fromCharCode(i * 13)).join("");
const PEER = Array.from({ length: 20 }, (_, i) => String.fromCharCode(255 - i)).join("");
const COUNTS = { complete: 3, incomplete: 4, downloaders: 4, downloaded: 9 };

Deno.test("encodeWsAnnounceReply() sends counts, interval and the binary info_hash", () => {
  assert.deepEqual(JSON.parse(encodeWsAnnounceReply(HASH, COUNTS, 120)), {
    action: "announce",
    interval: 120,
    info_hash: HASH,
    complete: 3,
    incomplete: 4,
  });
});

Deno.test("encodeWsOffer() and encodeWsAnswer() round-trip through the request parser", () => {
  const offer = JSON.parse(
    encodeWsOffer(HASH, PEER, { offerId: PEER, offer: { type: "offer", sdp: "v=0" } }),
  );
  assert.deepEqual(offer, {
    action: "announce",
    info_hash: HASH,
    peer_id: PEER,
    offer_id: PEER,
    offer: { type: "offer", sdp: "v=0" },
  });
  // The receiving client answers with the ids it was given; the parser reads them back exactly.
  const answerText = JSON.stringify({
    action: "announce",
    info_hash: offer.info_hash,
    peer_id: HASH,
    to_peer_id: offer.peer_id,
    offer_id: offer.offer_id,
    answer: { type: "answer", sdp: "v=0 b" },
  });
  const parsed = parseWsRequest(answerText, { maxOffers: 10 });
  assert.ok(parsed.action === "announce" && parsed.answer !== null);
  assert.equal(parsed.infoHash, HASH);
  assert.equal(parsed.answer.toPeerId, PEER);
  const relayed = JSON.parse(
    encodeWsAnswer(HASH, HASH, { offerId: PEER, answer: parsed.answer.answer }),
  );
  assert.deepEqual(relayed, {
    action: "announce",
    info_hash: HASH,
    peer_id: HASH,
    offer_id: PEER,
    answer: { type: "answer", sdp: "v=0 b" },
  });
});

Deno.test("encodeWsScrapeReply() keys files by binary hash", () => {
  const reply = JSON.parse(encodeWsScrapeReply([{ infoHash: HASH, ...COUNTS }]));
  assert.deepEqual(reply, {
    action: "scrape",
    files: { [HASH]: { complete: 3, incomplete: 4, downloaded: 9 } },
  });
});

Deno.test("encodeWsFailure() carries the info_hash when known, and retry in", () => {
  assert.deepEqual(JSON.parse(encodeWsFailure("nope", { infoHash: HASH, retryIn: 60 })), {
    action: "announce",
    info_hash: HASH,
    "failure reason": "nope",
    "retry in": 60,
  });
  assert.deepEqual(JSON.parse(encodeWsFailure("bad", { action: "scrape" })), {
    action: "scrape",
    "failure reason": "bad",
  });
});
