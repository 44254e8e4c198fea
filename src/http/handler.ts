/**
 * The HTTP transport: `createHttpHandler(deps)` returns a plain `(Request, info) → Response`
 * handler for `/announce` and `/scrape`, delegating `/stats`, `/stats.json` and `/metrics` to
 * `stats_routes.ts`. It parses at the edge, calls the core, and encodes the reply. A `ClientError`
 * becomes a bencoded `failure reason`; anything else is logged and answered as an internal error,
 * and the server goes on. Every announce and scrape is recorded once in the stats sink, with its
 * handling time. The client's address is the connection's, or what a trusted reverse proxy says
 * (`client_address.ts`). Admission (stopping, rate limit, passkey) and the log lines about clients
 * are the ones UDP uses too (`src/transport/`).
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";
import { failureReasonOf, StatsCounters } from "../stats/stats_counters.ts";
import type { SwarmHistory } from "../stats/swarm_history.ts";
import type { SwarmStore } from "../core/swarm_store.ts";
import type { AnnounceRequest, AnnounceResult, ScrapeEntry } from "../protocol/messages.ts";
import { parseAnnounceUrl } from "../protocol/announce_request.ts";
import {
  encodeAnnounceReplyView,
  encodeFailure,
  encodeScrapeReplyView,
} from "../protocol/http_reply.ts";
import type { CidrSet } from "../protocol/cidr.ts";
import { formatIp, parseIp } from "../protocol/ip_address.ts";
import { passkeyFromQuery, splitPasskeyPath } from "../protocol/passkey.ts";
import { rawQueryOf } from "../protocol/query.ts";
import { parseScrapeUrl } from "../protocol/scrape_request.ts";
import { createAdmission } from "../transport/admission.ts";
import { logAnnounce, logRefusal, logScrape } from "../transport/client_log.ts";
import type { TransportDeps } from "../transport/transport_deps.ts";
import { clientAddress } from "./client_address.ts";
import { createStatsRoutes } from "../stats/stats_routes.ts";
import type { SharedStatsSource } from "../stats/shared_stats.ts";

/** What the HTTP handler needs: the transports' common deps, and the stats pages'. */
export interface HttpHandlerDeps extends TransportDeps {
  version: string;
  /** Request counters shown on the stats endpoints. @default fresh counters */
  counters?: StatsCounters;
  /** Swarm sizes over the last hour, for the charts. @default none */
  history?: SwarmHistory;
  /** Reverse proxies whose `X-Forwarded-For`/`X-Real-IP` name the client. @default none */
  trustedProxies?: CidrSet;
  /** Takes a WebSocket request to `/announce` (the WebTorrent tracker). @default none */
  webSocket?: WebSocketUpgrade | null;
}

/** What a handler over a shared store takes besides `HttpHandlerDeps`. */
export interface SharedStoreDeps {
  /**
   * Where announces and scrapes go instead of `tracker`: a shared store (Redis) that answers
   * later, so the handler answers those with a promise; `undefined` means `tracker`.
   */
  store: (SwarmStore & SharedStatsSource) | undefined;
}

/** What a failed request's answer and log line need. */
interface RequestContext {
  request: Request;
  info: ConnectionInfo;
  /** `performance.now()` at the start, or -1 for an untimed request. */
  started: number;
  /** The client's address once known. */
  connection: Uint8Array | null;
}

/** Accepts (or refuses) a WebSocket upgrade; see `src/ws/ws_tracker.ts`. */
export type WebSocketUpgrade = (
  request: Request,
  client: { address: Uint8Array; key: string | null },
) => Response;

/** The part of `Deno.ServeHandlerInfo` the handler reads. */
export interface ConnectionInfo {
  remoteAddr: { hostname: string };
}

/** A `Deno.serve` handler over the in-memory store: it answers at once. */
export type HttpHandler = (request: Request, info: ConnectionInfo) => Response;

/** A `Deno.serve` handler over a shared store: store requests are answered with a promise. */
export type AsyncHttpHandler = (
  request: Request,
  info: ConnectionInfo,
) => Response | Promise<Response>;

/**
 * The headers of every bencoded reply: `text/plain`, as opentracker sends. Exactly that value, as a
 * plain object, is one Deno's `Response` recognises and sends without validating and copying a
 * header list per reply (its "static" path; `docs/performance.md`). Nothing writes to it.
 */
const BENCODE_HEADERS = { "content-type": "text/plain" };
/** The init of a bencoded 200 reply, shared for the same reason. */
const BENCODE_OK: ResponseInit = { headers: BENCODE_HEADERS };

/**
 * Builds the handler. Over the in-memory store every answer is synchronous; over a shared store
 * (`deps.store`) an announce or scrape waits for it, and only then (the result is checked, so the
 * memory path takes no promise).
 */
export function createHttpHandler(deps: HttpHandlerDeps & SharedStoreDeps): AsyncHttpHandler;
export function createHttpHandler(deps: HttpHandlerDeps): HttpHandler;
export function createHttpHandler(
  deps: HttpHandlerDeps & Partial<SharedStoreDeps>,
): AsyncHttpHandler {
  const { tracker, settings, logger } = deps;
  const store: SwarmStore = deps.store ?? tracker;
  // Chosen once: over the memory store no answer is a promise, and no request checks for one.
  const waits = deps.store !== undefined;
  const now = deps.now ?? Date.now;
  const limits = { numwantDefault: settings.numwantDefault, numwantMax: settings.numwantMax };
  const counters = deps.counters ?? new StatsCounters({ startedAt: now() });
  const recorder = deps.recorder ?? counters;
  const trustedProxies = deps.trustedProxies ?? null;
  const passkeys = deps.passkeys ?? (() => null);
  const webSocket = deps.webSocket ?? null;
  // A trusted proxy that named no client is the proxy itself: it is not rate limited.
  const { admit } = createAdmission({ ...deps, now, trustedProxies });
  const statsRoutes = createStatsRoutes({
    tracker,
    counters,
    history: deps.history ?? null,
    settings: {
      nostats: settings.nostats,
      nometrics: settings.nometrics ?? false,
      hidePeers: settings.statsHidePeers ?? false,
    },
    logger,
    version: deps.version,
    now,
    shared: deps.store ?? null,
  });

  function announce(
    request: Request,
    url: string,
    connection: Uint8Array,
  ): Response | Promise<Response> {
    const parsed = parseAnnounceUrl(url, limits);
    const listed = settings.trustIpParam ? claimedAddress(parsed) : null;
    const address = listed ?? connection;
    const result = store.announce({
      request: parsed,
      address,
      connectionAddress: listed !== null && !sameBytes(listed, connection) ? connection : null,
      // Read only when the core records it (see `AnnounceInput.userAgent`).
      userAgent: () => request.headers.get("user-agent") ?? "",
      wantPeerIds: !parsed.compact && !parsed.noPeerId,
    }, now());
    if (waits) {
      return (result as Promise<AnnounceResult>).then((done) =>
        announceReply(done, parsed, connection, address)
      );
    }
    return announceReply(result as AnnounceResult, parsed, connection, address);
  }

  function announceReply(
    result: AnnounceResult,
    parsed: AnnounceRequest,
    connection: Uint8Array,
    address: Uint8Array,
  ): Response {
    if (settings.logAnnounces) {
      logAnnounce(logger, { transport: "http", connection, address, request: parsed });
    }
    // A view of the shared encoder's buffer: `new Response` copies it before the next encode.
    const body = encodeAnnounceReplyView(result, {
      interval: settings.interval,
      minInterval: settings.minInterval,
      compact: parsed.compact,
      noPeerId: parsed.noPeerId,
      externalIp: connection,
    });
    return new Response(body, BENCODE_OK);
  }

  function scrape(url: string, connection: Uint8Array): Response | Promise<Response> {
    const hashes = parseScrapeUrl(url);
    const entries = store.scrape(hashes);
    if (settings.logAnnounces) {
      logScrape(logger, {
        transport: "http",
        connection,
        count: hashes === null ? "all" : hashes.length,
      });
    }
    if (waits) return (entries as Promise<ScrapeEntry[]>).then(scrapeReply);
    return scrapeReply(entries as ScrapeEntry[]);
  }

  function scrapeReply(entries: ScrapeEntry[]): Response {
    return new Response(encodeScrapeReplyView(entries), BENCODE_OK);
  }

  /** The answer to a request that failed: a `failure reason` for a refusal, else a logged 500. */
  function failed(error: unknown, context: RequestContext): Response {
    const { request, info, started, connection } = context;
    recorder.recordFailure("http", failureReasonOf(error), elapsedSince(started));
    if (error instanceof ClientError) {
      const from = connection === null ? info.remoteAddr.hostname : formatIp(connection);
      logRefusal(logger, { transport: "http", from, error });
      return new Response(encodeFailure(error.message, error.retryIn), BENCODE_OK);
    }
    logger.log("error", `${request.method} ${pathOf(request.url)}: ${describe(error)}`);
    return new Response(encodeFailure("internal error"), {
      status: 500,
      headers: BENCODE_HEADERS,
    });
  }

  /** Records a store request answered later, or answers its failure. */
  function later(
    response: Promise<Response>,
    kind: "announce" | "scrape",
    context: RequestContext,
  ): Promise<Response> {
    return response.then((ok) => {
      const elapsed = elapsedSince(context.started);
      if (kind === "announce") recorder.recordAnnounce("http", elapsed);
      else recorder.recordScrape("http", elapsed);
      return ok;
    }, (error) => failed(error, context));
  }

  return (request, info) => {
    // Clock reads cost more than the counters, so only the requests the sink picks are timed.
    const started = recorder.shouldTime() ? performance.now() : -1;
    const url = request.url;
    let connection: Uint8Array | null = null;
    try {
      const method = request.method;
      if (method !== "GET" && method !== "HEAD") {
        return new Response("method not allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      // `info.remoteAddr` is a getter that asks Deno for the address anew on each read.
      const hostname = info.remoteAddr.hostname;
      const peer = parseIp(hostname);
      if (peer === null) throw new Error(`unparsable peer address "${hostname}"`);
      connection = trustedProxies === null
        ? peer
        : clientAddress(peer, request.headers, trustedProxies);
      let path = pathOf(url);
      let key: string | null = null;
      if (passkeys() !== null) {
        const split = splitPasskeyPath(path);
        path = split.path;
        key = split.key ?? passkeyFromQuery(rawQueryOf(url));
      }
      switch (path) {
        case "/announce": {
          // An HTTP announce always names an info_hash; only a URL without one can be a
          // WebSocket handshake, so a tracker announce never pays for reading the headers.
          if (webSocket !== null && !url.includes("info_hash=") && isWebSocketUpgrade(request)) {
            return webSocket(request, { address: connection, key });
          }
          admit(connection, key);
          const response = announce(request, url, connection);
          if (waits) {
            const context = { request, info, started, connection };
            return later(response as Promise<Response>, "announce", context);
          }
          recorder.recordAnnounce("http", elapsedSince(started));
          return response;
        }
        case "/scrape": {
          if (settings.noscrape) return notFound();
          admit(connection, key);
          const response = scrape(url, connection);
          if (waits) {
            const context = { request, info, started, connection };
            return later(response as Promise<Response>, "scrape", context);
          }
          recorder.recordScrape("http", elapsedSince(started));
          return response;
        }
        default:
          return statsRoutes(path, url, connection) ?? notFound();
      }
    } catch (error) {
      return failed(error, { request, info, started, connection });
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

/** True for a WebSocket opening handshake (RFC 6455 section 4.1: `Upgrade: websocket`). */
function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The address a trusted `ip=`, `ipv4=` or `ipv6=` asks to be listed under, if any. */
function claimedAddress(request: AnnounceRequest): Uint8Array | null {
  return request.claimedIp ?? request.claimedIpv4 ?? request.claimedIpv6;
}

/** Milliseconds since `started` (a `performance.now()`), or `null` for an untimed request. */
function elapsedSince(started: number): number | null {
  return started < 0 ? null : performance.now() - started;
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
