/**
 * Tests for `src/settings.ts`: the mapping of a config to what the server and its transports read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config.ts";
import { settingsFromConfig } from "../src/settings.ts";

const MINIMAL = { port: 6969, allowed: "*", interval: 1800, expiry: 3600 };

function settingsWith(extra: Record<string, unknown>) {
  return settingsFromConfig(parseConfig(JSON.stringify({ ...MINIMAL, ...extra }), "t.json"));
}

Deno.test("settingsFromConfig() maps the defaults", () => {
  assert.deepEqual(settingsWith({}), {
    transport: {
      interval: 1800,
      minInterval: 900,
      numwantDefault: 50,
      numwantMax: 200,
      trustIpParam: false,
      noscrape: false,
      nostats: false,
      nometrics: false,
      statsHidePeers: false,
      logAnnounces: false,
    },
    httpHostname: "0.0.0.0",
    udpHostname: "0.0.0.0",
    udpPort: 6969,
    tracker: { expirySeconds: 3600, maxTorrents: 100000, maxPeersPerTorrent: 50000 },
    sweepIntervalMs: 5000,
    shutdownTimeoutMs: 10000,
  });
});

Deno.test("settingsFromConfig() binds UDP to udp_ip, else to the HTTP address", () => {
  assert.equal(settingsWith({ family: "AF_INET6" }).httpHostname, "::");
  assert.equal(settingsWith({ family: "AF_INET6" }).udpHostname, "::");
  const own = settingsWith({ ip: "192.0.2.1", udp_ip: "192.0.2.2", udp_port: 6881 });
  assert.equal(own.httpHostname, "192.0.2.1");
  assert.equal(own.udpHostname, "192.0.2.2");
  assert.equal(own.udpPort, 6881);
  assert.equal(settingsWith({ ip: "192.0.2.1" }).udpHostname, "192.0.2.1");
});

Deno.test("settingsFromConfig() passes min_interval and the switches through", () => {
  const settings = settingsWith({
    min_interval: 60,
    trust_ip_param: true,
    noscrape: 1,
    stats_hide_peers: true,
    log_announces: true,
  });
  assert.equal(settings.transport.minInterval, 60);
  assert.equal(settings.transport.trustIpParam, true);
  assert.equal(settings.transport.noscrape, true);
  assert.equal(settings.transport.statsHidePeers, true);
  assert.equal(settings.transport.logAnnounces, true);
});
