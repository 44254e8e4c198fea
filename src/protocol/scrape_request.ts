/**
 * Parses an HTTP scrape query (BEP 48): zero or more `info_hash` values, each 20 raw bytes.
 * No `info_hash` means a full scrape. Other keys are ignored.
 *
 * @module
 */
import { ClientError } from "../core/client_error.ts";
import type { ByteString } from "./byte_string.ts";
import { parseQuery } from "./query.ts";
import { twentyBytes } from "./announce_request.ts";

/** Most hashes one scrape may name; more is refused rather than silently cut. */
export const MAX_SCRAPE_HASHES = 256;

/** The hashes asked for, deduplicated in request order; `null` for a full scrape. */
export function parseScrapeQuery(query: string): ByteString[] | null {
  const params = parseQuery(query);
  if (params === null) throw new ClientError("malformed percent-encoding in query");
  const hashes = new Set<ByteString>();
  for (const { key, value } of params) {
    if (key !== "info_hash") continue;
    hashes.add(twentyBytes("info_hash", value));
    if (hashes.size > MAX_SCRAPE_HASHES) {
      throw new ClientError(`scrape takes at most ${MAX_SCRAPE_HASHES} info_hash values`);
    }
  }
  return hashes.size === 0 ? null : [...hashes];
}
