/**
 * The operator endpoints of the HTTP transport: `/stats` (HTML), `/stats.json` and `/metrics`
 * (Prometheus). Each takes a snapshot from the core and hands it to a pure renderer; this file
 * only reads the query, applies the switches (`nostats`, `nometrics`, `stats_hide_peers`) and sets
 * headers. `createHttpHandler` delegates these paths here.
 *
 * @module
 */
import type { StatsCounters } from "./stats_counters.ts";
import { trackerTotals } from "./stats_totals.ts";
import { takeStatsSnapshot } from "./stats_view.ts";
import type { SwarmHistory } from "./swarm_history.ts";
import type { Tracker } from "../core/tracker.ts";
import type { ByteString } from "../protocol/byte_string.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";
import { formatIp } from "../protocol/ip_address.ts";
import { parseQuery, rawQueryOf } from "../protocol/query.ts";
import type { Logger } from "../runtime/logger.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { renderStatsJson } from "./stats_json.ts";
import { renderStatsPage } from "./stats_page.ts";

/** Peers listed per torrent on the full list, and on a page naming one `info_hash`. */
export const PEERS_PER_TORRENT = { listed: 50, alone: 1000 } as const;

/** What the stats endpoints need. */
export interface StatsRoutesDeps {
  tracker: Tracker;
  counters: StatsCounters;
  /** Swarm sizes over the last hour; `null` draws charts of the current size only. */
  history: SwarmHistory | null;
  settings: {
    /** `/stats` and `/stats.json` answer 404. */
    nostats: boolean;
    /** `/metrics` answers 404. */
    nometrics: boolean;
    /** Leave peer addresses out of `/stats` and `/stats.json`. */
    hidePeers: boolean;
  };
  logger: Logger;
  version: string;
  now: () => number;
}

/** A handler for one of the stats paths, or `null` when `path` is not one of them. */
export type StatsRoutes = (path: string, url: string, connection: Uint8Array) => Response | null;

const NO_STORE = { "cache-control": "no-store" };
const HTML_HEADERS = {
  ...NO_STORE,
  "content-type": "text/html; charset=utf-8",
  // The page has no script and loads nothing; say so, in case an escape is ever missed.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
};
const JSON_HEADERS = {
  ...NO_STORE,
  "content-type": "application/json; charset=utf-8",
  "x-content-type-options": "nosniff",
};

/** Builds the stats endpoints. */
export function createStatsRoutes(deps: StatsRoutesDeps): StatsRoutes {
  const { tracker, counters, history, settings, logger, version, now } = deps;

  function stats(url: string, connection: Uint8Array, format: "html" | "json"): Response {
    const params = parseQuery(rawQueryOf(url));
    if (params === null) return badRequest(format, "malformed query");
    const filter = params.find((param) => param.key === "info_hash")?.value ?? null;
    // Caps and the pager follow the parsed hash, never the raw text: an empty or short value
    // once lifted the peer cap of every torrent on the page (issue 14).
    if (filter !== null && filter.length !== 20) return badRequest(format, BAD_INFO_HASH_MESSAGE);
    const infoHash: ByteString | null = filter;
    const pageText = params.find((param) => param.key === "page")?.value ?? "";
    const at = now();
    const snapshot = takeStatsSnapshot(tracker, {
      infoHash,
      now: at,
      page: /^[0-9]{1,9}$/.test(pageText) ? Number(pageText) : 1,
      maxPeers: infoHash === null ? PEERS_PER_TORRENT.listed : PEERS_PER_TORRENT.alone,
      hidePeerAddresses: settings.hidePeers,
      counters,
      history: history ?? undefined,
    });
    logger.log(
      "stats",
      `${formatIp(connection)} ${infoHash === null ? "all" : byteStringToHex(infoHash)}`,
    );
    if (format === "json") {
      return new Response(renderStatsJson(snapshot, { version }), { headers: JSON_HEADERS });
    }
    const html = renderStatsPage(snapshot, { version, filtered: infoHash !== null });
    return new Response(html, { headers: HTML_HEADERS });
  }

  function metrics(): Response {
    const text = renderMetrics({
      counters: counters.snapshot(now()),
      totals: trackerTotals(tracker),
      version,
    });
    return new Response(text, { headers: { ...NO_STORE, "content-type": METRICS_CONTENT_TYPE } });
  }

  return (path, url, connection) => {
    switch (path) {
      case "/stats":
        return settings.nostats ? notFound() : stats(url, connection, "html");
      case "/stats.json":
        return settings.nostats ? notFound() : stats(url, connection, "json");
      case "/metrics":
        return settings.nometrics ? notFound() : metrics();
      default:
        return null;
    }
  };
}

/** The message a malformed `info_hash` filter is answered with. */
export const BAD_INFO_HASH_MESSAGE = "info_hash must be 20 percent-encoded bytes";

/** A 400 in the endpoint's own format, so a script reading `/stats.json` still gets JSON. */
function badRequest(format: "html" | "json", message: string): Response {
  if (format === "json") {
    return new Response(JSON.stringify({ error: message }), { status: 400, headers: JSON_HEADERS });
  }
  return new Response(`${message}\n`, {
    status: 400,
    headers: { ...NO_STORE, "content-type": "text/plain; charset=utf-8" },
  });
}

function notFound(): Response {
  return new Response("not found\n", { status: 404 });
}
