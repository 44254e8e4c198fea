/**
 * The log lines about clients, one format for every transport: the `client` line per announce and
 * the `scrape` line per scrape (when `log_announces` is on; README, "Logs"), and the `debug` line
 * per refused request (at `log_level` `"debug"`), which says why a client was turned away.
 *
 * @module
 */
import type { ClientError } from "../protocol/client_error.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";
import { formatIp } from "../protocol/ip_address.ts";
import type { AnnounceRequest, Transport } from "../protocol/messages.ts";
import type { Logger } from "../runtime/logger.ts";

/** One served announce. */
export interface AnnounceLine {
  transport: Transport;
  /** The client's address (the connection's, or a trusted proxy's client). */
  connection: Uint8Array;
  /** The address listed in the swarm (`connection` unless a trusted `ip=` moved it). */
  address: Uint8Array;
  request: AnnounceRequest;
}

/**
 * `client <from-ip> <info_hash hex> <event> <peer_id hex> <listed ip:port> left=<n>`, as the
 * original wrote it; ` udp` is appended for UDP, so existing log readers still parse HTTP lines.
 */
export function logAnnounce(logger: Logger, line: AnnounceLine): void {
  const { request } = line;
  logger.log(
    "client",
    `${formatIp(line.connection)} ${byteStringToHex(request.infoHash)} ${request.event} ` +
      `${byteStringToHex(request.peerId)} ${formatIp(line.address)}:${request.port} ` +
      `left=${request.left}${line.transport === "udp" ? " udp" : ""}`,
  );
}

/** `scrape <from-ip> <count or all>` (` udp` appended for UDP). */
export function logScrape(
  logger: Logger,
  line: { transport: Transport; connection: Uint8Array; count: number | "all" },
): void {
  const suffix = line.transport === "udp" ? " udp" : "";
  logger.log("scrape", `${formatIp(line.connection)} ${line.count}${suffix}`);
}

/**
 * `debug refused <transport> <from>: <reason>`, for every refusal of every transport; nothing is
 * built unless debug lines are kept. `from` is the client's address as the transport knows it.
 */
export function logRefusal(
  logger: Logger,
  refusal: { transport: Transport; from: string; error: ClientError },
): void {
  if (!logger.debugEnabled) return;
  logger.log("debug", `refused ${refusal.transport} ${refusal.from}: ${refusal.error.message}`);
}
