import assert from "node:assert/strict";
import { HISTORY_POINTS, SwarmHistory } from "../src/stats/swarm_history.ts";
import { Tracker } from "../src/core/tracker.ts";
import { announceInput, id20 } from "./support/announce_fixtures.ts";

const MINUTE = 60_000;
const START = 28_333_334 * MINUTE;

/** A tracker where swarm `t<i>` has `sizes[i]` leechers. */
function trackerWith(sizes: number[]): Tracker {
  const tracker = new Tracker({ expirySeconds: 100_000 });
  sizes.forEach((size, t) => {
    for (let p = 0; p < size; p++) {
      tracker.announce(announceInput(`t${t}`, `p${p}`, { address: `10.0.${t}.${p}` }), START);
    }
  });
  return tracker;
}

Deno.test("SwarmHistory.seriesOf() gives an hour of minutes, oldest first, null where unsampled", () => {
  const tracker = trackerWith([2]);
  const history = new SwarmHistory();
  history.sample(tracker, START);
  tracker.announce(announceInput("t0", "seed", { address: "10.9.9.9", left: 0 }), START);
  history.sample(tracker, START + 2 * MINUTE + 30_000);
  const series = history.seriesOf([id20("t0")], START + 3 * MINUTE);
  assert.equal(series.seeders.length, HISTORY_POINTS);
  assert.deepEqual(series.leechers.slice(-4), [2, null, 2, null]);
  assert.deepEqual(series.seeders.slice(-4), [0, null, 1, null]);
  assert.ok(series.leechers.slice(0, -4).every((value) => value === null));
  // An hour later the samples are out of the window.
  const later = history.seriesOf([id20("t0")], START + 62 * MINUTE + 59_000);
  assert.ok(later.leechers.every((value) => value === null));
  assert.deepEqual(history.seriesOf([id20("none")], START).seeders, Array(60).fill(null));
});

Deno.test("SwarmHistory samples only the largest swarms", () => {
  const tracker = trackerWith([1, 5, 3, 4, 2]);
  const history = new SwarmHistory({ maxTorrents: 2 });
  history.sample(tracker, START);
  assert.equal(history.size, 2);
  const last = (name: string) => history.seriesOf([id20(name)], START).leechers.at(-1);
  assert.equal(last("t1"), 5);
  assert.equal(last("t3"), 4);
  assert.equal(last("t2"), null);
});

Deno.test("SwarmHistory keeps at most twice maxTorrents rings and drops hour-old ones", () => {
  const tracker = trackerWith([1, 1, 1, 1, 1, 1]);
  const history = new SwarmHistory({ maxTorrents: 1 });
  // Each minute a different swarm is the largest.
  for (let minute = 0; minute < 6; minute++) {
    tracker.announce(
      announceInput(`t${minute}`, `extra${minute}`, { address: `10.8.${minute}.1` }),
      START,
    );
    tracker.announce(
      announceInput(`t${minute}`, `more${minute}`, { address: `10.8.${minute}.2` }),
      START,
    );
    history.sample(tracker, START + minute * MINUTE);
    assert.ok(history.size <= 2, `minute ${minute}: ${history.size} rings`);
    for (const [peer, host] of [["extra", 1], ["more", 2]] as const) {
      tracker.announce(
        announceInput(`t${minute}`, `${peer}${minute}`, {
          address: `10.8.${minute}.${host}`,
          event: "stopped",
        }),
        START,
      );
    }
  }
  // The newest two survive: t5 (sampled last) and t4.
  const has = (name: string) =>
    history.seriesOf([id20(name)], START + 5 * MINUTE).leechers.some((value) => value !== null);
  assert.deepEqual(["t0", "t1", "t2", "t3", "t4", "t5"].map(has), [
    false,
    false,
    false,
    false,
    true,
    true,
  ]);
  // A swarm no longer sampled is forgotten once its last sample is an hour old.
  history.sample(new Tracker({ expirySeconds: 1 }), START + 65 * MINUTE);
  assert.equal(history.size, 0);
});

Deno.test("SwarmHistory shows the larger swarm of a hybrid torrent's two hashes", () => {
  const tracker = trackerWith([3, 1]);
  const history = new SwarmHistory();
  history.sample(tracker, START);
  const series = history.seriesOf([id20("t0"), id20("t1")], START);
  assert.equal(series.leechers.at(-1), 3);
});
