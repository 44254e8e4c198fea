/**
 * The UDP transport's logic (BEP 15, BEP 41): `createUdpHandler(deps)` returns a plain
 * `(packet, remote) → reply | null` function. It parses at the edge, checks the connection id,
 * calls the same core as HTTP, and encodes the reply; `null` means "send nothing". No I/O: the
 * socket belongs to `server.ts`, so tests call the handler with crafted packets. Admission
 * (stopping, rate limit, passkey) and the log lines about clients are HTTP's (`src/transport/`).
 *
 * Errors follow the two kinds every transport has. A `ClientError` (a refusal by the core, or a
 * sendable parse error) becomes a BEP 15 error packet with its message. Anything else is a bug:
 * logged at `error`, answered "internal error" when the transaction id is known, and the server
 * goes on. No error packet goes to an address that has not proved it receives our packets (a
 * valid connection id): replies to unproven sources would let anyone aim them at a victim.
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";
import { failureReasonOf, NO_STATS } from "../stats/stats_counters.ts";
import { formatEndpoint, parseIp } from "../protocol/ip_address.ts";
import { passkeyFromPath } from "../protocol/passkey.ts";
import {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  parseUdpRequest,
  type UdpAnnounceRequest,
  UdpParseError,
  type UdpScrapeCounts,
  type UdpScrapeRequest,
} from "../protocol/udp_packet.ts";
import { createAdmission } from "../transport/admission.ts";
import { logAnnounce, logRefusal, logScrape } from "../transport/client_log.ts";
import type { TransportDeps } from "../transport/transport_deps.ts";
import { ConnectionIds } from "./connection_id.ts";

/** What the UDP handler needs: the transports' common deps, and its connection ids. */
export interface UdpHandlerDeps extends TransportDeps {
  /** Issues and checks connection ids. @default ids under a fresh random secret */
  connectionIds?: ConnectionIds;
}

/** Where a datagram came from, as `Deno.NetAddr` gives it. */
export interface UdpRemote {
  hostname: string;
  port: number;
}

/** Answers one datagram: the reply to send back to `remote`, or `null` to drop it. */
export type UdpHandler = (packet: Uint8Array, remote: UdpRemote) => Uint8Array | null;

/** What is known about a request when it is refused. */
interface RefusalContext {
  /** The sender's address, unmapped; `null` if it could not be parsed. */
  connection: Uint8Array | null;
  remote: UdpRemote;
  /** Set once the request parsed and its connection id checked out. */
  transactionId: number | null;
}

const ZERO_COUNTS: UdpScrapeCounts = { complete: 0, downloaded: 0, incomplete: 0 };

/** Builds the handler. */
export function createUdpHandler(deps: UdpHandlerDeps): UdpHandler {
  const { tracker, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const ids = deps.connectionIds ?? new ConnectionIds();
  const recorder = deps.recorder ?? NO_STATS;
  const limits = { numwantDefault: settings.numwantDefault, numwantMax: settings.numwantMax };
  const passkeys = deps.passkeys ?? (() => null);
  const { admit, admitWithoutKey } = createAdmission({ ...deps, now });

  function announce(request: UdpAnnounceRequest, connection: Uint8Array): Uint8Array {
    // BEP 41: the path and query of the udp:// URL carry the passkey, as over HTTP.
    admit(
      connection,
      request.urlData === null || passkeys() === null ? null : passkeyFromPath(request.urlData),
    );
    const parsed = request.announce;
    // BEP 15: the IP field is 32 bits wide, so it means nothing for a request that came over IPv6.
    const listed = settings.trustIpParam && connection.length === 4 ? parsed.claimedIp : null;
    const address = listed ?? connection;
    const result = tracker.announce({
      request: parsed,
      address,
      connectionAddress: listed !== null && !sameBytes(listed, connection) ? connection : null,
      userAgent: "",
      wantPeerIds: false,
      transport: "udp",
    }, now());
    if (settings.logAnnounces) {
      logAnnounce(logger, { transport: "udp", connection, address, request: parsed });
    }
    return encodeAnnounceResponse({
      transactionId: request.transactionId,
      interval: settings.interval,
      leechers: result.incomplete,
      seeders: result.complete,
      // BEP 15: the peer size (6 or 18 bytes) follows the family the request came from.
      peers: connection.length === 4 ? result.peers4 : result.peers6,
    });
  }

  function scrape(request: UdpScrapeRequest, connection: Uint8Array): Uint8Array {
    admitWithoutKey(connection);
    if (settings.noscrape) throw new ClientError("scrape is disabled on this tracker");
    // A BEP 15 scrape has no URL data to carry a passkey, so a keyed tracker refuses it.
    if (passkeys() !== null) {
      throw new ClientError("this tracker needs a passkey: scrape over HTTP", {
        reason: "not_allowed",
      });
    }
    // The core leaves out hashes it does not serve; the reply is positional, so they read as 0.
    const found = new Map<string, UdpScrapeCounts>();
    for (const entry of tracker.scrape(request.infoHashes)) found.set(entry.infoHash, entry);
    const counts = request.infoHashes.map((hash) => found.get(hash) ?? ZERO_COUNTS);
    if (settings.logAnnounces) {
      logScrape(logger, { transport: "udp", connection, count: request.infoHashes.length });
    }
    return encodeScrapeResponse(request.transactionId, counts);
  }

  return (packet, remote) => {
    // Only a sample of requests is timed (the recorder decides): a clock read costs.
    const started = recorder.shouldTime() ? performance.now() : -1;
    let connection: Uint8Array | null = null;
    let transactionId: number | null = null;
    try {
      connection = parseIp(remote.hostname);
      if (connection === null) throw new Error(`unparsable peer address "${remote.hostname}"`);
      const request = parseUdpRequest(packet, limits);
      if (request.action === "connect") {
        return encodeConnectResponse(
          request.transactionId,
          ids.issue(connection, remote.port, now()),
        );
      }
      if (!ids.verify(request.connectionId, connection, remote.port, now())) {
        throw new UdpParseError("unknown or expired connection id");
      }
      // Admission comes once the sender has proved its address (the connection id): connects
      // are free and never refused.
      transactionId = request.transactionId;
      if (request.action === "announce") {
        const reply = announce(request, connection);
        recorder.recordAnnounce("udp", elapsedSince(started));
        return reply;
      }
      const reply = scrape(request, connection);
      recorder.recordScrape("udp", elapsedSince(started));
      return reply;
    } catch (error) {
      recorder.recordFailure("udp", failureReasonOf(error), elapsedSince(started));
      if (error instanceof ClientError) return refuse(error, { connection, remote, transactionId });
      const from = connection === null ? remote.hostname : formatEndpoint(connection, remote.port);
      logger.log("error", `udp ${from}: ${describe(error)}`);
      return transactionId === null ? null : encodeErrorResponse(transactionId, "internal error");
    }
  };

  /** The error packet for a refusal, or `null` when it must be dropped. */
  function refuse(error: ClientError, context: RefusalContext): Uint8Array | null {
    const { connection, remote, transactionId } = context;
    const from = connection === null
      ? `${remote.hostname}:${remote.port}`
      : formatEndpoint(connection, remote.port);
    logRefusal(logger, { transport: "udp", from, error });
    if (!(error instanceof UdpParseError)) {
      return transactionId === null ? null : encodeErrorResponse(transactionId, error.message);
    }
    if (error.transactionId === null || connection === null) return null;
    // A malformed announce or scrape is answered only under a valid connection id.
    if (
      error.connectionId !== null &&
      !ids.verify(error.connectionId, connection, remote.port, now())
    ) return null;
    return encodeErrorResponse(error.transactionId, error.message);
  }
}

function elapsedSince(started: number): number | null {
  return started < 0 ? null : performance.now() - started;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? error.message).replaceAll("\n", " | ")
    : String(error);
}
