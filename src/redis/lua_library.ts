/**
 * The store's scripts as one Redis Functions library (`FUNCTION LOAD`, run with `FCALL`). A
 * library's helpers are made once when it loads; an `EVALSHA` script makes every helper function
 * again on every call, which cost redis-server about 2 µs per announce (`tests/bench/README.md`,
 * "Redis store").
 *
 * The library and its functions are named after a hash of the source, so processes running
 * different versions of NoBrake on one Redis never replace each other's functions.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  ANNOUNCE_SCRIPT,
  DROP_SCRIPT,
  HELPERS,
  SCRAPE_SCRIPT,
  SWEEP_SCRIPT,
  TOTALS_SCRIPT,
} from "./lua_scripts.ts";

/** The scripts the store runs. */
export type ScriptName = "announce" | "scrape" | "sweep" | "drop" | "totals";

/** A library ready for `FUNCTION LOAD`, and the name of each script's function in it. */
export interface ScriptLibrary {
  /** The library's source, with its `#!lua name=…` first line. */
  source: string;
  /** The function to `FCALL` for each script. */
  functions: Record<ScriptName, string>;
}

const BODIES: Record<ScriptName, string> = {
  announce: ANNOUNCE_SCRIPT,
  scrape: SCRAPE_SCRIPT,
  sweep: SWEEP_SCRIPT,
  drop: DROP_SCRIPT,
  totals: TOTALS_SCRIPT,
};

/** What every function does first: the per-call values the helpers read. */
const PER_CALL = "P, band, bor, bnot = ARGV[1], bit.band, bit.bor, bit.bnot\n";

/** Builds the library of the store's scripts. */
export function buildScriptLibrary(): ScriptLibrary {
  const names = Object.keys(BODIES) as ScriptName[];
  const code = HELPERS +
    names.map((name) =>
      `redis.register_function('@_${name}', function(_, ARGV)\n${PER_CALL}${BODIES[name]}\nend)\n`
    ).join("");
  const library = `nobrake_${createHash("sha1").update(code).digest("hex").slice(0, 12)}`;
  const functions = {} as Record<ScriptName, string>;
  for (const name of names) functions[name] = `${library}_${name}`;
  return {
    source: `#!lua name=${library}\n${code.replaceAll("'@_", `'${library}_`)}`,
    functions,
  };
}
