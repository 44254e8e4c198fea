/**
 * Tests for `src/core/refusals.ts`: the refusals both swarm stores give, so a client is told the
 * same whichever holds the swarms.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  hashKey,
  notAllowed,
  peerIdInUse,
  storeUnavailable,
  swarmFull,
  tooManyTorrents,
} from "../src/core/refusals.ts";

Deno.test("refusals carry their stats reason and BEP 31 retry in", () => {
  const cases = [
    [notAllowed(), "not_allowed", 3600],
    [tooManyTorrents(), "full", 600],
    [swarmFull(), "full", 600],
    [peerIdInUse(), "hijack", null],
    [storeUnavailable(), "full", 60],
  ] as const;
  for (const [error, reason, retryIn] of cases) {
    assert.equal(error.reason, reason, error.message);
    assert.equal(error.retryIn, retryIn, error.message);
  }
  assert.match(storeUnavailable().message, /unavailable/);
});

Deno.test("hashKey() never gives 0, which means no key", () => {
  assert.notEqual(hashKey(""), 0);
  assert.equal(hashKey("abc"), hashKey("abc"));
  assert.notEqual(hashKey("abc"), hashKey("abd"));
});
