/**
 * The log: one line per event, `date mode details`, as the original NoBrakeTracker wrote them, to
 * a file or to stderr. It decides nothing about what is worth logging; callers do.
 *
 * Writes are buffered so that a line per announce (`log_announces`) costs the server little: a
 * line is appended to a string, and the string is written with one synchronous write when it
 * passes 64 KiB, when a short timer fires, on `flush()` or `close()`, and when the process ends.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";

/**
 * What a line is about. The first five are the original's: `startup`, `client` (an announce),
 * `torrent` (added or removed), `stats`, `scrape`. `error` and `debug` are NoBrake's own.
 */
export type LogMode = "startup" | "client" | "torrent" | "stats" | "scrape" | "error" | "debug";

/**
 * How much is logged (the `log_level` config key): `info` every mode but `debug`, `debug`
 * everything (each refused request among it), `error` only `error` lines.
 */
export type LogLevel = "debug" | "info" | "error";

/** Whether a line of `mode` is kept at `level`. */
export function keepsMode(level: LogLevel, mode: LogMode): boolean {
  if (level === "error") return mode === "error";
  return mode !== "debug" || level === "debug";
}

/** Where log lines go. */
export interface Logger {
  /** Logs one line. `details` should be one line; control characters are escaped if not. */
  log(mode: LogMode, details: string): void;
  /** Writes out the buffered lines now. */
  flush(): void;
  /** Flushes and releases the file; lines logged afterwards are dropped. */
  close(): void;
  /** Whether `debug` lines are kept, so callers can skip building lines nobody will see. */
  readonly debugEnabled: boolean;
}

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** File to append to (created if missing), or `null` for stderr. */
  path: string | null;
  /**
   * Clock, in milliseconds since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * How long a line may wait in the buffer before it is written.
   * @default {200}
   */
  flushIntervalMs?: number;
  /**
   * How much to keep; `debug: true` is the same as `level: "debug"`.
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * Keep `debug` lines.
   * @default {false}
   */
  debug?: boolean;
}

/** The level `options` ask for: `level`, else `debug` when `debug` is set, else `info`. */
function levelOf(options: { level?: LogLevel; debug?: boolean }, fallback: LogLevel): LogLevel {
  return options.level ??
    (options.debug === undefined ? fallback : options.debug ? "debug" : "info");
}

const ENCODER = new TextEncoder();

/** A buffer this long is written at once. Counted in UTF-16 units: log lines are mostly ASCII. */
const FLUSH_THRESHOLD = 64 * 1024;

/**
 * Opens the log. Throws an `Error` naming the file if it cannot be opened for appending, so the
 * caller can refuse to start rather than run without a log.
 */
export function createLogger(options: LoggerOptions): Logger {
  let sink: Deno.FsFile | typeof Deno.stderr = Deno.stderr;
  if (options.path !== null) {
    try {
      sink = Deno.openSync(options.path, { write: true, append: true, create: true });
    } catch (error) {
      const reason = messageOf(error);
      throw new Error(`cannot open log file "${options.path}": ${reason}`, { cause: error });
    }
  }
  return new BufferedLogger(sink, options);
}

/** A `Logger` that keeps its lines in `lines`, for tests. */
export interface MemoryLogger extends Logger {
  /** Every line logged, formatted as in a log file, without the newline. */
  readonly lines: string[];
}

/**
 * A logger for tests: lines are kept in memory, formatted exactly as a file would get them.
 * `debug` defaults to `true` here, so tests can see what a transport logged about a client error.
 */
export function createMemoryLogger(
  options: { now?: () => number; debug?: boolean; level?: LogLevel } = {},
): MemoryLogger {
  const now = options.now ?? Date.now;
  const level = levelOf(options, "debug");
  const lines: string[] = [];
  return {
    lines,
    debugEnabled: level === "debug",
    log(mode, details) {
      if (!keepsMode(level, mode)) return;
      lines.push(formatLogLine(now(), mode, details));
    },
    flush() {},
    close() {},
  };
}

/** One log line without its newline: `2026-11-26T13:45:00Z client details`. */
export function formatLogLine(timeMs: number, mode: LogMode, details: string): string {
  return `${isoSeconds(timeMs)} ${mode} ${oneLine(details)}`;
}

class BufferedLogger implements Logger {
  readonly debugEnabled: boolean;
  readonly #level: LogLevel;
  #sink: Deno.FsFile | typeof Deno.stderr | null;
  readonly #path: string | null;
  readonly #now: () => number;
  readonly #flushIntervalMs: number;
  #buffer = "";
  #reportedFailure = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  // Lines still buffered when the event loop empties or Deno.exit() runs would otherwise be lost.
  readonly #onUnload = () => this.flush();

  constructor(sink: Deno.FsFile | typeof Deno.stderr, options: LoggerOptions) {
    this.#sink = sink;
    this.#path = options.path;
    this.#now = options.now ?? Date.now;
    this.#flushIntervalMs = options.flushIntervalMs ?? 200;
    this.#level = levelOf(options, "info");
    this.debugEnabled = this.#level === "debug";
    globalThis.addEventListener("unload", this.#onUnload);
  }

  log(mode: LogMode, details: string): void {
    if (this.#sink === null || !keepsMode(this.#level, mode)) return;
    this.#buffer += formatLogLine(this.#now(), mode, details) + "\n";
    if (this.#buffer.length >= FLUSH_THRESHOLD) {
      this.flush();
    } else if (this.#timer === null) {
      const timer = setTimeout(() => this.flush(), this.#flushIntervalMs);
      // The log must never be the reason a finished process stays alive; "unload" flushes instead.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#sink === null || this.#buffer === "") return;
    const bytes = ENCODER.encode(this.#buffer);
    this.#buffer = "";
    try {
      // writeSync may write less than asked (a pipe that is full, a signal).
      for (let written = 0; written < bytes.length;) {
        written += this.#sink.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      // A full disk or a closed stderr must not turn announces into errors: drop the lines, and
      // say so once on stderr when that is not where the failure was (every 200 ms would spam).
      if (this.#path !== null && !this.#reportedFailure) {
        this.#reportedFailure = true;
        const reason = messageOf(error);
        const line = formatLogLine(this.#now(), "error", `log file "${this.#path}": ${reason}`);
        try {
          Deno.stderr.writeSync(ENCODER.encode(line + "\n"));
        } catch {
          // Nowhere left to report it.
        }
      }
    }
  }

  close(): void {
    if (this.#sink === null) return;
    this.flush();
    globalThis.removeEventListener("unload", this.#onUnload);
    if (this.#path !== null) this.#sink.close(); // stderr stays open for whoever needs it next
    this.#sink = null;
  }
}

let cachedSecond = NaN;
let cachedStamp = "";

/** `2026-11-26T13:45:00Z`. Cached per second: many announces share one. */
function isoSeconds(timeMs: number): string {
  const second = Math.floor(timeMs / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedStamp = new Date(second * 1000).toISOString().slice(0, 19) + "Z";
  }
  return cachedStamp;
}

// deno-lint-ignore no-control-regex -- finding control characters is the point.
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * Escapes control characters as `\xNN`: details may carry strings from clients (user agents,
 * paths), and a newline in one must not forge a log line.
 */
function oneLine(details: string): string {
  return details.replace(
    CONTROL,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
