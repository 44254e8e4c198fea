/**
 * The HTTP transport: `createHttpHandler(deps)` returns a plain `(Request, info) → Response`
 * handler for `/announce`, `/scrape` and `/stats`. It parses at the edge, calls the core, and
 * encodes the reply. A `ClientError` becomes a bencoded `failure reason`; anything else is logged
 * and answered as an internal error, and the server goes on.
 *
 * @module
 */
import { ClientError } from "../core/client_error.ts";
import { takeStatsSnapshot } from "../core/stats_view.ts";
import type { Tracker } from "../core/tracker.ts";
import type { AnnounceRequest } from "../core/types.ts";
import { parseAnnounceQuery } from "../protocol/announce_request.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";
import { encodeAnnounceReply, encodeFailure, encodeScrapeReply } from "../protocol/http_reply.ts";
import { formatIp, parseIp } from "../protocol/ip_address.ts";
import { parseQuery, rawQueryOf } from "../protocol/query.ts";
import { parseScrapeQuery } from "../protocol/scrape_request.ts";
import type { Logger } from "../runtime/logger.ts";
import { renderStatsPage } from "./stats_page.ts";

/** The settings the HTTP transport reads (a subset of the config, already resolved). */
export interface HttpSettings {
  interval: number;
  minInterval: number;
  numwantDefault: number;
  numwantMax: number;
  /** Let `ip=`/`ipv4=`/`ipv6=` set the listed address. */
  trustIpParam: boolean;
  noscrape: boolean;
  nostats: boolean;
  /** Log a `client` line per announce and a `scrape` line per scrape. */
  logAnnounces: boolean;
}

/** What the handler needs. */
export interface HttpHandlerDeps {
  tracker: Tracker;
  settings: HttpSettings;
  logger: Logger;
  version: string;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** The part of `Deno.ServeHandlerInfo` the handler reads. */
export interface ConnectionInfo {
  remoteAddr: { hostname: string };
}

/** A `Deno.serve` handler. */
export type HttpHandler = (request: Request, info: ConnectionInfo) => Response;

const BENCODE_HEADERS = { "content-type": "text/plain; charset=iso-8859-1" };
const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  // The page has no script and loads nothing; say so, in case an escape is ever missed.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
};

/** Builds the handler. */
export function createHttpHandler(deps: HttpHandlerDeps): HttpHandler {
  const { tracker, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const limits = { numwantDefault: settings.numwantDefault, numwantMax: settings.numwantMax };

  function announce(request: Request, url: string, connection: Uint8Array): Response {
    const parsed = parseAnnounceQuery(rawQueryOf(url), limits);
    const listed = settings.trustIpParam ? claimedAddress(parsed) : null;
    const address = listed ?? connection;
    const result = tracker.announce({
      request: parsed,
      address,
      connectionAddress: listed !== null && !sameBytes(listed, connection) ? connection : null,
      userAgent: request.headers.get("user-agent") ?? "",
      wantPeerIds: !parsed.compact && !parsed.noPeerId,
    }, now());
    if (settings.logAnnounces) {
      logger.log(
        "client",
        `${formatIp(connection)} ${byteStringToHex(parsed.infoHash)} ${parsed.event} ` +
          `${byteStringToHex(parsed.peerId)} ${
            formatIp(address)
          }:${parsed.port} left=${parsed.left}`,
      );
    }
    const body = encodeAnnounceReply(result, {
      interval: settings.interval,
      minInterval: settings.minInterval,
      compact: parsed.compact,
      noPeerId: parsed.noPeerId,
      externalIp: connection,
    });
    return new Response(body, { headers: BENCODE_HEADERS });
  }

  function scrape(url: string, connection: Uint8Array): Response {
    if (settings.noscrape) return notFound();
    const hashes = parseScrapeQuery(rawQueryOf(url));
    const entries = tracker.scrape(hashes);
    if (settings.logAnnounces) {
      logger.log("scrape", `${formatIp(connection)} ${hashes === null ? "all" : hashes.length}`);
    }
    return new Response(encodeScrapeReply(entries), { headers: BENCODE_HEADERS });
  }

  function stats(url: string, connection: Uint8Array): Response {
    if (settings.nostats) return notFound();
    const params = parseQuery(rawQueryOf(url));
    if (params === null) return new Response("malformed query\n", { status: 400 });
    const filter = params.find((param) => param.key === "info_hash")?.value ?? null;
    const infoHash = filter !== null && filter.length === 20 ? filter : null;
    const snapshot = takeStatsSnapshot(tracker, { infoHash, now: now() });
    logger.log(
      "stats",
      `${formatIp(connection)} ${infoHash === null ? "all" : byteStringToHex(infoHash)}`,
    );
    const html = renderStatsPage(snapshot, { version: deps.version, filtered: filter !== null });
    return new Response(html, { headers: HTML_HEADERS });
  }

  return (request, info) => {
    const url = request.url;
    try {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("method not allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      const connection = parseIp(info.remoteAddr.hostname);
      if (connection === null) {
        throw new Error(`unparsable peer address "${info.remoteAddr.hostname}"`);
      }
      switch (pathOf(url)) {
        case "/announce":
          return announce(request, url, connection);
        case "/scrape":
          return scrape(url, connection);
        case "/stats":
          return stats(url, connection);
        default:
          return notFound();
      }
    } catch (error) {
      if (error instanceof ClientError) {
        if (logger.debugEnabled) {
          logger.log("debug", `refused ${info.remoteAddr.hostname}: ${error.message}`);
        }
        return new Response(encodeFailure(error.message, error.retryIn), {
          headers: BENCODE_HEADERS,
        });
      }
      logger.log("error", `${request.method} ${pathOf(url)}: ${describe(error)}`);
      return new Response(encodeFailure("internal error"), {
        status: 500,
        headers: BENCODE_HEADERS,
      });
    }
  };
}

/** The path of an absolute request URL, without query. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** The address a trusted `ip=`, `ipv4=` or `ipv6=` asks to be listed under, if any. */
function claimedAddress(request: AnnounceRequest): Uint8Array | null {
  return request.claimedIp ?? request.claimedIpv4 ?? request.claimedIpv6;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function notFound(): Response {
  return new Response("not found\n", { status: 404 });
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? error.message).replaceAll("\n", " | ")
    : String(error);
}
