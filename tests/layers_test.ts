/**
 * The layer rule of `README.md` ("Code layout"), checked on every import of `src/` and `main.ts`:
 * a module may import only from its own layer or the layers below it. The protocol and core layers
 * are also checked for purity: no `Deno.` and no `node:` built-in that does I/O.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/**
 * Layers, lowest first. A path matches the first entry whose prefix it starts with. Files of one
 * layer may import each other; an import of a higher layer fails.
 */
export const LAYERS: readonly { name: string; prefixes: readonly string[] }[] = [
  { name: "protocol", prefixes: ["src/protocol/", "src/version.ts"] },
  {
    name: "core",
    prefixes: ["src/core/", "src/config.ts", "src/config_readers.ts", "src/settings.ts"],
  },
  { name: "runtime", prefixes: ["src/runtime/"] },
  { name: "subsystems", prefixes: ["src/stats/", "src/state/", "src/redis/"] },
  { name: "transport", prefixes: ["src/transport/"] },
  { name: "transports", prefixes: ["src/http/", "src/udp/", "src/ws/"] },
  { name: "server", prefixes: ["src/server.ts", "src/server/"] },
  { name: "main", prefixes: ["main.ts"] },
];

/** Layers whose modules must stay pure: no Deno I/O, no clock of their own. */
const PURE_LAYERS = new Set(["protocol", "core"]);

/** `node:` built-ins a pure module may use (no I/O in them). */
const PURE_NODE_MODULES = new Set(["node:path", "node:crypto", "node:util"]);

/** The rank of a repository-relative path, or -1 when no layer claims it. */
export function layerOf(path: string): number {
  return LAYERS.findIndex((layer) => layer.prefixes.some((prefix) => path.startsWith(prefix)));
}

/** Every import specifier of a module's text (static, type-only and dynamic). */
export function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern =
    /(?:^|\n)\s*(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of text.matchAll(pattern)) specifiers.push(match[1] ?? match[2]!);
  return specifiers;
}

async function sourceFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  try {
    await Deno.stat(join(root, "main.ts"));
    files.push("main.ts");
  } catch {
    // A tree without main.ts (the self-test's) has only src/.
  }
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(join(root, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  }
  await walk("src");
  return files.sort();
}

/** Every import that runs up a layer, and every impurity of a pure layer, as readable lines. */
export async function layerViolations(root: string = ROOT): Promise<string[]> {
  const problems: string[] = [];
  for (const file of await sourceFiles(root)) {
    const rank = layerOf(file);
    if (rank < 0) {
      problems.push(`${file} is in no layer (add it to LAYERS)`);
      continue;
    }
    const text = await Deno.readTextFile(join(root, file));
    const pure = PURE_LAYERS.has(LAYERS[rank]!.name);
    for (const specifier of importsOf(text)) {
      if (specifier.startsWith(".")) {
        const target = relative(root, resolve(root, dirname(file), specifier));
        const targetRank = layerOf(target);
        if (targetRank > rank) {
          problems.push(
            `${file} (${LAYERS[rank]!.name}) imports ${target} (${LAYERS[targetRank]!.name})`,
          );
        }
      } else if (pure && specifier.startsWith("node:") && !PURE_NODE_MODULES.has(specifier)) {
        problems.push(`${file} (${LAYERS[rank]!.name}) imports ${specifier}, which does I/O`);
      }
    }
    if (pure && /\bDeno\./.test(text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""))) {
      problems.push(`${file} (${LAYERS[rank]!.name}) uses Deno's I/O API`);
    }
  }
  return problems;
}

Deno.test("no import in src/ runs up a layer, and protocol and core do no I/O", async () => {
  assert.deepEqual(await layerViolations(), []);
});

Deno.test("layerViolations() finds an import that runs up a layer and I/O in the core", async () => {
  const root = await Deno.makeTempDir({ prefix: "nobrake-layers-" });
  try {
    await Deno.mkdir(join(root, "src/core"), { recursive: true });
    await Deno.mkdir(join(root, "src/http"), { recursive: true });
    await Deno.writeTextFile(join(root, "src/http/handler.ts"), "export const x = 1;\n");
    await Deno.writeTextFile(
      join(root, "src/core/tracker.ts"),
      'import { x } from "../http/handler.ts";\nexport const y = x + Deno.pid;\n',
    );
    assert.deepEqual(await layerViolations(root), [
      "src/core/tracker.ts (core) imports src/http/handler.ts (transports)",
      "src/core/tracker.ts (core) uses Deno's I/O API",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("importsOf() reads type-only, re-export and dynamic imports", () => {
  const text = [
    'import type { A } from "./a.ts";',
    'export { b } from "./b.ts";',
    'const c = await import("./c.ts");',
    'import {\n  d,\n  e,\n} from "./d.ts";',
  ].join("\n");
  assert.deepEqual(importsOf(text), ["./a.ts", "./b.ts", "./c.ts", "./d.ts"]);
});
