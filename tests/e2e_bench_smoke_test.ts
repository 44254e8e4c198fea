/**
 * Runs the load benchmark once in `--quick` mode so that it cannot rot: every server it knows
 * starts, answers every phase (HTTP and UDP), and the sampled replies check out. Nothing here looks at a
 * timing; quick-mode figures mean nothing (CI machines are shared and noisy).
 *
 * @module
 */
import assert from "node:assert/strict";

const RUNNER = new URL("./bench/load/run_load.ts", import.meta.url).pathname;

interface SmokeRow {
  server: string;
  phase: string;
  result: { requests: number; errors: number; validated: number; invalid: number };
  strict: { validated: number; invalid: number; firstProblem: string | null } | null;
}

async function hasProgram(name: string): Promise<boolean> {
  const { success } = await new Deno.Command("sh", {
    args: ["-c", `command -v ${name}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

/**
 * Runs `run_load.ts --quick --json` with `extra` flags and returns its JSON report (the last line
 * of its output); fails the test when the runner fails. The runner bounds each of its phases;
 * `backstopMs` bounds the whole run.
 */
async function runQuick(extra: string[], backstopMs: number): Promise<unknown> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", RUNNER, "--quick", "--json", ...extra],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), backstopMs);
  let output: Deno.CommandOutput;
  try {
    output = await child.output();
  } finally {
    clearTimeout(killer);
  }
  const stdout = new TextDecoder().decode(output.stdout);
  assert.ok(
    output.success,
    `run_load.ts failed:\n${stdout}\n${new TextDecoder().decode(output.stderr)}`,
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
}

Deno.test("bench:load --quick runs every server and phase and validates replies", {
  ignore: Deno.build.os !== "linux" || !(await hasProgram("taskset")),
}, async () => {
  const report = await runQuick([], 240_000) as {
    rows: SmokeRow[];
    memory: Array<{ peers: number; rssBytesPerPeer: number }> | null;
  };
  const servers = [
    "floor",
    "nobrake",
    ...((await hasProgram("opentracker")) ? ["opentracker"] : []),
  ];
  for (const server of servers) {
    const phases = [
      "announce keep-alive",
      "announce new connection",
      "scrape keep-alive",
      "udp announce",
    ];
    for (const phase of phases) {
      const row = report.rows.find((row) => row.server === server && row.phase === phase);
      assert.ok(row !== undefined, `no row for ${server}, ${phase}`);
      const where = `${server}, ${phase}`;
      assert.ok(row.result.requests > 0, `${where}: no requests`);
      assert.equal(row.result.errors, 0, `${where}: errors`);
      assert.equal(row.result.invalid, 0, `${where}: invalid sampled replies`);
      assert.ok(row.strict !== null && row.strict.validated > 0, `${where}: nothing validated`);
      assert.equal(row.strict.invalid, 0, `${where}: ${row.strict.firstProblem}`);
    }
  }
  assert.ok(report.memory !== null && report.memory.length === 2, "memory fill did not run");
  for (const fill of report.memory) assert.ok(fill.peers > 0, "memory fill added no peers");
});

Deno.test("bench:load --no-http fills NoBrake over HTTP and runs only the UDP phase", {
  ignore: Deno.build.os !== "linux" || !(await hasProgram("taskset")),
}, async () => {
  const report = await runQuick(["--no-http", "--no-memory"], 120_000) as { rows: SmokeRow[] };
  assert.deepEqual(
    [...new Set(report.rows.map((row) => row.phase))],
    ["udp announce"],
    "an HTTP phase ran",
  );
  const nobrake = report.rows.find((row) => row.server === "nobrake");
  assert.ok(nobrake !== undefined, "no UDP row for NoBrake");
  // Replies are checked against the workload's swarms: an unfilled tracker would fail the check.
  assert.ok(nobrake.strict !== null && nobrake.strict.validated > 0, "nothing validated");
  assert.equal(nobrake.strict.invalid, 0, nobrake.strict.firstProblem ?? "");
  assert.equal(nobrake.result.invalid, 0);
});

Deno.test("compare_versions.ts runs against a checkout (itself here) and prints both paths", async () => {
  const script = new URL("./bench/compare_versions.ts", import.meta.url).pathname;
  const root = new URL("..", import.meta.url).pathname;
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script, "--base", root, "--rounds", "1", "--iterations", "2000"],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.ok(success, new TextDecoder().decode(stderr));
  assert.match(text, /^parseAnnounceUrl: base \d+ ns, this \d+ ns \(\d+\.\d+×\)$/m);
  assert.match(text, /^PeerTable\.sample, 50 of 100: base \d+ ns, this \d+ ns \(\d+\.\d+×\)$/m);
  assert.match(
    text,
    /^Tracker\.announce, 100-peer swarm: base \d+ ns, this \d+ ns \(\d+\.\d+×\)$/m,
  );
});

Deno.test("compare_parsers.ts finds no difference between a checkout and itself, and finds one", async () => {
  const { compareParsers } = await import("./bench/compare_parsers.ts");
  const parsers = {
    announce: await import("../src/protocol/announce_request.ts"),
    scrape: await import("../src/protocol/scrape_request.ts"),
    query: await import("../src/protocol/query.ts"),
  };
  assert.equal(compareParsers(parsers, parsers, 500, 7).differing, 0);
  // A parser that reads `+` as a space, as URLSearchParams does, must be caught.
  const plusAsSpace = {
    ...parsers,
    query: {
      ...parsers.query,
      parseQuery: (q: string) => parsers.query.parseQuery(q.replaceAll("+", " ")),
    },
  };
  const result = compareParsers(parsers, plusAsSpace, 500, 7);
  assert.ok(result.differing > 0, "a changed parser goes unnoticed");
});

Deno.test("stage_times.patch applies to this checkout's src and the timed copy type-checks", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const patch = new URL("./bench/load/stage_times.patch", import.meta.url).pathname;
  const copy = await Deno.makeTempDir({ prefix: "nobrake-stages-" });
  try {
    for (const name of ["src", "main.ts", "deno.json"]) {
      const copied = await new Deno.Command("cp", { args: ["-r", root + name, copy] }).output();
      assert.ok(copied.success, `cp ${name}`);
    }
    const applied = await new Deno.Command("git", { args: ["apply", patch], cwd: copy }).output();
    assert.ok(applied.success, new TextDecoder().decode(applied.stderr));
    // The timers really are in the copy, and nowhere in the tracker itself.
    const handler = await Deno.readTextFile(`${copy}/src/http/handler.ts`);
    assert.match(handler, /announceDone\(\)/);
    assert.doesNotMatch(await Deno.readTextFile(`${root}src/http/handler.ts`), /stage_timer/);
    const checked = await new Deno.Command(Deno.execPath(), {
      args: ["check", "main.ts"],
      cwd: copy,
      stdin: "null",
    }).output();
    assert.ok(checked.success, new TextDecoder().decode(checked.stderr));
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});
