/**
 * Tests for `tests/support/client_crash.ts`: a crashed real client is told apart from any other
 * failure, and a case is run once more only for a crash.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ClientCrashed,
  crashIn,
  isCrash,
  retryOnceIfClientCrashed,
  throwIfCrashed,
} from "./support/client_crash.ts";

const status = (code: number, signal: Deno.Signal | null = null): Deno.CommandStatus => ({
  success: code === 0,
  code,
  signal,
});

Deno.test("isCrash() is true for a segfault, by signal or by a shell's 139, and false otherwise", () => {
  assert.equal(isCrash(status(139, "SIGSEGV")), true);
  assert.equal(isCrash(status(139)), true);
  assert.equal(isCrash(status(134, "SIGABRT")), true);
  assert.equal(isCrash(status(0)), false);
  assert.equal(isCrash(status(1)), false);
  // A stop the test sent is not a crash.
  assert.equal(isCrash(status(143, "SIGTERM")), false);
  assert.equal(isCrash(status(137, "SIGKILL")), false);
});

Deno.test("throwIfCrashed() throws ClientCrashed for a crash only; crashIn() finds it as a cause", () => {
  throwIfCrashed(status(1), "a leecher");
  assert.throws(() => throwIfCrashed(status(139, "SIGSEGV"), "a leecher", "tail"), (error) => {
    assert.ok(error instanceof ClientCrashed);
    assert.match(error.message, /a leecher crashed \(exit 139, signal SIGSEGV\)\ntail/);
    const wrapped = new Error("leecher 1: ...", { cause: error });
    assert.equal(crashIn(wrapped), error);
    return true;
  });
  assert.equal(crashIn(new Error("timeout")), null);
});

Deno.test("retryOnceIfClientCrashed() runs again after a crash, never after another failure", async () => {
  let runs = 0;
  const retried: string[] = [];
  await retryOnceIfClientCrashed(() => {
    runs++;
    if (runs === 1) throw new Error("wrapped", { cause: new ClientCrashed("lt crashed") });
    return Promise.resolve();
  }, (crash) => retried.push(crash.message));
  assert.equal(runs, 2);
  assert.deepEqual(retried, ["lt crashed"]);

  // Another failure is thrown at once; a second crash is thrown too.
  let others = 0;
  await assert.rejects(
    retryOnceIfClientCrashed(() => {
      others++;
      return Promise.reject(new Error("download timed out"));
    }, () => assert.fail("no retry for a timeout")),
    /download timed out/,
  );
  assert.equal(others, 1);
  let crashes = 0;
  await assert.rejects(
    retryOnceIfClientCrashed(() => {
      crashes++;
      return Promise.reject(new ClientCrashed("again"));
    }, () => {}),
    ClientCrashed,
  );
  assert.equal(crashes, 2);
});
