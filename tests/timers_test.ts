/**
 * Tests for `src/server/timers.ts`, on a scheduler the test drives by hand: which jobs run at what
 * period, the sweep going on in slices until a pass is done, and `stop()` clearing every job.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Tracker } from "../src/core/tracker.ts";
import { createMemoryLogger } from "../src/runtime/logger.ts";
import {
  type Scheduler,
  startTimers,
  SWEEP_SLICE,
  WEBSOCKET_JOB_SECONDS,
} from "../src/server/timers.ts";
import { COUNT_WRITE_INTERVAL_MS, StateKeeper } from "../src/state/state_keeper.ts";
import { StatsCounters } from "../src/stats/stats_counters.ts";
import { HISTORY_STEP_SECONDS, SwarmHistory } from "../src/stats/swarm_history.ts";

interface FakeTimer {
  id: number;
  run: () => void;
  ms: number;
  repeats: boolean;
}

/** A scheduler that only records: the test fires timers itself. */
function fakeScheduler() {
  const live = new Map<number, FakeTimer>();
  let next = 1;
  const add = (run: () => void, ms: number, repeats: boolean) => {
    const id = next++;
    live.set(id, { id, run, ms, repeats });
    return id;
  };
  const scheduler: Scheduler = {
    setTimeout: (run, ms) => add(run, ms, false),
    setInterval: (run, ms) => add(run, ms, true),
    clearTimeout: (id) => live.delete(id as number),
    clearInterval: (id) => live.delete(id as number),
  };
  /** The one live one-shot timer (the sweep's). */
  const pendingTimeout = (): FakeTimer => {
    const timeouts = [...live.values()].filter((timer) => !timer.repeats);
    assert.equal(timeouts.length, 1, "one sweep timer at a time");
    return timeouts[0];
  };
  /** Fires the sweep's timer; returns the delay of the one it schedules next. */
  const fireTimeout = (): number => {
    const timer = pendingTimeout();
    live.delete(timer.id);
    timer.run();
    return pendingTimeout().ms;
  };
  return { scheduler, live, pendingTimeout, fireTimeout };
}

const NOW = 1_760_000_000_000;

Deno.test("startTimers() sweeps in slices, then waits sweep_interval; stop() clears every job", () => {
  const { scheduler, live, pendingTimeout, fireTimeout } = fakeScheduler();
  const tracker = new Tracker({ expirySeconds: 60 });
  // More swarms than one slice visits, so a pass takes two slices.
  for (let i = 0; i < SWEEP_SLICE + 10; i++) {
    const infoHash = String(i).padStart(20, "h");
    tracker.announce({
      request: {
        infoHash,
        peerId: "-XX0001-000000000000",
        port: 1,
        uploaded: 0,
        downloaded: 0,
        left: 1,
        event: "started",
        numwant: 0,
        compact: true,
        noPeerId: false,
        key: null,
        claimedIp: null,
        claimedIpv4: null,
        claimedIpv6: null,
      },
      address: new Uint8Array([192, 0, 2, 1]),
      connectionAddress: null,
      userAgent: "",
      wantPeerIds: false,
    }, NOW);
  }
  const timers = startTimers({
    tracker,
    counters: new StatsCounters({ startedAt: NOW }),
    history: new SwarmHistory(),
    state: null,
    now: () => NOW + 3_600_000,
    sweepIntervalMs: 5000,
    scheduler,
  });
  const periods = [...live.values()].map((timer) =>
    `${timer.repeats ? "every" : "in"} ${timer.ms}`
  );
  assert.deepEqual(periods.sort(), [
    "every 1000",
    `every ${HISTORY_STEP_SECONDS * 1000}`,
    "in 5000",
  ]);
  assert.equal(pendingTimeout().ms, 5000);
  // The first slice does not finish the pass: the next one comes at once, and so on to the end.
  assert.equal(fireTimeout(), 0);
  let slices = 1;
  while (fireTimeout() === 0) slices++;
  assert.ok(slices >= 2 && slices <= 3, `${slices + 1} slices`);
  // The pass is done: every peer expired, and the next pass waits sweep_interval.
  assert.equal(tracker.swarmCount, 0);
  assert.equal(pendingTimeout().ms, 5000);
  timers.stop();
  assert.equal(live.size, 0);
});

Deno.test("startTimers() writes the state file's counts every second, and stop() ends it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nobrake-timers-" });
  const logger = createMemoryLogger();
  const tracker = new Tracker({ expirySeconds: 60 });
  const state = StateKeeper.open(join(dir, "state.sqlite"), {
    logger,
    now: () => NOW,
    expirySeconds: 60,
    maxPeersPerTorrent: 100,
  });
  try {
    state.start(tracker);
    const { scheduler, live } = fakeScheduler();
    const timers = startTimers({
      tracker,
      counters: new StatsCounters({ startedAt: NOW }),
      history: new SwarmHistory(),
      state,
      now: () => NOW,
      sweepIntervalMs: 5000,
      scheduler,
    });
    const periods = [...live.values()].filter((timer) => timer.repeats).map((timer) => timer.ms);
    assert.equal(periods.filter((ms) => ms === COUNT_WRITE_INTERVAL_MS).length, 2);
    for (const timer of [...live.values()]) if (timer.repeats) timer.run();
    timers.stop();
    assert.equal(live.size, 0);
  } finally {
    state.stop(tracker);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startTimers() runs the WebSocket job every 15 s: silent sockets, then a sweep slice", () => {
  const { scheduler, live } = fakeScheduler();
  const calls: string[] = [];
  const timers = startTimers({
    tracker: new Tracker({ expirySeconds: 60 }),
    counters: new StatsCounters({ startedAt: NOW }),
    history: new SwarmHistory(),
    state: null,
    now: () => NOW,
    sweepIntervalMs: 5000,
    scheduler,
    webSockets: {
      closeSilent: () => {
        calls.push("closeSilent");
        return 0;
      },
      sweep: (now, budget) => {
        calls.push(`sweep ${now} ${budget}`);
        return true;
      },
    },
  });
  const job = [...live.values()].find((timer) => timer.ms === WEBSOCKET_JOB_SECONDS * 1000);
  assert.ok(job?.repeats);
  job.run();
  assert.deepEqual(calls, ["closeSilent", `sweep ${NOW} ${SWEEP_SLICE}`]);
  timers.stop();
  assert.equal(live.size, 0);
});

Deno.test("startTimers() sweeps the shared store every sweep_interval, one pass at a time", async () => {
  const { scheduler, live } = fakeScheduler();
  const passes: number[] = [];
  let finishPass = () => {};
  const timers = startTimers({
    tracker: new Tracker({ expirySeconds: 60 }),
    counters: new StatsCounters({ startedAt: NOW }),
    history: new SwarmHistory(),
    state: null,
    now: () => NOW,
    sweepIntervalMs: 5000,
    scheduler,
    sharedSweep: (now) => {
      passes.push(now);
      return new Promise<void>((resolve) => finishPass = resolve);
    },
  });
  const sharedJobs = [...live.values()].filter((timer) => timer.repeats && timer.ms === 5000);
  assert.equal(sharedJobs.length, 1, "one shared-store sweep job every 5000 ms");
  const job = sharedJobs[0]!;
  job.run();
  // A pass still running when the next is due is not doubled.
  job.run();
  assert.deepEqual(passes, [NOW]);
  finishPass();
  await new Promise((resolve) => setTimeout(resolve, 0));
  job.run();
  assert.deepEqual(passes, [NOW, NOW]);
  timers.stop();
  assert.equal(live.size, 0);
});
