/**
 * Runs `main.ts` as a real subprocess for tests of what only a process has: signals, exit codes,
 * the log on stderr. Reads stderr line by line so a test can wait for a log line.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** A running tracker process. */
export class TrackerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #done: Promise<void>;
  #waiters: (() => void)[] = [];

  /**
   * `fileLimit` caps the process's open file descriptors (`ulimit -n`, through `bash`; Linux).
   * `netns` runs it in that network namespace (`ip netns exec`, which execs in place, so signals
   * still reach the tracker itself; needs root).
   */
  constructor(
    args: string[],
    options: { cwd?: string; fileLimit?: number; netns?: string } = {},
  ) {
    const deno = [Deno.execPath(), "run", "--allow-net", "--allow-read", "--allow-write", MAIN];
    const inNamespace = options.netns === undefined ? [] : ["ip", "netns", "exec", options.netns];
    const [program, ...programArgs] = options.fileLimit === undefined
      ? [...inNamespace, ...deno, ...args]
      // `exec` keeps the pid, so signals reach the tracker itself.
      : [
        ...inNamespace,
        "bash",
        "-c",
        `ulimit -n ${options.fileLimit} && exec "$@"`,
        "bash",
        ...deno,
        ...args,
      ];
    const child = new Deno.Command(program, {
      args: programArgs,
      cwd: options.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#done = (async () => {
      const decoder = child.stderr.pipeThrough(new TextDecoderStream());
      let pending = "";
      for await (const chunk of decoder) {
        pending += chunk;
        const parts = pending.split("\n");
        pending = parts.pop()!;
        this.#lines.push(...parts);
        this.#wake();
      }
      if (pending !== "") this.#lines.push(pending);
      this.#wake();
    })();
  }

  /** Every stderr line so far. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** Waits for a stderr line matching `pattern`; throws after `timeoutMs`. */
  async waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.#lines) {
        const match = line.match(pattern);
        if (match !== null) return match;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no line matching ${pattern}; got:\n${this.#lines.join("\n")}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
  }

  /** Waits for the `listening on` line and returns the HTTP(S) port. */
  async port(): Promise<number> {
    const match = await this.waitForLine(/listening on https?:\/\/\S+:(\d+)/);
    return Number(match[1]);
  }

  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits for the process to end (killing it after `timeoutMs`) and returns its exit code. */
  async exitCode(timeoutMs = 10_000): Promise<number> {
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, timeoutMs);
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#done;
    return status.code;
  }

  /** Ends the process if it still runs, and releases its streams. */
  async close(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.exitCode();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * Writes a config for one tracker process named `name` into `dir` and starts it: open mode on
 * 127.0.0.1, free HTTP and UDP ports, no state file, with `config`'s keys on top.
 */
export async function startConfiguredProcess(
  dir: string,
  name: string,
  config: Record<string, unknown>,
): Promise<TrackerProcess> {
  const path = join(dir, `${name}.json`);
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      port: 0,
      ip: "127.0.0.1",
      allowed: "*",
      interval: 60,
      expiry: 600,
      state_file: null,
      udp_port: 0,
      ...config,
    }),
  );
  return new TrackerProcess([path]);
}
