/**
 * Where a passkey sits in a tracker URL, and what one may look like. Pure.
 *
 * A passkey names a member of a private-ish tracker. It may come in the path, as
 * `/announce/<key>` (or `/<key>/announce`, the form from which clients derive a scrape URL by
 * BEP 48's rule of replacing `announce` in the last path segment), or in the query, as
 * `?passkey=<key>`. The same helpers serve HTTP and UDP: for UDP the "path and query" is the BEP 41
 * URL data option (`/announce?passkey=...`).
 *
 * Keys are 1 to 128 characters from RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`), so a key is
 * the same text in a path, in a query and in the key file, with no decoding.
 *
 * @module
 */

/** What a passkey may look like. */
export const PASSKEY_PATTERN: RegExp = /^[A-Za-z0-9._~-]{1,128}$/;

/** The two routes a passkey can be attached to. */
export type PasskeyRoute = "/announce" | "/scrape";

/** A request path with its passkey segment taken out. */
export interface SplitPath {
  /** The path without the key segment (`/announce`), or the path unchanged. */
  path: string;
  /** The key from the path, or `null`. */
  key: string | null;
}

/**
 * Splits `/announce/<key>`, `/<key>/announce` and the same for `/scrape` into the route and the
 * key; any other path comes back unchanged with no key. `path` has no query.
 */
export function splitPasskeyPath(path: string): SplitPath {
  const second = path.indexOf("/", 1);
  if (second === -1 || path.indexOf("/", second + 1) !== -1) return { path, key: null };
  const first = path.slice(0, second);
  const last = path.slice(second);
  if (isRoute(first) && PASSKEY_PATTERN.test(last.slice(1))) {
    return { path: first, key: last.slice(1) };
  }
  if (isRoute(last) && PASSKEY_PATTERN.test(first.slice(1))) {
    return { path: last, key: first.slice(1) };
  }
  return { path, key: null };
}

/**
 * The `passkey` value of a raw query string (without `?`), or `null` if it has none or it is not a
 * well-formed key. The first `passkey` wins, as for every other announce key.
 */
export function passkeyFromQuery(query: string): string | null {
  let at = 0;
  while (at <= query.length) {
    const end = query.indexOf("&", at);
    const pair = query.slice(at, end === -1 ? query.length : end);
    if (pair.startsWith("passkey=")) {
      const value = pair.slice("passkey=".length);
      return PASSKEY_PATTERN.test(value) ? value : null;
    }
    if (end === -1) break;
    at = end + 1;
  }
  return null;
}

/**
 * The passkey of a request line's path and query (`/announce/<key>?...`, `/<key>/scrape`,
 * `/announce?info_hash=...&passkey=<key>`), the path taking precedence; `null` when there is none.
 * For UDP, pass the BEP 41 URL data.
 */
export function passkeyFromPath(pathAndQuery: string): string | null {
  const question = pathAndQuery.indexOf("?");
  const path = question === -1 ? pathAndQuery : pathAndQuery.slice(0, question);
  const fromPath = splitPasskeyPath(path).key;
  if (fromPath !== null) return fromPath;
  return question === -1 ? null : passkeyFromQuery(pathAndQuery.slice(question + 1));
}

function isRoute(segment: string): segment is PasskeyRoute {
  return segment === "/announce" || segment === "/scrape";
}
