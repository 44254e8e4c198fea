import assert from "node:assert/strict";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import { emptyTotals } from "../src/stats/stats_totals.ts";
import { Tracker } from "../src/core/tracker.ts";
import { createHttpHandler } from "../src/http/handler.ts";
import type { TransportSettings } from "../src/settings.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../src/stats/metrics.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import { percentEncodeAll } from "./support/http_tracker_client.ts";
import { TEST_HTTP_SETTINGS } from "./support/http_settings.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  help: string | null;
  type: string | null;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? ` +
    `(NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)$`,
);

/** Parses exposition format 0.0.4 strictly: any line that is not HELP, TYPE or a sample fails. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith("\n"), "the text ends with a line feed");
  const families = new Map<string, Family>();
  const familyOf = (name: string) => {
    let family = families.get(name);
    if (family === undefined) families.set(name, family = { help: null, type: null, samples: [] });
    return family;
  };
  for (const line of text.slice(0, -1).split("\n")) {
    const help = line.match(new RegExp(`^# HELP (${NAME}) (.+)$`));
    const type = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|untyped)$`));
    if (help !== null) {
      familyOf(help[1]).help = help[2];
      continue;
    }
    if (type !== null) {
      const family = familyOf(type[1]);
      assert.equal(family.samples.length, 0, `TYPE of ${type[1]} comes before its samples`);
      family.type = type[2];
      continue;
    }
    const sample = line.match(SAMPLE);
    assert.ok(sample !== null, `invalid line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (
      const [, key, value] of (sample[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)
    ) {
      labels[key] = value;
    }
    const name = sample[1];
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const owner = families.get(name)?.type !== undefined ? name : base;
    assert.ok(families.has(owner), `sample ${name} has no HELP/TYPE`);
    const value = sample[3] === "+Inf" ? Infinity : Number(sample[3]);
    familyOf(owner).samples.push({ name, labels, value });
  }
  return families;
}

const COUNTERS_START = 1_700_000_000_000;

function exampleText(): string {
  const counters = new StatsCounters({ startedAt: COUNTERS_START });
  for (const ms of [0.04, 0.2, 0.2, 3, 30, 5000]) {
    counters.recordAnnounce("http", ms);
  }
  counters.recordScrape("udp", 0.01);
  counters.recordFailure("http", "not_allowed", 0.1);
  counters.recordFailure("udp", "rate_limited", null);
  return renderMetrics({
    counters: counters.snapshot(COUNTERS_START + 1000),
    totals: { ...emptyTotals(), torrents: 3, seeders: 4, leechers: 5, ipv4: 8, ipv6: 1 },
    version: "0.1.0",
  });
}

Deno.test("renderMetrics() writes valid exposition text with HELP and TYPE for every family", () => {
  const families = parseExposition(exampleText());
  for (const [name, family] of families) {
    assert.ok(family.help !== null && family.help.length > 0, `${name} has HELP`);
    assert.ok(family.type !== null, `${name} has TYPE`);
    assert.ok(family.samples.length > 0, `${name} has samples`);
  }
  const value = (name: string, labels: Record<string, string> = {}) =>
    families.get(name)!.samples.find((sample) =>
      Object.entries(labels).every(([key, label]) => sample.labels[key] === label)
    )?.value;
  assert.equal(families.get("nobrake_announces_total")?.type, "counter");
  assert.equal(value("nobrake_announces_total", { protocol: "http" }), 6);
  assert.equal(value("nobrake_announces_total", { protocol: "udp" }), 0);
  assert.equal(value("nobrake_scrapes_total", { protocol: "udp" }), 1);
  assert.equal(value("nobrake_failures_total", { protocol: "http", reason: "not_allowed" }), 1);
  assert.equal(value("nobrake_failures_total", { protocol: "udp", reason: "rate_limited" }), 1);
  assert.equal(value("nobrake_failures_total", { protocol: "http", reason: "rate_limited" }), 0);
  // Three protocols times six reasons, every one present even at zero.
  assert.equal(families.get("nobrake_failures_total")?.samples.length, 18);
  assert.equal(families.get("nobrake_torrents")?.type, "gauge");
  assert.equal(value("nobrake_torrents"), 3);
  assert.equal(value("nobrake_seeders"), 4);
  assert.equal(value("nobrake_leechers"), 5);
  assert.equal(value("nobrake_peers", { family: "ipv4" }), 8);
  assert.equal(value("nobrake_peers", { family: "ipv6" }), 1);
  assert.equal(value("nobrake_start_time_seconds"), COUNTERS_START / 1000);
  assert.equal(value("nobrake_build_info", { version: "0.1.0" }), 1);
});

Deno.test("renderMetrics() histogram buckets are cumulative and end in +Inf = _count", () => {
  const histogram = parseExposition(exampleText()).get("nobrake_request_duration_seconds")!;
  assert.equal(histogram.type, "histogram");
  for (const protocol of ["http", "udp"]) {
    const mine = histogram.samples.filter((sample) => sample.labels.protocol === protocol);
    const buckets = mine.filter((sample) => sample.name.endsWith("_bucket"));
    const bounds = buckets.map((sample) => Number(sample.labels.le.replace("+Inf", "Infinity")));
    assert.equal(buckets.at(-1)?.labels.le, "+Inf");
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(bounds[i] > bounds[i - 1], `le ascends for ${protocol}`);
      assert.ok(buckets[i].value >= buckets[i - 1].value, `cumulative for ${protocol}`);
    }
    const count = mine.find((sample) => sample.name.endsWith("_count"))!.value;
    const sum = mine.find((sample) => sample.name.endsWith("_sum"))!.value;
    assert.equal(buckets.at(-1)?.value, count);
    if (protocol === "http") {
      assert.equal(count, 7);
      assert.ok(Math.abs(sum - 5.03354) < 1e-9);
      assert.equal(buckets.find((sample) => sample.labels.le === "0.00005")?.value, 1);
      assert.equal(buckets.find((sample) => sample.labels.le === "0.00025")?.value, 4);
      assert.equal(buckets.find((sample) => sample.labels.le === "1")?.value, 6);
    }
  }
});

Deno.test("renderMetrics() escapes label values", () => {
  const text = renderMetrics({
    counters: new StatsCounters({ startedAt: 0 }).snapshot(0),
    totals: emptyTotals(),
    version: 'a"b\\c\nd',
  });
  assert.ok(text.includes(`nobrake_build_info{version="a\\"b\\\\c\\nd"} 1`));
  parseExposition(text);
});

const SETTINGS = TEST_HTTP_SETTINGS;
const INFO = { remoteAddr: { hostname: "192.0.2.10" } };

Deno.test("/metrics counts what the handler answered, and never carries client text", async () => {
  const handler = createHttpHandler({
    tracker: new Tracker({ expirySeconds: 60 }),
    settings: SETTINGS,
    logger: createMemoryLogger(),
    version: "test",
  });
  const hostile = `"><img src=x onerror=alert(1)>`;
  const peerId = percentEncodeAll(new TextEncoder().encode(`-XX0001-${"}".repeat(12)}`));
  const infoHash = percentEncodeAll(new Uint8Array(20).fill(0x7b));
  const good = `info_hash=${infoHash}&peer_id=${peerId}&port=6881&left=0`;
  handler(
    new Request(`http://t/announce?${good}`, { headers: { "user-agent": hostile } }),
    INFO,
  );
  handler(new Request(`http://t/announce?${good}&event=${encodeURIComponent(hostile)}`), INFO);
  handler(new Request(`http://t/scrape?info_hash=${infoHash}`), INFO);
  const response = handler(new Request("http://t/metrics"), INFO);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
  const text = await response.text();
  const families = parseExposition(text);
  const find = (name: string, labels: Record<string, string>) =>
    [...families.values()].flatMap((family) => family.samples).find((sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, label]) => sample.labels[key] === label)
    )?.value;
  assert.equal(find("nobrake_announces_total", { protocol: "http" }), 1);
  assert.equal(find("nobrake_scrapes_total", { protocol: "http" }), 1);
  assert.equal(find("nobrake_failures_total", { protocol: "http", reason: "malformed" }), 1);
  // Every request is counted; one in TIMING_SAMPLE (the first included) is timed.
  assert.equal(find("nobrake_request_duration_seconds_count", { protocol: "http" }), 1);
  assert.equal(find("nobrake_seeders", {}), 1);
  assert.ok(!text.includes("img") && !text.includes("XX0001") && !text.includes("7b7b"));
});

Deno.test("/metrics answers 404 with nometrics, and stays on with nostats", () => {
  const make = (settings: Partial<TransportSettings>) =>
    createHttpHandler({
      tracker: new Tracker({ expirySeconds: 60 }),
      settings: { ...SETTINGS, ...settings },
      logger: createMemoryLogger(),
      version: "test",
    });
  assert.equal(make({ nometrics: true })(new Request("http://t/metrics"), INFO).status, 404);
  const statsOff = make({ nostats: true });
  assert.equal(statsOff(new Request("http://t/metrics"), INFO).status, 200);
  assert.equal(statsOff(new Request("http://t/stats"), INFO).status, 404);
  assert.equal(statsOff(new Request("http://t/stats.json"), INFO).status, 404);
});
