/**
 * Tests for the HTTP handler's access rules, without a socket: the client address behind trusted
 * proxies (and a forged header from anyone else), passkeys in the path or the query for announce
 * and scrape, and BEP 31 `retry in` once the tracker is shutting down.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Passkeys } from "../src/core/passkeys.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler, type HttpHandlerDeps } from "../src/http/handler.ts";
import { CidrSet } from "../src/protocol/cidr.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import {
  decodeDict,
  percentEncodeAll,
  splitCompact,
  textOf,
} from "./support/http_tracker_client.ts";
import { TEST_HTTP_SETTINGS } from "./support/http_settings.ts";

const SETTINGS = TEST_HTTP_SETTINGS;
const HASH = percentEncodeAll(new Uint8Array(20).fill(0xab));

function query(peer: number): string {
  return `info_hash=${HASH}&peer_id=${percentEncodeAll(new Uint8Array(20).fill(peer))}` +
    `&port=${6000 + peer}&left=5`;
}

function handlerWith(extra: Partial<HttpHandlerDeps> = {}) {
  return createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger: createMemoryLogger(),
    version: "test",
    now: () => 1_000_000,
    ...extra,
  });
}

async function reply(response: Response) {
  return decodeDict(new Uint8Array(await response.arrayBuffer()));
}

function from(hostname: string) {
  return { remoteAddr: { hostname } };
}

Deno.test("handler: a trusted proxy's X-Forwarded-For sets the listed and external address", async () => {
  const handler = handlerWith({ trustedProxies: CidrSet.parse(["10.0.0.0/8"]) });
  const first = await reply(handler(
    new Request(`http://t/announce?${query(1)}`, {
      headers: { "x-forwarded-for": "203.0.113.9, 198.51.100.7" },
    }),
    from("10.1.2.3"),
  ));
  assert.deepEqual(first.get("external ip"), new Uint8Array([198, 51, 100, 7]));
  const second = await reply(
    handler(new Request(`http://t/announce?${query(2)}`), from("192.0.2.2")),
  );
  assert.deepEqual(splitCompact(second.get("peers") as Uint8Array, 4), [
    { ip: "198.51.100.7", port: 6001 },
  ]);
});

Deno.test("handler: a forged X-Forwarded-For from an untrusted address is ignored", async () => {
  const handler = handlerWith({ trustedProxies: CidrSet.parse(["10.0.0.0/8"]) });
  const forged = { "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.8" };
  const first = await reply(
    handler(new Request(`http://t/announce?${query(1)}`, { headers: forged }), from("192.0.2.66")),
  );
  assert.deepEqual(first.get("external ip"), new Uint8Array([192, 0, 2, 66]));
  // Without trusted_proxies, nobody's header is read.
  const open = await reply(
    handlerWith()(
      new Request(`http://t/announce?${query(1)}`, { headers: forged }),
      from("10.0.0.1"),
    ),
  );
  assert.deepEqual(open.get("external ip"), new Uint8Array([10, 0, 0, 1]));
});

Deno.test("handler: with passkeys, announce and scrape need a listed key in path or query", async () => {
  const { passkeys } = Passkeys.parse("member1\nmember2\n");
  const handler = handlerWith({ passkeys: () => passkeys });
  const peer = from("192.0.2.1");
  for (const url of [`/announce/member1?${query(1)}`, `/member2/announce?${query(1)}`]) {
    const ok = await reply(handler(new Request(`http://t${url}`), peer));
    assert.equal(ok.get("failure reason"), undefined, url);
    assert.equal(ok.get("complete"), 0);
  }
  const viaQuery = await reply(
    handler(new Request(`http://t/announce?${query(2)}&passkey=member1`), peer),
  );
  assert.equal(viaQuery.get("failure reason"), undefined);
  assert.ok(viaQuery.get("peers") instanceof Uint8Array);

  for (
    const [url, reason] of [
      [`/announce?${query(3)}`, "this tracker needs a passkey in the announce URL"],
      [`/announce/stranger?${query(3)}`, "unknown passkey"],
      [`/announce?${query(3)}&passkey=stranger`, "unknown passkey"],
      [`/scrape`, "this tracker needs a passkey in the announce URL"],
      [`/scrape/stranger`, "unknown passkey"],
    ]
  ) {
    const refused = await reply(handler(new Request(`http://t${url}`), peer));
    assert.equal(textOf(refused, "failure reason"), reason, url);
    assert.equal(refused.get("peers"), undefined, "no peer list");
    assert.equal(refused.get("retry in"), undefined);
  }
  for (const url of [`/scrape/member1`, `/member2/scrape`, `/scrape?passkey=member1`]) {
    const separator = url.includes("?") ? "&" : "?";
    const scraped = await reply(
      handler(new Request(`http://t${url}${separator}info_hash=${HASH}`), peer),
    );
    assert.ok(scraped.get("files") !== undefined, url);
  }
});

Deno.test("handler: without passkeys, a key path is not an announce", async () => {
  const response = handlerWith()(new Request(`http://t/announce/key?${query(1)}`), from("::1"));
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("handler: a passkey list swapped in applies to the next request", async () => {
  let current = Passkeys.parse("old\n").passkeys;
  const handler = handlerWith({ passkeys: () => current });
  const announce = async (key: string) =>
    textOf(
      await reply(handler(new Request(`http://t/announce/${key}?${query(1)}`), from("::1"))),
      "failure reason",
    );
  assert.equal(await announce("old"), undefined);
  current = Passkeys.parse("new\n").passkeys;
  assert.equal(await announce("old"), "unknown passkey");
  assert.equal(await announce("new"), undefined);
});

Deno.test("handler: while shutting down, announce and scrape get BEP 31 retry in", async () => {
  let stopping = false;
  const handler = handlerWith({ shuttingDown: () => stopping });
  const ok = await reply(handler(new Request(`http://t/announce?${query(1)}`), from("::1")));
  assert.equal(ok.get("failure reason"), undefined);
  stopping = true;
  for (const path of [`/announce?${query(1)}`, `/scrape`]) {
    const refused = await reply(handler(new Request(`http://t${path}`), from("::1")));
    assert.equal(textOf(refused, "failure reason"), "tracker is shutting down", path);
    assert.equal(refused.get("retry in"), 1, "one minute");
  }
});
