/**
 * What the core takes for an announce: the parsed request plus what the transport knows about
 * where it came from. Nothing here does work.
 *
 * @module
 */
import type { AnnounceRequest, Transport } from "../protocol/messages.ts";

/** What the core needs to record a peer: the request plus what the transport knows. */
export interface AnnounceInput {
  request: AnnounceRequest;
  /** The address peers will be told to dial: 4 or 16 bytes (IPv4-mapped addresses unmapped). */
  address: Uint8Array;
  /** The address the request came from, when it differs from `address` (shown on /stats). */
  connectionAddress: Uint8Array | null;
  /**
   * The `User-Agent` header, or `""`; or a function that reads it, which the core calls only when
   * it records the agent: for a new peer, on `started`, and while the peer's agent is unknown.
   * Reading the header is a tenth of the work of an HTTP announce (`tests/bench/README.md`), and
   * a client's agent changes only when it restarts, which it announces with `started`.
   */
  userAgent: string | (() => string);
  /** Return peer ids alongside addresses (non-compact HTTP replies). */
  wantPeerIds: boolean;
  /** The transport the announce came over (shown on /stats). @default "http" */
  transport?: Transport;
}
