import assert from "node:assert/strict";
import { messageOf, oneLineMessageOf } from "../src/protocol/error_message.ts";

Deno.test("messageOf() gives an Error's message and any other thrown value as text", () => {
  assert.equal(messageOf(new TypeError("bad port")), "bad port");
  assert.equal(messageOf("plain text"), "plain text");
  assert.equal(messageOf(42), "42");
  assert.equal(messageOf(undefined), "undefined");
});

Deno.test("oneLineMessageOf() turns every line break into a space", () => {
  assert.equal(oneLineMessageOf(new Error("first\nsecond\nthird")), "first second third");
  assert.equal(oneLineMessageOf("no break"), "no break");
});
