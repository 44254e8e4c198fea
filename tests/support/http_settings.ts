/**
 * The HTTP transport settings handler tests start from: the shipped defaults (interval 1800 s,
 * numwant 50 capped at 200, everything optional off). Tests spread it and override what they test.
 *
 * @module
 */
import type { TransportSettings } from "../../src/settings.ts";

/** Default `TransportSettings` for tests that call `createHttpHandler()` directly. */
export const TEST_HTTP_SETTINGS: Readonly<TransportSettings> = Object.freeze({
  interval: 1800,
  minInterval: 900,
  numwantDefault: 50,
  numwantMax: 200,
  trustIpParam: false,
  noscrape: false,
  nostats: false,
  logAnnounces: false,
});
