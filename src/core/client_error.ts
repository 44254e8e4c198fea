/**
 * The one error type a client may see. A `ClientError` thrown anywhere below a transport becomes
 * a bencoded `failure reason` (HTTP) or an error packet (UDP); any other error is a bug, logged and
 * answered as an internal error.
 *
 * @module
 */

/** A request the tracker refuses for a reason the client should be told. */
export class ClientError extends Error {
  /** Seconds after which the client may try again (BEP 31 `retry in`), when that helps. */
  readonly retryIn: number | null;

  constructor(message: string, options: { retryIn?: number } = {}) {
    super(message);
    this.name = "ClientError";
    this.retryIn = options.retryIn ?? null;
  }
}
