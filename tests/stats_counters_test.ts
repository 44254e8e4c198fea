import assert from "node:assert/strict";
import { Allowlist } from "../src/core/allowlist.ts";
import { ClientError } from "../src/protocol/client_error.ts";
import {
  DURATION_BUCKETS,
  failureReasonOf,
  NO_STATS,
  RATE_SLOTS,
  requestRate,
  StatsCounters,
  TIMING_SAMPLE,
} from "../src/stats/stats_counters.ts";
import { Tracker } from "../src/core/tracker.ts";
import { announceInput } from "./support/announce_fixtures.ts";

// A whole minute, so 10-second slots start on round numbers.
const START = 1_700_000_040_000;

Deno.test("StatsCounters counts announces, scrapes and failures by protocol and reason", () => {
  const counters = new StatsCounters({ startedAt: START });
  counters.recordAnnounce("http", 0.2);
  counters.recordAnnounce("http", null);
  counters.recordAnnounce("udp", 0.1);
  counters.recordScrape("udp", 0.1);
  counters.recordFailure("http", "malformed", 0.1);
  counters.recordFailure("udp", "hijack", null);
  counters.recordFailure("udp", "internal", 0.1);
  const snapshot = counters.snapshot(START + 1000);
  assert.deepEqual(snapshot.announces, { http: 2, udp: 1, websocket: 0 });
  assert.deepEqual(snapshot.scrapes, { http: 0, udp: 1, websocket: 0 });
  assert.deepEqual(snapshot.failures.http, {
    malformed: 1,
    not_allowed: 0,
    full: 0,
    hijack: 0,
    rate_limited: 0,
    internal: 0,
  });
  assert.equal(snapshot.failures.udp.hijack, 1);
  assert.equal(snapshot.failures.udp.internal, 1);
  assert.equal(snapshot.startedAt, START);
  assert.equal(snapshot.takenAt, START + 1000);
});

Deno.test("StatsCounters keeps a cumulative duration histogram per protocol", () => {
  const counters = new StatsCounters({ startedAt: START });
  // 0.05 ms is exactly the first bound: `le` means "less than or equal".
  for (const ms of [0.05, 0.3, 0.3, 4, 2000]) counters.recordAnnounce("http", ms);
  // An untimed request is counted, not observed.
  counters.recordAnnounce("http", null);
  const { http, udp } = counters.snapshot(START).durations;
  assert.equal(http.cumulative.length, DURATION_BUCKETS.length + 1);
  const at = (seconds: number) => http.cumulative[DURATION_BUCKETS.indexOf(seconds)];
  assert.equal(at(0.00005), 1);
  assert.equal(at(0.00025), 1);
  assert.equal(at(0.0005), 3);
  assert.equal(at(0.005), 4);
  assert.equal(at(1), 4);
  assert.equal(http.cumulative.at(-1), 5);
  assert.equal(http.count, 5);
  assert.ok(Math.abs(http.sumSeconds - 2.00465) < 1e-9);
  for (let i = 1; i < http.cumulative.length; i++) {
    assert.ok(http.cumulative[i] >= http.cumulative[i - 1]);
  }
  assert.equal(udp.count, 0);
  assert.ok(udp.cumulative.every((count) => count === 0));
});

Deno.test("StatsCounters keeps an hour of 10-second slots, oldest first", () => {
  const counters = new StatsCounters({ startedAt: START });
  counters.recordAnnounce("http", null);
  counters.advance(START + 9999);
  counters.recordAnnounce("http", null);
  counters.advance(START + 10_000);
  counters.recordAnnounce("udp", null);
  counters.advance(START + 25_000);
  counters.recordScrape("http", null);
  const snapshot = counters.snapshot(START + 25_000);
  const { announces, scrapes, firstSlotStart } = snapshot.recent;
  assert.equal(announces.length, RATE_SLOTS);
  assert.equal(firstSlotStart, START + 20_000 - (RATE_SLOTS - 1) * 10_000);
  assert.deepEqual(announces.slice(-3), [2, 1, 0]);
  assert.deepEqual(scrapes.slice(-3), [0, 0, 1]);
  assert.equal(announces.slice(0, -3).reduce((a, b) => a + b, 0), 0);
  // Read later, the same events have moved left; newer slots are empty.
  const later = counters.snapshot(START + 65_000).recent.announces;
  assert.deepEqual(later.slice(-7), [2, 1, 0, 0, 0, 0, 0]);
  // A snapshot advances the ring: what is recorded next counts in the snapshot's slot.
  counters.recordAnnounce("http", null);
  assert.deepEqual(counters.snapshot(START + 65_000).recent.announces.slice(-2), [0, 1]);
});

Deno.test("StatsCounters forgets slots older than an hour, also when idle for longer", () => {
  const counters = new StatsCounters({ startedAt: START });
  counters.recordAnnounce("http", null);
  counters.advance(START + 3_590_000);
  counters.recordAnnounce("http", null);
  let recent = counters.snapshot(START + 3_590_000).recent.announces;
  assert.equal(recent[0], 1);
  assert.equal(recent.at(-1), 1);
  counters.advance(START + 3_600_000);
  counters.recordAnnounce("http", null);
  recent = counters.snapshot(START + 3_600_000).recent.announces;
  assert.equal(recent.reduce((a, b) => a + b, 0), 2);
  // Two idle hours: every old slot is gone, and the totals stay.
  counters.advance(START + 3 * 3_600_000);
  counters.recordAnnounce("http", null);
  const snapshot = counters.snapshot(START + 3 * 3_600_000);
  assert.equal(snapshot.recent.announces.reduce((a, b) => a + b, 0), 1);
  assert.equal(snapshot.announces.http, 4);
});

Deno.test("StatsCounters keeps counting into the newest slot when the clock steps back", () => {
  const counters = new StatsCounters({ startedAt: START });
  counters.advance(START + 50_000);
  counters.advance(START + 5_000);
  counters.recordAnnounce("http", null);
  counters.recordAnnounce("http", null);
  assert.equal(counters.snapshot(START + 50_000).recent.announces.at(-1), 2);
  assert.equal(counters.snapshot(START + 5_000).recent.announces.at(-1), 2);
});

Deno.test("StatsCounters.shouldTime() picks the first request and then one in TIMING_SAMPLE", () => {
  const counters = new StatsCounters({ startedAt: START });
  const picks = Array.from({ length: 3 * TIMING_SAMPLE }, () => counters.shouldTime());
  assert.deepEqual(
    picks.flatMap((picked, i) => picked ? [i] : []),
    [0, TIMING_SAMPLE, 2 * TIMING_SAMPLE],
  );
  assert.equal(NO_STATS.shouldTime(), false);
});

Deno.test("requestRate() averages over the window and never over more than the uptime", () => {
  const counters = new StatsCounters({ startedAt: START });
  // Four requests a second for 20 minutes.
  for (let t = START; t < START + 1_200_000; t += 250) {
    counters.advance(t);
    counters.recordAnnounce("http", null);
  }
  const snapshot = counters.snapshot(START + 1_200_000);
  for (const window of [60, 300, 900, 3600]) {
    assert.ok(Math.abs(requestRate(snapshot, "announces", window) - 4) < 0.01, `${window} s`);
  }
  assert.equal(requestRate(snapshot, "scrapes", 60), 0);
  // Half a minute after a quiet start: 30 requests over 30 seconds, not over 60.
  const young = new StatsCounters({ startedAt: START });
  for (let i = 0; i < 30; i++) {
    young.advance(START + i * 1000);
    young.recordScrape("udp", null);
  }
  assert.equal(requestRate(young.snapshot(START + 30_000), "scrapes", 60), 1);
  assert.equal(
    requestRate(new StatsCounters({ startedAt: START }).snapshot(START), "scrapes", 60),
    0,
  );
});

Deno.test("failureReasonOf() takes a ClientError's class and calls anything else internal", () => {
  assert.equal(failureReasonOf(new ClientError("missing port")), "malformed");
  assert.equal(failureReasonOf(new ClientError("x", { reason: "full" })), "full");
  assert.equal(failureReasonOf(new TypeError("bug")), "internal");
  assert.equal(failureReasonOf("thrown string"), "internal");
});

Deno.test("the tracker's refusals carry their reason class", () => {
  const reasonOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return failureReasonOf(error);
    }
    return null;
  };
  const closed = new Tracker({ expirySeconds: 60, allowlist: Allowlist.of([]) });
  assert.equal(reasonOf(() => closed.announce(announceInput("t", "a"), START)), "not_allowed");
  const tiny = new Tracker({ expirySeconds: 60, maxTorrents: 1, maxPeersPerTorrent: 1 });
  tiny.announce(announceInput("t", "a", { address: "10.0.0.1" }), START);
  assert.equal(reasonOf(() => tiny.announce(announceInput("u", "a"), START)), "full");
  assert.equal(reasonOf(() => tiny.announce(announceInput("t", "b"), START)), "full");
  assert.equal(
    reasonOf(() => tiny.announce(announceInput("t", "a", { address: "10.0.0.2" }), START)),
    "hijack",
  );
});

Deno.test("NO_STATS records nothing and accepts every call", () => {
  // One shared object serves every handler built without counters: it must hold no state that a
  // call could change, and nobody may swap its methods for recording ones.
  assert.ok(Object.isFrozen(NO_STATS), "NO_STATS is frozen");
  const members = Object.entries(NO_STATS);
  assert.deepEqual(members.map(([name]) => name).sort(), [
    "recordAnnounce",
    "recordFailure",
    "recordScrape",
    "shouldTime",
  ]);
  const results = [
    NO_STATS.recordAnnounce("http", 1),
    NO_STATS.recordScrape("udp", null),
    NO_STATS.recordFailure("http", "internal", 1),
  ];
  assert.deepEqual(results, [undefined, undefined, undefined]);
  assert.deepEqual(Object.entries(NO_STATS), members);
  assert.equal(NO_STATS.shouldTime(), false, "never asks a handler to time a request");
});
