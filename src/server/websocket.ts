/**
 * Wires the WebSocket (WebTorrent) tracker into a running tracker: builds the transport from the
 * config and hands the composition root its parts: `upgrade` for the HTTP handler's WebSocket
 * requests to `/announce`, `nodeUpgrade` for the HTTPS listener's (`wss://`), the periodic work
 * `server/timers.ts` runs (silent sockets closed, expired peers swept), and `stop`, which closes
 * every socket.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { TransportDeps } from "../transport/transport_deps.ts";
import type { WsSwarms } from "../core/ws_swarms.ts";
import type { WebSocketWork } from "./timers.ts";
import { createWsTracker, type TrackerSocket, type WsTracker } from "../ws/ws_tracker.ts";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { CidrSet } from "../protocol/cidr.ts";
import { parseIp } from "../protocol/ip_address.ts";
import { passkeyFromQuery, splitPasskeyPath } from "../protocol/passkey.ts";
import { clientAddress } from "../http/client_address.ts";

/**
 * The longest announce interval told to WebSocket clients, in seconds. Peers meet only when one
 * of them announces (its offers go out then), so WebTorrent clients need a shorter interval than
 * TCP ones; two minutes is what WebTorrent's own tracker tells them.
 */
export const WS_MAX_INTERVAL = 120;

/** What the WebSocket tracker shares with the other transports, and its own swarms. */
export interface WebSocketShared extends TransportDeps {
  swarms: WsSwarms<TrackerSocket>;
  /** Reverse proxies whose `X-Forwarded-For`/`X-Real-IP` name the client, or `null`. */
  trustedProxies: CidrSet | null;
}

/** The running WebSocket tracker. */
export interface RunningWebSocketTracker {
  upgrade: WsTracker["upgrade"];
  /** Takes an upgrade request from the `node:https` listener (`wss://`), raw socket and all. */
  nodeUpgrade(request: IncomingMessage, socket: Duplex, head: Uint8Array): void;
  transport: WsTracker;
  /** What `server/timers.ts` runs every 15 s: silent sockets closed, expired peers swept. */
  periodic: WebSocketWork;
  /** Closes every socket. */
  stop(): void;
}

/** Builds the transport; its periodic work runs in `server/timers.ts`. */
export function startWebSocketTracker(
  config: Config,
  shared: WebSocketShared,
): RunningWebSocketTracker {
  const interval = Math.min(config.interval, WS_MAX_INTERVAL);
  const passkeys = shared.passkeys ?? (() => null);
  const transport = createWsTracker({
    ...shared,
    settings: {
      interval,
      // A client that missed three announces in a row is gone, whatever its socket says.
      silentCloseSeconds: Math.min(3 * interval + 60, config.expiry),
      logAnnounces: config.log_announces,
    },
  });
  return {
    upgrade: transport.upgrade,
    nodeUpgrade(request, socket, head) {
      const url = request.url ?? "/";
      const question = url.indexOf("?");
      let path = question === -1 ? url : url.slice(0, question);
      let key: string | null = null;
      if (passkeys() !== null) {
        const split = splitPasskeyPath(path);
        path = split.path;
        key = split.key ?? (question === -1 ? null : passkeyFromQuery(url.slice(question + 1)));
      }
      const peer = parseIp((socket as Duplex & { remoteAddress?: string }).remoteAddress ?? "");
      if (path !== "/announce" || peer === null) {
        socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      const trusted = shared.trustedProxies;
      const headers = { get: (name: string) => headerOf(request, name) };
      const address = trusted === null ? peer : clientAddress(peer, headers, trusted);
      transport.upgradeNode(request, socket, head, { address, key });
    },
    transport,
    periodic: {
      closeSilent: () => transport.closeSilent(),
      sweep: (at, budget) => shared.swarms.sweep(at, budget),
    },
    stop() {
      transport.closeAll();
    },
  };
}

/** One request header as a string (the first, when repeated), or `null`. */
function headerOf(request: IncomingMessage, name: string): string | null {
  const value = request.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value[0] ?? null : value;
}
