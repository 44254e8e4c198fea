/**
 * Admission: whether an announce or scrape may be served at all, the same over every transport.
 * A request is refused (a `ClientError`) while the tracker stops, when its client address is over
 * the rate limit, and, with a passkey list, when it carries no listed key. Order matters: the rate
 * limit comes before the passkey check, so guessing keys counts against the limit too.
 *
 * @module
 */
import { ClientError } from "../protocol/client_error.ts";
import type { CidrSet } from "../protocol/cidr.ts";
import { type Passkeys, requirePasskey } from "../core/passkeys.ts";
import type { RateLimiter } from "../core/rate_limiter.ts";

/** What admission reads. */
export interface AdmissionDeps {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The passkey list in force. @default () => null */
  passkeys?: () => Passkeys | null;
  /** True once the tracker is stopping. @default () => false */
  shuttingDown?: () => boolean;
  /** The per-address limit, shared by the transports. @default no limit */
  rateLimiter?: RateLimiter | null;
  /**
   * Reverse proxies (HTTP): a request whose client address is one of them named no client, so it
   * is the proxy itself, which speaks for many and is not rate limited. @default none
   */
  trustedProxies?: CidrSet | null;
}

/** The checks, as plain functions a handler calls before it serves a request. */
export interface Admission {
  /** Refuses a request from `connection` carrying passkey `key` (`null`: none), or returns. */
  admit(connection: Uint8Array, key: string | null): void;
  /**
   * The same without the passkey check, for a request that has no way to carry a key (a BEP 15
   * scrape); its transport decides what a keyed tracker answers it.
   */
  admitWithoutKey(connection: Uint8Array): void;
}

/** Seconds a client that reached a stopping tracker is asked to wait (BEP 31): about a restart. */
export const RETRY_WHEN_SHUTTING_DOWN = 60;

/** Builds the checks over `deps`. */
export function createAdmission(deps: AdmissionDeps): Admission {
  const { now } = deps;
  const passkeys = deps.passkeys ?? (() => null);
  const shuttingDown = deps.shuttingDown ?? (() => false);
  const rateLimiter = deps.rateLimiter ?? null;
  const trustedProxies = deps.trustedProxies ?? null;
  const admitWithoutKey = (connection: Uint8Array): void => {
    if (shuttingDown()) {
      // "full" is the nearest stats label: the tracker cannot take the request now.
      throw new ClientError("tracker is shutting down", {
        retryIn: RETRY_WHEN_SHUTTING_DOWN,
        reason: "full",
      });
    }
    if (rateLimiter !== null && !(trustedProxies?.contains(connection) ?? false)) {
      rateLimiter.admit(connection, now());
    }
  };
  return {
    admitWithoutKey,
    admit(connection, key) {
      admitWithoutKey(connection);
      requirePasskey(passkeys(), key);
    },
  };
}
