/**
 * Tests for `src/transport/admission.ts`: the refusals both transports share, in their order
 * (stopping, rate limit, passkey), and who is not rate limited.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClientError } from "../src/protocol/client_error.ts";
import { CidrSet } from "../src/protocol/cidr.ts";
import { Passkeys } from "../src/core/passkeys.ts";
import { RateLimiter } from "../src/core/rate_limiter.ts";
import { createAdmission, RETRY_WHEN_SHUTTING_DOWN } from "../src/transport/admission.ts";

const CLIENT = new Uint8Array([192, 0, 2, 1]);
const PROXY = new Uint8Array([10, 0, 0, 1]);
const now = () => 1_760_000_000_000;

/** The ClientError `run` throws; fails the test when it throws none. */
function refusalOf(run: () => void): ClientError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ClientError, `expected a ClientError, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: "the request was admitted" });
}

Deno.test("createAdmission() with nothing configured admits everything", () => {
  const { admit, admitWithoutKey } = createAdmission({ now });
  admit(CLIENT, null);
  admit(CLIENT, "any");
  admitWithoutKey(CLIENT);
});

Deno.test("createAdmission() refuses while stopping, with retry in, before anything else", () => {
  let stopping = false;
  const limiter = new RateLimiter({ perMinute: 1 });
  const { admit, admitWithoutKey } = createAdmission({
    now,
    shuttingDown: () => stopping,
    rateLimiter: limiter,
    passkeys: () => new Passkeys(["k"]),
  });
  stopping = true;
  for (const run of [() => admit(CLIENT, null), () => admitWithoutKey(CLIENT)]) {
    const error = refusalOf(run);
    assert.equal(error.message, "tracker is shutting down");
    assert.equal(error.retryIn, RETRY_WHEN_SHUTTING_DOWN);
  }
  // Refusals while stopping took no token: the one request a minute is still there.
  stopping = false;
  admit(CLIENT, "k");
  assert.match(refusalOf(() => admit(CLIENT, "k")).message, /rate limit|too many/i);
});

Deno.test("createAdmission() counts a request against the limit before it checks the passkey", () => {
  const { admit } = createAdmission({
    now,
    rateLimiter: new RateLimiter({ perMinute: 2 }),
    passkeys: () => new Passkeys(["good"]),
  });
  assert.equal(refusalOf(() => admit(CLIENT, "guess")).message, "unknown passkey");
  admit(CLIENT, "good");
  // The guess used a token: the third request is over the limit even with the right key.
  const limited = refusalOf(() => admit(CLIENT, "good"));
  assert.notEqual(limited.message, "unknown passkey");
  assert.ok((limited.retryIn ?? 0) > 0);
});

Deno.test("createAdmission() reads the passkey list per request, as reloads swap it", () => {
  let keys: Passkeys | null = null;
  const { admit, admitWithoutKey } = createAdmission({ now, passkeys: () => keys });
  admit(CLIENT, null);
  keys = new Passkeys(["k"]);
  assert.match(refusalOf(() => admit(CLIENT, null)).message, /needs a passkey/);
  admit(CLIENT, "k");
  // A request that cannot carry a key is left to its transport.
  admitWithoutKey(CLIENT);
});

Deno.test("createAdmission() does not limit a trusted proxy speaking for itself", () => {
  const { admit } = createAdmission({
    now,
    rateLimiter: new RateLimiter({ perMinute: 1 }),
    trustedProxies: CidrSet.parse(["10.0.0.0/8"]),
  });
  for (let i = 0; i < 5; i++) admit(PROXY, null);
  admit(CLIENT, null);
  refusalOf(() => admit(CLIENT, null));
});
