/**
 * The WebSocket transport (WebTorrent tracker): `createWsTracker(deps)` returns an `upgrade`
 * function the HTTP handler calls for a WebSocket request to `/announce`, and owns every socket it
 * accepts: reading messages (text only, at most `MAX_MESSAGE_CHARS`), parsing them at the edge,
 * calling the core (`WsSwarms`), sending replies and relayed offers and answers, and removing a
 * closed socket's peers from every swarm. A `ClientError` becomes a JSON `failure reason`; any
 * other error is logged and answered `internal error`; the socket and the server go on.
 *
 * Dead sockets: Deno pings a socket idle for `pingSeconds` and closes it when no pong comes back.
 * Silent ones: a socket that sends nothing for `silentCloseSeconds` is closed by `closeSilent`
 * (which the composition root calls on a timer). Memory per socket is bounded by the core's caps
 * on swarms and pending offers per connection, and a slow reader is not sent more while
 * `MAX_BUFFERED_BYTES` are queued to it.
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";
import { requirePasskey } from "../core/passkeys.ts";
import { WsConnection, type WsSwarms } from "../core/ws_swarms.ts";
import { messageOf } from "../protocol/error_message.ts";
import { formatIp } from "../protocol/ip_address.ts";
import { parseWsRequest, type WsAnnounce, type WsScrape } from "../protocol/ws_request.ts";
import {
  encodeWsAnnounceReply,
  encodeWsAnswer,
  encodeWsFailure,
  encodeWsOffer,
  encodeWsScrapeReply,
} from "../protocol/ws_reply.ts";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { acceptNodeUpgrade } from "./node_websocket.ts";
import { failureReasonOf, NO_STATS } from "../stats/stats_counters.ts";
import type { CidrSet } from "../protocol/cidr.ts";
import { createAdmission } from "../transport/admission.ts";
import { logRefusal } from "../transport/client_log.ts";
import type { TransportDeps } from "../transport/transport_deps.ts";

/** Characters of the largest message read; a longer one closes the socket (code 1009). */
export const MAX_MESSAGE_CHARS = 64 * 1024;
/** Bytes queued to a socket past which no more offers or answers are sent to it. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Refused messages one socket may send before it is closed (code 1008). */
export const MAX_CLIENT_ERRORS = 50;
/** `readyState` of an open socket (as `WebSocket.OPEN`). */
const OPEN = 1;

/** The settings the WebSocket transport reads. */
export interface WsSettings {
  /** Seconds a client is told to wait between announces. */
  interval: number;
  /** Most offers relayed for one announce. @default 10 */
  maxOffers?: number;
  /** Seconds of quiet after which Deno pings, and closes the socket without a pong. @default 60 */
  pingSeconds?: number;
  /** Seconds without a message after which a socket is closed by `closeSilent`. */
  silentCloseSeconds: number;
  /** Log a `client` line per announce and a `scrape` line per scrape. @default false */
  logAnnounces?: boolean;
}

/**
 * What the transport uses of a socket: Deno's `WebSocket` (plain HTTP) and `NodeWebSocket` (the
 * HTTPS listener) both have it.
 */
export interface TrackerSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * What the transport needs: the transports' common deps (`tracker` for scrape counts of every
 * kind of peer), its own swarms and settings.
 */
export interface WsTrackerDeps extends Omit<TransportDeps, "settings"> {
  swarms: WsSwarms<TrackerSocket>;
  settings: WsSettings;
  /**
   * Reverse proxies: a client address that is one of them named no client (the proxy itself),
   * which is not rate limited. @default none
   */
  trustedProxies?: CidrSet | null;
}

/** Where an upgrade request came from, as the HTTP handler worked it out. */
export interface WsClient {
  /** The client's address (4 or 16 bytes). */
  address: Uint8Array;
  /** The passkey of the path or query, `null` when none. */
  key: string | null;
}

/** The running transport. */
export interface WsTracker {
  /** Accepts a WebSocket upgrade of `/announce`, or answers why not. */
  upgrade(request: Request, client: WsClient): Response;
  /**
   * The same for an upgrade the `node:https` listener hands over with its raw socket (`wss://`):
   * answers the handshake on the socket itself, or refuses with an HTTP status and closes it.
   */
  upgradeNode(request: IncomingMessage, socket: Duplex, head: Uint8Array, client: WsClient): void;
  /** Open sockets. */
  readonly openCount: number;
  /** Closes sockets that sent nothing for `silentCloseSeconds`; returns how many. */
  closeSilent(): number;
  /** Closes every socket (shutdown). */
  closeAll(): void;
}

/** One accepted socket. */
interface Session {
  socket: TrackerSocket;
  connection: WsConnection<TrackerSocket>;
  client: WsClient;
  /** Milliseconds since the epoch of the last message. */
  lastMessageAt: number;
  clientErrors: number;
}

/** Builds the transport. */
export function createWsTracker(deps: WsTrackerDeps): WsTracker {
  const { tracker, swarms, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const recorder = deps.recorder ?? NO_STATS;
  const passkeys = deps.passkeys ?? (() => null);
  const shuttingDown = deps.shuttingDown ?? (() => false);
  const admission = createAdmission({ ...deps, now });
  const limits = { maxOffers: settings.maxOffers ?? 10 };
  const sessions = new Set<Session>();
  /** Stopping, the rate limit and the passkey, as over HTTP, for each announce and scrape. */
  const admit = (session: Session) => admission.admit(session.client.address, session.client.key);

  function announce(session: Session, request: WsAnnounce): void {
    const at = now();
    if (request.answer !== null) {
      // Not admitted as an announce (it answers one); the key must still be on the list.
      requirePasskey(passkeys(), session.client.key);
      const delivery = swarms.answer(session.connection, request, at);
      if (delivery !== null) {
        send(
          delivery.to,
          encodeWsAnswer(delivery.infoHash, delivery.fromPeerId, {
            offerId: delivery.offerId,
            answer: delivery.answer,
          }),
        );
      }
      return;
    }
    admit(session);
    const result = swarms.announce(session.connection, request, at);
    // The counts the client is told are the scrape's: every kind of peer of the torrent.
    const counts = tracker.scrape([request.infoHash])[0] ?? result.counts;
    send(session.socket, encodeWsAnnounceReply(request.infoHash, counts, settings.interval));
    for (const delivery of result.deliveries) {
      send(
        delivery.to,
        encodeWsOffer(request.infoHash, request.peerId, {
          offerId: delivery.offerId,
          offer: delivery.offer,
        }),
      );
    }
    if (settings.logAnnounces === true) {
      logger.log("client", `websocket ${request.event} offers=${result.deliveries.length}`);
    }
  }

  function scrape(session: Session, request: WsScrape): void {
    admit(session);
    send(session.socket, encodeWsScrapeReply(tracker.scrape(request.infoHashes)));
  }

  function onMessage(session: Session, data: unknown): void {
    session.lastMessageAt = now();
    if (typeof data !== "string") {
      close(session, 1003, "binary messages are not accepted");
      return;
    }
    if (data.length > MAX_MESSAGE_CHARS) {
      close(session, 1009, `message longer than ${MAX_MESSAGE_CHARS} characters`);
      return;
    }
    const started = recorder.shouldTime() ? performance.now() : -1;
    let request: WsAnnounce | WsScrape | null = null;
    try {
      request = parseWsRequest(data, limits);
      if (request.action === "announce") {
        announce(session, request);
        // An answer is part of the offer's exchange, not an announce of its own.
        if (request.answer === null) recorder.recordAnnounce("websocket", elapsedSince(started));
      } else {
        scrape(session, request);
        recorder.recordScrape("websocket", elapsedSince(started));
      }
    } catch (error) {
      recorder.recordFailure("websocket", failureReasonOf(error), elapsedSince(started));
      const action = request?.action ?? "announce";
      const infoHash = request?.action === "announce" ? request.infoHash : null;
      if (error instanceof ClientError) {
        logRefusal(logger, {
          transport: "websocket",
          from: formatIp(session.client.address),
          error,
        });
        send(
          session.socket,
          encodeWsFailure(error.message, { action, infoHash, retryIn: error.retryIn }),
        );
        if (++session.clientErrors >= MAX_CLIENT_ERRORS) {
          close(session, 1008, "too many refused messages");
        }
        return;
      }
      logger.log("error", `websocket message: ${describe(error)}`);
      send(session.socket, encodeWsFailure("internal error", { action, infoHash }));
    }
  }

  function close(session: Session, code: number, reason: string): void {
    try {
      session.socket.close(code, reason);
    } catch (error) {
      logger.log("error", `closing a websocket: ${messageOf(error)}`);
    }
    forget(session);
  }

  function forget(session: Session): void {
    if (!sessions.delete(session)) return;
    swarms.leave(session.connection);
  }

  /** Why an upgrade is refused before any socket exists, or `null` to accept it. */
  function refusal(client: WsClient): { status: number; message: string } | null {
    if (shuttingDown()) return { status: 503, message: "tracker is shutting down" };
    try {
      requirePasskey(passkeys(), client.key);
    } catch (error) {
      if (error instanceof ClientError) return { status: 403, message: error.message };
      throw error;
    }
    return null;
  }

  function open(socket: TrackerSocket, client: WsClient): Session {
    const session: Session = {
      socket,
      connection: new WsConnection(socket),
      client,
      lastMessageAt: now(),
      clientErrors: 0,
    };
    sessions.add(session);
    return session;
  }

  const pingSeconds = settings.pingSeconds ?? 60;
  return {
    upgrade(request, client) {
      const refused = refusal(client);
      if (refused !== null) return new Response(`${refused.message}\n`, { status: refused.status });
      const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: pingSeconds });
      const session = open(socket, client);
      socket.onmessage = (event) => onMessage(session, event.data);
      socket.onclose = () => forget(session);
      // An error event is followed by a close event; nothing to do here but not to throw.
      socket.onerror = () => {};
      return response;
    },
    upgradeNode(request, socket, head, client) {
      const refused = refusal(client);
      if (refused !== null) {
        socket.end(
          `HTTP/1.1 ${refused.status} Refused\r\nconnection: close\r\ncontent-type: text/plain\r\n` +
            `content-length: ${refused.message.length + 1}\r\n\r\n${refused.message}\n`,
        );
        return;
      }
      let session: Session | null = null;
      const accepted = acceptNodeUpgrade(request, socket, head, {
        onText: (text) => session !== null && onMessage(session, text),
        onBinary: () => session !== null && onMessage(session, new Uint8Array(0)),
        onClose: () => session !== null && forget(session),
      }, { maxMessageBytes: MAX_MESSAGE_CHARS * 3, pingSeconds });
      if (accepted !== null) session = open(accepted, client);
    },
    get openCount() {
      return sessions.size;
    },
    closeSilent() {
      const cutoff = now() - settings.silentCloseSeconds * 1000;
      let closed = 0;
      for (const session of sessions) {
        if (session.lastMessageAt >= cutoff) continue;
        close(session, 1000, "no message for too long");
        closed++;
      }
      return closed;
    },
    closeAll() {
      for (const session of sessions) close(session, 1001, "tracker is shutting down");
    },
  };
}

/** Sends when the socket is open and not backed up; a slow reader misses offers, not memory. */
function send(socket: TrackerSocket, text: string): void {
  if (socket.readyState !== OPEN || socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
  socket.send(text);
}

function elapsedSince(started: number): number | null {
  return started < 0 ? null : performance.now() - started;
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? error.message).replaceAll("\n", " | ")
    : String(error);
}
