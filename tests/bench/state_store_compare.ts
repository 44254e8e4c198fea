/**
 * Measures the two embedded stores that ship with Deno, `node:sqlite` and Deno KV, on the state
 * file's workload, so the choice in `src/state/state_store.ts` rests on figures:
 *
 * 1. the count journal: once a second, one transaction writing the `downloaded` counts that
 *    changed (1 and 100 per commit), durable at commit;
 * 2. the graceful-stop snapshot: 10,000 swarms, 100,000 peers written in one go;
 * 3. the start-up load: reading all of that back.
 *
 * Not a `deno bench` file (Deno KV needs a flag the other benchmarks do not):
 *
 * ```sh
 * deno run --allow-all --unstable-kv tests/bench/state_store_compare.ts
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { seededRandom } from "../support/seeded_random.ts";

/** One line to stdout (the lint rules keep `console` out of the code). */
function print(...parts: unknown[]): void {
  const text = parts.map((part) => typeof part === "string" ? part : JSON.stringify(part));
  Deno.stdout.writeSync(new TextEncoder().encode(text.join(" ") + "\n"));
}

/** The part of Deno KV used here; typed by hand so `deno check` passes without `--unstable-kv`. */
interface Kv {
  atomic(): KvAtomic;
  list(selector: { prefix: unknown[] }): AsyncIterable<{ key: unknown[]; value: unknown }>;
  close(): void;
}
interface KvAtomic {
  set(key: unknown[], value: unknown): KvAtomic;
  commit(): Promise<{ ok: boolean }>;
}

const SWARMS = 10_000;
const PEERS_PER_SWARM = 10;
const JOURNAL_COMMITS = 200;

const random = seededRandom(6);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
const hashes = Array.from({ length: SWARMS }, () => bytes(20));
const peers = hashes.flatMap((infoHash) =>
  Array.from({ length: PEERS_PER_SWARM }, () => ({
    infoHash,
    peerId: bytes(20),
    address: bytes(4),
    port: 6881,
    seenAt: 1_800_000_000,
    flags: 1,
    keyHash: 12345,
    left: 0,
    uploaded: 1e9,
    downloaded: 2e9,
  }))
);

/** The peers of each swarm packed into one blob (59 bytes per IPv4 peer), as the store may keep them. */
const RECORD = 59;
const packed = hashes.map((infoHash, s) => {
  const blob = new Uint8Array(PEERS_PER_SWARM * RECORD);
  const view = new DataView(blob.buffer);
  for (let i = 0; i < PEERS_PER_SWARM; i++) {
    const p = peers[s * PEERS_PER_SWARM + i];
    const at = i * RECORD;
    blob.set(p.peerId, at);
    blob.set(p.address, at + 20);
    view.setUint16(at + 24, p.port);
    view.setUint32(at + 26, p.seenAt);
    view.setUint8(at + 30, p.flags);
    view.setInt32(at + 31, p.keyHash);
    view.setFloat64(at + 35, p.left);
    view.setFloat64(at + 43, p.uploaded);
    view.setFloat64(at + 51, p.downloaded);
  }
  return { infoHash, blob };
});

async function time(label: string, body: () => Promise<void> | void, per = 1): Promise<void> {
  const started = performance.now();
  await body();
  const ms = performance.now() - started;
  const each = per > 1 ? ` (${(ms / per).toFixed(3)} ms each)` : "";
  print(`${label.padEnd(58)} ${ms.toFixed(1).padStart(9)} ms${each}`);
}

async function sqlite(dir: string, synchronous: "NORMAL" | "FULL"): Promise<void> {
  const path = join(dir, `state-${synchronous}.sqlite`);
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous};
    CREATE TABLE torrents (info_hash BLOB PRIMARY KEY, downloaded INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE peers (info_hash BLOB, peer_id BLOB, address BLOB, port INTEGER, seen_at INTEGER,
      flags INTEGER, key_hash INTEGER, left REAL, uploaded REAL, downloaded REAL);`);
  const upsert = db.prepare(
    "INSERT INTO torrents VALUES (?, ?) ON CONFLICT (info_hash) DO UPDATE SET downloaded = excluded.downloaded",
  );
  for (const batch of [1, 100]) {
    await time(`sqlite ${synchronous}: journal, ${batch} count(s) per commit`, () => {
      for (let c = 0; c < JOURNAL_COMMITS; c++) {
        db.exec("BEGIN");
        for (let i = 0; i < batch; i++) upsert.run(hashes[(c * batch + i) % SWARMS], c);
        db.exec("COMMIT");
      }
    }, JOURNAL_COMMITS);
  }
  const insert = db.prepare("INSERT INTO peers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  await time(`sqlite ${synchronous}: snapshot, ${peers.length} peers`, () => {
    db.exec("BEGIN");
    for (const infoHash of hashes) upsert.run(infoHash, 7);
    for (const p of peers) {
      insert.run(
        p.infoHash,
        p.peerId,
        p.address,
        p.port,
        p.seenAt,
        p.flags,
        p.keyHash,
        p.left,
        p.uploaded,
        p.downloaded,
      );
    }
    db.exec("COMMIT");
  });
  db.exec("CREATE TABLE swarms (info_hash BLOB PRIMARY KEY, peers BLOB) WITHOUT ROWID");
  const insertSwarm = db.prepare("INSERT INTO swarms VALUES (?, ?)");
  await time(`sqlite ${synchronous}: snapshot, ${peers.length} peers packed per swarm`, () => {
    db.exec("BEGIN");
    for (const { infoHash, blob } of packed) insertSwarm.run(infoHash, blob);
    db.exec("COMMIT");
  });
  db.close();
  const reopened = new DatabaseSync(path);
  await time(`sqlite ${synchronous}: load ${SWARMS} swarms packed`, () => {
    let n = 0;
    for (const row of reopened.prepare("SELECT * FROM swarms").iterate()) {
      n += (row.peers as Uint8Array).length / RECORD;
    }
    if (n !== peers.length) throw new Error(`read ${n} peers`);
  });
  await time(`sqlite ${synchronous}: load ${SWARMS} counts + ${peers.length} peers`, () => {
    let n = 0;
    n += reopened.prepare("SELECT * FROM torrents").all().length;
    n += reopened.prepare("SELECT * FROM peers").all().length;
    if (n !== SWARMS + peers.length) throw new Error(`read ${n} rows`);
  });
  reopened.close();
  print(`sqlite ${synchronous}: file ${(await Deno.stat(path)).size} bytes`);
}

async function kv(dir: string): Promise<void> {
  const openKv = (Deno as unknown as { openKv?: (path: string) => Promise<Kv> }).openKv;
  if (openKv === undefined) {
    print("Deno KV: not available (run with --unstable-kv)");
    return;
  }
  const path = join(dir, "state.kv");
  const store = await openKv(path);
  for (const batch of [1, 100]) {
    await time(`Deno KV: journal, ${batch} count(s) per commit`, async () => {
      for (let c = 0; c < JOURNAL_COMMITS; c++) {
        const op = store.atomic();
        for (let i = 0; i < batch; i++) op.set(["t", hashes[(c * batch + i) % SWARMS]], c);
        if (!(await op.commit()).ok) throw new Error("commit failed");
      }
    }, JOURNAL_COMMITS);
  }
  // An atomic operation takes at most 1000 mutations, so the snapshot goes in chunks of 1000.
  await time(`Deno KV: snapshot, ${peers.length} peers (atomics of 1000)`, async () => {
    const keys: [unknown[], unknown][] = [
      ...hashes.map((h): [unknown[], unknown] => [["t", h], 7]),
      ...peers.map((p): [unknown[], unknown] => [["p", p.infoHash, p.peerId], p]),
    ];
    for (let i = 0; i < keys.length; i += 1000) {
      const op = store.atomic();
      for (const [key, value] of keys.slice(i, i + 1000)) op.set(key, value);
      if (!(await op.commit()).ok) throw new Error("commit failed");
    }
  });
  await time(`Deno KV: snapshot, ${peers.length} peers packed per swarm`, async () => {
    for (let i = 0; i < packed.length; i += 1000) {
      const op = store.atomic();
      for (const { infoHash, blob } of packed.slice(i, i + 1000)) op.set(["s", infoHash], blob);
      if (!(await op.commit()).ok) throw new Error("commit failed");
    }
  });
  store.close();
  const reopened = await openKv(path);
  await time(`Deno KV: load ${SWARMS} swarms packed`, async () => {
    let n = 0;
    for await (const { value } of reopened.list({ prefix: ["s"] })) {
      n += (value as Uint8Array).length / RECORD;
    }
    if (n !== peers.length) throw new Error(`read ${n} peers`);
  });
  await time(`Deno KV: load ${SWARMS} counts + ${peers.length} peers`, async () => {
    let n = 0;
    for await (const _ of reopened.list({ prefix: ["t"] })) n++;
    for await (const _ of reopened.list({ prefix: ["p"] })) n++;
    if (n !== SWARMS + peers.length) throw new Error(`read ${n} entries`);
  });
  reopened.close();
  print(`Deno KV: file ${(await Deno.stat(path)).size} bytes`);
}

const dir = await Deno.makeTempDir({ prefix: "nobrake-store-bench-" });
try {
  const only = Deno.args[0];
  if (only === undefined || only === "sqlite-normal") await sqlite(dir, "NORMAL");
  if (only === undefined || only === "sqlite-full") await sqlite(dir, "FULL");
  if (only === undefined || only === "kv") await kv(dir);
} finally {
  await Deno.remove(dir, { recursive: true });
}
