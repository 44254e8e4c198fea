/**
 * Tests for passkeys: where a key sits in a URL (`src/protocol/passkey.ts`), the key file's
 * syntax and the check (`src/core/passkeys.ts`), and reading the file
 * (`src/runtime/passkey_loader.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ClientError } from "../src/protocol/client_error.ts";
import { Passkeys, requirePasskey } from "../src/core/passkeys.ts";
import { passkeyFromPath, passkeyFromQuery, splitPasskeyPath } from "../src/protocol/passkey.ts";
import { loadPasskeys } from "../src/runtime/passkey_loader.ts";

Deno.test("splitPasskeyPath() takes the key out of /announce/<key> and /<key>/announce", () => {
  assert.deepEqual(splitPasskeyPath("/announce/abc123"), { path: "/announce", key: "abc123" });
  assert.deepEqual(splitPasskeyPath("/abc123/announce"), { path: "/announce", key: "abc123" });
  assert.deepEqual(splitPasskeyPath("/scrape/a-b_c.d~e"), { path: "/scrape", key: "a-b_c.d~e" });
  assert.deepEqual(splitPasskeyPath("/a-b/scrape"), { path: "/scrape", key: "a-b" });
});

Deno.test("splitPasskeyPath() leaves every other path alone", () => {
  for (
    const path of [
      "/announce",
      "/scrape",
      "/",
      "/stats",
      "/stats/abc",
      "/announce/",
      "/announce/a/b",
      "/x/y/announce",
      "/announce/a%20b",
      `/announce/${"k".repeat(129)}`,
      "//announce",
    ]
  ) {
    assert.deepEqual(splitPasskeyPath(path), { path, key: null }, path);
  }
});

Deno.test("passkeyFromQuery() finds the first well-formed passkey", () => {
  assert.equal(passkeyFromQuery("info_hash=%01&passkey=k1&port=1"), "k1");
  assert.equal(passkeyFromQuery("passkey=k1&passkey=k2"), "k1");
  assert.equal(passkeyFromQuery("port=1"), null);
  assert.equal(passkeyFromQuery(""), null);
  assert.equal(passkeyFromQuery("passkey="), null);
  assert.equal(passkeyFromQuery("passkey=a%20b"), null);
  assert.equal(passkeyFromQuery("xpasskey=k1"), null);
});

Deno.test("passkeyFromPath() reads the path first, then the query (HTTP and BEP 41 URL data)", () => {
  assert.equal(passkeyFromPath("/announce/k1?passkey=k2"), "k1");
  assert.equal(passkeyFromPath("/k1/announce"), "k1");
  assert.equal(passkeyFromPath("/announce?info_hash=%01&passkey=k2"), "k2");
  assert.equal(passkeyFromPath("/announce"), null);
  assert.equal(passkeyFromPath("/announce?port=1"), null);
  assert.equal(passkeyFromPath(""), null);
});

Deno.test("Passkeys.parse() reads keys, comments and blank lines, and reports bad lines", () => {
  const text = [
    "# members",
    "alice-1f3a",
    "  bob_77  ",
    "",
    "carol # joined in May",
    "not a key",
    "dave#1",
    "\teve.x~",
    "",
  ].join("\r\n");
  const { passkeys, skipped } = Passkeys.parse(text);
  assert.equal(passkeys.size, 4);
  for (const key of ["alice-1f3a", "bob_77", "carol", "eve.x~"]) assert.ok(passkeys.has(key), key);
  assert.ok(!passkeys.has("not a key"));
  assert.deepEqual(skipped.map((s) => s.line), [6, 7]);
});

Deno.test("requirePasskey() refuses a missing or unknown key, without echoing it", () => {
  const { passkeys } = Passkeys.parse("good\n");
  requirePasskey(passkeys, "good");
  requirePasskey(null, null);
  requirePasskey(null, "anything");
  for (const key of [null, "bad"]) {
    assert.throws(() => requirePasskey(passkeys, key), (error) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.reason, "not_allowed");
      assert.equal(error.retryIn, null);
      assert.ok(!error.message.includes("bad"));
      return true;
    });
  }
});

Deno.test("loadPasskeys() reads a file and names it when it cannot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-passkeys-" });
  try {
    const path = join(dir, "passkeys.txt");
    await Deno.writeTextFile(path, "k1\nk2\n!\n");
    const loaded = await loadPasskeys(path);
    assert.equal(loaded.passkeys.size, 2);
    assert.equal(loaded.skipped.length, 1);
    await assert.rejects(
      () => loadPasskeys(join(dir, "missing.txt")),
      { message: `cannot read passkey file "${join(dir, "missing.txt")}": no such file` },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
