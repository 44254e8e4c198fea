/**
 * Child processes for end-to-end tests: `spawnProcess` starts one with a hard timeout (SIGKILL
 * however the test goes), reads its stdout and stderr line by line as they come, and lets a test
 * wait for a line or for the exit without polling. `runToEnd` runs a short command and returns
 * its stdout. The process is an `AsyncDisposable`: a test holds it with `await using` and it is
 * stopped (SIGTERM, then SIGKILL after a grace period) however the test ends.
 *
 * This module knows nothing of BitTorrent; the client launchers are in `real_clients.ts`.
 *
 * @module
 */

/** How long a stopped process gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;

/** Lines kept per process for error messages. */
const TAIL_LINES = 40;

/** One line a child process printed. */
export interface OutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

/** Options for `spawnProcess`. */
export interface SpawnOptions {
  /** Arguments after the command. */
  args: string[];
  /** After this many milliseconds the process is killed with SIGKILL, whatever it is doing. */
  timeoutMs: number;
  /** Working directory. @default the test's own */
  cwd?: string;
  /** Extra environment variables. @default {} */
  env?: Record<string, string>;
}

/** A child process whose output is read line by line as it comes. */
export class RunningProcess implements AsyncDisposable {
  /** A short name for messages, such as `"seeder"`. */
  readonly name: string;
  /** Resolves when the process has exited and both of its pipes are read to the end. */
  readonly finished: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #lines: OutputLine[] = [];
  readonly #listeners = new Set<() => void>();
  #status: Deno.CommandStatus | null = null;
  #killedByTimeout = false;

  constructor(name: string, command: string, options: SpawnOptions) {
    this.name = name;
    const child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const hardTimeout = setTimeout(() => {
      this.#killedByTimeout = true;
      this.#kill("SIGKILL");
    }, options.timeoutMs);
    const readers = [
      this.#readLines(child.stdout, "stdout"),
      this.#readLines(child.stderr, "stderr"),
    ];
    this.finished = (async () => {
      try {
        const status = await child.status;
        await Promise.all(readers);
        this.#status = status;
        return status;
      } finally {
        clearTimeout(hardTimeout);
        this.#notify();
      }
    })();
  }

  /** The process id, for messages. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every line printed so far, both streams interleaved in arrival order. */
  get lines(): readonly OutputLine[] {
    return this.#lines;
  }

  /** The exit status once `finished` has resolved, else `null`. */
  get status(): Deno.CommandStatus | null {
    return this.#status;
  }

  /** The last lines printed, for an assertion message. */
  tail(count = TAIL_LINES): string {
    const shown = this.#lines.slice(-count).map((line) => `  [${line.stream}] ${line.text}`);
    const timeout = this.#killedByTimeout ? " (killed by its hard timeout)" : "";
    return `${this.name} (pid ${this.pid})${timeout}, last output:\n${shown.join("\n")}`;
  }

  /**
   * Waits until a line of `stream` (either, if not given) matches `pattern` and returns the
   * match. Lines printed before the call count. Throws if the process exits first or `timeoutMs`
   * passes.
   */
  async waitForLine(
    pattern: RegExp,
    options: { timeoutMs: number; stream?: "stdout" | "stderr" },
  ): Promise<RegExpMatchArray> {
    const find = () => {
      for (const line of this.#lines) {
        if (options.stream !== undefined && line.stream !== options.stream) continue;
        const match = line.text.match(pattern);
        if (match !== null) return match;
      }
      return null;
    };
    await this.#until(
      () => find() !== null || this.#status !== null,
      options.timeoutMs,
      `a line matching ${pattern}`,
    );
    const match = find();
    if (match === null) {
      throw new Error(
        `${this.name} exited before printing a line matching ${pattern}\n${this.tail()}`,
      );
    }
    return match;
  }

  /** Waits up to `timeoutMs` for the process to exit on its own and returns its status. */
  async waitForExit(timeoutMs: number): Promise<Deno.CommandStatus> {
    await this.#until(() => this.#status !== null, timeoutMs, "the process to exit");
    return this.#status!;
  }

  /**
   * Sends `signal` (SIGTERM by default), waits for the exit, and kills it if it has not exited
   * after a grace period. Returns the exit status. Safe to call more than once.
   */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (this.#status === null) {
      this.#kill(signal);
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, STOP_GRACE_MS);
      });
      const exitedInTime = await Promise.race([
        this.finished.then(() => true),
        grace.then(() => false),
      ]);
      clearTimeout(graceTimer);
      if (!exitedInTime) this.#kill("SIGKILL");
    }
    return await this.finished;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // It already exited: nothing to stop.
    }
  }

  async #readLines(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const text of parts) this.#lines.push({ stream: name, text: text.replace(/\r$/, "") });
      if (parts.length > 0) this.#notify();
    }
    if (pending !== "") {
      this.#lines.push({ stream: name, text: pending });
      this.#notify();
    }
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves once `ready()` holds, re-checking on every output line and at exit; no polling. */
  async #until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return;
    let listener = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        listener = () => {
          if (ready()) resolve();
        };
        this.#listeners.add(listener);
        timer = setTimeout(
          () =>
            reject(
              new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`),
            ),
          timeoutMs,
        );
      });
    } finally {
      this.#listeners.delete(listener);
      clearTimeout(timer);
    }
  }
}

/** Starts `command`; see `RunningProcess`. */
export function spawnProcess(name: string, command: string, options: SpawnOptions): RunningProcess {
  return new RunningProcess(name, command, options);
}

/** Runs a short command to its end and returns its stdout; throws with its output if it fails. */
export async function runToEnd(command: string, options: SpawnOptions): Promise<string> {
  await using child = spawnProcess(command, command, options);
  const status = await child.finished;
  if (!status.success) {
    throw new Error(
      `${command} ${options.args.join(" ")} failed (${status.code})\n${child.tail()}`,
    );
  }
  return child.lines.filter((line) => line.stream === "stdout").map((line) => line.text).join(
    "\n",
  );
}

/** Whether `command args` runs and exits 0 (false when it is not on PATH). */
export async function commandSucceeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false; // not found on PATH
  }
}
