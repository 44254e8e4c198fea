/**
 * The per-address connection cap of docs/deploy.md ("Connection cap without a proxy"; README.md
 * "Deploy" links to it): the nftables ruleset in the fenced block right after
 * `<!-- nft-conn-cap -->`, loaded as it is. The test makes its own network namespace
 * (`ip netns add`), brings its loopback up with two addresses of its own, loads the ruleset there,
 * runs the tracker there on the ruleset's port, and from inside the namespace
 * (`support/conn_cap_probe.ts`) opens more connections than the cap from one address: exactly the
 * cap get in and are served, the rest are refused, and the other address still gets in. Before the
 * ruleset is loaded, as many connections from a third address all get in, so the refusals are the
 * ruleset's doing. No traffic leaves the namespace; it is deleted afterwards.
 *
 * Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), `ip` (iproute2) and `nft` (nftables): where
 * they are missing or not permitted the test is ignored, its name saying why.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { ProbeResult } from "./support/conn_cap_probe.ts";
import { TrackerProcess } from "./support/tracker_process.ts";

const MARKER = "<!-- nft-conn-cap -->";
const PROBE = fileURLToPath(new URL("./support/conn_cap_probe.ts", import.meta.url));
const COMMAND_TIMEOUT_MS = 30_000;
/** Addresses on the namespace's loopback; a connection to one of them comes from it. */
const CAPPED = "10.99.0.1";
const OTHER = "10.99.0.2";
const UNCAPPED = "10.99.0.3";
/** Connections tried beyond the cap. */
const EXTRA = 3;

/** The ruleset as the docs give it (README.md, or a page of docs/ should the README be split). */
async function rulesetFromDocs(): Promise<string> {
  const files = [new URL("../README.md", import.meta.url)];
  try {
    for await (const entry of Deno.readDir(new URL("../docs/", import.meta.url))) {
      if (entry.isFile && entry.name.endsWith(".md")) {
        files.push(new URL(`../docs/${entry.name}`, import.meta.url));
      }
    }
  } catch { /* no docs/ folder: the README alone */ }
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const at = text.indexOf(MARKER);
    if (at < 0) continue;
    const block = text.slice(at + MARKER.length).match(/^\s*```nft\n([\s\S]*?)\n```/);
    assert.ok(block !== null, `no \`\`\`nft block right after ${MARKER} in ${file.pathname}`);
    return block[1] + "\n";
  }
  throw new Error(`no ${MARKER} marker in README.md or docs/`);
}

/** Runs a command to its end; its output, or an Error naming it with its stderr. */
async function run(command: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const result = await child.output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${result.code}: ${decoder.decode(result.stderr).trim()}`,
    );
  }
  return decoder.decode(result.stdout);
}

/** Why the test cannot run here, or null: tries what it needs in a throwaway namespace. */
async function missing(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "Linux only";
  const name = `nobrake-probe-${Deno.pid}`;
  try {
    await run("ip", ["netns", "add", name]);
  } catch (error) {
    return `cannot make a network namespace (${(error as Error).message})`;
  }
  try {
    await run("ip", ["netns", "exec", name, "nft", "list", "ruleset"]);
    return null;
  } catch (error) {
    return `cannot run nft in a network namespace (${(error as Error).message})`;
  } finally {
    await run("ip", ["netns", "delete", name]).catch(() => {});
  }
}

const MISSING = await missing();

/** Runs the probe in `netns` and returns what it saw. */
async function probe(netns: string, capped: string, port: number, count: number) {
  const output = await run("ip", [
    "netns",
    "exec",
    netns,
    Deno.execPath(),
    "run",
    "--allow-net",
    PROBE,
    capped,
    OTHER,
    String(port),
    String(count),
  ]);
  return JSON.parse(output) as ProbeResult;
}

Deno.test({
  name: MISSING === null
    ? "the nftables rule of the docs caps TCP connections per address, and only per address"
    : `the nftables rule of the docs caps TCP connections per address (skipped: ${MISSING})`,
  ignore: MISSING !== null,
  async fn() {
    const ruleset = await rulesetFromDocs();
    const cap = Number(ruleset.match(/ct count over (\d+)/)?.[1]);
    const port = Number(ruleset.match(/tcp dport (\d+)/)?.[1]);
    assert.ok(cap > 0 && port > 0, `the ruleset names no cap or port:\n${ruleset}`);
    const netns = `nobrake-cap-${Deno.pid}`;
    const dir = await Deno.makeTempDir({ prefix: "nobrake-nft-" });
    await run("ip", ["netns", "add", netns]);
    let tracker: TrackerProcess | null = null;
    try {
      const inside = (...args: string[]) => run("ip", ["netns", "exec", netns, ...args]);
      await inside("ip", "link", "set", "lo", "up");
      for (const address of [CAPPED, OTHER, UNCAPPED]) {
        await inside("ip", "address", "add", `${address}/32`, "dev", "lo");
      }
      const config = `${dir}/tracker.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          ip: "0.0.0.0",
          port,
          allowed: "*",
          interval: 60,
          expiry: 120,
          udp: false,
          state_file: null,
        }),
      );
      tracker = new TrackerProcess([config], { netns });
      assert.equal(await tracker.port(), port);

      // Without the ruleset every connection gets in: what follows is the ruleset's doing.
      const before = await probe(netns, UNCAPPED, port, cap + EXTRA);
      assert.deepEqual(before.attempts, Array(cap + EXTRA).fill("open"));

      await run("ip", ["netns", "exec", netns, "nft", "-f", "-"], ruleset);
      const after = await probe(netns, CAPPED, port, cap + EXTRA);
      assert.deepEqual(after.attempts, [
        ...Array(cap).fill("open"),
        ...Array(EXTRA).fill("ConnectionRefused"),
      ]);
      assert.match(after.heldServed, /^HTTP\/1\.1 200 /, "a connection under the cap is served");
      assert.match(after.otherServed, /^HTTP\/1\.1 200 /, "another address still gets in");
    } finally {
      await tracker?.close();
      await run("ip", ["netns", "delete", netns]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
