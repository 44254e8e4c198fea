/**
 * Announce query parsing (the first thing every HTTP announce costs): `parseAnnounceQuery` on
 * libtorrent-like queries, against `URLSearchParams` reading the same fields as the baseline.
 * `URLSearchParams` is not a correct parser here (it decodes UTF-8 and corrupts binary hashes,
 * see `src/protocol/query.ts`), but it is the one every JavaScript tracker starts from, so the
 * ratio says what byte-exact parsing costs or saves.
 *
 * Run: `deno bench --allow-all tests/bench/query_bench.ts`.
 *
 * @module
 */
import { parseAnnounceQuery, parseAnnounceUrl } from "../../src/protocol/announce_request.ts";
import { parseQuery } from "../../src/protocol/query.ts";
import { Workload } from "./load/workload.ts";

const LIMITS = { numwantDefault: 50, numwantMax: 200 };
const workload = new Workload({ torrents: 100 });
// Many distinct queries, so no string is parsed twice in a row from a cache. Round-tripped
// through bytes so that each is one flat string, as `Deno.serve` hands over `request.url`.
const flat = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text));
const URLS = Array.from(
  { length: 1024 },
  () => flat(`http://127.0.0.1:6969${workload.nextAnnounce().target}`),
);
// The query alone, sliced out of the URL as `rawQueryOf` does.
const QUERIES = URLS.map((url) => url.slice(url.indexOf("?") + 1));
let next = 0;
// Results are summed into a module variable so the engine cannot drop the work as unused.
let sink = 0;

Deno.bench("URLSearchParams, same fields (not byte-exact)", {
  group: "announce query",
  baseline: true,
}, () => {
  const params = new URLSearchParams(QUERIES[next++ & 1023]);
  const infoHash = params.get("info_hash") ?? "";
  const peerId = params.get("peer_id") ?? "";
  sink += infoHash.length + peerId.length + Number(params.get("port")) +
    Number(params.get("left")) + Number(params.get("uploaded")) +
    Number(params.get("downloaded")) + Number(params.get("numwant")) +
    (params.get("event") ?? "").length + (params.get("key") ?? "").length;
});

Deno.bench("parseAnnounceQuery()", { group: "announce query" }, () => {
  const request = parseAnnounceQuery(QUERIES[next++ & 1023], LIMITS);
  sink += request.port + request.infoHash.length;
});

Deno.bench("parseAnnounceUrl() (the query read in place)", { group: "announce query" }, () => {
  const request = parseAnnounceUrl(URLS[next++ & 1023], LIMITS);
  sink += request.port + request.infoHash.length;
});

Deno.bench("parseQuery() only (pairs, no checks)", { group: "announce query" }, () => {
  sink += parseQuery(QUERIES[next++ & 1023])?.length ?? 0;
});
