/**
 * Starts NoBrake (`main.ts`) as a child process for the soak run, reads its HTTP and UDP ports from
 * the startup lines on stderr (the config asks for port 0), and stops it by its process id. The
 * wait for the startup lines is bounded; `stop()` kills and reaps the child and is safe to call
 * twice.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { NOBRAKE_V8_FLAGS } from "./load/servers.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const PROBE = fileURLToPath(new URL("./soak_tracker.ts", import.meta.url));

/** A running tracker process. */
export interface SoakTracker {
  pid: number;
  httpPort: number;
  udpPort: number;
  stop(): Promise<void>;
}

/**
 * Runs `main.ts <configPath>` with the V8 flags of `deno task start`, reading and writing only
 * inside `dir`; waits for its ports. With `heap`, runs the heap probe (`soak_tracker.ts`) instead,
 * which writes its memory to `heap.file` every `heap.intervalSeconds`.
 */
export async function spawnTracker(
  configPath: string,
  dir: string,
  heap: { file: string; intervalSeconds: number } | null = null,
): Promise<SoakTracker> {
  // The V8 flags of `deno task start`, so the soak measures memory as operators run it.
  const v8Flags = [NOBRAKE_V8_FLAGS, heap === null ? "" : "--expose-gc"].filter(Boolean).join(",");
  const script = [
    ...(v8Flags === "" ? [] : [`--v8-flags=${v8Flags}`]),
    ...(heap === null
      ? [MAIN, configPath]
      : [PROBE, configPath, heap.file, String(heap.intervalSeconds)]),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      ...script,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  };
  const text: string[] = [];
  // Reads stderr to the end (so the pipe never fills), noting the two ports once seen.
  let httpPort = 0;
  let udpPort = 0;
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (text.length < 100) text.push(chunk);
      const all = text.join("");
      httpPort ||= Number(/listening on http:\/\/\S+:(\d+)/.exec(all)?.[1] ?? 0);
      udpPort ||= Number(/listening on udp:\/\/\S+:(\d+)/.exec(all)?.[1] ?? 0);
    }
  })();
  reading.catch(() => {});
  const deadline = Date.now() + 20_000;
  while ((httpPort === 0 || udpPort === 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (httpPort === 0 || udpPort === 0) {
    await stop();
    throw new Error(`tracker did not start; stderr:\n${text.join("")}`);
  }
  return { pid: child.pid, httpPort, udpPort, stop };
}
