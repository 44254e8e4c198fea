/**
 * A differential check for parser changes: this checkout's query parsers against another
 * checkout's, on libtorrent announce queries mutated at random (chars inserted and deleted, escapes
 * good and bad, keys repeated, chars from 0x80 to 0xff and above, a lone surrogate). Every outcome
 * must be identical: the parsed value, or the error's class and message. Covers
 * `parseAnnounceQuery`, `parseAnnounceUrl`, `parseScrapeQuery` and `parseQuery`. Prints the count
 * and the first differences; exits 1 if any.
 *
 * Run (the other checkout's `src/` extracted from git):
 *
 * ```sh
 * mkdir -p /tmp/base && git archive <commit> src | tar -x -C /tmp/base
 * deno run --allow-read tests/bench/compare_parsers.ts --base /tmp/base [--queries 300000] [--seed 42]
 * ```
 *
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ANNOUNCE_KEYS } from "../../src/protocol/announce_request.ts";
import { seededRandom } from "../support/seeded_random.ts";
import { Workload } from "./load/workload.ts";

type Announce = typeof import("../../src/protocol/announce_request.ts");
type Scrape = typeof import("../../src/protocol/scrape_request.ts");
type Query = typeof import("../../src/protocol/query.ts");

interface Parsers {
  announce: Announce;
  scrape: Scrape;
  query: Query;
}

const LIMITS = { numwantDefault: 50, numwantMax: 200 };
const INSERTED = "%&=+0123456789abcdefABCDEF_xyz \u00e9\u00ff\u0100\u20ac\ud800";

async function load(root: string): Promise<Parsers> {
  const base = new URL(`file://${resolve(root)}/src/protocol/`);
  return {
    announce: await import(new URL("announce_request.ts", base).href),
    scrape: await import(new URL("scrape_request.ts", base).href),
    query: await import(new URL("query.ts", base).href),
  };
}

/** The outcome of a parse as text: the value (bytes as arrays), or the error's class and message. */
function outcome(parse: () => unknown): string {
  try {
    return JSON.stringify(
      parse(),
      (_key, value) => value instanceof Uint8Array ? [...value] : value,
    );
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

/** A libtorrent query with up to five random edits. */
function mutate(query: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  let text = query;
  for (let edits = pick(6); edits > 0; edits--) {
    const at = pick(text.length + 1);
    switch (pick(5)) {
      case 0:
        text = text.slice(0, at) + INSERTED[pick(INSERTED.length)] + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + pick(4));
        break;
      case 2:
        text = `${text.slice(0, at)}&${ANNOUNCE_KEYS[pick(ANNOUNCE_KEYS.length)]}=${
          text.slice(at)
        }`;
        break;
      case 3:
        text = `${text.slice(0, at)}%${pick(256).toString(16).padStart(2, "0")}${text.slice(at)}`;
        break;
      default:
        text += `&${ANNOUNCE_KEYS[pick(ANNOUNCE_KEYS.length)]}=${"%41".repeat(pick(30))}`;
    }
  }
  return text;
}

/** Compares the two sets of parsers on `count` queries; returns the differing queries (at most 5). */
export function compareParsers(
  base: Parsers,
  current: Parsers,
  count: number,
  seed: number,
): { compared: number; differing: number; examples: string[] } {
  const workload = new Workload({ torrents: 50 });
  const random = seededRandom(seed);
  const examples: string[] = [];
  let differing = 0;
  for (let i = 0; i < count; i++) {
    const query = mutate(workload.nextAnnounce().target.slice("/announce?".length), random);
    const url = `http://tracker.example:6969/announce?${query}`;
    const same = (parse: (parsers: Parsers) => unknown) =>
      outcome(() => parse(base)) === outcome(() => parse(current));
    const agree = same((p) => p.announce.parseAnnounceQuery(query, LIMITS)) &&
      same((p) => p.announce.parseAnnounceUrl(url, LIMITS)) &&
      same((p) => p.scrape.parseScrapeQuery(query)) &&
      same((p) => p.query.parseQuery(query));
    if (agree) continue;
    differing++;
    if (examples.length < 5) examples.push(JSON.stringify(query));
  }
  return { compared: count, differing, examples };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      base: { type: "string" },
      queries: { type: "string", default: "300000" },
      seed: { type: "string", default: "42" },
    },
  });
  if (values.base === undefined) throw new Error("--base DIR (another checkout) is required");
  const here = new URL("../..", import.meta.url).pathname;
  const result = compareParsers(
    await load(values.base),
    await load(here),
    Number(values.queries),
    Number(values.seed),
  );
  // deno-lint-ignore no-console
  console.log(`${result.compared} queries, ${result.differing} differ`);
  // deno-lint-ignore no-console
  for (const example of result.examples) console.log(`differs: ${example}`);
  if (result.differing > 0) Deno.exit(1);
}
