import assert from "node:assert/strict";
import { WsConnection, type WsMember, WsSwarm } from "../src/core/ws_swarm.ts";
import { seededRandom } from "./support/seeded_random.ts";

function member(peerId: string, connection = new WsConnection("c")): WsMember<string> {
  return {
    peerId,
    connection,
    index: 0,
    seeder: false,
    partial: false,
    completed: false,
    seenAt: 0,
  };
}

/** Seeders first, every index right, counts matching the flags. */
function assertConsistent(swarm: WsSwarm<string>): void {
  const members = swarm.members();
  const counts = swarm.counts();
  members.forEach((m, i) => {
    assert.equal(m.index, i);
    assert.equal(m.seeder, i < counts.complete, `seeder order at ${i}`);
    assert.equal(swarm.get(m.peerId), m);
  });
  assert.equal(counts.complete + counts.incomplete, members.length);
  const partial = members.filter((m) => m.partial).length;
  assert.equal(counts.incomplete - counts.downloaders, partial);
}

Deno.test("WsSwarm keeps seeders first and its index right through random adds, flips and removals", () => {
  const random = seededRandom(11);
  const swarm = new WsSwarm<string>();
  const live: WsMember<string>[] = [];
  for (let step = 0; step < 3000; step++) {
    const roll = random();
    if (roll < 0.4 || live.length === 0) {
      const m = member(`peer-${step}`.padEnd(20, "."));
      m.seeder = random() < 0.3;
      m.partial = !m.seeder && random() < 0.2;
      swarm.add(m);
      live.push(m);
    } else if (roll < 0.7) {
      const m = live[Math.floor(random() * live.length)]!;
      const seeder = random() < 0.5;
      swarm.setState(m, seeder, !seeder && random() < 0.3);
    } else {
      const at = Math.floor(random() * live.length);
      swarm.remove(live[at]!);
      live.splice(at, 1);
    }
    assertConsistent(swarm);
  }
});

Deno.test("WsSwarm.sample() picks distinct open peers, never the one excluded, leechers for a seeder", () => {
  const random = seededRandom(3);
  const swarm = new WsSwarm<string>();
  const closed = new WsConnection("gone");
  closed.closed = true;
  const all: WsMember<string>[] = [];
  for (let i = 0; i < 30; i++) {
    const m = member(`p${i}`.padEnd(20, "."), i === 5 ? closed : undefined);
    m.seeder = i % 3 === 0;
    swarm.add(m);
    all.push(m);
  }
  for (let round = 0; round < 200; round++) {
    const exclude = all[Math.floor(random() * all.length)]!;
    const picks = swarm.sample(8, exclude, random);
    assert.equal(new Set(picks).size, picks.length);
    assert.ok(!picks.includes(exclude));
    assert.ok(picks.every((p) => !p.connection.closed));
    if (exclude.seeder) assert.ok(picks.every((p) => !p.seeder));
    assert.equal(picks.length, 8);
    assertConsistent(swarm);
  }
  // Fewer peers than asked: everyone else.
  const small = new WsSwarm<string>();
  const a = member("a".repeat(20));
  const b = member("b".repeat(20));
  small.add(a);
  small.add(b);
  assert.deepEqual(small.sample(5, a, random), [b]);
});

Deno.test("WsSwarm.removeSeenBefore() removes exactly the silent members", () => {
  const swarm = new WsSwarm<string>();
  const removed: string[] = [];
  for (let i = 0; i < 10; i++) {
    const m = member(`p${i}`.padEnd(20, "."));
    m.seenAt = i;
    m.seeder = i % 2 === 0;
    swarm.add(m);
  }
  swarm.removeSeenBefore(5, (m) => removed.push(m.peerId.slice(0, 2)));
  assert.deepEqual(removed.sort(), ["p0", "p1", "p2", "p3", "p4"]);
  assert.equal(swarm.size, 5);
  assertConsistent(swarm);
});
