/**
 * Tests for `src/http/client_address.ts`: forwarding headers are believed only from a trusted
 * proxy, `X-Forwarded-For` is read from the right past every trusted hop, and forged or unreadable
 * headers never set the address.
 *
 * @module
 */
import assert from "node:assert/strict";
import { clientAddress, parseForwardedAddress } from "../src/http/client_address.ts";
import { CidrSet } from "../src/protocol/cidr.ts";
import { formatIp, parseIp } from "../src/protocol/ip_address.ts";

const TRUSTED = CidrSet.parse(["10.0.0.0/8", "2001:db8:ffff::/48", "127.0.0.1"]);

function from(connection: string, headers: Record<string, string>, trusted = TRUSTED): string {
  return formatIp(clientAddress(parseIp(connection)!, new Headers(headers), trusted));
}

Deno.test("clientAddress() ignores forwarding headers from an untrusted address", () => {
  // A client forging the headers that a proxy would send.
  const forged = { "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.8" };
  assert.equal(from("203.0.113.5", forged), "203.0.113.5");
  assert.equal(from("2001:db8::5", forged), "2001:db8::5");
  // With no trusted proxy configured, nobody is believed, the proxy's own address included.
  assert.equal(from("10.0.0.2", forged, CidrSet.parse([])), "10.0.0.2");
});

Deno.test("clientAddress() takes X-Forwarded-For from a trusted proxy", () => {
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "198.51.100.7" }), "198.51.100.7");
  assert.equal(from("127.0.0.1", { "x-forwarded-for": "2001:db8::42" }), "2001:db8::42");
  assert.equal(from("::ffff:10.0.0.2", { "x-forwarded-for": "198.51.100.7" }), "198.51.100.7");
});

Deno.test("clientAddress() takes the rightmost X-Forwarded-For entry that is not a trusted proxy", () => {
  // The client prepended a forged entry; the proxy appended what it saw. The forged one loses.
  assert.equal(
    from("10.0.0.2", { "x-forwarded-for": "1.1.1.1, 198.51.100.7" }),
    "198.51.100.7",
  );
  // Two trusted hops (an edge proxy at 10.0.0.9, then nginx at 10.0.0.2).
  assert.equal(
    from("10.0.0.2", { "x-forwarded-for": "1.1.1.1, 198.51.100.7, 10.0.0.9" }),
    "198.51.100.7",
  );
  assert.equal(
    from("10.0.0.2", { "x-forwarded-for": "198.51.100.7,2001:db8:ffff::3" }),
    "198.51.100.7",
  );
  // Every entry trusted: the leftmost is the nearest to the client anyone knows.
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "10.1.1.1, 10.0.0.9" }), "10.1.1.1");
});

Deno.test("clientAddress() reads entries with ports and brackets", () => {
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "198.51.100.7:51413" }), "198.51.100.7");
  assert.equal(
    from("10.0.0.2", { "x-forwarded-for": "[2001:db8::42]:51413" }),
    "2001:db8::42",
  );
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "[2001:db8::42]" }), "2001:db8::42");
});

Deno.test("clientAddress() falls back to the proxy when its header cannot be read", () => {
  for (const value of ["", "unknown", "198.51.100.7, garbage", "1.2.3.4:port", "[::1"]) {
    assert.equal(from("10.0.0.2", { "x-forwarded-for": value }), "10.0.0.2", value);
  }
  // Garbage left of the client's entry does not matter: it is never read.
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "garbage, 198.51.100.7" }), "198.51.100.7");
});

Deno.test("clientAddress() takes X-Real-IP from a trusted proxy without X-Forwarded-For", () => {
  assert.equal(from("10.0.0.2", { "x-real-ip": "198.51.100.8" }), "198.51.100.8");
  assert.equal(from("10.0.0.2", { "x-real-ip": "2001:db8::8" }), "2001:db8::8");
  assert.equal(from("10.0.0.2", { "x-real-ip": "nonsense" }), "10.0.0.2");
  // X-Forwarded-For wins when both are there.
  assert.equal(
    from("10.0.0.2", { "x-forwarded-for": "198.51.100.7", "x-real-ip": "198.51.100.8" }),
    "198.51.100.7",
  );
  assert.equal(from("10.0.0.2", {}), "10.0.0.2");
});

Deno.test("clientAddress() unmaps IPv4-mapped forwarded addresses", () => {
  assert.equal(from("10.0.0.2", { "x-forwarded-for": "::ffff:198.51.100.7" }), "198.51.100.7");
});

Deno.test("clientAddress() reads at most 32 entries of a long X-Forwarded-For", () => {
  const hops = Array.from({ length: 1000 }, () => "10.0.0.1").join(", ");
  assert.equal(from("10.0.0.2", { "x-forwarded-for": `198.51.100.7, ${hops}` }), "10.0.0.1");
});

Deno.test("parseForwardedAddress() refuses host names and bad ports", () => {
  for (const text of ["example.com", "1.2.3.4:", "1.2.3.4:123456", "[::1]x", "[::1]:", "::1]"]) {
    assert.equal(parseForwardedAddress(text), null, text);
  }
});
