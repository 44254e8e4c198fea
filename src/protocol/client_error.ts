/**
 * The one error type a client may see. A `ClientError` thrown anywhere below a transport becomes
 * a bencoded `failure reason` (HTTP) or an error packet (UDP); any other error is a bug, logged and
 * answered as an internal error.
 *
 * @module
 */

/**
 * Why a request was refused, as a small fixed set for stats and metrics labels. The message says
 * the details; this never carries anything a client chose.
 */
export type RefusalReason = "malformed" | "not_allowed" | "full" | "hijack" | "rate_limited";

/** A request the tracker refuses for a reason the client should be told. */
export class ClientError extends Error {
  /** Seconds after which the client may try again (BEP 31 `retry in`), when that helps. */
  readonly retryIn: number | null;
  /** The class of refusal, for stats. @default "malformed" */
  readonly reason: RefusalReason;

  constructor(message: string, options: { retryIn?: number; reason?: RefusalReason } = {}) {
    super(message);
    this.name = "ClientError";
    this.retryIn = options.retryIn ?? null;
    this.reason = options.reason ?? "malformed";
  }
}
