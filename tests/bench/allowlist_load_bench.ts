/**
 * Benchmark: `loadAllowlist()` over 10,000 small, distinct `.torrent` files, once in one flat
 * directory and once spread over 100 subdirectories. The files are written once, with npm
 * `bencode`, into a temporary directory removed when the bench process ends.
 *
 * Run: `deno bench --allow-all bench/allowlist_load_bench.ts`
 *
 * @module
 */
import { join } from "node:path";
import bencode from "bencode";
import { loadAllowlist } from "../../src/runtime/allowlist_loader.ts";

const COUNT = 10_000;

/** A single-file v1 torrent (BEP 3) made distinct by its name, length and piece hash. */
function torrentBytes(i: number): Uint8Array {
  const pieces = new Uint8Array(20);
  new DataView(pieces.buffer).setUint32(0, i);
  return bencode.encode({
    announce: "http://127.0.0.1:6969/announce",
    info: { name: `file-${i}.bin`, length: i + 1, "piece length": 16384, pieces },
  });
}

async function writeTorrents(dir: string, subdir: (i: number) => string): Promise<void> {
  for (let start = 0; start < COUNT; start += 500) {
    const batch = Array.from({ length: Math.min(500, COUNT - start) }, async (_, k) => {
      const i = start + k;
      const parent = join(dir, subdir(i));
      await Deno.mkdir(parent, { recursive: true });
      await Deno.writeFile(join(parent, `t${i}.torrent`), torrentBytes(i));
    });
    await Promise.all(batch);
  }
}

const root = await Deno.makeTempDir({ prefix: "nobrake_bench_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
const flat = join(root, "flat");
const nested = join(root, "nested");
await writeTorrents(flat, () => "");
await writeTorrents(nested, (i) => `d${i % 100}`);

// Guard the figure: a bench that loaded nothing would be fast and meaningless.
for (const dir of [flat, nested]) {
  const { allowlist, skipped } = await loadAllowlist(dir);
  if (allowlist.size !== COUNT || skipped.length !== 0) {
    throw new Error(`Expected ${COUNT} torrents in "${dir}", got ${allowlist.size}`);
  }
}

Deno.bench("loadAllowlist() 10,000 files, one directory", async () => {
  await loadAllowlist(flat);
});

Deno.bench("loadAllowlist() 10,000 files, 100 subdirectories", async () => {
  await loadAllowlist(nested);
});
