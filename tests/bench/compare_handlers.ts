/**
 * The whole in-memory HTTP announce path (`createHttpHandler` over a `Tracker`, as in
 * `handler_bench.ts`: 100 torrents × 100 peers, the 88/5/2/5 mix) of this checkout against
 * another checkout's, in one process and sitting, rounds alternating between the two. Made for
 * issue 15: the swarm store boundary must leave the memory path synchronous and no slower. The
 * best and the median round of each are printed, with their ratios (the best round is the one
 * least disturbed by other work on the machine).
 *
 * ```sh
 * mkdir -p /tmp/base && git archive <commit> src | tar -x -C /tmp/base
 * taskset -c 0 deno run --allow-read tests/bench/compare_handlers.ts --base /tmp/base [--rounds 15]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { seededRandom } from "../support/seeded_random.ts";
import { USER_AGENT, Workload } from "./load/workload.ts";
import { TEST_HTTP_SETTINGS } from "../support/http_settings.ts";

type HandlerModule = typeof import("../../src/http/handler.ts");
type TrackerModule = typeof import("../../src/core/tracker.ts");
type LoggerModule = typeof import("../../src/runtime/logger.ts");
type Handler = (request: Request, info: { remoteAddr: { hostname: string } }) => Response;

const INFO = { remoteAddr: { hostname: "127.0.0.1" } };
const HEADERS = { "user-agent": USER_AGENT, "accept-encoding": "gzip" };
const CALLS_PER_ROUND = 200_000;

async function handlerOf(root: string): Promise<{ handler: Handler; requests: Request[] }> {
  const http: HandlerModule = await import(`${root}/http/handler.ts`);
  const core: TrackerModule = await import(`${root}/core/tracker.ts`);
  const log: LoggerModule = await import(`${root}/runtime/logger.ts`);
  const handler = http.createHttpHandler({
    tracker: new core.Tracker({ expirySeconds: 3600, random: seededRandom(1) }),
    settings: TEST_HTTP_SETTINGS,
    logger: log.createMemoryLogger(),
    version: "bench",
    now: () => 1_700_000_000_000,
  }) as Handler;
  const workload = new Workload({ torrents: 100 });
  const request = (target: string) =>
    new Request(`http://127.0.0.1:6969${target}`, { headers: HEADERS });
  for (let planned = workload.nextPrefill(); planned !== null; planned = workload.nextPrefill()) {
    handler(request(planned.target), INFO);
  }
  const requests = Array.from({ length: 1024 }, () => request(workload.nextAnnounce().target));
  return { handler, requests };
}

function round(version: { handler: Handler; requests: Request[] }): number {
  const { handler, requests } = version;
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < CALLS_PER_ROUND; i++) sink += handler(requests[i & 1023], INFO).status;
  const elapsed = performance.now() - started;
  if (sink === 0) throw new Error("no replies");
  return (elapsed * 1000) / CALLS_PER_ROUND;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const { values } = parseArgs({
  args: Deno.args,
  options: { base: { type: "string" }, rounds: { type: "string", default: "15" } },
});
if (values.base === undefined) throw new Error("--base <dir holding src/> is required");
const here = await handlerOf(new URL("../../src", import.meta.url).href);
const base = await handlerOf(`file://${resolve(values.base)}/src`);
const times = { base: [] as number[], here: [] as number[] };
for (let i = 0; i < Number(values.rounds); i++) {
  // Alternating which goes first, so neither always runs on a cache the other warmed.
  if (i % 2 === 0) {
    times.base.push(round(base));
    times.here.push(round(here));
  } else {
    times.here.push(round(here));
    times.base.push(round(base));
  }
}
const row = (name: string, pick: (values: number[]) => number) =>
  `  ${name}: base ${pick(times.base).toFixed(3)}  this checkout ${pick(times.here).toFixed(3)}` +
  `  ratio this/base ${(pick(times.here) / pick(times.base)).toFixed(3)}`;
const lines = [
  `announce, ${values.rounds} rounds of ${CALLS_PER_ROUND} calls each (µs per call):`,
  row("best", (values) => Math.min(...values)),
  row("median", median),
];
Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
