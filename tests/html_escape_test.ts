import assert from "node:assert/strict";
import { escapeHtml } from "../src/stats/html_escape.ts";

Deno.test("escapeHtml() escapes the five special characters", () => {
  assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
});

Deno.test("escapeHtml() escapes an ampersand once, before other entities", () => {
  assert.equal(escapeHtml("&lt;"), "&amp;lt;");
  assert.equal(escapeHtml("a & <b>"), "a &amp; &lt;b&gt;");
});

Deno.test("escapeHtml() leaves plain and non-ASCII text alone", () => {
  assert.equal(escapeHtml("Ubuntu 24.04 — ü 日本"), "Ubuntu 24.04 — ü 日本");
  assert.equal(escapeHtml(""), "");
});

Deno.test("escapeHtml() neutralises an attribute breakout", () => {
  assert.equal(
    escapeHtml(`"><img src=x onerror=alert(1)>`),
    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
  );
});
