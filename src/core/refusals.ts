/**
 * The refusals every swarm store gives for the same rules, so the memory store and the Redis store
 * tell a client exactly the same thing (message, BEP 31 `retry in`, stats reason).
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";

/** Seconds a client refused for a full tracker or swarm is asked to wait (BEP 31). */
const RETRY_WHEN_FULL = 600;
/** Seconds a client announcing a torrent that is not allowed is asked to wait (BEP 31). */
const RETRY_WHEN_NOT_ALLOWED = 3600;
/** Seconds a client is asked to wait while the shared store is unreachable (BEP 31). */
const RETRY_WHEN_STORE_AWAY = 60;

/** The torrent is not on the allowlist. */
export function notAllowed(): ClientError {
  return new ClientError("torrent is not allowed on this tracker", {
    retryIn: RETRY_WHEN_NOT_ALLOWED,
    reason: "not_allowed",
  });
}

/** Open mode holds `max_torrents` swarms already. */
export function tooManyTorrents(): ClientError {
  return new ClientError("tracker is full: too many torrents", {
    retryIn: RETRY_WHEN_FULL,
    reason: "full",
  });
}

/** The swarm holds `max_peers_per_torrent` peers already. */
export function swarmFull(): ClientError {
  return new ClientError("swarm is full", { retryIn: RETRY_WHEN_FULL, reason: "full" });
}

/** The peer id is listed at another address and the client did not prove (`key`) it is the same. */
export function peerIdInUse(): ClientError {
  return new ClientError("peer_id is in use by a peer at another address", { reason: "hijack" });
}

/**
 * The shared swarm store (Redis) cannot be reached or did not answer in time. "full" is the
 * nearest stats reason: the tracker cannot take the request now; /metrics counts store errors.
 */
export function storeUnavailable(): ClientError {
  return new ClientError("tracker storage is unavailable, try again later", {
    retryIn: RETRY_WHEN_STORE_AWAY,
    reason: "full",
  });
}

/** A non-zero 32-bit hash of a client `key` (0 means "no key"), for the hijack check. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash === 0 ? 1 : hash;
}
