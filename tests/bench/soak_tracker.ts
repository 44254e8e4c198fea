/**
 * The soak run's heap probe (`soak.ts --heap`): NoBrake started as `main.ts` starts it (the same
 * `loadConfigFile` and `startTrackerServer`), plus, every `intervalSeconds`, a full garbage
 * collection and `Deno.memoryUsage()` written as JSON to `memoryPath`. RSS alone cannot tell a
 * leak from a V8 heap that has not yet been collected; the heap used after a full collection can.
 * The forced collections change how RSS behaves, so this is a diagnostic beside the plain run, not
 * a replacement for it.
 *
 * Run (by `soak.ts`): `deno run --v8-flags=--expose-gc ... soak_tracker.ts <config> <memoryPath>
 * [intervalSeconds]`. It runs until killed.
 *
 * @module
 */
import { loadConfigFile } from "../../src/runtime/cli.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { startTrackerServer } from "../../src/server.ts";

const [configPath, memoryPath, intervalText] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
const config = await loadConfigFile(configPath);
await startTrackerServer(config, { logger: createLogger({ path: config.logfile }) });
setInterval(() => {
  gc();
  Deno.writeTextFileSync(memoryPath, JSON.stringify(Deno.memoryUsage()));
}, Number(intervalText ?? 10) * 1000);
