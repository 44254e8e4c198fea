import assert from "node:assert/strict";
import { buildScriptLibrary } from "../src/redis/lua_library.ts";

Deno.test("buildScriptLibrary() names the library and registers one function per script", () => {
  const library = buildScriptLibrary();
  const match = /^#!lua name=(nobrake_[0-9a-f]{12})\n/.exec(library.source);
  assert.ok(match, library.source.slice(0, 40));
  const name = match[1];
  assert.deepEqual(Object.values(library.functions).sort(), [
    `${name}_announce`,
    `${name}_drop`,
    `${name}_scrape`,
    `${name}_sweep`,
    `${name}_totals`,
  ]);
  for (const fn of Object.values(library.functions)) {
    assert.ok(library.source.includes(`redis.register_function('${fn}', function(_, ARGV)`), fn);
  }
  assert.ok(!library.source.includes("'@_"));
});

Deno.test("buildScriptLibrary() gives the same source the same name, so loading it again is harmless", () => {
  assert.deepEqual(buildScriptLibrary(), buildScriptLibrary());
});
